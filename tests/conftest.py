"""Shared fixtures: the real Chongqing divisions (plus a small neighbour province) loaded once
per test database, and one user per role scoped like the demo users."""

import functools
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password

from shegong.accounts.models import User
from shegong.core.roles import Role
from shegong.geo.io import import_divisions
from shegong.geo.management.commands.import_divisions import shipped_chongqing_files
from shegong.geo.models import Division

DATA = Path(__file__).parent / "data"
NEIGHBOUR_FILES = [
    DATA / "neighbour" / f"{name}.csv"
    for name in ("provinces", "cities", "areas", "streets", "villages")
]
PASSWORD = "Correct-horse-battery-7"

# Where each role's test user works, and a division of the same level outside that scope.
ROLE_DIVISIONS = {
    Role.CITY_ADMIN: ("50", "51"),
    Role.COUNTY_STAFF: ("500105", "500107"),
    Role.STATION_STAFF: ("500105001", "500105002"),
    Role.ROOM_WORKER: ("500105001001", "500105001002"),
    Role.ANALYST: ("50", "51"),
    Role.SECURITY_ADMIN: ("50", "51"),
    Role.AUDIT_ADMIN: ("50", "51"),
    # Agency staff see their agency's projects wherever they are (the division matters not).
    Role.AGENCY_STAFF: ("500105", "500107"),
}


def load_divisions() -> None:
    """Load Chongqing and the neighbour (idempotent: a second call changes nothing)."""
    import_divisions(paths=shipped_chongqing_files())
    import_divisions(paths=NEIGHBOUR_FILES)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On PostgreSQL the tests' commits do not wait for the disk (``synchronous_commit``):
    nothing a test writes has to survive a crash of the machine."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_divisions()


def analyze() -> None:
    """Bring PostgreSQL's planner statistics up to what the tables hold now, inside the
    current transaction too (ANALYZE counts its own transaction's rows). A world built for a
    module must be analysed: statistics left by an earlier, bigger world (the browser
    tests' demo) made a query of a small one take minutes."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@functools.cache
def password_hash() -> str:
    """One Argon2 hash of PASSWORD, shared by test users (hashing is slow on purpose)."""
    return make_password(PASSWORD)


def make_user(role: str, code: str, username: str | None = None, organisation=None) -> User:
    user = User(
        username=username or f"{role}_{code}",
        role=role,
        division=Division.objects.get(code=code),
        full_name=f"测试 {role}",
        organisation=organisation,
    )
    user.password = password_hash()
    user.save()
    return user


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads (evidence files) go to a fresh folder per test, never to the data dir."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def users(db) -> dict[str, User]:
    """One user per role, inside their ROLE_DIVISIONS scope."""
    return {role: make_user(role, inside) for role, (inside, _) in ROLE_DIVISIONS.items()}


@pytest.fixture
def county_user(users) -> User:
    return users[Role.COUNTY_STAFF]


@pytest.fixture
def room_user(users) -> User:
    return users[Role.ROOM_WORKER]


@pytest.fixture(autouse=True)
def _password_sign_in(settings):
    """Tests sign in with a password alone unless they are about two-factor sign-in
    (tests/accounts/test_two_factor.py turns the requirement on, as production has it)."""
    settings.REQUIRE_TWO_FACTOR = False


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the workforce dashboard keeps its figures)."""
    from django.core.cache import cache

    cache.clear()
