"""The Hub's lists of allowed card values, kept as JSON data beside this module.

Each JSON file names its source; refresh the file, not this code, when the Hub adds a value.
This module only reads the files; it must not fetch anything from the network.
"""

import json
from functools import cache
from pathlib import Path

from django.utils.translation import get_language_info

DATA_DIR = Path(__file__).resolve().parent


@cache
def _load(name: str) -> dict:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def _licenses_by_id() -> dict[str, dict]:
    return {entry["id"]: entry for entry in _load("licenses.json")["licenses"]}


def license_ids() -> frozenset[str]:
    """Return the licence identifiers the Hub accepts in a card's `license` field."""
    return frozenset(_licenses_by_id())


def license_info(license_id: str) -> dict | None:
    """Return {"id", "name", "url"} for a Hub licence identifier, or None if the Hub does not know it."""
    entry = _licenses_by_id().get(license_id)
    if entry is None:
        return None
    return {"id": entry["id"], "name": entry["name"], "url": entry["url"]}


@cache
def size_categories() -> tuple[str, ...]:
    """Return the Hub's `size_categories` values, smallest first."""
    return tuple(_load("size_categories.json")["size_categories"])


@cache
def task_categories() -> frozenset[str]:
    """Return the Hub's task category identifiers (the `task_categories` field)."""
    return frozenset(entry["id"] for entry in _load("task_categories.json")["task_categories"])


@cache
def task_ids() -> frozenset[str]:
    """Return the task ids (subtasks) the Hub's task taxonomy lists (the `task_ids` field)."""
    return frozenset(
        task_id for entry in _load("task_categories.json")["task_categories"] for task_id in entry["task_ids"]
    )


@cache
def language_codes() -> frozenset[str]:
    """Return ISO 639-1, 639-3 and 639-2 codes plus the Hub's special values (`code`, `multilingual`)."""
    data = _load("languages.json")
    return frozenset(
        [
            *data["iso639_1"],
            *data["iso639_3"].split(),
            *data["iso639_2_only"].split(),
            *data["special"],
        ]
    )


def language_name(code: str) -> str:
    """Return a language's English name ("Swedish" for "sv"): Django's name where it knows the code, else
    the ISO 639-1 name or the Hub's special value's, else the code itself."""
    try:
        return get_language_info(code)["name"]
    except KeyError:
        pass
    data = _load("languages.json")
    return data["special"].get(code) or data["iso639_1"].get(code) or code
