"""A county that becomes a district keeps its row, its subtree and everything attached.

The real case is 梁平县 500228 → 梁平区 500155 (2016). Chongqing's 2023 list already holds
500155, so the story is replayed under an unused province code 98 with the same shape:
a 县 under the "县" grouping becomes a 区 under the "市辖区" grouping.
"""

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.io import DivisionImportError, import_divisions
from shegong.geo.models import Division, DivisionChange
from shegong.geo.selectors import division_by_code
from shegong.geo.services import division_change_code
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_list(tmp_path: Path) -> list[Path]:
    files = {
        "provinces.csv": 'code,name\n98,"测试市"\n',
        "cities.csv": 'code,name,provinceCode\n9801,"市辖区",98\n9802,"县",98\n',
        "areas.csv": 'code,name,cityCode,provinceCode\n980228,"梁平县",9802,98\n',
        "streets.csv": "code,name,areaCode,provinceCode,cityCode\n"
        '980228100,"梁山镇",980228,98,9802\n',
        "villages.csv": "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '980228100001,"红星社区居民委员会",980228100,98,9802,980228\n',
    }
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    import_divisions(paths=paths)
    return paths


def test_code_change_keeps_history_and_attachments(old_list):
    # given the county with a user attached to it and a community below it
    county = Division.objects.get(code="980228")
    community_id = Division.objects.get(code="980228100001").pk
    user = make_user(Role.COUNTY_STAFF, "980228")
    # when it becomes 梁平区 980155
    division_change_code(
        actor=None,
        division=county,
        new_code="980155",
        new_name="梁平区",
        effective_on=date(2016, 1, 1),
    )
    # then the same row has the new code, name and parent grouping
    county.refresh_from_db()
    assert (county.code, county.name, county.parent_code) == ("980155", "梁平区", "9801")
    # and its subtree was recoded with it, keeping ids
    assert Division.objects.get(pk=community_id).code == "980155100001"
    assert not Division.objects.filter(code__startswith="980228").exists()
    # and what was attached is still attached, now scoped to the new code
    user.refresh_from_db()
    assert user.division_id == county.pk and user.scope_prefix == "980155"
    # and the history and audit trail record it
    change = DivisionChange.objects.get(division=county)
    assert (change.old_code, change.old_name, change.new_code, change.new_name) == (
        "980228",
        "梁平县",
        "980155",
        "梁平区",
    )
    assert DivisionChange.objects.filter(old_code="980228100001", new_code="980155100001").exists()
    assert AuditEvent.objects.filter(
        action="division.change_code", object_id=str(county.pk)
    ).exists()
    # and the old code still finds the division
    city = make_user(Role.CITY_ADMIN, "98", username="city98")
    assert division_by_code(user=city, code="980228") == county


def test_reimporting_the_old_list_after_a_code_change_is_refused(old_list):
    county = Division.objects.get(code="980228")
    division_change_code(
        actor=None,
        division=county,
        new_code="980155",
        new_name="梁平区",
        effective_on=date(2016, 1, 1),
    )
    before = Division.objects.count()
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(paths=old_list)
    reasons = [p.reason for p in caught.value.problems]
    assert any("980228 was changed to 980155" in r for r in reasons)
    assert Division.objects.count() == before


@pytest.mark.parametrize(
    ("new_code", "message"),
    [("98015", "必须为 6 位数字"), ("980228", "与原代码相同"), ("970155", "上级区划")],
)
def test_bad_code_changes_are_refused(old_list, new_code, message):
    county = Division.objects.get(code="980228")
    with pytest.raises(ValidationError, match=message):
        division_change_code(
            actor=None, division=county, new_code=new_code, effective_on=date.today()
        )
    county.refresh_from_db()
    assert county.code == "980228"


def test_code_taken_by_another_division_is_refused(old_list):
    county = Division.objects.get(code="980228")
    import_divisions(
        paths=[
            _write(
                old_list[0].parent,
                "more.csv",
                'code,name,cityCode,provinceCode\n980101,"某区",9801,98\n',
            )
        ]
    )
    with pytest.raises(ValidationError, match="已有其他区划使用该代码"):
        division_change_code(
            actor=None, division=county, new_code="980101", effective_on=date.today()
        )


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
