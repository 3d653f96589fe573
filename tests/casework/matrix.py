"""The casework parts of the scope matrix, gathered: their endpoints, and one builder that
adds the shared residents (``tests/casework/world.py``) and each part's objects."""

from __future__ import annotations

from tests.casework import (
    matrix_cases,
    matrix_groups,
    matrix_records,
    matrix_referrals,
    matrix_residents,
)
from tests.casework.world import base_world

PARTS = (matrix_residents, matrix_cases, matrix_groups, matrix_records, matrix_referrals)

CASEWORK_ENDPOINTS: dict = {}
for _part in PARTS:
    CASEWORK_ENDPOINTS.update(_part.ENDPOINTS)


def build_casework(net: dict, users: dict) -> None:
    """Add the casework objects to ``net`` (``users``: role → (user, token id))."""
    net.update(base_world())
    for part in PARTS:
        net.update(part.build(net, users))
