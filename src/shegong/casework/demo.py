"""Demo services to residents (issue #6) on the demo network, users and projects (demo mode
only).

- In the demo room's community 桥北社区 (500105001001) and the other communities of
  华新街街道: residents in households with special-group statuses of every kind (several at
  once, some ended, some due for review; disabilities with their certificate numbers;
  children under 14 with their guardians and the guardians' consents), and two residents
  who moved in from the next community (their residence history kept).
- The demo room's casework: cases at every stage — intake, assessment, plan, intervention,
  evaluation, closed, declined — assigned to the demo room worker and supervised by the
  demo station user, each with the stage changes that brought it there, goals, notes and
  service records; one protected crisis case; follow-ups due today and reviews coming up.
- Groups at every stage with members and sessions, community activities, home visits and
  phone calls, and referrals both ways (one overdue on both sides' home pages).
- In the 14 poor counties (F27): residents of the special groups in communities with a
  room or a station, and the poverty-alleviation services of 2018–2020 — home visits,
  phone calls, group sessions and community activities (counted mostly by head-count) —
  linked to the poverty-alleviation and livelihood projects under way there, adding up to
  about 500,000 person-times (F28).

Every national ID is valid (born in the resident's county), encrypted with its keyed hash;
``person_times`` is always the residents served plus the head-count. Rows are written in
bulk, deterministically; one audit event records the load.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from shegong.accounts.models import User
from shegong.casework.models import (
    Activity,
    Case,
    CaseGoal,
    CaseNote,
    CaseNoteKind,
    CaseStage,
    CaseStageChange,
    ClosureReason,
    Consent,
    ConsentPurpose,
    GroupMember,
    GroupStage,
    GroupType,
    Household,
    Referral,
    ReferralSource,
    ReferralStatus,
    Relationship,
    Residence,
    Resident,
    RiskLevel,
    ServiceDomain,
    ServiceMethod,
    ServiceRecipient,
    ServiceRecord,
    SpecialGroup,
    SpecialStatus,
    WorkGroup,
    lookup_keys,
)
from shegong.core.audit import audit_record
from shegong.core.crypto import encrypt, lookup_hash
from shegong.core.validators import national_id_check_digit
from shegong.geo.models import Division, Level, PovertyDesignation, PovertyKind
from shegong.network.models import Facility, FacilityStatus, Tier
from shegong.workforce.models import Posting

DEMO_COMMUNITY = "500105001001"  # 桥北社区: the demo room worker's community
DEMO_TOWN = "500105001"  # 华新街街道: the demo station user's town
NEXT_COMMUNITY = "500105001002"
# F27's poor counties, used when their designations are not in the database.
POOR_COUNTIES = (
    "500101",
    "500114",
    "500154",
    "500156",
    "500229",
    "500230",
    "500235",
    "500236",
    "500237",
    "500238",
    "500240",
    "500241",
    "500242",
    "500243",
)
F28_TARGET = 500_000
SERVICE_START, SERVICE_END = date(2018, 1, 1), date(2020, 12, 31)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘向冉"
GIVEN_M = "伟强磊军洋勇杰涛明超刚建国文华平福贵德林"
GIVEN_F = "芳娜秀英敏静丽艳娟霞兰玉萍红梅琴珍凤桂"
POVERTY_DOMAINS = (
    (ServiceDomain.CAPACITY_BUILDING, 25),
    (ServiceDomain.SOCIAL_ASSISTANCE, 20),
    (ServiceDomain.POLICY_PUBLICITY, 15),
    (ServiceDomain.SOCIAL_SUPPORT, 14),
    (ServiceDomain.EMOTIONAL_SUPPORT, 10),
    (ServiceDomain.CULTURE_HEALTH, 8),
    (ServiceDomain.COMMUNITY_PARTICIPATION, 8),
)
POVERTY_ACTIVITIES = (
    ("脱贫攻坚政策宣讲会", ServiceDomain.POLICY_PUBLICITY, "", "村委会会议室"),
    ("电商助农技能培训", ServiceDomain.CAPACITY_BUILDING, SpecialGroup.DIBAO, "村便民服务中心"),
    ("特色种养殖技术培训", ServiceDomain.CAPACITY_BUILDING, "", "村委会会议室"),
    (
        "扶贫车间就业对接会",
        ServiceDomain.CAPACITY_BUILDING,
        SpecialGroup.RETURN_TO_POVERTY,
        "扶贫车间",
    ),
    ("留守儿童暑期课堂", ServiceDomain.SOCIAL_SUPPORT, SpecialGroup.LEFT_BEHIND_CHILD, "村小学"),
    ("困难群众健康义诊", ServiceDomain.CULTURE_HEALTH, SpecialGroup.DIBAO, "村卫生室"),
    (
        "留守老人重阳关爱活动",
        ServiceDomain.EMOTIONAL_SUPPORT,
        SpecialGroup.LEFT_BEHIND_ELDER,
        "村院坝",
    ),
    (
        "春节走访慰问活动",
        ServiceDomain.SOCIAL_ASSISTANCE,
        SpecialGroup.EXTREME_POVERTY_HOME,
        "各组农户",
    ),
    ("乡风文明积分超市活动", ServiceDomain.COMMUNITY_PARTICIPATION, "", "村积分超市"),
    ("残疾人康复知识讲座", ServiceDomain.CULTURE_HEALTH, SpecialGroup.DISABILITY, "村便民服务中心"),
    ("低保政策解读与申请指导", ServiceDomain.SOCIAL_ASSISTANCE, SpecialGroup.DIBAO, "村委会会议室"),
)
TOWN_ACTIVITIES = (
    ("社区政策宣讲会", ServiceDomain.POLICY_PUBLICITY, ""),
    ("重阳节敬老活动", ServiceDomain.EMOTIONAL_SUPPORT, SpecialGroup.LEFT_BEHIND_ELDER),
    ("社区义诊", ServiceDomain.CULTURE_HEALTH, ""),
    ("垃圾分类宣传", ServiceDomain.ENVIRONMENT, ""),
    ("邻里节", ServiceDomain.COMMUNITY_PARTICIPATION, ""),
    ("困境儿童四点半课堂", ServiceDomain.SOCIAL_SUPPORT, SpecialGroup.CHILD_IN_DIFFICULTY),
    ("残疾人就业技能培训", ServiceDomain.CAPACITY_BUILDING, SpecialGroup.DISABILITY),
    ("反诈防骗知识讲座", ServiceDomain.RIGHTS_PROTECTION, ""),
)
VISIT_NOTES = (
    "了解近况，身体状况稳定，按时服药。",
    "协助准备低保年审材料。",
    "家中生活物资充足，已提醒冬季用电安全。",
    "情绪较前好转，约定下周再次探访。",
    "联系村医上门测量血压。",
)


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _day_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(0, max(1, (end - start).days + 1)))


class _People:
    """Valid, unique national IDs and plausible names and phones."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def national_id(self, county: str, born: date, male: bool) -> str:
        while True:  # sequence 100–899 (the tests' fixtures use 9xx), odd for men
            digit = self.rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
            first17 = f"{county}{born:%Y%m%d}{self.rng.randrange(10, 90)}{digit}"
            if first17 not in self.used:
                self.used.add(first17)
                return first17 + national_id_check_digit(first17)

    def name(self, male: bool, surname: str | None = None) -> str:
        given = GIVEN_M if male else GIVEN_F
        return (surname or self.rng.choice(SURNAMES)) + "".join(
            self.rng.choices(given, k=self.rng.choice((1, 2)))
        )

    def phone(self) -> str:
        return f"1{self.rng.choice('3589')}{self.rng.randrange(0, 10**9):09d}"


