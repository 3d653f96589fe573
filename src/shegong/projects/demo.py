"""Demo social work agencies and purchased service projects, reproducing the article (demo
mode only).

- About 120 social work agencies registered in counties across the city, each with a valid
  unified social credit code (GB 32100).
- 1,200 livelihood-security projects (focus special groups: F29) and a few hundred projects
  of the other focuses, across all 38 counties, bought by operating stations and guidance
  centres of the demo network, with periods over 2018–2021 (one-year projects mostly).
- Every project has KPIs, budget lines and 2–3 payment milestones, and a life-cycle
  timeline consistent with its stage as of the demo date (``AS_OF``): most older projects
  are closed; the latest are in progress, under evaluation, on public notice or applying.
- Running projects have monthly reports (reported figures) and supervision visits; projects
  past the mid-term or final evaluation have scores on the default indicator tree, with the
  total and grade computed by the services' own functions; a few failed final evaluations
  flag their agencies. A handful of applications of other focuses were not approved.

Rows are written in bulk (one audit event records the demo load), deterministically.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shegong.core.audit import audit_record
from shegong.core.validators import uscc_check_character
from shegong.geo.models import Division, Level
from shegong.network.models import Facility, FacilityStatus, Rating, SocialOrganisation, Tier
from shegong.projects.models import (
    AgencyFlag,
    BudgetLine,
    Evaluation,
    EvaluationFix,
    EvaluationKind,
    Focus,
    Grade,
    MonthlyReport,
    PaymentMilestone,
    Project,
    PurchaseModel,
    Score,
    Stage,
    StageChange,
    SupervisionRecord,
)
from shegong.projects.services import (
    NOTICE_WORKING_DAYS,
    add_working_days,
    default_tree,
    grade_for,
    leaf_averages,
    seed_default_indicator_tree,
    weighted_total,
)

# The demo's "today": the article's time. Nothing in the demo happens after it.
AS_OF = date(2021, 10, 31)
AGENCIES = 120
LIVELIHOOD_PROJECTS = 1200  # F29
OTHER_PROJECTS = {Focus.POVERTY: 160, Focus.GOVERNANCE: 130, Focus.EMERGENCY: 40}
REJECTED_PROJECTS = 12  # applications of other focuses that were not approved
NEXT_ROUND_SHARE = 0.08  # projects of the next round (starting in December 2021)
MAIN_URBAN = ("500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112")
AGENCY_WORDS = [
    "馨心",
    "同心",
    "阳光",
    "和谐",
    "关爱",
    "益民",
    "启航",
    "乐群",
    "善行",
    "博爱",
    "恒爱",
    "春晖",
    "暖阳",
    "众益",
    "彩虹",
    "仁和",
    "慧民",
    "安康",
    "德馨",
    "鸿雁",
    "新起点",
    "心连心",
    "爱有家",
    "朝阳",
    "巴渝",
    "山城",
    "嘉陵",
    "长江",
    "睦邻",
    "助人",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红建国文"
SPECIAL_GROUPS = {
    "低保对象": "低保家庭社会救助服务",
    "特困人员": "特困人员关爱照护服务",
    "留守儿童": "留守儿童关爱保护服务",
    "困境儿童": "困境儿童关爱保护服务",
    "留守老人": "农村留守老人关爱服务",
    "残疾人": "残疾人社区康复与融合服务",
}
OTHER_NAMES = {
    Focus.POVERTY: (("脱贫户", "边缘易致贫户"), ("脱贫攻坚社会工作服务", "乡村振兴社会工作服务")),
    Focus.GOVERNANCE: (
        ("社区居民", "社区社会组织", "志愿者"),
        ("社区治理能力提升服务", "“三社联动”社区营造服务"),
    ),
    Focus.EMERGENCY: (
        ("受灾群众", "隔离观察人员", "一线工作人员家属"),
        ("疫情防控社会工作服务", "防汛救灾社会工作服务"),
    ),
}
BUDGET_LINES = (("人员经费", 60), ("专业服务活动经费", 24), ("督导与培训费", 8))
LAST_BUDGET_LINE = "管理及其他费用"
PANEL_SIZE = 3


def _county_short(name: str) -> str:
    if "自治县" in name:
        return name[:2]
    return name[:-1] if len(name) > 2 else name


def _division_short(name: str) -> str:
    return name.replace("街道办事处", "街道")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _uscc(county_code: str, serial: int) -> str:
    """A valid unified social credit code of a social service agency (民办非企业单位,
    registered by civil affairs: 52) registered in the county."""
    first17 = f"52{county_code}MJ{7300000 + serial:07d}"
    return first17 + uscc_check_character(first17)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def _agencies(rng: random.Random, counties: list[Division]) -> list[SocialOrganisation]:
    """Two agencies in every county, the rest in the main urban area."""
    homes = [c for c in counties for _ in range(2)]
    urban = [c for c in counties if c.code in MAIN_URBAN]
    while len(homes) < AGENCIES:
        homes.append(urban[len(homes) % len(urban)])
    taken = set(SocialOrganisation.objects.values_list("uscc", flat=True))
    names: set[str] = set()
    agencies = []
    for serial, county in enumerate(homes, start=1):
        uscc = _uscc(county.code, serial)
        if uscc in taken:
            continue
        while True:
            name = f"重庆市{_county_short(county.name)}{rng.choice(AGENCY_WORDS)}社会工作服务中心"
            if name not in names:
                break
            name = f"重庆{rng.choice(AGENCY_WORDS)}{rng.choice(AGENCY_WORDS)}社会工作服务中心"
            if name not in names:
                break
        names.add(name)
        rating = rng.choices(["", Rating.A3, Rating.A4, Rating.A5], weights=(35, 35, 22, 8))[0]
        agencies.append(
            SocialOrganisation(
                name=name,
                uscc=uscc,
                division=county,
                is_social_work_agency=True,
                rating=rating,
                rating_expires_on=date(2022 + rng.randrange(0, 4), 12, 31) if rating else None,
            )
        )
    SocialOrganisation.objects.bulk_create(agencies, batch_size=500)
    return agencies


class _Plan:
    """One project being planned: its attributes and its dated timeline."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def _timeline(rng: random.Random, plan: _Plan) -> None:
    """The dated steps of the project's life, cut at ``AS_OF``; sets stage and dates."""
    applied = plan.applied_on
    steps: list[tuple[str, date, str]] = [(Stage.APPLICATION, applied, "")]
    day = applied + timedelta(days=rng.randrange(2, 8))
    steps.append((Stage.PRELIMINARY_REVIEW, day, ""))
    day += timedelta(days=rng.randrange(7, 20))
    if plan.rejected_at == Stage.PRELIMINARY_REVIEW:
        steps.append((Stage.REJECTED, day, "申报材料不完整，服务对象与资助方向不符。"))
    else:
        steps.append((Stage.EXPERT_REVIEW, day, ""))
        day += timedelta(days=rng.randrange(3, 10))
        if plan.rejected_at == Stage.EXPERT_REVIEW:
            steps.append((Stage.REJECTED, day, "专家评审未通过：服务方案可行性不足。"))
        else:
            plan.notice_starts_on = day
            plan.notice_ends_on = add_working_days(day, NOTICE_WORKING_DAYS)
            steps.append((Stage.PUBLIC_NOTICE, day, ""))
            signed = plan.notice_ends_on + timedelta(days=rng.randrange(1, 8))
            plan.contract_signed_on = signed
            steps.append((Stage.CONTRACT, signed, ""))
            start = plan.starts_on
            steps.append((Stage.IN_PROGRESS, start, ""))
            days = (plan.ends_on - start).days
            midterm = start + timedelta(days=days // 2 + rng.randrange(-10, 10))
            plan.midterm_on = midterm
            plan.midterm_done = midterm + timedelta(days=rng.randrange(3, 10))
            final = plan.ends_on - timedelta(days=rng.randrange(0, 20))
            plan.final_on = final
            plan.final_done = final + timedelta(days=rng.randrange(3, 10))
            if plan.terminate_after is not None:
                ended = start + timedelta(days=plan.terminate_after)
                if ended < midterm and ended <= AS_OF:
                    steps.append(
                        (
                            Stage.TERMINATED,
                            ended,
                            "承接机构人员流失严重，无法履约，经协商终止合同。",
                        )
                    )
                    plan.terminated_on = ended
            if plan.terminated_on is None:
                steps.append((Stage.MIDTERM_EVALUATION, midterm, ""))
                steps.append((Stage.FINAL_EVALUATION, final, ""))
                closed = plan.final_done + timedelta(days=rng.randrange(7, 30))
                steps.append((Stage.CLOSED, closed, "项目结项。"))
    plan.steps = [s for s in steps if s[1] <= AS_OF]
    plan.stage = plan.steps[-1][0]


@transaction.atomic
def demo_projects_create(seed: int = 2023) -> dict[str, int]:
    """Create the demo agencies and projects if there are no projects yet; what was made."""
    if Project.objects.exists():
        return {}
    rng = random.Random(seed)
    seed_default_indicator_tree()
    tree = default_tree()
    indicators = list(tree.indicators.all())
    parents = {i.parent_id for i in indicators if i.parent_id}
    leaves = [i for i in indicators if i.pk not in parents]
    leaf_ids = [leaf.pk for leaf in leaves]

    counties = list(
        Division.objects.filter(code__startswith="50", level=Level.COUNTY).order_by("code")
    )
    purchasers = list(
        Facility.objects.filter(
            division__code__startswith="50",
            tier__in=(Tier.STATION, Tier.CENTRE),
            status=FacilityStatus.OPERATING,
        )
        .select_related("division")
        .order_by("division__code", "tier")
    )
    by_county: dict[str, list[Facility]] = {}
    for facility in purchasers:
        by_county.setdefault(facility.division.code[:6], []).append(facility)
    counties = [c for c in counties if c.code in by_county]
    if not counties:
        return {}
    county_by_code = {c.code: c for c in counties}
    agencies = _agencies(rng, counties)
    agencies_by_county: dict[str, list[SocialOrganisation]] = {}
    for agency in agencies:
        agencies_by_county.setdefault(agency.division.code, []).append(agency)
    urban_agencies = [a for a in agencies if a.division.code in MAIN_URBAN]

    # Which focus each project has, and in which county (every county has some).
    focuses = [Focus.SPECIAL_GROUPS] * LIVELIHOOD_PROJECTS
    for focus, n in OTHER_PROJECTS.items():
        focuses += [focus] * n
    rejected = [rng.choice(list(OTHER_PROJECTS)) for _ in range(REJECTED_PROJECTS)]
    rng.shuffle(focuses)
    weights = [len(by_county[c.code]) + 4 for c in counties]
    homes = [c.code for c in counties]  # one livelihood project at least in each county
    homes += [c.code for c in rng.choices(counties, weights=weights, k=len(focuses) - len(homes))]
    for i in range(len(counties)):
        if focuses[i] != Focus.SPECIAL_GROUPS:
            j = focuses.index(Focus.SPECIAL_GROUPS, len(counties))
            focuses[i], focuses[j] = focuses[j], focuses[i]
    items = [(f, h, None) for f, h in zip(focuses, homes, strict=True)]
    items += [
        (
            f,
            rng.choices(counties, weights=weights)[0].code,
            rng.choice((Stage.PRELIMINARY_REVIEW, Stage.EXPERT_REVIEW)),
        )
        for f in rejected
    ]

    plans: list[_Plan] = []
    serial_by_county: dict[str, int] = {}
    for focus, county_code, rejected_at in items:
        next_round = rejected_at is not None or rng.random() < NEXT_ROUND_SHARE
        if next_round:
            starts = date(2021, 12, 1)
            months = 12
            back = (40, 80) if rejected_at else (3, 80)
            applied = AS_OF - timedelta(days=rng.randrange(*back))
        else:
            if focus == Focus.EMERGENCY:
                year = rng.choice((2020, 2020, 2020, 2021))
            else:
                year = rng.choices((2018, 2019, 2020, 2021), weights=(24, 28, 28, 20))[0]
            starts = date(year, rng.randrange(2, 8), 1)
            months = rng.choices((12, 6, 24), weights=(82, 10, 8))[0]
            if focus == Focus.EMERGENCY:
                months = 6
            applied = starts - timedelta(days=rng.randrange(70, 110))
        ends = _add_months(starts, months) - timedelta(days=1)
        options = [f for f in by_county[county_code] if f.opened_on and f.opened_on <= applied]
        options = options or by_county[county_code]
        centres = [f for f in options if f.tier == Tier.CENTRE]
        if centres and rng.random() < 0.25:
            purchaser = centres[0]
        else:
            stations = [f for f in options if f.tier == Tier.STATION] or options
            purchaser = rng.choice(stations)
        local = agencies_by_county.get(county_code, [])
        agency = rng.choice(local) if local and rng.random() < 0.75 else rng.choice(urban_agencies)
        budget = Decimal(int(rng.triangular(100, 600, 260)) * 1000)
        serial_by_county[county_code] = serial_by_county.get(county_code, 0) + 1
        plan = _Plan(
            focus=focus,
            county=county_by_code[county_code],
            purchaser=purchaser,
            area=purchaser.division,
            agency=agency,
            starts_on=starts,
            ends_on=ends,
            applied_on=applied,
            budget=budget,
            code=f"SG{starts.year}-{county_code}-{serial_by_county[county_code]:03d}",
            rejected_at=rejected_at,
            terminate_after=rng.randrange(60, 150) if rng.random() < 0.02 else None,
            terminated_on=None,
            notice_starts_on=None,
            notice_ends_on=None,
            contract_signed_on=None,
            quality=rng.gauss(84, 5) if rng.random() > 0.007 else rng.uniform(48, 57),
        )
        _timeline(rng, plan)
        plans.append(plan)

    projects = [_project(rng, plan, i) for i, plan in enumerate(plans, start=1)]
    Project.objects.bulk_create(projects, batch_size=500)

    changes, lines, milestones, reports, visits = [], [], [], [], []
    evaluations: list[tuple[Evaluation, _Plan, date]] = []
    for project, plan in zip(projects, plans, strict=True):
        previous = ""
        for stage, day, note in plan.steps:
            changes.append(
                StageChange(
                    project=project,
                    from_stage=previous,
                    to_stage=stage,
                    changed_on=day,
                    note=note,
                )
            )
            previous = stage
        lines += _budget_lines(project)
        milestones += _milestones(rng, project, plan)
        reached = {s for s, _d, _n in plan.steps}
        if Stage.IN_PROGRESS in reached:
            reports += _reports(rng, project, plan)
            visits += _visits(rng, project, plan)
        for kind, on, done, stage in (
            (EvaluationKind.MIDTERM, "midterm_on", "midterm_done", Stage.MIDTERM_EVALUATION),
            (EvaluationKind.FINAL, "final_on", "final_done", Stage.FINAL_EVALUATION),
        ):
            if stage in reached:
                panel = _panel(rng)
                evaluation = Evaluation(
                    project=project,
                    kind=kind,
                    tree=tree,
                    evaluated_on=getattr(plan, on),
                    panel="、".join(panel),
                )
                evaluations.append((evaluation, plan, getattr(plan, done)))
    StageChange.objects.bulk_create(changes, batch_size=2000)
    BudgetLine.objects.bulk_create(lines, batch_size=2000)
    PaymentMilestone.objects.bulk_create(milestones, batch_size=2000)
    MonthlyReport.objects.bulk_create(reports, batch_size=2000)
    SupervisionRecord.objects.bulk_create(visits, batch_size=2000)

    scores, fixes, flags = [], [], []
    for evaluation, plan, done in evaluations:
        panelists = evaluation.panel.split("、")
        rows = [
            Score(
                evaluation=evaluation,
                indicator=leaf,
                panelist=panelist,
                score=_points(plan.quality + rng.gauss(0, 4)),
            )
            for leaf in leaves
            for panelist in panelists
        ]
        if done <= AS_OF:
            # the same computation as completing the evaluation through the services
            evaluation.total = weighted_total(indicators, leaf_averages(leaf_ids, rows))
            evaluation.grade = grade_for(evaluation.total)
            evaluation.completed_at = _aware(done)
        scores.append(rows)
    Evaluation.objects.bulk_create([e for e, _p, _d in evaluations], batch_size=2000)
    Score.objects.bulk_create([s for rows in scores for s in rows], batch_size=5000)
    for evaluation, plan, done in evaluations:
        if evaluation.completed_at is None:
            continue
        if evaluation.grade in (Grade.PASS, Grade.FAIL):
            deadline = done + timedelta(days=30)
            fixes.append(
                EvaluationFix(
                    evaluation=evaluation,
                    description="完善个案档案与服务记录，补齐满意度回访。",
                    deadline=deadline,
                    resolved_on=deadline - timedelta(days=5) if deadline <= AS_OF else None,
                    resolution="已按要求整改。" if deadline <= AS_OF else "",
                )
            )
        if evaluation.kind == EvaluationKind.FINAL and evaluation.grade == Grade.FAIL:
            flags.append(AgencyFlag(agency=plan.agency, evaluation=evaluation, flagged_on=done))
    EvaluationFix.objects.bulk_create(fixes, batch_size=2000)
    AgencyFlag.objects.bulk_create(flags)

    made = {
        "agencies": len(agencies),
        "projects": len(projects),
        "livelihood_security_projects": sum(
            1 for p in projects if p.focus == Focus.SPECIAL_GROUPS and p.stage != Stage.REJECTED
        ),
        "evaluations": len(evaluations),
        "agency_flags": len(flags),
    }
    audit_record(actor=None, action="demo.projects", object_type="projects.project", after=made)
    return made


def _panel(rng: random.Random) -> list[str]:
    """Distinct names of the panel members."""
    panel: list[str] = []
    while len(panel) < PANEL_SIZE:
        name = _name(rng)
        if name not in panel:
            panel.append(name)
    return panel


def _points(value: float) -> Decimal:
    """A panel score: 0–100 in half points."""
    return Decimal(max(0, min(200, round(value * 2)))) / 2


def _project(rng: random.Random, plan: _Plan, serial: int) -> Project:
    if plan.focus == Focus.SPECIAL_GROUPS:
        groups = rng.sample(list(SPECIAL_GROUPS), rng.choice((1, 1, 2, 3)))
        title = SPECIAL_GROUPS[groups[0]]
    else:
        targets, titles = OTHER_NAMES[plan.focus]
        groups = rng.sample(list(targets), rng.choice((1, 2)))
        title = rng.choice(titles)
        if plan.focus == Focus.EMERGENCY and plan.starts_on.year == 2020:
            title = "新冠肺炎" + titles[0]
    where = _division_short(plan.area.name)
    contracted = plan.contract_signed_on is not None and plan.stage not in (
        Stage.APPLICATION,
        Stage.PRELIMINARY_REVIEW,
        Stage.EXPERT_REVIEW,
        Stage.PUBLIC_NOTICE,
        Stage.REJECTED,
    )
    noticed = plan.notice_starts_on is not None and plan.stage not in (
        Stage.APPLICATION,
        Stage.PRELIMINARY_REVIEW,
        Stage.EXPERT_REVIEW,
        Stage.REJECTED,
    )
    per_10k = int(plan.budget) // 10000
    return Project(
        code=plan.code,
        name=f"{plan.starts_on.year}年{where}{title}项目",
        purchase_model=PurchaseModel.POST if rng.random() < 0.3 else PurchaseModel.PROJECT,
        focus=plan.focus,
        target_groups="、".join(groups),
        area=plan.area,
        purchaser=plan.purchaser,
        agency=plan.agency if contracted else None,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        budget=plan.budget,
        kpi_person_times=per_10k * rng.randrange(80, 140),
        kpi_cases=max(6, per_10k // 8 + rng.randrange(0, 10)),
        kpi_groups=max(3, per_10k // 15 + rng.randrange(0, 5)),
        kpi_activities=max(6, per_10k // 6 + rng.randrange(0, 8)),
        stage=plan.stage,
        notice_starts_on=plan.notice_starts_on if noticed else None,
        notice_ends_on=plan.notice_ends_on if noticed else None,
        contract_number=f"CQMZ-GM-{plan.contract_signed_on.year}-{serial:05d}"
        if contracted
        else "",
        contract_signed_on=plan.contract_signed_on if contracted else None,
        version=len(plan.steps),
    )


def _budget_lines(project: Project) -> list[BudgetLine]:
    lines, used = [], Decimal(0)
    for name, percent in BUDGET_LINES:
        amount = (project.budget * percent / 100).quantize(Decimal("1"))
        used += amount
        lines.append(BudgetLine(project=project, name=name, amount=amount))
    lines.append(BudgetLine(project=project, name=LAST_BUDGET_LINE, amount=project.budget - used))
    return lines


def _milestones(rng: random.Random, project: Project, plan: _Plan) -> list[PaymentMilestone]:
    """2–3 payments adding up to the budget: on signing, after the mid-term (for three) and
    after the final evaluation. The first falls due once the year's money has reached the
    county (from 20 January of the project's start year)."""
    signed = plan.contract_signed_on or plan.starts_on - timedelta(days=30)
    first_due = max(signed + timedelta(days=rng.randrange(5, 15)), date(plan.starts_on.year, 1, 20))
    final_due = plan.ends_on + timedelta(days=30)
    budget = project.budget
    if rng.random() < 0.7:
        first = (budget * Decimal("0.4")).quantize(Decimal("1"))
        second = (budget * Decimal("0.3")).quantize(Decimal("1"))
        midterm = plan.starts_on + (plan.ends_on - plan.starts_on) / 2 + timedelta(days=20)
        return [
            PaymentMilestone(
                project=project, name="首期款（合同签订后）", due_on=first_due, amount=first
            ),
            PaymentMilestone(
                project=project, name="中期款（中期评估合格后）", due_on=midterm, amount=second
            ),
            PaymentMilestone(
                project=project,
                name="尾款（末期评估合格后）",
                due_on=final_due,
                amount=budget - first - second,
            ),
        ]
    first = (budget / 2).quantize(Decimal("1"))
    return [
        PaymentMilestone(
            project=project, name="首期款（合同签订后）", due_on=first_due, amount=first
        ),
        PaymentMilestone(
            project=project, name="尾款（末期评估合格后）", due_on=final_due, amount=budget - first
        ),
    ]


def _last_day(month: date) -> date:
    return _add_months(month, 1) - timedelta(days=1)


def _reports(rng: random.Random, project: Project, plan: _Plan) -> list[MonthlyReport]:
    """One report per month of work that has ended by ``AS_OF`` (and before termination)."""
    end = min(plan.ends_on, AS_OF, plan.terminated_on or AS_OF)
    months = (plan.ends_on.year - plan.starts_on.year) * 12 + plan.ends_on.month
    months = max(1, months - plan.starts_on.month + 1)
    reports = []
    month = plan.starts_on.replace(day=1)
    while _last_day(month) <= end:
        share = rng.uniform(0.8, 1.15) / months
        reports.append(
            MonthlyReport(
                project=project,
                month=month,
                summary=f"{month:%Y年%m月}开展个案、小组和社区活动，服务{project.target_groups}。",
                plan="按计划推进下月个案跟进与小组活动。",
                reported_person_times=round(project.kpi_person_times * share),
                reported_cases=round(project.kpi_cases * share * 1.2),
                reported_groups=round(project.kpi_groups * share),
                reported_activities=round(project.kpi_activities * share),
            )
        )
        month = _add_months(month, 1)
    return reports


def _visits(rng: random.Random, project: Project, plan: _Plan) -> list[SupervisionRecord]:
    visits = []
    span = (plan.ends_on - plan.starts_on).days
    for fraction in (0.3, 0.75):
        day = plan.starts_on + timedelta(days=int(span * fraction) + rng.randrange(0, 10))
        if day <= AS_OF and (plan.terminated_on is None or day < plan.terminated_on):
            visits.append(
                SupervisionRecord(
                    project=project,
                    visited_on=day,
                    supervisor=f"{_name(rng)}（督导）",
                    findings="服务记录基本完整，建议加强个案评估和过程记录。",
                )
            )
    return visits
