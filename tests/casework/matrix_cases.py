"""Scope-matrix entries for the casework cases pages and endpoints (merged into
tests/test_scope_matrix.py). build adds this part's matrix objects to net."""

from __future__ import annotations

ENDPOINTS: dict = {}


def build(net: dict, users: dict) -> dict:
    """Objects inside and outside scope for this part's endpoints (ids by key)."""
    return {}
