"""Demo users, one per role, scoped to real Chongqing divisions (demo mode only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shegong.accounts.models import User
from shegong.accounts.services import user_create
from shegong.core.roles import Role
from shegong.geo.models import Division

DEMO_PASSWORD = "Shegong-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    division_code: str
    full_name: str


DEMO_USERS = (
    DemoUser("city", Role.CITY_ADMIN, "50", "市级管理员（演示）"),
    DemoUser("county", Role.COUNTY_STAFF, "500105", "江北区指导中心（演示）"),
    DemoUser("station", Role.STATION_STAFF, "500105001", "华新街街道社工站（演示）"),
    DemoUser("room", Role.ROOM_WORKER, "500105001001", "桥北社区社工室（演示）"),
    DemoUser("analyst", Role.ANALYST, "50", "统计分析员（演示）"),
    DemoUser("security", Role.SECURITY_ADMIN, "50", "安全管理员（演示）"),
    DemoUser("auditor", Role.AUDIT_ADMIN, "50", "审计管理员（演示）"),
)


def demo_users_create() -> list[tuple[DemoUser, Division]]:
    """Create the demo users that do not exist yet; refuse outside demo mode."""
    if not settings.DEMO_MODE:
        raise ImproperlyConfigured("Demo users are created only with SHEGONG_DEMO=1.")
    created = []
    for demo in DEMO_USERS:
        division = Division.objects.get(code=demo.division_code)
        if not User.objects.filter(username=demo.username).exists():
            user_create(
                actor=None,
                username=demo.username,
                password=DEMO_PASSWORD,
                role=demo.role,
                division=division,
                full_name=demo.full_name,
            )
        created.append((demo, division))
    return created


def demo_agency_user_create() -> tuple[DemoUser, Division] | None:
    """The demo login of a contracted agency's staff: the agency of a running project in
    江北区 (made by the demo projects); None when there is none."""
    from shegong.projects.models import Project, Stage

    if not settings.DEMO_MODE:
        raise ImproperlyConfigured("Demo users are created only with SHEGONG_DEMO=1.")
    project = (
        Project.objects.filter(
            area__code__startswith="500105", agency__isnull=False, stage=Stage.IN_PROGRESS
        )
        .select_related("agency")
        .order_by("code")
        .first()
    )
    if project is None:
        return None
    demo = DemoUser("agency", Role.AGENCY_STAFF, "500105", f"{project.agency.name}（演示）")
    division = Division.objects.get(code=demo.division_code)
    if not User.objects.filter(username=demo.username).exists():
        user_create(
            actor=None,
            username=demo.username,
            password=DEMO_PASSWORD,
            role=demo.role,
            division=division,
            full_name=demo.full_name,
            organisation=project.agency,
        )
    return demo, division
