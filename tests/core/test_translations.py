"""The Chinese interface is complete (issue #13 item 6): every msgid of the project is in the
catalogue, translated and not fuzzy, and the compiled catalogue says the same."""

from __future__ import annotations

import ast
import gettext
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

import shegong

PACKAGE = Path(shegong.__file__).parent
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES"


@dataclass
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    translations: list[str]
    fuzzy: bool


def read_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (obsolete ``#~`` ones left out; the header skipped)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    current: str | None = None

    def finish():
        if fields.get("msgid"):
            translations = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            entries.append(
                Entry(
                    fields.get("msgctxt"),
                    fields["msgid"],
                    fields.get("msgid_plural"),
                    translations,
                    "fuzzy" in flags,
                )
            )
        fields.clear()
        flags.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
            current = None
        elif line.startswith("#,"):
            if "msgid" in fields:
                finish()
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[current] += ast.literal_eval(line)
        else:
            keyword, _, literal = line.partition(" ")
            if keyword == "msgctxt" and "msgid" in fields:
                finish()
            current = keyword
            fields[current] = ast.literal_eval(literal)
    finish()
    return entries


def test_every_msgid_is_translated_and_none_is_fuzzy():
    # given the committed Chinese catalogue
    entries = read_po(CATALOGUE / "django.po")
    assert len(entries) > 500
    # then every entry has a translation in every plural form, and none is fuzzy
    untranslated = [e.msgid for e in entries if not all(e.translations)]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert untranslated == [], f"untranslated: {untranslated[:20]}"
    assert fuzzy == [], f"fuzzy: {fuzzy[:20]}"


def test_the_compiled_catalogue_matches_the_source():
    # given the committed .po and the .mo beside it
    entries = read_po(CATALOGUE / "django.po")
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    # then the .mo gives every translation of the .po (run `make messages` after editing)
    stale = []
    for entry in entries:
        if entry.plural:
            found = (
                compiled.npgettext(entry.context, entry.msgid, entry.plural, 1)
                if (entry.context)
                else compiled.ngettext(entry.msgid, entry.plural, 1)
            )
        elif entry.context:
            found = compiled.pgettext(entry.context, entry.msgid)
        else:
            found = compiled.gettext(entry.msgid)
        if found != entry.translations[0]:
            stale.append(entry.msgid)
    assert stale == [], f"not compiled: {stale[:20]}"


def test_the_catalogue_holds_every_msgid_of_the_code(tmp_path, monkeypatch):
    # given a copy of the code with an empty catalogue beside it
    copy = tmp_path / "shegong"
    shutil.copytree(
        PACKAGE,
        copy,
        ignore=shutil.ignore_patterns("static", "locale", "__pycache__", "*.csv*", "data"),
    )
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    # when the messages are extracted afresh, as `make messages` does
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    extracted = read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    # then every one of them is in the committed catalogue
    committed = {(e.context, e.msgid) for e in read_po(CATALOGUE / "django.po")}
    missing = sorted({(e.context, e.msgid) for e in extracted} - committed, key=lambda key: key[1])
    assert len(extracted) > 500
    assert missing == [], f"run `make messages` and translate: {missing[:20]}"
