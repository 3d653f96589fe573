"""Demo workforce at the article's scale (demo mode only), on top of the demo network.

- 63,000 social work professionals in post (F15), 37,200 of them in grassroots
  self-governing and community service organisations (F16); the rest in agencies,
  government, schools, hospitals and elsewhere. About a third hold a degree, half of those
  in social work; qualified people have a current registration period with some
  continuing-education hours, some of them short.
- The "10,000 social work specialists" plan ran 2013–2020 (F13 = 8 years): each year 30
  specialist courses of 100 registered attendees and 300 external ones (F14 = 12,000
  person-times) and 2 courses for 100 leading cadres each (F12 = 200). Completing a course
  credits its hours as continuing education.
- 10 universities with social work degree programmes (F9), 6 of them running funded
  municipal innovation bases (F10), 1,040 graduates a year (F11).
- Honours: 10 Outstanding Talent Contribution Awards (F17), 7 Famous Masters (F18) with a
  ¥300,000 reward each (F20), 2 national leading talents (F19).
- Poverty: Chongqing's 14 national poor counties and its 18 deep-poverty towns (F27),
  designated as data; 520 dispatches of social workers to them (F26).

Rows are written in bulk, deterministically; one audit event records the load.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shegong.core.audit import audit_record
from shegong.geo.models import Division, Level, PovertyDesignation, PovertyKind
from shegong.network.demo import FULLY_COVERED, _worker
from shegong.network.models import Facility, Tier
from shegong.workforce.models import (
    GRASSROOTS_WORKPLACES,
    Audience,
    Award,
    AwardScheme,
    ContinuingEducation,
    Course,
    Degree,
    DegreeProgramme,
    Dispatch,
    Education,
    Employment,
    Enrolment,
    GraduateCohort,
    HonourLevel,
    InnovationBase,
    Posting,
    QualificationLevel,
    RegistrationPeriod,
    SocialWorker,
    TrainingProgramme,
    University,
    WorkplaceType,
)
from shegong.workforce.models import (
    HonourCategory as C,
)

PROFESSIONALS = 63_000
GRASSROOTS = 37_200
CITY = "50"
CITY_POPULATION = 32_054_159  # Chongqing, 7th national census (2020)
POOR_COUNTIES = (
    "500101",  # 万州区
    "500114",  # 黔江区
    "500154",  # 开州区
    "500156",  # 武隆区
    "500229",  # 城口县
    "500230",  # 丰都县
    "500235",  # 云阳县
    "500236",  # 奉节县
    "500237",  # 巫山县
    "500238",  # 巫溪县
    "500240",  # 石柱县
    "500241",  # 秀山县
    "500242",  # 酉阳县
    "500243",  # 彭水县
)
DEEP_POVERTY_TOWNS = (
    "500229212",  # 城口县鸡鸣乡
    "500229208",  # 城口县沿河乡
    "500238118",  # 巫溪县红池坝镇
    "500238243",  # 巫溪县天元乡
    "500237105",  # 巫山县双龙镇
    "500236266",  # 奉节县平安乡
    "500235139",  # 云阳县泥溪镇
    "500154109",  # 开州区大进镇
    "500101151",  # 万州区龙驹镇
    "500240213",  # 石柱县中益乡
    "500230210",  # 丰都县三建乡
    "500156208",  # 武隆区后坪乡
    "500114110",  # 黔江区金溪镇
    "500243225",  # 彭水县大垭乡
    "500243206",  # 彭水县三义乡
    "500242218",  # 酉阳县车田乡
    "500242222",  # 酉阳县浪坪乡
    "500241103",  # 秀山县隘口镇
)
UNIVERSITIES = (
    # name, county, degree levels, runs a funded innovation base
    ("西南大学", "500109", (Degree.BACHELOR, Degree.MASTER), True),
    ("西南政法大学", "500112", (Degree.BACHELOR, Degree.MASTER), True),
    ("重庆工商大学", "500108", (Degree.BACHELOR, Degree.MASTER), True),
    ("重庆师范大学", "500106", (Degree.BACHELOR, Degree.MASTER), True),
    ("重庆理工大学", "500113", (Degree.BACHELOR,), True),
    ("重庆大学", "500106", (Degree.BACHELOR, Degree.MASTER), True),
    ("长江师范学院", "500102", (Degree.BACHELOR,), False),
    ("重庆三峡学院", "500101", (Degree.BACHELOR,), False),
    ("重庆城市管理职业学院", "500106", (Degree.DIPLOMA,), False),
    ("重庆青年职业技术学院", "500106", (Degree.DIPLOMA,), False),
)
GRADUATES_A_YEAR = 1_040
TRAINING_YEARS = range(2013, 2021)
ELSEWHERE = (
    # workplace type, weight, workplace name pattern
    (WorkplaceType.AGENCY, 40, "{county}社会工作服务中心"),
    (WorkplaceType.GOVERNMENT, 15, "{county}民政局"),
    (WorkplaceType.SCHOOL, 12, "{county}第一中学"),
    (WorkplaceType.HOSPITAL, 10, "{county}人民医院"),
    (WorkplaceType.OTHER, 23, "{county}慈善会"),
)


def _in_post(today: date):
    return Posting.objects.filter(started_on__lte=today).exclude(ended_on__lte=today)


@transaction.atomic
def demo_workforce_create(seed: int = 2022) -> dict[str, int]:
    """Top the demo network's staff up to the article's workforce and add its training,
    honours, universities and dispatches; nothing is done if universities exist already."""
    if University.objects.exists():
        return {}
    rng = random.Random(seed)
    today = timezone.localdate()
    counties = {d.code: d for d in Division.objects.filter(code__startswith=CITY, level="county")}
    communities = list(Division.objects.filter(code__startswith=CITY, level=Level.COMMUNITY))

    # --- Workforce: top up to 63,000 in post, 37,200 at the grassroots ---------------------
    active = _in_post(today)
    in_post = active.values("worker_id").distinct().count()
    grassroots = (
        active.filter(workplace_type__in=GRASSROOTS_WORKPLACES)
        .values("worker_id")
        .distinct()
        .count()
    )
    new_workers: list[SocialWorker] = []
    postings: list[Posting] = []
    serial = 1_000_000  # far from the network demo's serials: IDs stay unique
    for _ in range(max(0, GRASSROOTS - grassroots)):
        serial += 1
        community = rng.choice(communities)
        worker = _worker(rng, community, serial)
        new_workers.append(worker)
        postings.append(
            Posting(
                worker=worker,
                workplace_type=WorkplaceType.GRASSROOTS,
                workplace_name=community.name,
                employment=Employment.FULL_TIME,
                post_type="社区专职工作者",
                started_on=date(2012, 1, 1) + timedelta(days=rng.randrange(0, 9 * 365)),
            )
        )
    others = max(0, PROFESSIONALS - in_post - len(new_workers))
    kinds = [k for k, _w, _p in ELSEWHERE]
    weights = [w for _k, w, _p in ELSEWHERE]
    names = {k: p for k, _w, p in ELSEWHERE}
    county_list = list(counties.values())
    for _ in range(others):
        serial += 1
        county = rng.choice(county_list)
        kind = rng.choices(kinds, weights=weights)[0]
        worker = _worker(rng, county, serial)
        new_workers.append(worker)
        postings.append(
            Posting(
                worker=worker,
                workplace_type=kind,
                workplace_name=names[kind].format(county=county.name),
                employment=Employment.FULL_TIME,
                post_type="社会工作者",
                started_on=date(2012, 1, 1) + timedelta(days=rng.randrange(0, 9 * 365)),
            )
        )
    SocialWorker.objects.bulk_create(new_workers, batch_size=2000)
    for posting in postings:
        posting.worker_id = posting.worker.pk
    Posting.objects.bulk_create(postings, batch_size=5000)

    # Education, registration and continuing education for everyone in the city.
    people = list(
        SocialWorker.objects.filter(division__code__startswith=CITY).values_list(
            "pk", "qualification_level"
        )
    )
    education, periods, credits = [], [], []
    for pk, level in people:
        if rng.random() < 0.34:
            education.append(
                Education(
                    worker_id=pk,
                    school=rng.choice(UNIVERSITIES)[0],
                    degree=rng.choices(list(Degree.values), weights=(30, 60, 9, 1))[0],
                    social_work_major=rng.random() < 0.5,
                    graduated_on=date(rng.randrange(1995, 2021), 7, 1),
                )
            )
        if level == QualificationLevel.NONE:
            continue
        starts = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 900))
        if (starts.month, starts.day) == (2, 29):
            starts = starts.replace(day=28)
        ends = starts.replace(year=starts.year + 3) - timedelta(days=1)
        periods.append(RegistrationPeriod(worker_id=pk, starts_on=starts, ends_on=ends))
        for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4))):
            done = starts + timedelta(days=rng.randrange(0, 300))
            if done <= today:
                credits.append(
                    ContinuingEducation(
                        worker_id=pk,
                        hours=Decimal(rng.choice((8, 12, 16, 24, 32))),
                        completed_on=done,
                        title=rng.choice(
                            ("个案工作实务", "小组工作督导", "社区治理专题", "社会救助政策")
                        ),
                    )
                )
    Education.objects.bulk_create(education, batch_size=5000)
    RegistrationPeriod.objects.bulk_create(periods, batch_size=5000)
    ContinuingEducation.objects.bulk_create(credits, batch_size=5000)

    city = Division.objects.get(code=CITY)
    city.population = CITY_POPULATION
    city.save(update_fields=["population"])
    qualified = [pk for pk, level in people if level != QualificationLevel.NONE]
    made = {
        "social_workers_added": len(new_workers),
        **_training(rng, city, qualified),
        **_universities(rng, counties),
        **_honours(rng, city, qualified),
        **_poverty_and_dispatches(rng, counties),
    }
    audit_record(
        actor=None, action="demo.workforce", object_type="workforce.socialworker", after=made
    )
    return made


def _training(rng: random.Random, city: Division, qualified: list[int]) -> dict[str, int]:
    programme = TrainingProgramme.objects.create(
        name="重庆市“万名社会工作专业人才”培训计划",
        first_year=TRAINING_YEARS[0],
        last_year=TRAINING_YEARS[-1],
        target_per_year=12_000,
        division=city,
    )
    courses = []
    for year in TRAINING_YEARS:
        for number in range(30):
            starts = date(year, 3, 1) + timedelta(days=number * 9)
            courses.append(
                Course(
                    programme=programme,
                    title=f"{year}年社会工作专业人才培训班（第{number + 1}期）",
                    audience=Audience.SPECIALISTS,
                    organiser="重庆市民政局",
                    starts_on=starts,
                    ends_on=starts + timedelta(days=4),
                    hours=Decimal(32),
                    external_headcount=300,
                    division=city,
                )
            )
        for number in range(2):
            starts = date(year, 9, 10) + timedelta(days=number * 30)
            courses.append(
                Course(
                    title=f"{year}年领导干部社会工作专题培训班（第{number + 1}期）",
                    audience=Audience.LEADING_CADRES,
                    organiser="重庆市委组织部、重庆市民政局",
                    starts_on=starts,
                    ends_on=starts + timedelta(days=2),
                    hours=Decimal(16),
                    external_headcount=100,
                    division=city,
                )
            )
    Course.objects.bulk_create(courses)
    enrolments, credits = [], []
    for course in courses:
        if course.audience != Audience.SPECIALISTS:
            continue
        for pk in rng.sample(qualified, 100):
            credits.append(
                ContinuingEducation(
                    worker_id=pk,
                    hours=course.hours,
                    completed_on=course.ends_on,
                    title=course.title,
                )
            )
            enrolments.append(
                Enrolment(
                    course=course,
                    worker_id=pk,
                    attended=True,
                    completed_on=course.ends_on,
                    certificate_number=f"PX{course.starts_on:%Y}{len(enrolments) + 1:06d}",
                )
            )
    ContinuingEducation.objects.bulk_create(credits, batch_size=5000)
    for enrolment, credit in zip(enrolments, credits, strict=True):
        enrolment.ce_credit_id = credit.pk
    Enrolment.objects.bulk_create(enrolments, batch_size=5000)
    return {"courses": len(courses), "enrolments": len(enrolments)}


def _universities(rng: random.Random, counties: dict[str, Division]) -> dict[str, int]:
    made = 0
    for name, county, levels, funded in UNIVERSITIES:
        university = University.objects.create(name=name, division=counties[county])
        for level in levels:
            DegreeProgramme.objects.create(
                university=university,
                level=level,
                name="社会工作" if level != Degree.DIPLOMA else "社会工作（专科）",
                since_year=rng.randrange(1999, 2010),
            )
        if funded:
            InnovationBase.objects.create(
                university=university,
                name=f"{name}重庆市社会工作创新基地",
                funded_amount=Decimal(500_000),
                first_year=2016,
                last_year=2020,
            )
        made += 1
    universities = list(University.objects.order_by("pk"))
    cohorts = []
    for year in TRAINING_YEARS:
        shares = [rng.randrange(60, 140) for _ in universities]
        counts = [GRADUATES_A_YEAR * share // sum(shares) for share in shares]
        counts[0] += GRADUATES_A_YEAR - sum(counts)
        for university, count in zip(universities, counts, strict=True):
            level = university.programmes.order_by("level").first().level
            cohorts.append(
                GraduateCohort(university=university, year=year, level=level, graduates=count)
            )
    GraduateCohort.objects.bulk_create(cohorts)
    return {"universities": made}


def _honours(rng: random.Random, city: Division, qualified: list[int]) -> dict[str, int]:
    schemes = (
        ("重庆市杰出人才突出贡献奖", HonourLevel.MUNICIPAL, C.OUTSTANDING_CONTRIBUTION, 0, 10),
        ("“重庆英才·名家名师”", HonourLevel.MUNICIPAL, C.FAMOUS_MASTER, 300_000, 7),
        ("全国专业社会工作领军人才", HonourLevel.NATIONAL, C.NATIONAL_LEADING, 0, 2),
    )
    chosen = rng.sample(qualified, sum(n for *_rest, n in schemes))
    awards = 0
    for name, level, category, reward, people in schemes:
        scheme = AwardScheme.objects.create(
            name=name,
            level=level,
            category=category,
            reward_amount=Decimal(reward),
            division=city,
        )
        for index in range(people):
            year = 2016 + index % 5
            Award.objects.create(
                scheme=scheme,
                worker_id=chosen.pop(),
                year=year,
                reward_amount=Decimal(reward),
                paid_on=date(year, 12, 20) if reward else None,
            )
            awards += 1
    return {"awards": awards}


def _poverty_and_dispatches(rng: random.Random, counties: dict[str, Division]) -> dict[str, int]:
    towns = {d.code: d for d in Division.objects.filter(code__in=DEEP_POVERTY_TOWNS)}
    PovertyDesignation.objects.bulk_create(
        [
            PovertyDesignation(
                division=counties[code],
                kind=PovertyKind.POOR_COUNTY,
                designated_on=date(2014, 1, 1),
                document="国务院扶贫开发领导小组办公室 国家扶贫开发工作重点县名单",
            )
            for code in POOR_COUNTIES
        ]
        + [
            PovertyDesignation(
                division=towns[code],
                kind=PovertyKind.DEEP_POVERTY_TOWN,
                designated_on=date(2017, 8, 1),
                document="重庆市深度贫困乡镇名单（18个）",
            )
            for code in DEEP_POVERTY_TOWNS
        ]
    )
    # Home: full-time staff of the fully covered (mostly main-urban) counties' facilities,
    # each sent once; hosts: every deep-poverty town (with its station when there is one)
    # and the poor counties.
    home_area = Q()
    for code in FULLY_COVERED:
        home_area |= Q(facility__division__code__startswith=code)
    senders = list(
        Posting.objects.filter(home_area, employment=Employment.FULL_TIME)
        .order_by("pk")
        .values_list("worker_id", "facility_id")
    )
    rng.shuffle(senders)
    stations = dict(
        Facility.objects.filter(
            tier=Tier.STATION, division__code__in=DEEP_POVERTY_TOWNS
        ).values_list("division__code", "pk")
    )
    hosts = [towns[code] for code in DEEP_POVERTY_TOWNS] * 12
    hosts += [counties[code] for code in POOR_COUNTIES] * 22
    dispatches = []
    for index, host in enumerate(hosts):
        worker_id, home_id = senders[index % len(senders)]
        starts = date(2018, 3, 1) + timedelta(days=(index * 37) % 900)
        dispatches.append(
            Dispatch(
                worker_id=worker_id,
                home_facility_id=home_id,
                host_division=host,
                host_facility_id=stations.get(host.code),
                starts_on=starts,
                ends_on=starts + timedelta(days=rng.choice((180, 365, 730))),
                purpose=rng.choice(
                    ("脱贫攻坚驻村社会工作服务", "困境儿童关爱服务", "农村留守老人探访")
                ),
            )
        )
    Dispatch.objects.bulk_create(dispatches, batch_size=2000)
    return {"dispatches": len(dispatches), "deep_poverty_towns": len(towns)}