class _Member:
    """A resident being planned: who, born when, in which household, with which statuses."""

    def __init__(self, **kwargs):
        self.statuses: list[dict] = []
        self.guardian: _Member | None = None
        self.guardian_relationship = ""
        self.__dict__.update(kwargs)


class _World:
    """Everything planned, written in bulk at the end."""

    def __init__(self, rng: random.Random, today: date):
        self.rng = rng
        self.today = today
        self.people = _People(rng)
        self.households: list[Household] = []
        self.members: list[_Member] = []

    # --- residents ---------------------------------------------------------------------

    def family(self, community: Division, start: date) -> list[_Member]:
        """One household of a typical kind for the special groups, its statuses starting
        around ``start`` (the first day services could reach it)."""
        rng, today = self.rng, self.today
        county = community.code[:6]
        urban = community.kind == "urban"
        short = community.name.replace("居民委员会", "").replace("村民委员会", "")
        address = (
            f"{short}{rng.randrange(1, 30)}栋{rng.randrange(1, 5)}单元{rng.randrange(1, 30)}号"
            if urban
            else f"{short}{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号"
        )
        household = Household(community=community, address=address)
        self.households.append(household)
        surname = rng.choice(SURNAMES)

        def person(age_low, age_high, male, relationship, surname_of_family=True):
            born = _years_before(today, rng.randrange(age_low, age_high + 1)) - timedelta(
                days=rng.randrange(0, 365)
            )
            member = _Member(
                name=self.people.name(male, surname if surname_of_family else None),
                born=born,
                male=male,
                national_id=self.people.national_id(county, born, male),
                community=community,
                household=household,
                relationship=relationship,
                registered_in=community if rng.random() < 0.85 else None,
            )
            self.members.append(member)
            return member

        def status(member, group, **extra):
            started = max(
                _day_between(rng, start - timedelta(days=900), start + timedelta(days=400)),
                member.born + timedelta(days=1),
            )
            ended = None
            if group in (SpecialGroup.LEFT_BEHIND_CHILD,):
                ended = _years_before(member.born, -16)
            elif group in (SpecialGroup.ORPHAN, SpecialGroup.UNSUPPORTED_CHILD):
                ended = _years_before(member.born, -18)
            elif group in (SpecialGroup.DIBAO, SpecialGroup.RETURN_TO_POVERTY):
                if rng.random() < 0.25:  # lifted out of poverty
                    ended = date(rng.choice((2019, 2020, 2021)), 12, 31)
            elif rng.random() < 0.08:
                ended = started + timedelta(days=rng.randrange(400, 1500))
            if ended is not None and (ended > today or ended < started):
                ended = None if ended > today else started
            review = started + timedelta(days=365)
            while review < today - timedelta(days=20) and ended is None:
                review += timedelta(days=365)
            member.statuses.append(
                {"group": group, "started_on": started, "review_on": review, "ended_on": ended}
                | extra
            )

        kind = rng.choices(
            ("elder", "grandparent", "couple", "mother", "disabled", "orphan"),
            weights=(24, 22, 22, 14, 12, 6),
        )[0]
        if kind == "elder":
            elder = person(66, 90, rng.random() < 0.45, Relationship.HEAD)
            status(elder, SpecialGroup.LEFT_BEHIND_ELDER)
            if rng.random() < 0.35:
                status(elder, SpecialGroup.EXTREME_POVERTY_HOME)
            elif rng.random() < 0.5:
                status(elder, SpecialGroup.DIBAO)
            if rng.random() < 0.2:
                self.disability(elder, status)
        elif kind == "grandparent":
            elder = person(58, 76, rng.random() < 0.4, Relationship.HEAD)
            status(elder, SpecialGroup.LEFT_BEHIND_ELDER)
            if rng.random() < 0.4:
                status(elder, SpecialGroup.DIBAO)
            for _ in range(rng.choice((1, 1, 2))):
                child = person(4, 15, rng.random() < 0.5, Relationship.GRANDCHILD)
                child.guardian, child.guardian_relationship = elder, "祖父母"
                status(child, SpecialGroup.LEFT_BEHIND_CHILD)
        elif kind == "couple":
            head = person(38, 62, True, Relationship.HEAD)
            spouse = person(36, 60, False, Relationship.SPOUSE)
            group = rng.choices(
                (
                    SpecialGroup.DIBAO,
                    SpecialGroup.NEAR_DIBAO,
                    SpecialGroup.RETURN_TO_POVERTY,
                    SpecialGroup.RIGID_EXPENDITURE,
                    SpecialGroup.LOW_INCOME_OTHER,
                ),
                weights=(45, 20, 20, 10, 5),
            )[0]
            status(head, group)
            status(spouse, group)
            if rng.random() < 0.25:
                self.disability(head, status)
            if rng.random() < 0.4:
                child = person(6, 17, rng.random() < 0.5, Relationship.CHILD)
                child.guardian, child.guardian_relationship = head, "父母"
                if rng.random() < 0.5:
                    status(child, SpecialGroup.CHILD_IN_DIFFICULTY)
        elif kind == "mother":
            mother = person(27, 42, False, Relationship.HEAD)
            status(mother, SpecialGroup.LEFT_BEHIND_WOMAN)
            for _ in range(rng.choice((1, 2))):
                child = person(3, 15, rng.random() < 0.5, Relationship.CHILD)
                child.guardian, child.guardian_relationship = mother, "母亲"
                status(child, SpecialGroup.LEFT_BEHIND_CHILD)
        elif kind == "disabled":
            adult = person(22, 55, rng.random() < 0.55, Relationship.HEAD)
            self.disability(adult, status)
            status(adult, SpecialGroup.DIBAO)
            if rng.random() < 0.5:
                parent = person(60, 80, rng.random() < 0.5, Relationship.PARENT)
                status(parent, SpecialGroup.LEFT_BEHIND_ELDER)
        else:
            elder = person(60, 78, rng.random() < 0.5, Relationship.HEAD)
            child = person(6, 15, rng.random() < 0.5, Relationship.GRANDCHILD)
            child.guardian, child.guardian_relationship = elder, "祖父母"
            status(
                child,
                rng.choice((SpecialGroup.ORPHAN, SpecialGroup.UNSUPPORTED_CHILD)),
            )
            status(child, SpecialGroup.CHILD_IN_DIFFICULTY)
            if rng.random() < 0.5:
                status(elder, SpecialGroup.DIBAO)
        return [m for m in self.members if m.household is household]

    def disability(self, member: _Member, status) -> None:
        category = self.rng.randint(1, 7)
        grade = self.rng.choices((1, 2, 3, 4), weights=(15, 30, 30, 25))[0]
        status(
            member,
            SpecialGroup.DISABILITY,
            disability_category=category,
            disability_grade=grade,
            certificate_number=f"{member.national_id}{category}{grade}",
        )

    def write_residents(self) -> None:
        """Households, residents (guardians first, so that wards can point at them),
        residences, statuses and the service consents."""
        rng = self.rng
        now = timezone.now()
        ids = _insert(
            Household,
            ("community", "address", "created_at"),
            [(h.community.pk, encrypt(h.address), now) for h in self.households],
            returning_ids=True,
        )
        for household, household_id in zip(self.households, ids, strict=True):
            household.pk = household_id
        for wards in (False, True):  # guardians first, so that their wards can point at them
            batch = [m for m in self.members if (m.guardian is not None) == wards]
            rows = []
            for m in batch:
                phone = self.people.phone() if rng.random() < 0.8 else ""
                m.resident = Resident(name=m.name, national_id=m.national_id, phone=phone)
                rows.append(
                    (
                        m.name,
                        encrypt(m.national_id),
                        lookup_hash(m.national_id),
                        encrypt(phone) if phone else "",
                        m.community.pk,
                        m.registered_in.pk if m.registered_in else None,
                        m.household.pk,
                        m.relationship,
                        m.guardian.resident.pk if wards else None,
                        m.guardian_relationship,
                        "",
                        1,
                        now,
                        now,
                        *lookup_keys(m.name, m.national_id),
                    )
                )
            ids = _insert(
                Resident,
                (
                    "name",
                    "national_id",
                    "national_id_hash",
                    "phone",
                    "community",
                    "registered_in",
                    "household",
                    "relationship",
                    "guardian",
                    "guardian_relationship",
                    "notes",
                    "version",
                    "created_at",
                    "updated_at",
                    "name_pinyin",
                    "name_initials",
                    "national_id_last4",
                ),
                rows,
                returning_ids=True,
            )
            for m, resident_id in zip(batch, ids, strict=True):
                m.resident.pk = resident_id
        residences = []
        for m in self.members:
            moved_from = getattr(m, "moved_from", None)
            if moved_from is None:
                moved_in = date(2008, 1, 1) + timedelta(days=rng.randrange(3000))
                residences.append((m.resident.pk, m.community.pk, max(m.born, moved_in), None, ""))
            else:
                residences.append(
                    (
                        m.resident.pk,
                        moved_from.pk,
                        max(m.born, date(2009, 3, 1)),
                        m.moved_on,
                        "搬家",
                    )
                )
                residences.append((m.resident.pk, m.community.pk, m.moved_on, None, ""))
        _insert(
            Residence,
            ("resident", "community", "moved_in_on", "moved_out_on", "reason"),
            residences,
        )
        _insert(
            SpecialStatus,
            (
                "resident",
                "group",
                "disability_category",
                "disability_grade",
                "certificate_number",
                "started_on",
                "review_on",
                "ended_on",
                "evidence",
                "created_at",
            ),
            [
                (
                    m.resident.pk,
                    st["group"],
                    st.get("disability_category"),
                    st.get("disability_grade"),
                    encrypt(st["certificate_number"]) if st.get("certificate_number") else "",
                    st["started_on"],
                    st["review_on"],
                    st["ended_on"],
                    _evidence(st["group"]),
                    now,
                )
                for m in self.members
                for st in m.statuses
            ],
        )
        consents = []
        for m in self.members:
            first = min([s["started_on"] for s in m.statuses] or [m.born + timedelta(days=1)])
            given = max(first, m.born + timedelta(days=1))
            by_guardian = _years_before(given, 14) < m.born and m.guardian is not None
            name = m.guardian.name if by_guardian else m.name
            consents.append(
                (m.resident.pk, ConsentPurpose.SERVICE.value, given, by_guardian, name, now)
            )
            m.consent_given_on = given
        _insert(
            Consent,
            ("resident", "purpose", "given_on", "given_by_guardian", "given_by_name", "created_at"),
            consents,
        )


