"""The statistical division import: real counts, idempotence, and every kind of bad input."""

import lzma
from pathlib import Path

import pytest

from shegong.core.models import AuditEvent
from shegong.geo.io import DivisionImportError, import_divisions
from shegong.geo.management.commands.import_divisions import shipped_chongqing_files
from shegong.geo.models import Division, DivisionChange, Kind, Level

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def db_state() -> tuple[int, int, int]:
    return Division.objects.count(), DivisionChange.objects.count(), AuditEvent.objects.count()


def test_shipped_chongqing_list_has_the_real_counts():
    # given the shipped list loaded at setup (conftest)
    chongqing = Division.objects.filter(code__startswith="50")
    # then
    assert chongqing.filter(level=Level.COUNTY).count() == 38
    assert chongqing.filter(level=Level.TOWN).count() == 1031
    assert chongqing.filter(kind=Kind.SUBDISTRICT).count() == 245
    assert chongqing.filter(kind__in=[Kind.TOWN, Kind.TOWNSHIP]).count() == 786
    assert chongqing.filter(level=Level.COMMUNITY).count() == 11270
    assert chongqing.filter(kind=Kind.URBAN).count() == 3323
    assert chongqing.filter(kind=Kind.RURAL).count() == 7946
    # and the municipality's 市辖区/县 groupings are marked so the browser looks through them
    assert set(chongqing.filter(is_grouping=True).values_list("code", flat=True)) == {
        "5001",
        "5002",
    }


def test_second_import_changes_nothing():
    # given the shipped list already loaded
    before = db_state()
    # when it is imported again
    result = import_divisions(paths=shipped_chongqing_files())
    # then nothing changed, not even the audit trail
    assert not result.changed_anything
    assert result.unchanged == 1 + 2 + 38 + 1031 + 11270
    assert db_state() == before


def test_a_rename_is_recorded_and_keeps_the_division(tmp_path):
    # given a community that exists
    community = Division.objects.get(code="500105001001")
    before_count = Division.objects.count()
    # when a newer list renames it
    path = write(
        tmp_path,
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '500105001001,"桥北新社区居民委员会",500105001,50,5001,500105\n',
    )
    result = import_divisions(paths=[path])
    # then the same row carries the new name and the rename is in its history and audited
    community.refresh_from_db()
    assert result.renamed == 1 and result.created == 0
    assert community.name == "桥北新社区居民委员会"
    assert Division.objects.count() == before_count
    change = DivisionChange.objects.get(division=community)
    assert (change.old_name, change.new_name) == ("桥北社区居民委员会", "桥北新社区居民委员会")
    assert AuditEvent.objects.filter(action="division.import").exists()


def test_plain_and_xz_files_and_province_filter(tmp_path):
    # given a plain and an xz file with rows of two provinces
    areas = write(
        tmp_path,
        "areas.csv",
        'code,name,cityCode,provinceCode\n510105,"青羊区",5101,51\n520102,"南明区",5201,52\n',
    )
    xz = tmp_path / "streets.csv.xz"
    xz.write_bytes(
        lzma.compress(
            "code,name,areaCode,provinceCode,cityCode\n"
            '510105001,"少城街道",510105,51,5101\n'.encode()
        )
    )
    # when only province 51 is imported (52's parent 5201 is unknown, but filtered away)
    result = import_divisions(paths=[areas, xz], province="51")
    # then
    assert result.created == 2
    assert Division.objects.get(code="510105001").kind == Kind.SUBDISTRICT
    assert not Division.objects.filter(code__startswith="52").exists()


def test_community_kind_from_class_code_overrides_name(tmp_path):
    path = write(
        tmp_path,
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode,urbanRuralCode\n"
        '510104017902,"红星村民委员会",510104017,51,5101,510104,112\n'
        '510104017903,"东风社区工作站",510104017,51,5101,510104,220\n',
    )
    import_divisions(paths=[path])
    assert Division.objects.get(code="510104017902").kind == Kind.URBAN
    rural = Division.objects.get(code="510104017903")
    assert (rural.kind, rural.urban_rural_class) == (Kind.RURAL, "220")


