"""API: groups (issue #6)."""

from ninja import Router

router = Router(tags=["casework"])