def _insert(model, fields: tuple[str, ...], rows: list[tuple], returning_ids: bool = False):
    """Plain rows into a table, without building model objects (dates and times adapted as
    the ORM would; encrypted columns must come encrypted). With ``returning_ids``, the new
    rows' ids in the order of ``rows`` (read back above the previous highest id: the demo
    load is the only writer)."""
    if not rows:
        return []
    before = model.objects.aggregate(top=Max("pk"))["top"] or 0 if returning_ids else 0
    ops = connection.ops
    columns = [model._meta.get_field(f) for f in fields]
    adapters = []
    for field in columns:
        kind = field.get_internal_type()
        if kind == "DateField":
            adapters.append(ops.adapt_datefield_value)
        elif kind == "DateTimeField":
            adapters.append(ops.adapt_datetimefield_value)
        else:
            adapters.append(None)
    names = ", ".join(ops.quote_name(f.column) for f in columns)
    marks = ", ".join(["%s"] * len(columns))
    table = ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (model meta)
    prepared = [
        tuple(a(v) if a and v is not None else v for a, v in zip(adapters, row, strict=True))
        for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), 5000):
            cursor.executemany(sql, prepared[start : start + 5000])
    if not returning_ids:
        return []
    ids = list(model.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))
    if len(ids) != len(rows):
        raise RuntimeError("another writer inserted rows during the demo load")
    return ids


def _evidence(group: str) -> str:
    return {
        SpecialGroup.DIBAO: "区县民政局低保审批表",
        SpecialGroup.EXTREME_POVERTY_HOME: "特困人员供养证",
        SpecialGroup.EXTREME_POVERTY_INSTITUTIONAL: "特困人员供养证（集中供养）",
        SpecialGroup.DISABILITY: "第二代残疾人证",
        SpecialGroup.LEFT_BEHIND_CHILD: "农村留守儿童信息管理系统登记",
        SpecialGroup.LEFT_BEHIND_ELDER: "村（居）委会入户核查表",
        SpecialGroup.LEFT_BEHIND_WOMAN: "村（居）委会入户核查表",
        SpecialGroup.RETURN_TO_POVERTY: "防返贫监测对象认定表",
    }.get(group, "乡镇（街道）核查表")


def _pick(rng: random.Random, workers: list[int], k: int) -> list[int]:
    """Up to ``k`` of the facility's social workers."""
    return rng.sample(workers, min(k, len(workers)))


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _target_of(member: _Member, day: date) -> str:
    for s in member.statuses:
        if s["started_on"] <= day and (s["ended_on"] is None or s["ended_on"] >= day):
            return s["group"]
    return member.statuses[0]["group"] if member.statuses else ""


class _Service:
    """A service record being planned (plain attributes; written by ``_Records.write``)."""

    DEFAULTS = {
        "duration_minutes": 30,
        "place": "",
        "target_group": "",
        "poverty_alleviation": False,
        "case": None,
        "group": None,
        "session_number": None,
        "session_plan": "",
        "activity": None,
        "project": None,
        "headcount": 0,
        "volunteers": "",
        "notes": "",
        "recorded_by": None,
    }

    def __init__(self, **kwargs):
        self.__dict__.update(self.DEFAULTS | kwargs)
        self.person_times = 0
        self.pk = None


