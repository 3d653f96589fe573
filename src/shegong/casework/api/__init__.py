"""The casework API, one router per part, mounted together in ``router``."""

from ninja import Router

from shegong.casework.api import cases, groups, records, referrals, residents

router = Router()
for part in (residents, cases, groups, records, referrals):
    router.add_router("", part.router)
