"""Recognising a repository's licence as one of the Hub's licence ids (submissions/carddata/licenses.json).

Repositories name licences three ways, and each is tried: an id (InvenioRDM and Zenodo use lowercase SPDX
ids such as `cc-by-4.0`), a URL (Dataverse's `uri`, figshare's `url`: creativecommons.org,
opendatacommons.org, opensource.org, spdx.org) and a name ("CC0 1.0", "CC BY 4.0", "Creative Commons
Attribution 4.0 International"). A licence none of them pins down is unknown: the caller keeps the
repository's name and URL and leaves the Hub id empty, never guessing ("other" and "unknown" are not
guesses we make for the contributor).
"""

import re
from functools import cache
from urllib.parse import urlsplit

from submissions import carddata

# Hub ids that say nothing about the terms: never the result of a recognition.
_NOT_A_LICENCE = frozenset({"unknown", "other"})

# Ids and names, once normalised, that mean a Hub id they are not spelled as.
_ALIASES = {
    "cc0": "cc0-1.0",
    "cc-zero": "cc0-1.0",
    "cc0-1": "cc0-1.0",
    "public-domain-cc0": "cc0-1.0",
    "odc-by-1.0": "odc-by",
    "odc-by-v1.0": "odc-by",
    "odbl-1.0": "odbl",
    "odbl-v1.0": "odbl",
    "odc-odbl": "odbl",
    "pddl-1.0": "pddl",
    "odc-pddl": "pddl",
    "apache": "apache-2.0",
    "apache-license-2.0": "apache-2.0",
    "mit-license": "mit",
    "gpl-3": "gpl-3.0",
    "gplv3": "gpl-3.0",
    "gpl-2": "gpl-2.0",
    "gplv2": "gpl-2.0",
    "lgpl-3": "lgpl-3.0",
    "agpl-3": "agpl-3.0",
    "bsd-3": "bsd-3-clause",
    "bsd-2": "bsd-2-clause",
    "etalab-licence-ouverte-2.0": "etalab-2.0",
}

# Words of licence names, in the order they are rewritten to the pieces of an id.
_NAME_WORDS = [
    (r"creative\s*commons", "cc"),
    (r"\bzero\b", "0"),
    (r"\battribution\b", "by"),
    (r"\bnon[\s-]*commercial\b", "nc"),
    (r"\bshare[\s-]*alike\b", "sa"),
    (r"\bno[\s-]*deriv(?:ative)?s?\b", "nd"),
    (
        r"\b(?:international|universal|unported|generic|public\s+domain\s+dedication|license|licence|"
        r"version|the)\b",
        " ",
    ),
    (r"\bv(?=\d)", ""),
]
_SPDX_SUFFIX = re.compile(r"(-only|-or-later|\+)$")


def hub_licence(*, identifier="", name="", url=""):
    """Return the Hub licence id meant by a repository's licence id, name or URL, or "" when unknown."""
    for found in (_from_identifier(identifier), _from_url(url), _from_name(name)):
        if found:
            return found
    return ""


def _known(candidate):
    """Return `candidate` (or what it is an alias of) if the Hub knows it as a licence, else ""."""
    candidate = _ALIASES.get(candidate, candidate)
    if candidate in carddata.license_ids() and candidate not in _NOT_A_LICENCE:
        return candidate
    return ""


def _slug(value):
    """Return a licence id or name as lowercase words joined by hyphens ("CC BY-NC 4.0" -> cc-by-nc-4.0)."""
    words = re.sub(r"[^a-z0-9.+]+", "-", value.lower()).strip("-")
    return re.sub(r"-+", "-", words)


def _from_identifier(identifier):
    """Recognise an SPDX-like id ("cc-by-4.0", "CC-BY-4.0", "GPL-3.0-only")."""
    slug = _SPDX_SUFFIX.sub("", _slug(identifier or ""))
    return _known(slug) if slug else ""


def _from_name(name):
    """Recognise a licence name ("CC0 1.0", "CC BY 4.0", "Creative Commons Attribution 4.0 International")."""
    if not name:
        return ""
    by_name = _hub_names().get(" ".join(name.lower().split()))
    if by_name:
        return by_name
    words = name.lower()
    for pattern, replacement in _NAME_WORDS:
        words = re.sub(pattern, replacement, words)
    slug = _SPDX_SUFFIX.sub("", _slug(words))
    slug = re.sub(r"^cc-0\b", "cc0", slug)
    return _known(slug)


def _from_url(url):
    """Recognise a licence URL (creativecommons.org, opendatacommons.org, opensource.org, spdx.org, ...)."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return ""
    host = (parts.hostname or "").removeprefix("www.")
    segments = [segment for segment in parts.path.lower().split("/") if segment]
    if host == "creativecommons.org" and len(segments) >= 3:
        if segments[:2] == ["publicdomain", "zero"]:
            return _known(f"cc0-{segments[2]}")
        if segments[0] == "licenses":
            return _known(f"cc-{segments[1]}-{segments[2]}")
    if host == "opendatacommons.org" and len(segments) >= 2 and segments[0] == "licenses":
        return _known({"by": "odc-by"}.get(segments[1], segments[1]))
    if (
        host in ("opensource.org", "spdx.org")
        and len(segments) >= 2
        and segments[0] in ("licenses", "license")
    ):
        return _from_identifier(segments[1].removesuffix(".html").removesuffix(".php"))
    if host == "apache.org" and segments[:2] == ["licenses", "license-2.0"]:
        return "apache-2.0"
    return _hub_urls().get(_comparable_url(url), "")


def _comparable_url(url):
    """Return a URL without scheme, "www.", "legalcode" and trailing slashes, lowercase."""
    try:
        parts = urlsplit((url or "").strip().lower())
    except ValueError:
        return ""
    path = parts.path.rstrip("/").removesuffix("/legalcode").removesuffix(".html").rstrip("/")
    return f"{(parts.hostname or '').removeprefix('www.')}{path}"


@cache
def _hub_names():
    """Return the Hub's licence names (lowercase) mapped to their ids."""
    return {
        " ".join(info["name"].lower().split()): licence_id
        for licence_id in carddata.license_ids()
        if licence_id not in _NOT_A_LICENCE and (info := carddata.license_info(licence_id))
    }


@cache
def _hub_urls():
    """Return the Hub's licence URLs (comparable form) mapped to their ids."""
    return {
        _comparable_url(info["url"]): licence_id
        for licence_id in sorted(carddata.license_ids())
        if licence_id not in _NOT_A_LICENCE and (info := carddata.license_info(licence_id)) and info["url"]
    }