class _Records:
    """Service records being planned with their residents and workers, written in bulk."""

    COLUMNS = (
        "facility",
        "division",
        "served_on",
        "duration_minutes",
        "place",
        "domain",
        "method",
        "target_group",
        "poverty_alleviation",
        "case",
        "group",
        "session_number",
        "session_plan",
        "activity",
        "project",
        "headcount",
        "person_times",
        "volunteers",
        "notes",
        "recorded_by",
        "created_at",
    )

    def __init__(self):
        self.rows: list[tuple[_Service, list[Resident], list[int]]] = []
        self.poverty_person_times = 0

    def add(self, record: _Service, residents=(), workers=()) -> _Service:
        people = list(dict.fromkeys(residents))
        record.person_times = len(people) + record.headcount
        self.rows.append((record, people, list(workers)))
        if record.poverty_alleviation:
            self.poverty_person_times += record.person_times
        return record

    def write(self) -> tuple[int, int]:
        # in date order, as they were entered: the latest ids are the latest services
        self.rows.sort(key=lambda row: row[0].served_on)
        now = timezone.now()

        def pk(value):
            return None if value is None else value.pk

        values = [
            (
                r.facility.pk,
                r.division.pk,
                r.served_on,
                r.duration_minutes,
                r.place,
                r.domain,
                r.method,
                r.target_group,
                r.poverty_alleviation,
                pk(r.case),
                pk(r.group),
                r.session_number,
                r.session_plan,
                pk(r.activity),
                pk(r.project),
                r.headcount,
                r.person_times,
                r.volunteers,
                encrypt(r.notes) if r.notes else "",  # the notes column is encrypted
                pk(r.recorded_by),
                now,
            )
            for r, _p, _w in self.rows
        ]
        ids = _insert(ServiceRecord, self.COLUMNS, values, returning_ids=True)
        for (record, _p, _w), record_id in zip(self.rows, ids, strict=True):
            record.pk = record_id
        _insert(
            ServiceRecipient,
            ("record", "resident"),
            [(r.pk, p.pk) for r, people, _w in self.rows for p in people],
        )
        _insert(
            ServiceRecord.workers.through,
            ("servicerecord", "socialworker"),
            [(r.pk, w) for r, _p, workers in self.rows for w in workers],
        )
        return len(self.rows), sum(len(p) for _r, p, _w in self.rows)


def _poor_counties() -> list[str]:
    codes = sorted(
        PovertyDesignation.objects.filter(
            kind=PovertyKind.POOR_COUNTY, division__code__startswith="50"
        ).values_list("division__code", flat=True)
    )
    return codes or list(POOR_COUNTIES)


def _projects_by_area() -> dict[str, list]:
    """Poverty-alleviation and livelihood projects that reached delivery, by area code."""
    from shegong.projects.models import Focus, Project, Stage

    delivered = [
        Stage.IN_PROGRESS,
        Stage.MIDTERM_EVALUATION,
        Stage.FINAL_EVALUATION,
        Stage.CLOSED,
        Stage.TERMINATED,
    ]
    by_area: dict[str, list] = {}
    for project in Project.objects.filter(
        focus__in=[Focus.POVERTY, Focus.SPECIAL_GROUPS], stage__in=delivered
    ).select_related("area"):
        by_area.setdefault(project.area.code, []).append(project)
    return by_area


def _project_for(rng, by_area, code: str, day: date, poverty_first: bool = True):
    """A project under way on ``day`` whose area holds ``code`` (town first, then county),
    poverty-alleviation projects first."""
    candidates = [
        p
        for area in (code[:9], code[:6])
        for p in by_area.get(area, ())
        if p.starts_on <= day <= p.ends_on
    ]
    if not candidates:
        return None
    if poverty_first:
        poverty = [p for p in candidates if p.focus == "poverty"]
        candidates = poverty or candidates
    return rng.choice(candidates)


@transaction.atomic
def demo_casework_create(seed: int = 2024) -> dict[str, int]:
    """Create the demo residents, casework and services if there are no residents yet;
    return what was made (empty when nothing was done)."""
    if Resident.objects.exists():
        return {}
    facilities = Facility.objects.filter(status=FacilityStatus.OPERATING)
    if not facilities.exists():
        return {}
    rng = random.Random(seed)
    today = timezone.localdate()
    world = _World(rng, today)
    records = _Records()
    workers_at: dict[int, list[int]] = {}
    for worker_id, facility_id in Posting.objects.filter(ended_on__isnull=True).values_list(
        "worker_id", "facility_id"
    ):
        workers_at.setdefault(facility_id, []).append(worker_id)
    by_area = _projects_by_area()

    poor = _poor_plan(rng, world, facilities, workers_at)
    town = _town_plan(rng, world, facilities)
    world.write_residents()
    poor_made = _poor_services(rng, world, records, poor, workers_at, by_area)
    town_made = _town_services(rng, world, records, town, workers_at)
    record_count, recipient_count = records.write()
    f28 = records.poverty_person_times
    made = {
        "households": len(world.households),
        "residents": len(world.members),
        "statuses": sum(len(m.statuses) for m in world.members),
        "cases": town_made["cases"],
        "groups": town_made["groups"],
        "activities": poor_made["activities"] + town_made["activities"],
        "referrals": town_made["referrals"],
        "service_records": record_count,
        "recipients": recipient_count,
        "poverty_person_times": f28,
        "linked_to_projects": sum(1 for r, _p, _w in records.rows if r.project is not None),
    }
    audit_record(
        actor=None, action="demo.casework", object_type="casework.servicerecord", after=made
    )
    return made


# --- The poor counties ----------------------------------------------------------------------


def _poor_plan(rng, world: _World, facilities, workers_at) -> list[dict]:
    """Residents of the special groups in the communities of the poor counties' rooms and
    stations (a station serves its town's communities)."""
    counties = _poor_counties()
    units = []
    in_poor = Q()
    for code in counties:
        in_poor |= Q(code__startswith=code)
    rooms_and_stations = (
        facilities.filter(tier__in=[Tier.ROOM, Tier.STATION])
        .filter(division__in=Division.objects.filter(in_poor))
        .select_related("division")
        .order_by("division__code", "pk")
    )
    town_communities: dict[str, list[Division]] = {}
    for community in Division.objects.filter(in_poor, level=Level.COMMUNITY).order_by("code"):
        town_communities.setdefault(community.code[:9], []).append(community)
    deep = set(
        PovertyDesignation.objects.filter(kind=PovertyKind.DEEP_POVERTY_TOWN).values_list(
            "division__code", flat=True
        )
    )
    for facility in rooms_and_stations:
        code = facility.division.code
        if facility.tier == Tier.ROOM:
            communities = [facility.division]
        else:
            communities = town_communities.get(code, [])[:6]
        if not communities:
            continue
        start = max(SERVICE_START, facility.opened_on or SERVICE_START)
        if start > SERVICE_END - timedelta(days=60):
            start = SERVICE_START
        families = 2 if facility.tier == Tier.ROOM else 3
        people = []
        for _ in range(families):
            people += world.family(rng.choice(communities), start)
        units.append(
            {
                "facility": facility,
                "communities": communities,
                "people": people,
                "start": start,
                "deep": code[:9] in deep,
                "workers": workers_at.get(facility.pk, []),
            }
        )
    return units


