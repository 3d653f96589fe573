"""The two ways through the division import: the fast path must accept only what the careful
path accepts, produce the very same rows, and hand anything else to it."""

from pathlib import Path

import pytest
from django.db import connection
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from shegong.geo import io as geo_io
from shegong.geo.io import DivisionImportError, import_divisions
from shegong.geo.models import Division, DivisionChange, Kind

HEADERS = {
    2: ["code", "name"],
    4: ["code", "name", "provinceCode"],
    6: ["code", "name", "cityCode", "provinceCode"],
    9: ["code", "name", "areaCode", "provinceCode", "cityCode"],
    12: ["code", "name", "streetCode", "provinceCode", "cityCode", "areaCode"],
}
PARENT_COLUMN = {4: "provinceCode", 6: "cityCode", 9: "areaCode", 12: "streetCode"}
# Characters that make names interesting: spaces the careful path strips (ASCII, no-break,
# ideographic), separators and quotes, what COPY would have to escape, and the suffixes and
# names that decide kinds and groupings.
NAME_PARTS = st.sampled_from(
    [
        "东城区",
        "街道",
        "社区",
        "居民委员会",
        "村民委员会",
        "市辖区",
        "县",
        "a",
        " ",
        "\u3000",
        "\u00a0",
        "\u2009",
        "\u2028",
        "\u0085",
        "\u00b7",
        "“",
        ",",
        '"',
        "\\",
        "\t",
        "x" * 60,
    ]
)


