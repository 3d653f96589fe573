"""Projects: a station and a centre that buy, agencies, users, a small tree, and a builder
that drives a project through its life cycle with the services."""

from datetime import date

import pytest

from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.models import SocialOrganisation
from shegong.network.services import facility_create
from shegong.projects import services
from shegong.projects.models import Stage
from tests.conftest import make_user

NOTICE_START = date(2024, 1, 4)  # a Thursday
NOTICE_END = date(2024, 1, 15)  # the Monday 7 working days later
SIGNED = date(2024, 1, 20)
STARTED = date(2024, 2, 1)
SMALL_TREE = [
    {
        "name": "A",
        "weight": 60,
        "children": [{"name": "A1", "weight": 50}, {"name": "A2", "weight": 50}],
    },
    {"name": "B", "weight": 40},
]


def division(code: str) -> Division:
    return Division.objects.get(code=code)


@pytest.fixture
def net(db):
    """The purchasing station of 华新街 (500105001), the 江北 centre, a station in 成都, two
    agencies, and the default tree (a small one: A 60 = A1 50 + A2 50, B 40)."""
    start = date(2020, 1, 1)

    def facility(tier, code, name):
        return facility_create(
            actor=None,
            tier=tier,
            division=division(code),
            name=name,
            status="operating",
            status_from=start,
        )

    agency = SocialOrganisation.objects.create(
        name="启航社工", uscc="TESTAGENCY0000001", division=division("500105")
    )
    other = SocialOrganisation.objects.create(
        name="同心社工", uscc="TESTAGENCY0000002", division=division("500107")
    )
    tree = services.indicator_tree_create(
        actor=None, name="小树", indicators=SMALL_TREE, is_default=True
    )
    return {
        "station": facility("station", "500105001", "华新街社工站"),
        "centre": facility("centre", "500105", "江北区指导中心"),
        "station_out": facility("station", "510104017", "成都站"),
        "agency": agency,
        "other_agency": other,
        "tree": tree,
    }


@pytest.fixture
def people(net):
    """One user per role inside 江北 (agency staff of the first agency), and a county
    user of another county."""
    return {
        Role.CITY_ADMIN: make_user(Role.CITY_ADMIN, "50"),
        Role.COUNTY_STAFF: make_user(Role.COUNTY_STAFF, "500105"),
        Role.STATION_STAFF: make_user(Role.STATION_STAFF, "500105001"),
        Role.ROOM_WORKER: make_user(Role.ROOM_WORKER, "500105001001"),
        Role.ANALYST: make_user(Role.ANALYST, "50"),
        Role.SECURITY_ADMIN: make_user(Role.SECURITY_ADMIN, "50"),
        Role.AUDIT_ADMIN: make_user(Role.AUDIT_ADMIN, "50"),
        Role.AGENCY_STAFF: make_user(Role.AGENCY_STAFF, "500105", organisation=net["agency"]),
        "other_county": make_user(Role.COUNTY_STAFF, "500107", username="county_500107"),
        "other_agency": make_user(
            Role.AGENCY_STAFF, "500105", username="agency_other", organisation=net["other_agency"]
        ),
    }


def score_all(evaluation, panelists: dict[str, dict[str, int]] | None = None):
    """Score every leaf of the small tree (default: two panelists, 80 everywhere)."""
    leaves = {i.name: i.pk for i in evaluation.tree.indicators.all()}
    panelists = panelists or {
        "甲": {"A1": 80, "A2": 80, "B": 80},
        "乙": {"A1": 80, "A2": 80, "B": 80},
    }
    for name, scores in panelists.items():
        services.scores_record(
            actor=None,
            evaluation=evaluation,
            panelist=name,
            scores={leaves[k]: v for k, v in scores.items()},
        )


ORDER = [
    Stage.APPLICATION,
    Stage.PRELIMINARY_REVIEW,
    Stage.EXPERT_REVIEW,
    Stage.PUBLIC_NOTICE,
    Stage.CONTRACT,
    Stage.IN_PROGRESS,
    Stage.MIDTERM_EVALUATION,
    Stage.FINAL_EVALUATION,
    Stage.CLOSED,
]


@pytest.fixture
def build(net):
    """build(stage, code=…, purchaser=…, agency=…) → a project driven to ``stage`` with the
    services (no actor), from an application of the 华新街 station."""
    counter = iter(range(1, 1000))

    def make(stage=Stage.APPLICATION, *, code=None, agency=None, budget="100000.00", **extra):
        project = services.project_apply(
            actor=None,
            code=code or f"XM-{next(counter):03d}",
            name="困境儿童关爱项目",
            purchase_model=extra.pop("purchase_model", "project"),
            focus=extra.pop("focus", "special_groups"),
            area=extra.pop("area", division("500105001")),
            purchaser=extra.pop("purchaser", net["station"]),
            starts_on=STARTED,
            ends_on=date(2025, 1, 31),
            budget=budget,
            kpi_person_times=1000,
            kpi_cases=20,
            agency=agency,
            **extra,
        )
        if stage == Stage.REJECTED:
            services.project_submit(actor=None, project=project)
            return services.preliminary_review(
                actor=None, project=project, passed=False, note="材料不全"
            )
        if stage == Stage.TERMINATED:
            project = make(Stage.IN_PROGRESS, code=f"T{project.code}", agency=agency)
            return services.project_terminate(actor=None, project=project, reason="机构退出")
        target = ORDER.index(stage)
        steps = [
            lambda p: services.project_submit(actor=None, project=p),
            lambda p: services.preliminary_review(actor=None, project=p, passed=True),
            lambda p: services.expert_review(
                actor=None, project=p, passed=True, notice_starts_on=NOTICE_START
            ),
            lambda p: services.contract_sign(
                actor=None,
                project=p,
                agency=agency or net["agency"],
                contract_number="HT-2024-1",
                signed_on=SIGNED,
            ),
            lambda p: services.project_start(actor=None, project=p, started_on=STARTED),
            lambda p: (
                services.evaluation_start(
                    actor=None,
                    project=p,
                    kind="midterm",
                    evaluated_on=date(2024, 8, 1),
                    panel="甲、乙",
                ).project
            ),
            lambda p: _final(p),
            lambda p: _close(p),
        ]
        for step in steps[:target]:
            project = step(project)
            project.refresh_from_db()
        return project

    def _final(project):
        midterm = project.evaluations.get(kind="midterm")
        score_all(midterm)
        services.evaluation_complete(actor=None, evaluation=midterm)
        return services.evaluation_start(
            actor=None,
            project=project,
            kind="final",
            evaluated_on=date(2025, 1, 20),
            panel="甲、乙",
        ).project

    def _close(project):
        final = project.evaluations.get(kind="final")
        score_all(final)
        services.evaluation_complete(actor=None, evaluation=final)
        return services.project_close(actor=None, project=project, closed_on=date(2025, 2, 1))

    return make


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in English (the msgids)."""
    from django.utils import translation

    with translation.override("en"):
        yield