def _poor_services(rng, world, records: _Records, units, workers_at, by_area) -> dict:
    """2018–2020 poverty-alleviation services adding up to about F28_TARGET person-times."""
    activities: list[Activity] = []
    recorded = []  # (record, activity) pairs to link after the activities are written

    def project_for(code, day):
        return _project_for(rng, by_area, code, day) if rng.random() < 0.75 else None

    for unit in units:
        facility, people = unit["facility"], unit["people"]
        workers = unit["workers"]
        # home visits, phone calls and online contacts: 1–4 per person over the period
        for member in people:
            for _ in range(rng.randint(1, 4)):
                day = _day_between(rng, unit["start"], SERVICE_END)
                if day < member.consent_given_on:
                    continue
                method = _weighted(
                    rng,
                    (
                        (ServiceMethod.VISIT, 60),
                        (ServiceMethod.PHONE, 30),
                        (ServiceMethod.ONLINE, 10),
                    ),
                )
                code = member.community.code
                records.add(
                    _Service(
                        facility=facility,
                        division=member.community,
                        served_on=day,
                        duration_minutes=rng.choice((20, 30, 45, 60)),
                        place="服务对象家中" if method == ServiceMethod.VISIT else "",
                        domain=_weighted(rng, POVERTY_DOMAINS),
                        method=method,
                        target_group=_target_of(member, day),
                        poverty_alleviation=True,
                        project=project_for(code, day),
                    ),
                    residents=[member.resident],
                    workers=_pick(rng, workers, 1),
                )
        # group sessions: a growth or livelihood group of the unit's people, 4–6 sessions
        if len(people) >= 3 and rng.random() < 0.5:
            first = _day_between(rng, unit["start"], SERVICE_END - timedelta(days=60))
            attendees = [m for m in people if m.consent_given_on <= first]
            if len(attendees) >= 2:
                target = _target_of(attendees[0], first)
                domain = rng.choice((ServiceDomain.CAPACITY_BUILDING, ServiceDomain.SOCIAL_SUPPORT))
                for number in range(1, rng.randint(4, 6) + 1):
                    day = first + timedelta(days=7 * (number - 1))
                    community = unit["communities"][0]
                    records.add(
                        _Service(
                            facility=facility,
                            division=community,
                            served_on=day,
                            duration_minutes=90,
                            place="村便民服务中心",
                            domain=domain,
                            method=ServiceMethod.GROUP,
                            target_group=target,
                            poverty_alleviation=True,
                            session_number=number,
                            session_plan=f"第{number}节：{_session_topic(number)}",
                            project=project_for(community.code, day),
                        ),
                        residents=[m.resident for m in attendees if rng.random() < 0.85]
                        or [attendees[0].resident],
                        workers=_pick(rng, workers, 2),
                    )

    # community activities, counted by head-count (with a few registered residents), until
    # the poverty-alleviation person-times reach F28_TARGET; deep-poverty towns get more
    weights = [3.0 if u["deep"] else 1.0 for u in units]
    while records.poverty_person_times < F28_TARGET and units:
        unit = rng.choices(units, weights=weights)[0]
        facility = unit["facility"]
        community = rng.choice(unit["communities"])
        day = _activity_day(rng, unit["start"])
        title, domain, target, place = rng.choice(POVERTY_ACTIVITIES)
        activity = Activity(
            facility=facility,
            title=f"{title}（{day:%Y年%m月}）",
            needs="脱贫攻坚工作要求与贫困群众需求调研。",
            plan="宣传发动、组织实施、总结评估。",
            held_on=day,
            place=place,
            partners=rng.choice(("乡镇扶贫办", "驻村工作队", "村委会", "镇卫生院", "县农业农村委")),
            volunteer_count=rng.randrange(2, 15),
            summary="活动按计划开展，参与群众反响良好。",
        )
        activities.append(activity)
        present = [m.resident for m in unit["people"] if m.consent_given_on <= day]
        registered = rng.sample(present, min(len(present), rng.randint(0, 3)))
        headcount = int(rng.triangular(25, 320, 80))
        record = records.add(
            _Service(
                facility=facility,
                division=community,
                served_on=day,
                duration_minutes=rng.choice((60, 90, 120, 180)),
                place=place,
                domain=domain,
                method=ServiceMethod.COMMUNITY,
                target_group=target,
                poverty_alleviation=True,
                headcount=headcount,
                volunteers=f"志愿者{activity.volunteer_count}名",
                project=project_for(community.code, day),
            ),
            residents=registered,
            workers=_pick(rng, unit["workers"], 2),
        )
        recorded.append((record, activity))
    # and a few services that were not poverty alleviation (the 2020 epidemic)
    for unit in units[::12]:
        day = _day_between(rng, date(2020, 2, 1), date(2020, 4, 30))
        activity = Activity(
            facility=unit["facility"],
            title="新冠肺炎疫情防控宣传",
            held_on=day,
            place="村广播站",
            volunteer_count=rng.randrange(2, 8),
            summary="入户宣传防疫知识，排查返乡人员。",
        )
        activities.append(activity)
        recorded.append(
            (
                records.add(
                    _Service(
                        facility=unit["facility"],
                        division=unit["communities"][0],
                        served_on=day,
                        duration_minutes=120,
                        place="村广播站",
                        domain=ServiceDomain.POLICY_PUBLICITY,
                        method=ServiceMethod.COMMUNITY,
                        headcount=rng.randrange(30, 120),
                    ),
                    workers=_pick(rng, unit["workers"], 1),
                ),
                activity,
            )
        )
    Activity.objects.bulk_create(activities, batch_size=2000)
    for record, activity in recorded:
        record.activity = activity
    return {"activities": len(activities)}


def _activity_day(rng: random.Random, start: date) -> date:
    """A day in 2018–2020 after ``start``; fewer in the first months of 2020 (epidemic)."""
    while True:
        day = _day_between(rng, start, SERVICE_END)
        if not (date(2020, 1, 25) <= day <= date(2020, 4, 15)) or rng.random() < 0.2:
            return day


def _session_topic(number: int) -> str:
    return ("相识与建立规范", "需求与目标", "技能学习", "经验分享", "资源链接", "回顾与告别")[
        (number - 1) % 6
    ]


# --- The demo room and station -------------------------------------------------------------


def _town_plan(rng, world: _World, facilities) -> dict:
    """Residents of 华新街街道: many in 桥北社区, a few in each other community."""
    communities = list(
        Division.objects.filter(level=Level.COMMUNITY, code__startswith=DEMO_TOWN).order_by("code")
    )
    home = next((c for c in communities if c.code == DEMO_COMMUNITY), None)
    if home is None:
        return {}
    start = date(2018, 1, 1)
    people: dict[str, list[_Member]] = {}
    for community in communities:
        count = 22 if community.code == DEMO_COMMUNITY else 4
        for _ in range(count):
            people.setdefault(community.code, []).extend(world.family(community, start))
    # children under 14 for the children's group, with a parent or grandparent as guardian
    for _ in range(6):
        family = world.family(home, start)
        people[DEMO_COMMUNITY].extend(family)
    # two residents of 桥北 moved in from the next community (history kept)
    movers = [m for m in people[DEMO_COMMUNITY] if m.relationship == Relationship.HEAD][:2]
    previous = next((c for c in communities if c.code == NEXT_COMMUNITY), None)
    for member in movers if previous else []:
        member.moved_from = previous
        member.moved_on = date(2019, 9, 1)
    # reviews due soon in 桥北: the home page's reminders
    for member in people[DEMO_COMMUNITY][:6]:
        for status in member.statuses:
            if status["ended_on"] is None:
                status["review_on"] = world.today + timedelta(days=rng.randrange(-5, 12))
                break
    room = facilities.filter(tier=Tier.ROOM, division=home).first()
    station = facilities.filter(tier=Tier.STATION, division__code=DEMO_TOWN).first()
    centre = facilities.filter(tier=Tier.CENTRE, division__code=DEMO_TOWN[:6]).first()
    neighbour_room = (
        facilities.filter(tier=Tier.ROOM, division__code__startswith=DEMO_TOWN)
        .exclude(division=home)
        .order_by("division__code")
        .first()
    )
    return {
        "communities": communities,
        "home": home,
        "people": people,
        "room": room,
        "station": station,
        "centre": centre,
        "neighbour_room": neighbour_room,
        "worker": User.objects.filter(username="room").first(),
        "supervisor": User.objects.filter(username="station").first(),
    }


