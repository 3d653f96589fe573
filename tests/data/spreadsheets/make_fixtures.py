"""Make the spreadsheet fixtures of tests/core/test_spreadsheets.py with a real spreadsheet
program: LibreOffice (Debian's libreoffice-calc-nogui and python3-uno), driven headless.

Run it with the system Python that has the ``uno`` module, from the repository's root:

    make spreadsheet-fixtures        # = /usr/bin/python3 tests/data/spreadsheets/make_fixtures.py

From each source CSV (``source/<kind>.csv``: what an official typed) it writes, in the en-US
and the zh-CN locale:

- ``<kind>-csv-general-<loc>.xlsx``: the CSV opened with every column "Standard", as a
  double click opens it (national IDs become 15-digit numbers, landlines lose their zero);
- ``<kind>-csv-text-<loc>.xlsx``: the same with the ID, phone and code columns set to Text
  in the import dialog (division codes stay Standard: 12 digits are kept exactly);
- ``<kind>-title-rows-<loc>.xlsx``: as csv-text, with a title and a subtitle row above the
  header, as official forms have;
- ``<kind>-template-typed-<loc>.xlsx``: the project's own template (written by the
  project's code at the time), every value typed into its cells the way a person types
  (``.uno:EnterString``: the cell's format decides what the text becomes);

and, once per kind, ``<kind>-template.ods`` (the typed zh-CN template saved as .ods),
``<kind>-template-ods-roundtrip.xlsx`` (that .ods opened and saved as .xlsx again) and
``<kind>-legacy.xls`` (the csv-text sheet saved as Excel 97–2003).
"""

from __future__ import annotations

import contextlib
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
KINDS = {
    # kind: (1-based columns set to Text in the "text" variants)
    "workers": (2, 3, 6),  # 身份证号码, 手机号码, 证书管理号
    "facilities": (7, 9),  # 运营机构统一社会信用代码, 电话
    "postings": (1,),  # 身份证号码
}
LOCALES = {"en": ("en-US", 1033), "zh": ("zh-CN", 2052)}
TITLE_ROWS = [
    ["重庆市社会工作信息登记表"],
    ["填报单位：江北区民政局", "", "填报日期：2024年1月5日"],
]


def prop(name: str, value) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


