"""The French catalog is complete, reviewed and compiled: CI fails on a string left in English.

`make messages` gathers the strings and compiles the catalog. These tests gather them again from the sources
(in a copy, so the checkout is left alone) and compare: a string marked for translation but missing from
`locale/fr/LC_MESSAGES/django.po`, untranslated or fuzzy there, or a `.mo` older than its `.po`, fails.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# What `make messages` reads: the product, never the development tools (devhub/) or the tests.
SOURCES = ["manage.py", "portal", "submissions", "catalog", "identity", "templates", "locale"]


def _regenerated(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path / "var")}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "--no-location"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    return polib.pofile(str(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po"))


def _key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed (CI installs it)")
def test_every_string_of_the_sources_is_in_the_catalog_and_translated(tmp_path):
    regenerated = _regenerated(tmp_path)
    committed = {_key(entry): entry for entry in polib.pofile(str(PO))}
    missing = [entry.msgid for entry in regenerated if _key(entry) not in committed]
    assert not missing, f"{len(missing)} strings are not in {PO.name} (run `make messages`): {missing[:20]}"
    untranslated = [entry.msgid for entry in regenerated if not entry.translated()]
    assert not untranslated, f"{len(untranslated)} strings untranslated or fuzzy: {untranslated[:20]}"


def test_the_catalog_has_nothing_fuzzy_or_empty():
    catalog = polib.pofile(str(PO))
    assert not catalog.fuzzy_entries(), [entry.msgid for entry in catalog.fuzzy_entries()][:20]
    assert not catalog.untranslated_entries(), [entry.msgid for entry in catalog.untranslated_entries()][:20]


def test_the_compiled_catalog_matches_its_source():
    source = {(entry.msgctxt, entry.msgid): entry for entry in polib.pofile(str(PO)).translated_entries()}
    compiled = {(entry.msgctxt, entry.msgid): entry for entry in polib.mofile(str(MO)) if entry.msgid}
    assert source.keys() == compiled.keys(), "locale/fr/LC_MESSAGES/django.mo is stale: run `make messages`"
    for key, entry in source.items():
        assert entry.msgstr == compiled[key].msgstr
        assert entry.msgstr_plural == compiled[key].msgstr_plural


def test_placeholders_survive_translation():
    """A translation that drops or renames %(name)s would raise at display: every one keeps them all."""

    placeholder = re.compile(r"%\((\w+)\)[sdf]|\{(\w*)\}")

    def names(text):
        return set(placeholder.findall(text))

    for entry in polib.pofile(str(PO)).translated_entries():
        if entry.msgid_plural:
            # A plural form may say "un fichier" without the count; it may not invent a placeholder.
            allowed = names(entry.msgid) | names(entry.msgid_plural)
            for text in entry.msgstr_plural.values():
                assert names(text) <= allowed, (entry.msgid, text)
        else:
            assert names(entry.msgstr) == names(entry.msgid), (entry.msgid, entry.msgstr)