def _town_services(rng, world: _World, records: _Records, town: dict, workers_at) -> dict:
    made = {"cases": 0, "groups": 0, "activities": 0, "referrals": 0}
    if not town or town["room"] is None:
        return made
    today = world.today
    room, station = town["room"], town["station"]
    worker, supervisor = town["worker"], town["supervisor"]
    home_people = town["people"][DEMO_COMMUNITY]
    room_workers = workers_at.get(room.pk, [])

    # home visits and phone calls across 2018 up to yesterday (the latest ones are the
    # worker's recent residents)
    for member in home_people:
        for _ in range(rng.randint(2, 9)):
            day = _day_between(rng, max(date(2018, 1, 1), member.consent_given_on), today)
            method = _weighted(rng, ((ServiceMethod.VISIT, 65), (ServiceMethod.PHONE, 35)))
            records.add(
                _Service(
                    facility=room,
                    division=member.community,
                    served_on=day,
                    duration_minutes=rng.choice((15, 30, 45)),
                    place="服务对象家中" if method == ServiceMethod.VISIT else "",
                    domain=rng.choice(
                        (
                            ServiceDomain.SOCIAL_ASSISTANCE,
                            ServiceDomain.EMOTIONAL_SUPPORT,
                            ServiceDomain.SOCIAL_SUPPORT,
                            ServiceDomain.POLICY_PUBLICITY,
                        )
                    ),
                    method=method,
                    target_group=_target_of(member, day),
                    notes=rng.choice(VISIT_NOTES) if rng.random() < 0.3 else "",
                    recorded_by=worker,
                ),
                residents=[member.resident],
                workers=_pick(rng, room_workers, 1),
            )
    # the station's visits in the town's other communities
    for code, members in town["people"].items():
        if code == DEMO_COMMUNITY or station is None:
            continue
        for member in members:
            for _ in range(rng.randint(1, 3)):
                day = _day_between(rng, max(date(2018, 1, 1), member.consent_given_on), today)
                records.add(
                    _Service(
                        facility=station,
                        division=member.community,
                        served_on=day,
                        duration_minutes=30,
                        place="服务对象家中",
                        domain=ServiceDomain.SOCIAL_ASSISTANCE,
                        method=ServiceMethod.VISIT,
                        target_group=_target_of(member, day),
                        recorded_by=supervisor,
                    ),
                    residents=[member.resident],
                    workers=_pick(rng, workers_at.get(station.pk, []), 1),
                )

    # community activities: twice a month in 桥北, monthly by the station elsewhere
    activities: list[tuple[Activity, ServiceRecord]] = []
    month = date(2018, 1, 1)
    while month <= today:
        for facility, per_month, user in ((room, 2, worker), (station, 1, supervisor)):
            if facility is None:
                continue
            for _ in range(per_month):
                day = month + timedelta(days=rng.randrange(0, 28))
                if day > today:
                    continue
                title, domain, target = rng.choice(TOWN_ACTIVITIES)
                community = town["home"] if facility == room else rng.choice(town["communities"])
                activity = Activity(
                    facility=facility,
                    title=title,
                    needs="居民需求调查。",
                    plan="宣传招募、现场组织、总结反馈。",
                    held_on=day,
                    place="社区活动室",
                    partners=rng.choice(("社区卫生服务中心", "街道派出所", "辖区物业", "")),
                    volunteer_count=rng.randrange(2, 12),
                    summary="活动顺利开展。",
                )
                present = [
                    m.resident
                    for m in town["people"].get(community.code, [])
                    if m.consent_given_on <= day
                ]
                record = records.add(
                    _Service(
                        facility=facility,
                        division=community,
                        served_on=day,
                        duration_minutes=90,
                        place="社区活动室",
                        domain=domain,
                        method=ServiceMethod.COMMUNITY,
                        target_group=target,
                        headcount=rng.randrange(15, 90),
                        volunteers=f"社区志愿者{activity.volunteer_count}名",
                        recorded_by=user,
                    ),
                    residents=rng.sample(present, min(len(present), rng.randint(0, 4))),
                    workers=_pick(rng, workers_at.get(facility.pk, []), 1),
                )
                activities.append((activity, record))
        month = (month + timedelta(days=32)).replace(day=1)
    Activity.objects.bulk_create([a for a, _r in activities], batch_size=1000)
    for activity, record in activities:
        record.activity = activity
    made["activities"] = len(activities)

    if worker is None or supervisor is None:
        return made
    made["cases"] = _cases(rng, world, records, town, room_workers)
    made["groups"] = _groups(rng, world, records, town, room_workers)
    made["referrals"] = _referrals(rng, world, town)
    return made


CASE_PLANS = (
    # stage, opened (days ago), risk, protected, problem
    (CaseStage.INTAKE, 3, RiskLevel.MEDIUM, False, "独居老人，近期跌倒两次，子女在外地。"),
    (CaseStage.INTAKE, 1, RiskLevel.LOW, False, "低保家庭子女辍学风险。"),
    (CaseStage.DECLINED, 40, RiskLevel.LOW, False, "咨询住房补贴政策。"),
    (CaseStage.ASSESSMENT, 20, RiskLevel.MEDIUM, False, "残疾人就业困难，家庭经济压力大。"),
    (CaseStage.ASSESSMENT, 12, RiskLevel.LOW, False, "留守妇女育儿压力。"),
    (CaseStage.PLAN, 45, RiskLevel.MEDIUM, False, "留守儿童学习困难、亲子沟通不畅。"),
    (CaseStage.PLAN, 35, RiskLevel.LOW, False, "特困老人生活照料安排。"),
    (CaseStage.INTERVENTION, 120, RiskLevel.HIGH, True, "家庭暴力危机，需安全计划与心理支持。"),
    (CaseStage.INTERVENTION, 90, RiskLevel.MEDIUM, False, "困境儿童监护缺失。"),
    (CaseStage.INTERVENTION, 70, RiskLevel.LOW, False, "低保对象社会融入。"),
    (CaseStage.EVALUATION, 200, RiskLevel.LOW, False, "独居老人社会支持网络薄弱。"),
    (CaseStage.EVALUATION, 160, RiskLevel.MEDIUM, False, "残疾青年康复与就业。"),
    (CaseStage.CLOSED, 900, RiskLevel.LOW, False, "低保家庭就业帮扶。"),
    (CaseStage.CLOSED, 600, RiskLevel.MEDIUM, False, "留守儿童心理适应。"),
    (CaseStage.CLOSED, 400, RiskLevel.LOW, False, "老人养老服务资源链接。"),
)


