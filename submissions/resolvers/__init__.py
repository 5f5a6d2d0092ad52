"""Resolvers: one line of a dataset's location (an https address or a DOI) in, a Record or a PlainFile out.

The one door of this package: `classify(line)` says, without the network, what kind of line it is
("file", "doi" or "record") or raises InvalidLocation saying what to write instead; `resolve(line)` reads
it: a direct https file address is a PlainFile at once; a record's landing page or API address is read
through its repository's documented public API (one module per family: `invenio` for Zenodo and any
InvenioRDM, `dataverse`, `figshare`); a DOI is followed through DOI_RESOLVER_URL to its landing page,
which is then recognised like a pasted one, or is a file of its own.

Every request goes through `portal.safefetch` (fetching.py); nothing here stores anything, sends a
credential, or fetches a data file: the check and the mirror do that with the Record's file list. Adding
a repository family is adding a module with `FAMILY`, `match(parts)` (no network) and
`fetch(target, *, location)`, and naming it in FAMILIES.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import i18n, safefetch
from submissions.locations import file_name_of
from submissions.resolvers import dataverse, dois, fetching, figshare, invenio
from submissions.resolvers.records import (
    Creator,
    InvalidLocation,
    PlainFile,
    Record,
    RecordFile,
    ResolveError,
)

__all__ = [
    "FAMILIES",
    "Creator",
    "InvalidLocation",
    "PlainFile",
    "Record",
    "RecordFile",
    "ResolveError",
    "classify",
    "resolve",
]

# Tried in this order: figshare is recognised by its host, the others by their paths on any host.
FAMILIES = (figshare, dataverse, invenio)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_EXAMPLES = gettext_noop(
    "such as https://zenodo.org/records/123 or https://example.org/data.csv, or a DOI such as 10.5281/zenodo.123"
)


def classify(line):
    """Return "file", "doi" or "record" for a location line, without the network; raise InvalidLocation."""
    kind, _found = _read(line)
    return kind


def resolve(line):
    """Return the Record or PlainFile a location line names, reading repositories through safefetch.

    Raise InvalidLocation for a line of no accepted form, ResolveError (with `retryable`) for one that
    cannot be resolved; every message says what to do (a stored message: `exc.message`, see records.py).
    """
    kind, found = _read(line)
    if kind == "doi":
        return _resolve_doi(line, found)
    if kind == "record":
        family, target = found
        return family.fetch(target, location=line)
    # A file is only named here: the check's probe and the mirror fetch it, through safefetch's policy.
    return PlainFile(location=line, url=found, path=file_name_of(found))


def _read(line):
    """Return (kind, what it names): ("doi", doi), ("record", (family, target)) or ("file", url)."""
    if not isinstance(line, str) or not line.strip():
        raise InvalidLocation(
            i18n.message(
                gettext_noop("The line is empty: give an https:// address %(examples)s."),
                examples=i18n.message(_EXAMPLES),
            )
        )
    text = line.strip()
    doi = dois.parse(text)
    if doi is not None:
        return "doi", doi
    url = _https_address(text)
    found = _match(url)
    return ("record", found) if found else ("file", url)


def _https_address(text):
    """Return `text` if it is a well-formed https:// address, else raise InvalidLocation saying what to fix."""
    scheme = _SCHEME.match(text)
    line = repr(text)
    examples = i18n.message(_EXAMPLES)
    if scheme is None or "//" not in text[: len(scheme.group(0)) + 2]:
        raise InvalidLocation(
            i18n.message(
                gettext_noop(
                    "%(line)s is neither an address nor a DOI: give a full https:// address %(examples)s."
                ),
                line=line,
                examples=examples,
            )
        )
    if scheme.group(1).lower() == "http":
        raise InvalidLocation(
            i18n.message(
                gettext_noop(
                    "%(line)s is an http:// address: use https:// (the same address with https:// usually "
                    "works), as data is only fetched over secure connections."
                ),
                line=line,
            )
        )
    if scheme.group(1).lower() != "https":
        raise InvalidLocation(
            i18n.message(
                gettext_noop(
                    "%(line)s is a %(scheme)s: address: only https:// addresses and DOIs are accepted (%(examples)s)."
                ),
                line=line,
                scheme=scheme.group(1),
                examples=examples,
            )
        )
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in text):
        raise InvalidLocation(
            i18n.message(
                gettext_noop(
                    "%(line)s holds spaces or control characters: put one address per line, with spaces written "
                    "as %%20."
                ),
                line=line,
            )
        )
    if "\\" in text:
        raise InvalidLocation(
            i18n.message(
                gettext_noop("%(line)s holds a backslash: write the address with forward slashes (/)."),
                line=line,
            )
        )
    if len(text) > settings.PORTAL_URL_MAX_LENGTH:
        raise InvalidLocation(
            i18n.message(
                gettext_noop("The address is longer than %(limit)s characters."),
                limit=i18n.number(settings.PORTAL_URL_MAX_LENGTH),
            )
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidLocation(
            i18n.message(
                gettext_noop("%(line)s is not a valid address: check its host name and port."), line=line
            )
        ) from None
    if parts.username is not None or parts.password is not None:
        raise InvalidLocation(
            i18n.message(
                gettext_noop(
                    "%(line)s holds a user name or password: remove them and give a public address; the portal "
                    "never signs in to fetch data."
                ),
                line=line,
            )
        )
    if not parts.hostname or port == 0:
        raise InvalidLocation(
            i18n.message(
                gettext_noop("%(line)s has no host name: give a complete address %(examples)s."),
                line=line,
                examples=examples,
            )
        )
    return text


def _match(url):
    """Return (family module, target) when `url` is a record of a known repository, else None. No network."""
    parts = urlsplit(url)
    for family in FAMILIES:
        target = family.match(parts)
        if target is not None:
            return family, target
    return None


def _resolve_doi(line, doi):
    """Follow a DOI through DOI_RESOLVER_URL; return the record it lands on, or the file it is."""
    subject = i18n.message(gettext_noop("the DOI %(doi)s"), doi=doi)
    result = fetching.follow(dois.resolver_url(doi), subject=subject)
    # Any address on the way may be a repository's (a DOI often lands on /citation first, or a /doi/ alias).
    for address in result.redirects:
        found = _match(address) if address.lower().startswith("https://") else None
        if found is not None:
            family, target = found
            return family.fetch(target, location=line)
    if not result.redirects:
        if result.status in (404, 410):
            raise ResolveError(
                i18n.message(
                    gettext_noop(
                        "The DOI %(doi)s does not exist: the DOI resolver does not know it. Check it for typos, or "
                        "give the dataset's https:// address instead."
                    ),
                    doi=doi,
                ),
                retryable=False,
            )
        if not result.reachable:
            raise _status_problem(result, subject=subject, url=dois.resolver_url(doi))
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "The DOI resolver answered %(status)s for %(doi)s without saying where it leads; give the "
                    "dataset's https:// address instead."
                ),
                status=result.status,
                doi=doi,
            ),
            retryable=False,
        )
    if not result.reachable:
        raise _status_problem(
            result,
            subject=i18n.message(
                gettext_noop("the page the DOI %(doi)s leads to (%(url)s)"), doi=doi, url=result.final_url
            ),
            url=result.final_url,
        )
    if result.content_type in _HTML_TYPES or not result.final_url.lower().startswith("https://"):
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "The DOI %(doi)s leads to %(url)s, a web page that is not a file or a known repository (Zenodo "
                    "or another InvenioRDM, Dataverse, figshare). Give the addresses of the data files "
                    "themselves, one per line, or the record's address in one of those repositories."
                ),
                doi=doi,
                url=result.final_url,
            ),
            retryable=False,
        )
    return PlainFile(location=line, url=result.final_url, path=file_name_of(result.final_url))


def _status_problem(result, *, subject, url):
    """Return the ResolveError for a probe that ended on an HTTP error status."""
    error = safefetch.FetchError(
        f"status {result.status}",
        status=result.status,
        retryable=result.status >= 500 or result.status == 429,
    )
    return fetching.status_error(error, subject=subject, url=url)