def careful(name: str, data: bytes) -> tuple[bytes | None, set[str], set[str]]:
    """The careful path's rows (None if it finds a problem other than a duplicate or a name
    too long), their codes and their parents' codes.

    Duplicates are found across files once all are read, and a name too long by the writer
    (PostgreSQL's varchar(100), ``_LONG_NAME`` on SQLite); both then hand the run over.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    run = geo_io._Run()
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None, set(), set()
    geo_io._parse(name, text, "", run)
    too_long = [p for p in run.problems if "too long" in p.reason]
    if any("duplicate" not in p.reason for p in run.problems if p not in too_long):
        return None, set(), set()
    if too_long:
        return b"name too long", set(), set()
    if not run.rows:
        return None, set(), set()
    codes = {code for code, _, _ in run.rows}
    parents = {c[: geo_io.PARENT_LENGTH[len(c)]] for c in codes if len(c) > 2}
    return b"".join(geo_io._copy_text(run.rows)), codes, parents


def fast(name: str, pieces: list[bytes]) -> tuple[bytes | None, set[str], set[str]]:
    """The fast path's rows (None if it gives up), their codes and their parents' codes."""
    try:
        file = geo_io._FastFile.start(name, iter(pieces))
        codes: list[bytes] = []
        parents: set[bytes] = set()
        text = b"".join(file.blocks(parents, codes))
    except geo_io._GiveUp:
        return None, set(), set()
    if file.rows == 0:
        return None, set(), set()
    return text, {c.decode() for c in codes}, {p.decode() for p in parents}


SAFE_NAME_PARTS = st.sampled_from(
    ["东城区", "街道", "社区", "居民委员会", "村民委员会", "市辖区", "县", "a", "·", "“", ","]
)


@st.composite
def division_files(draw) -> tuple[str, bytes, list[int]]:
    """A file of one level: half of them clean (every row valid, though names may hold
    commas, quotes and inner spaces), the others with odd or wrong fields here and there."""
    length = draw(st.sampled_from([2, 4, 6, 9, 12]))
    odd = draw(st.booleans())

    def sometimes(one_in: int) -> bool:
        return odd and not draw(st.integers(0, one_in - 1))

    header = list(HEADERS[length])
    if length == 12 and draw(st.booleans()):
        header.append("urbanRuralCode")
    if draw(st.booleans()):
        header = [header[0], header[1], *draw(st.permutations(header[2:]))]
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    lines = [",".join(header)]
    for _ in range(draw(st.integers(1, 6))):
        code_length = draw(st.sampled_from([2, 4, 7, 9])) if sometimes(8) else length
        digits = st.lists(st.sampled_from("0123456789"), min_size=code_length, max_size=code_length)
        code = "".join(draw(digits))
        if sometimes(12):
            code = code[:-1] + "X"
        parts = NAME_PARTS if odd else SAFE_NAME_PARTS
        name = "".join(draw(st.lists(parts, min_size=0 if odd else 1, max_size=4)))
        fields = []
        for column in header:
            if column == "code":
                fields.append(f'"{code}"' if sometimes(8) else code)
            elif column == "name":
                quoted = not sometimes(4) and ('"' in name or "," in name or draw(st.booleans()))
                fields.append('"' + name.replace('"', '""') + '"' if quoted else name)
            elif column == PARENT_COLUMN.get(length):
                parent = code[: geo_io.PARENT_LENGTH.get(len(code), 0)]
                fields.append(parent[:-1] + "9" if sometimes(8) else parent)
            elif column == "urbanRuralCode":
                classes = ["", "", "111", "220", "121"] + (["31X", "1", " 111"] if odd else [])
                fields.append(draw(st.sampled_from(classes)))
            else:
                fields.append(draw(st.sampled_from(["11", "", "1101"] + ([" 12"] if odd else []))))
        lines.append(",".join(fields))
    text = newline.join(lines) + (newline if draw(st.integers(0, 5)) else "")
    if sometimes(6):
        text += newline  # an empty last line
    data = ("\ufeff" if draw(st.integers(0, 9)) == 0 else "").encode() + text.encode()
    header_end = data.index(b"\n") + 1
    cut_at = st.integers(header_end + 1, max(len(data), header_end + 1))
    cuts = sorted(draw(st.lists(cut_at, max_size=3)))
    name = ["provinces", "cities", "areas", "streets", "villages"][[2, 4, 6, 9, 12].index(length)]
    return f"{name}.csv", data, cuts


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(division_files())
@example(  # a name too long: the writer catches it, not the expression
    (
        "streets.csv",
        b"code,name,areaCode,provinceCode,cityCode\n000000000,%s,000000,11,11\n" % (b"x" * 120),
        [],
    )
)
def test_fast_path_accepts_only_what_the_careful_path_accepts_and_makes_the_same_rows(case):
    name, data, cuts = case
    # given a file cut into pieces where decompression might cut it
    head_end = data.index(b"\n", data.index(b"\n") + 1) + 1 if data.count(b"\n") > 1 else len(data)
    cuts = [c for c in cuts if c > head_end]
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    # when both paths read it
    fast_rows, fast_codes, fast_parents = fast(name, [p for p in pieces if p])
    careful_rows, careful_codes, careful_parents = careful(name, data)
    event("fast path: " + ("accepts" if fast_rows is not None else "gives up"))
    event("careful path: " + ("accepts" if careful_rows is not None else "rejects"))
    # then whatever the fast path accepts, the careful path accepts, with the same rows
    if fast_rows is not None:
        assert careful_rows is not None
        if careful_rows == b"name too long":
            assert geo_io._LONG_NAME.search(fast_rows.decode())
            return
        assert fast_rows == careful_rows
        assert fast_parents == careful_parents
        assert fast_codes == careful_codes


def test_fast_path_rows_for_the_shipped_chongqing_list():
    from shegong.geo.management.commands.import_divisions import shipped_chongqing_files

    for path in shipped_chongqing_files():
        file = geo_io._FastFile.open(path)
        parents: set[bytes] = set()
        rows = b"".join(file.blocks(parents, None))
        assert file.rows > 0
        assert rows == careful(path.name, geo_io.lzma.decompress(path.read_bytes()))[0]


def write_files(folder: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    return paths


HIERARCHY = {
    "provinces.csv": 'code,name\n96,"试验省"\n',
    "cities.csv": 'code,name,provinceCode\n9601,"市辖区",96\n9602,"某市",96\n',
    "areas.csv": 'code,name,cityCode,provinceCode\n960101,"甲区",9601,96\n',
    "streets.csv": "code,name,areaCode,provinceCode,cityCode\n"
    '960101001,"一街道",960101,96,9601\n'
    '960101101,"二镇",960101,96,9601\n'
    '960101201,"三乡",960101,96,9601\n'
    '960101401,"四农场",960101,96,9601\n',
    "villages.csv": "code,name,streetCode,provinceCode,cityCode,areaCode\n"
    '960101001001,"东社区居民委员会",960101001,96,9601,960101\n'
    '960101101001,"南村村民委员会",960101101,96,9601,960101\n'
    '960101101002,"北社区居委会",960101101,96,9601,960101\n',
}


def expected_hierarchy() -> dict[str, tuple]:
    return {
        "96": ("试验省", "province", "", False),
        "9601": ("市辖区", "prefecture", "", True),
        "9602": ("某市", "prefecture", "", False),
        "960101": ("甲区", "county", "", False),
        "960101001": ("一街道", "town", "subdistrict", False),
        "960101101": ("二镇", "town", "town", False),
        "960101201": ("三乡", "town", "township", False),
        "960101401": ("四农场", "town", "other_town", False),
        "960101001001": ("东社区居民委员会", "community", "urban", False),
        "960101101001": ("南村村民委员会", "community", "rural", False),
        "960101101002": ("北社区居委会", "community", "", False),
    }


def loaded(prefix: str) -> dict[str, tuple]:
    return {
        d.code: (d.name, d.level, d.kind, d.is_grouping)
        for d in Division.objects.filter(code__startswith=prefix)
    }


@pytest.fixture
def careful_path_forbidden(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the careful path ran")

    monkeypatch.setattr(geo_io, "_careful_import", refuse)


@pytest.fixture
def empty_divisions(db):
    """geo_division emptied (inside the test's transaction), and its indexes as they were."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # Checked now, not at commit: pending checks would keep ALTER TABLE off the table.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DELETE FROM geo_divisionchange")
        cursor.execute("DELETE FROM geo_division")
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return indexes()


def indexes() -> set[str]:
    """The definitions of geo_division's indexes (PostgreSQL drops and rebuilds them around a
    load into the empty table; SQLite keeps them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'geo_division'")
        else:
            cursor.execute(
                "SELECT coalesce(sql, name) FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = 'geo_division'"
            )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_fast_path_into_an_empty_table_rebuilds_its_indexes(
    tmp_path, empty_divisions, careful_path_forbidden
):
    # when the hierarchy is imported into the empty table
    result = import_divisions(paths=write_files(tmp_path, HIERARCHY))
    # then every row is there with the kind and grouping the careful path gives
    assert result.created == 11 and not result.unchanged
    assert loaded("96") == expected_hierarchy()
    # and the indexes are back as they were
    assert indexes() == empty_divisions
    # and a second run changes nothing
    assert not import_divisions(paths=write_files(tmp_path, HIERARCHY)).changed_anything


@pytest.mark.django_db
def test_fast_path_into_a_loaded_table(tmp_path, careful_path_forbidden):
    result = import_divisions(paths=write_files(tmp_path, HIERARCHY))
    assert result.created == 11
    assert loaded("96") == expected_hierarchy()


@pytest.mark.django_db
def test_fast_path_keeps_names_as_they_are(tmp_path, careful_path_forbidden):
    # names with a line separator, a next-line character, a comma and a quotation mark inside
    names = ["东\u2028西社区居民委员会", "南\u0085北村村民委员会", "甲,乙社区", "“丙”社区"]
    files = dict(HIERARCHY)
    files["villages.csv"] = "code,name,streetCode,provinceCode,cityCode,areaCode\n" + "".join(
        f'96010100100{i},"{name}",960101001,96,9601,960101\n' for i, name in enumerate(names, 1)
    )
    import_divisions(paths=write_files(tmp_path, files))
    assert [d.name for d in Division.objects.filter(code__startswith="960101001").order_by("code")][
        1:
    ] == names
    assert Division.objects.get(code="960101001001").kind == Kind.URBAN
    assert Division.objects.get(code="960101001002").kind == Kind.RURAL


@pytest.mark.django_db
def test_careful_path_gives_the_same_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(geo_io, "_fast_import", lambda *args: None)
    import_divisions(paths=write_files(tmp_path, HIERARCHY))
    assert loaded("96") == expected_hierarchy()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "line", "reason"),
    [
        ('960101001001,"重复",960101001,96,9601,960101\n', 5, "duplicate code 960101001001"),
        ('960101301001,"孤村",960101301,96,9601,960101\n', 5, "parent 960101301 of"),
        ('960101001009,"' + "长" * 101 + '",960101001,96,9601,960101\n', 5, "too long"),
    ],
)
def test_fast_path_into_an_empty_table_hands_bad_input_to_the_careful_path(
    tmp_path, empty_divisions, bad, line, reason
):
    files = dict(HIERARCHY)
    files["villages.csv"] += bad
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(paths=write_files(tmp_path, files))
    assert any(
        p.file == "villages.csv" and p.line == line and reason in p.reason
        for p in caught.value.problems
    )
    assert not Division.objects.exists()
    assert indexes() == empty_divisions


@pytest.mark.django_db
def test_bad_utf8_in_a_name_is_reported_by_line(tmp_path, empty_divisions):
    paths = write_files(tmp_path, HIERARCHY)
    paths[-1].write_bytes(
        paths[-1].read_bytes() + b'960101001009,"\xff\xfe",960101001,96,9601,960101\n'
    )
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(paths=paths)
    assert [(p.file, p.line, p.reason) for p in caught.value.problems] == [
        ("villages.csv", 5, "the file is not UTF-8 encoded")
    ]
    assert indexes() == empty_divisions


@pytest.mark.django_db
def test_unusual_but_valid_input_is_imported_as_the_careful_path_reads_it(tmp_path):
    # spaces around fields, a quoted code, an unquoted name, CRLF, a byte-order mark
    files = dict(HIERARCHY)
    files["villages.csv"] = (
        "\ufeffcode,name,streetCode,provinceCode,cityCode,areaCode\r\n"
        '"960101001001", 东社区居民委员会\u3000,960101001,96,9601,960101\r\n'
        "960101101001,南村村民委员会,960101101,96,9601,960101\r\n"
        '960101101002,"北社区居委会",960101101 ,96,9601,960101\r\n'
    )
    import_divisions(paths=write_files(tmp_path, files))
    assert loaded("96") == expected_hierarchy()


@pytest.mark.django_db
def test_reimport_without_class_codes_keeps_the_known_class_and_kind(tmp_path):
    # given a community whose class code says urban though its name says nothing
    with_class = {
        **HIERARCHY,
        "villages.csv": "code,name,streetCode,provinceCode,cityCode,areaCode,urbanRuralCode\n"
        '960101101002,"北社区居委会",960101101,96,9601,960101,111\n',
    }
    import_divisions(paths=write_files(tmp_path, with_class))
    community = Division.objects.get(code="960101101002")
    assert (community.kind, community.urban_rural_class) == (Kind.URBAN, "111")
    # when the list without class codes is imported again
    result = import_divisions(paths=write_files(tmp_path, HIERARCHY))
    # then the class and kind are kept, and nothing but the two new villages changed
    community.refresh_from_db()
    assert (community.kind, community.urban_rural_class) == (Kind.URBAN, "111")
    assert (result.created, result.updated, result.renamed) == (2, 0, 0)
    assert not DivisionChange.objects.filter(division=community).exists()