def _cases(rng, world: _World, records: _Records, town: dict, room_workers) -> int:
    today = world.today
    room, worker, supervisor = town["room"], town["worker"], town["supervisor"]
    adults = [
        m
        for m in town["people"][DEMO_COMMUNITY]
        if _years_before(today, 18) >= m.born and m.statuses
    ]
    children = [m for m in town["people"][DEMO_COMMUNITY] if _years_before(today, 14) < m.born]
    clients = children[:2]
    clients += rng.sample([m for m in adults if m not in clients], len(CASE_PLANS) - len(clients))
    rng.shuffle(clients)
    numbers: dict[int, int] = {}
    cases, changes, goals, notes = [], [], [], []
    plans = []
    for (stage, ago, risk, protected, problem), member in zip(CASE_PLANS, clients, strict=True):
        opened = today - timedelta(days=ago)
        numbers[opened.year] = numbers.get(opened.year, 0) + 1
        case = Case(
            number=f"C{room.division.code}-{opened.year}-{numbers[opened.year]:04d}",
            resident=member.resident,
            facility=room,
            stage=stage,
            referral_source=rng.choice(ReferralSource.values),
            risk_level=risk,
            protected=protected,
            assigned_to=worker,
            supervisor=supervisor,
            presenting_problem=problem,
            opened_on=opened,
        )
        steps = _case_steps(stage, opened, today)
        if stage == CaseStage.DECLINED:
            case.decline_reason = "不属于本社工室服务范围，已告知向住建部门咨询。"
        if stage not in (CaseStage.INTAKE,):
            case.approved_by = supervisor
            case.approved_on = steps[1][1]
        if stage in (
            CaseStage.ASSESSMENT,
            CaseStage.PLAN,
            CaseStage.INTERVENTION,
            CaseStage.EVALUATION,
            CaseStage.CLOSED,
        ):
            case.assessment = "个人：情绪低落；家庭：支持不足；社会系统：与社区联系少。"
        if stage in (CaseStage.EVALUATION, CaseStage.CLOSED):
            case.evaluation_method = "前后测对比（社会支持量表）与服务对象访谈"
            case.evaluation = "目标基本达成，服务对象社会支持明显改善。"
        if stage == CaseStage.CLOSED:
            case.closure_reason = rng.choice(
                (ClosureReason.GOALS_MET, ClosureReason.GOALS_MET, ClosureReason.CLIENT_ENDED)
            )
            case.client_reaction = "服务对象表示满意，愿意继续参加社区活动。"
            case.closing_report = "经过评估、计划与介入，服务对象的主要问题得到缓解，予以结案。"
            case.closed_on = steps[-1][1]
        if case.is_open:
            # follow-ups due today or overdue, reviews coming up, the rest later
            case.next_review_on = today + timedelta(days=rng.choice((-3, 0, 0, 2, 5, 9, 20)))
        case.version = len(steps)
        cases.append(case)
        plans.append((case, member, steps))
    Case.objects.bulk_create(cases)
    for case, member, steps in plans:
        previous = ""
        for to_stage, day in steps:
            approving = previous == CaseStage.INTAKE
            changes.append(
                CaseStageChange(
                    case=case,
                    from_stage=previous,
                    to_stage=to_stage,
                    changed_by=supervisor if approving else worker,
                    note=_stage_note(to_stage),
                )
            )
            changes[-1].changed_at_plan = _aware(day, hour=9) + timedelta(minutes=len(changes))
            previous = to_stage
        reached = [s for s, _d in steps]
        if CaseStage.PLAN in reached:
            done = case.stage in (CaseStage.EVALUATION, CaseStage.CLOSED)
            for priority, text in enumerate(_goals_of(case), start=1):
                goals.append(
                    CaseGoal(
                        case=case, text=text, priority=priority, achieved=True if done else None
                    )
                )
        if CaseStage.INTERVENTION in reached:
            start = dict(steps)[CaseStage.INTERVENTION]
            end = next(
                (d for s, d in steps if s in (CaseStage.EVALUATION, CaseStage.CLOSED)), today
            )
            for _ in range(rng.randint(3, 7)):
                day = _day_between(rng, start, end)
                records.add(
                    _Service(
                        facility=room,
                        division=room.division,
                        served_on=day,
                        duration_minutes=rng.choice((45, 60, 90)),
                        place="社工室" if rng.random() < 0.5 else "服务对象家中",
                        domain=ServiceDomain.CRISIS_INTERVENTION
                        if case.protected
                        else rng.choice(
                            (ServiceDomain.EMOTIONAL_SUPPORT, ServiceDomain.SOCIAL_SUPPORT)
                        ),
                        method=rng.choice((ServiceMethod.CASE, ServiceMethod.VISIT)),
                        target_group=_target_of(member, day),
                        case=case,
                        recorded_by=worker,
                    ),
                    residents=[member.resident],
                    workers=_pick(rng, room_workers, 1),
                )
            notes.append(
                CaseNote(
                    case=case,
                    kind=CaseNoteKind.CRISIS if case.protected else CaseNoteKind.GENERAL,
                    written_on=start,
                    text="制定安全计划，联系妇联与派出所，服务对象暂住亲属家。"
                    if case.protected
                    else "首次介入面谈，服务对象配合度良好。",
                    author=worker,
                )
            )
            notes.append(
                CaseNote(
                    case=case,
                    kind=CaseNoteKind.CONFERENCE if case.protected else CaseNoteKind.RESOURCE_LINK,
                    written_on=min(today, start + timedelta(days=14)),
                    text="个案会议：督导、社区民警、妇联共同研判风险。"
                    if case.protected
                    else "链接社区志愿者定期探访。",
                    author=worker,
                )
            )
            if case.protected:
                notes.append(
                    CaseNote(
                        case=case,
                        kind=CaseNoteKind.COUNSELLING,
                        written_on=min(today, start + timedelta(days=21)),
                        text="心理疏导：情绪逐步稳定，睡眠改善。",
                        author=worker,
                    )
                )
    CaseStageChange.objects.bulk_create(changes)
    for change in changes:
        change.changed_at = change.changed_at_plan
    CaseStageChange.objects.bulk_update(changes, ["changed_at"])
    CaseGoal.objects.bulk_create(goals)
    CaseNote.objects.bulk_create(notes)
    return len(cases)


def _case_steps(stage: str, opened: date, today: date) -> list[tuple[str, date]]:
    """The dated stage changes that bring a case opened on ``opened`` to ``stage``."""
    if stage == CaseStage.DECLINED:
        return [(CaseStage.INTAKE, opened), (CaseStage.DECLINED, opened + timedelta(days=3))]
    order = [
        CaseStage.INTAKE,
        CaseStage.ASSESSMENT,
        CaseStage.PLAN,
        CaseStage.INTERVENTION,
        CaseStage.EVALUATION,
        CaseStage.CLOSED,
    ]
    reached = order[: order.index(stage) + 1]
    span = max(len(reached), (today - opened).days - 1)
    # intake, assessment and plan take a few weeks; intervention the longest
    shares = {
        CaseStage.INTAKE: 0,
        CaseStage.ASSESSMENT: 0.05,
        CaseStage.PLAN: 0.12,
        CaseStage.INTERVENTION: 0.2,
        CaseStage.EVALUATION: 0.85,
        CaseStage.CLOSED: 0.95,
    }
    steps, last = [], opened
    for step in reached:
        day = max(last, opened + timedelta(days=int(span * shares[step])))
        day = min(day, today)
        steps.append((step, day))
        last = day
    return steps