BAD_INPUTS = {
    "missing_columns": (
        "areas.csv",
        'code,title,cityCode\n510106,"金牛区",5101\n',
        1,
        "missing column(s): name",
    ),
    "missing_parent_column": (
        "streets.csv",
        'code,name,provinceCode\n510104021,"书院街街道",51\n',
        1,
        "missing column areaCode for this level",
    ),
    "malformed_code": (
        "areas.csv",
        'code,name,cityCode,provinceCode\n510106,"金牛区",5101,51\n51O107,"武侯区",5101,51\n',
        3,
        "malformed code “51O107”",
    ),
    "wrong_length_code": (
        "areas.csv",
        'code,name,cityCode,provinceCode\n5101061,"金牛区",5101,51\n',
        2,
        "malformed code “5101061”",
    ),
    "duplicate_code": (
        "areas.csv",
        'code,name,cityCode,provinceCode\n510106,"金牛区",5101,51\n510106,"又一个",5101,51\n',
        3,
        "duplicate code 510106 (first at areas.csv:2)",
    ),
    "unknown_parent": (
        "areas.csv",
        'code,name,cityCode,provinceCode\n510106,"金牛区",5101,51\n530102,"五华区",5301,53\n',
        3,
        "parent 5301 of 530102 is unknown",
    ),
    "prefix_disagrees_with_parent": (
        "streets.csv",
        'code,name,areaCode,provinceCode,cityCode\n510104021,"书院街街道",510105,51,5101\n',
        2,
        "code 510104021 does not start with its parent's code “510105”",
    ),
    "empty_name": (
        "areas.csv",
        'code,name,cityCode,provinceCode\n510106,"",5101,51\n',
        2,
        "code 510106 has no name",
    ),
    "empty_file": ("areas.csv", "", 1, "the file is empty"),
    "wrong_number_of_fields": (
        "areas.csv",
        'code,name,cityCode,provinceCode\n510106,"金牛区",5101,51\n510107,"武侯区",5101\n',
        3,
        "wrong number of fields",
    ),
    "malformed_class_code": (
        "villages.csv",
        "code,name,streetCode,provinceCode,cityCode,areaCode,urbanRuralCode\n"
        '510104017902,"红星村民委员会",510104017,51,5101,510104,31X\n',
        2,
        "malformed urban-rural class code “31X”",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS.keys())
def test_bad_input_is_rejected_whole_with_line_and_reason(tmp_path, case):
    # given a file with one problem after a good row, and the database as it is
    name, text, line, reason = BAD_INPUTS[case]
    good = write(
        tmp_path, "cities.csv", 'code,name,provinceCode\n5102,"自贡市",51\n'
    )  # a valid file in the same run
    bad = write(tmp_path, name, text)
    before = db_state()
    # when the run is imported
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(paths=[good, bad])
    # then the problem names the file, line and reason, and nothing was written
    problems = [(p.file, p.line, p.reason) for p in caught.value.problems]
    assert (name, line, reason) in problems
    assert db_state() == before
    assert not Division.objects.filter(code="5102").exists()


def test_wrong_encoding_names_the_line(tmp_path):
    # given a GBK-encoded file whose third line is the first non-ASCII one
    path = write(
        tmp_path,
        "areas.csv",
        'code,name,cityCode,provinceCode\n510106,"JinNiu",5101,51\n510107,"武侯区",5101,51\n',
        encoding="gbk",
    )
    before = db_state()
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(paths=[path])
    assert [(p.file, p.line, p.reason) for p in caught.value.problems] == [
        ("areas.csv", 3, "the file is not UTF-8 encoded")
    ]
    assert db_state() == before


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    path = write(
        tmp_path,
        "areas.csv",
        "code,name,cityCode,provinceCode\n"
        '510106,"金牛区",5101,51\n'
        'abc,"x",5101,51\n'
        '510106,"重复",5101,51\n'
        '510107,"",5101,51\n',
    )
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(paths=[path])
    assert [p.line for p in caught.value.problems] == [3, 4, 5]


def test_import_command_reports_problems_and_fails(tmp_path):
    from django.core.management import CommandError, call_command

    path = write(tmp_path, "areas.csv", 'code,name,cityCode,provinceCode\n5X,"x",5101,51\n')
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_divisions", str(path))