class Office:
    """A headless LibreOffice with its own profile in ``locale`` (its input recognition)."""

    def __init__(self, locale: str, work: Path):
        profile = work / f"profile-{locale}"
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            '<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" '
            f'oor:op="fuse"><value>{locale}</value></prop></item>\n'
            '<item oor:path="/org.openoffice.Office.Linguistic/General"><prop '
            f'oor:name="DefaultLocale" oor:op="fuse"><value>{locale}</value></prop></item>\n'
            "</oor:items>\n",
            encoding="utf-8",
        )
        pipe = f"shegong-fixtures-{locale}"
        self.process = subprocess.Popen(
            [
                "soffice",
                "--headless",
                "--invisible",
                "--norestore",
                f"-env:UserInstallation={profile.as_uri()}",
                f"--accept=pipe,name={pipe};urp;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        for _attempt in range(120):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("LibreOffice did not start")
        manager = context.ServiceManager
        self.desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        self.dispatcher = manager.createInstanceWithContext(
            "com.sun.star.frame.DispatchHelper", context
        )

    def open(self, path: Path, *options):
        return self.desktop.loadComponentFromURL(
            path.as_uri(), "_blank", 0, (prop("Hidden", True), *options)
        )

    def open_csv(self, path: Path, text_columns: tuple[int, ...], language: int):
        formats = "/".join(f"{column}/2" for column in text_columns)
        # separator ",", quote '"', UTF-8, from line 1, column formats, language,
        # quoted fields as text: no, detect special numbers (dates): yes
        options = f"44,34,76,1,{formats},{language},false,true"
        return self.open(
            path,
            prop("FilterName", "Text - txt - csv (StarCalc)"),
            prop("FilterOptions", options),
        )

    def type_rows(self, document, rows: list[list[str]]) -> None:
        """Type each value into the first sheet from row 2 on, as a person does."""
        sheet = document.Sheets.getByIndex(0)
        controller = document.CurrentController
        frame = controller.Frame
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value == "":
                    continue
                controller.select(sheet.getCellByPosition(c, r))
                self.dispatcher.executeDispatch(
                    frame, ".uno:EnterString", "", 0, (prop("StringName", value),)
                )

    @staticmethod
    def save(document, path: Path, filter_name: str) -> None:
        document.storeToURL(path.as_uri(), (prop("FilterName", filter_name),))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.desktop.terminate()
        self.process.wait(timeout=60)


def convert(source: Path, extension: str, work: Path, target: Path) -> None:
    """``soffice --convert-to`` (its own profile), written to ``target``."""
    out = work / "converted"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(work / 'profile-convert').as_uri()}",
            "--convert-to",
            extension,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.move(out / f"{source.stem}.{extension}", target)


XLSX = "Calc MS Excel 2007 XML"
XLS = "MS Excel 97"


def write_templates(target: Path) -> None:
    """The project's templates, written by the project's code into ``target``."""
    root = HERE.parents[2]
    code = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'shegong.config.settings'); django.setup()\n"
        "from django.utils import translation; translation.activate('zh-hans')\n"
        "from shegong.network.io import facility_template\n"
        "from shegong.workforce.io import posting_template, worker_template\n"
        "from pathlib import Path; out = Path(sys.argv[1])\n"
        "(out / 'workers.xlsx').write_bytes(worker_template())\n"
        "(out / 'facilities.xlsx').write_bytes(facility_template())\n"
        "(out / 'postings.xlsx').write_bytes(posting_template())\n"
    )
    with tempfile.TemporaryDirectory() as data_dir:
        subprocess.run(
            [str(root / ".venv/bin/python"), "-c", code, str(target)],
            check=True,
            cwd=root,
            env={"SHEGONG_DATA_DIR": data_dir, "PATH": "/usr/bin:/bin"},
        )


def main() -> None:
    if not shutil.which("soffice"):
        raise SystemExit("soffice is missing: apt-get install libreoffice-calc-nogui python3-uno")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        templates = work / "templates"
        templates.mkdir()
        write_templates(templates)
        for short, (locale, language) in LOCALES.items():
            office = Office(locale, work)
            try:
                for kind, text_columns in KINDS.items():
                    source = SOURCE / f"{kind}.csv"
                    rows = list(csv.reader(source.open(encoding="utf-8")))
                    document = office.open_csv(source, (), language)
                    office.save(document, HERE / f"{kind}-csv-general-{short}.xlsx", XLSX)
                    document.close(True)
                    document = office.open_csv(source, text_columns, language)
                    office.save(document, HERE / f"{kind}-csv-text-{short}.xlsx", XLSX)
                    if short == "zh":
                        office.save(document, HERE / f"{kind}-legacy.xls", XLS)
                    document.close(True)
                    titled = work / f"{kind}-titled.csv"
                    with titled.open("w", encoding="utf-8", newline="") as out:
                        csv.writer(out).writerows([*TITLE_ROWS, *rows])
                    document = office.open_csv(titled, text_columns, language)
                    office.save(document, HERE / f"{kind}-title-rows-{short}.xlsx", XLSX)
                    document.close(True)
                    document = office.open(templates / f"{kind}.xlsx")
                    office.type_rows(document, rows[1:])
                    office.save(document, HERE / f"{kind}-template-typed-{short}.xlsx", XLSX)
                    document.close(True)
            finally:
                office.close()
        for kind in KINDS:
            # the typed template through .ods and back (LibreOffice's own converter)
            typed = HERE / f"{kind}-template-typed-zh.xlsx"
            convert(typed, "ods", work, HERE / f"{kind}-template.ods")
            convert(
                HERE / f"{kind}-template.ods",
                "xlsx",
                work,
                HERE / f"{kind}-template-ods-roundtrip.xlsx",
            )
    print(f"fixtures written to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