def _stage_note(stage: str) -> str:
    return {
        CaseStage.INTAKE: "接案登记。",
        CaseStage.ASSESSMENT: "督导审批通过，进入预估。",
        CaseStage.PLAN: "完成预估，制定服务计划。",
        CaseStage.INTERVENTION: "服务计划确认，开始介入。",
        CaseStage.EVALUATION: "介入完成，开展评估。",
        CaseStage.CLOSED: "评估完成，结案。",
        CaseStage.DECLINED: "不予接案。",
    }[stage]


def _goals_of(case: Case) -> list[str]:
    if case.protected:
        return ["确保服务对象人身安全", "稳定情绪、恢复日常生活", "建立社会支持网络"]
    return ["改善服务对象的社会支持", "链接所需政策与社区资源"]


GROUP_PLANS = (
    # name, type, stage, target, planned sessions, sessions held, started (days ago), lead
    (
        "桥北社区留守儿童成长小组",
        GroupType.GROWTH,
        GroupStage.MATURITY,
        SpecialGroup.LEFT_BEHIND_CHILD,
        8,
        5,
        40,
        "room",
    ),
    (
        "长者互助支持小组",
        GroupType.SUPPORT,
        GroupStage.ENDING,
        SpecialGroup.LEFT_BEHIND_ELDER,
        6,
        6,
        120,
        "room",
    ),
    (
        "残疾人家属减压小组",
        GroupType.THERAPY,
        GroupStage.FORMATION,
        SpecialGroup.DISABILITY,
        6,
        1,
        10,
        "room",
    ),
    (
        "低保家庭就业能力提升小组",
        GroupType.EDUCATION,
        GroupStage.PREPARATION,
        SpecialGroup.DIBAO,
        6,
        0,
        2,
        "room",
    ),
    ("华新街新市民社区融入小组", GroupType.SUPPORT, GroupStage.TRANSITION, "", 8, 3, 25, "station"),
)


def _groups(rng, world: _World, records: _Records, town: dict, room_workers) -> int:
    today = world.today
    worker, supervisor = town["worker"], town["supervisor"]
    people = town["people"]
    home = people[DEMO_COMMUNITY]
    everyone = [m for ms in people.values() for m in ms]
    groups, memberships, sessions = [], [], []
    for name, kind, stage, target, planned, held, ago, lead in GROUP_PLANS:
        facility = town["room"] if lead == "room" else town["station"]
        if facility is None:
            continue
        started = today - timedelta(days=ago)
        group = WorkGroup(
            facility=facility,
            name=name,
            group_type=kind,
            stage=stage,
            target_group=target,
            goals="增强成员的互助与应对能力。",
            planned_sessions=planned,
            leader=worker if lead == "room" else supervisor,
            started_on=started,
        )
        pool = home if lead == "room" else everyone
        fitting = [m for m in pool if any(s["group"] == target for s in m.statuses)] or pool
        members = rng.sample(fitting, min(len(fitting), rng.randint(6, 10)))
        groups.append(group)
        sessions.append((group, members, held, started, facility, lead))
    WorkGroup.objects.bulk_create(groups)
    for group, members, held, started, facility, lead in sessions:
        for index, member in enumerate(members):
            memberships.append(
                GroupMember(
                    group=group,
                    resident=member.resident,
                    joined_on=started,
                    left_on=started + timedelta(days=15)
                    if index == len(members) - 1 and held >= 3
                    else None,
                )
            )
        for number in range(1, held + 1):
            day = min(today, started + timedelta(days=7 * (number - 1)))
            left = started + timedelta(days=15)
            present = [
                m.resident
                for i, m in enumerate(members)
                if rng.random() < 0.85 and not (i == len(members) - 1 and held >= 3 and day > left)
            ]
            records.add(
                _Service(
                    facility=facility,
                    division=facility.division
                    if facility.division.level == Level.COMMUNITY
                    else town["communities"][-1],
                    served_on=day,
                    duration_minutes=90,
                    place="社区活动室",
                    domain=ServiceDomain.CAPACITY_BUILDING
                    if group.group_type == GroupType.EDUCATION
                    else ServiceDomain.SOCIAL_SUPPORT,
                    method=ServiceMethod.GROUP,
                    target_group=group.target_group,
                    group=group,
                    session_number=number,
                    session_plan=f"第{number}节：{_session_topic(number)}",
                    recorded_by=worker if lead == "room" else supervisor,
                ),
                residents=present or [members[0].resident],
                workers=_pick(rng, room_workers, 1),
            )
    GroupMember.objects.bulk_create(memberships)
    return len(groups)


def _referrals(rng, world: _World, town: dict) -> int:
    today = world.today
    room, station, centre = town["room"], town["station"], town["centre"]
    worker, supervisor = town["worker"], town["supervisor"]
    home = [m for m in town["people"][DEMO_COMMUNITY] if _years_before(today, 18) >= m.born]
    a, b, c, d, e = rng.sample(home, 5)
    rows = []

    def referral(member, sender, receiver, agency, sent_ago, due_in, status, by, **extra):
        sent = today - timedelta(days=sent_ago)
        rows.append(
            Referral(
                resident=member.resident,
                from_facility=sender,
                to_facility=receiver,
                to_agency=agency,
                reason=extra.pop("reason"),
                consent_checked=True,
                sent_on=sent,
                due_on=sent + timedelta(days=due_in),
                status=status,
                sent_by=by,
                **extra,
            )
        )

    if station is not None:
        # sent by the room, unanswered past its due date: overdue on both home pages
        referral(
            a,
            room,
            station,
            "",
            20,
            7,
            ReferralStatus.PENDING,
            worker,
            reason="需要专业心理咨询，超出社工室服务能力。",
        )
        # sent by the station to the room, waiting for the room's answer
        referral(
            e,
            station,
            room,
            "",
            2,
            7,
            ReferralStatus.PENDING,
            supervisor,
            reason="居民迁入桥北社区，请社工室继续跟进低保家庭服务。",
        )
    referral(
        b,
        room,
        None,
        "江北区残疾人联合会",
        150,
        14,
        ReferralStatus.COMPLETED,
        worker,
        reason="申请辅助器具适配。",
        answered_on=today - timedelta(days=140),
        answer_note="已受理。",
        outcome="已为服务对象适配轮椅一台。",
    )
    if town["neighbour_room"] is not None:
        referral(
            c,
            town["neighbour_room"],
            room,
            "",
            30,
            10,
            ReferralStatus.ACCEPTED,
            supervisor,
            reason="服务对象已搬至桥北社区。",
            answered_on=today - timedelta(days=27),
            answer_note="已接收，安排入户。",
        )
    if centre is not None:
        referral(
            d,
            room,
            centre,
            "",
            60,
            10,
            ReferralStatus.DECLINED,
            worker,
            reason="申请法律援助。",
            answered_on=today - timedelta(days=55),
            answer_note="请直接对接区法律援助中心。",
        )
    Referral.objects.bulk_create(rows)
    # the referred residents consented to referral (and data sharing with the receiver)
    Consent.objects.bulk_create(
        [
            Consent(
                resident=r.resident,
                purpose=purpose,
                given_on=r.sent_on,
                given_by_name=r.resident.name,
                recorded_by=worker,
            )
            for r in rows
            for purpose in (ConsentPurpose.REFERRAL, ConsentPurpose.DATA_SHARING)
        ]
    )
    return len(rows)
