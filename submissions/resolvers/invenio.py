"""Zenodo and any InvenioRDM installation: a record's landing page `/records/<id>` (and Zenodo's old
`/record/<id>`), or its API address `/api/records/<id>`, on any host.

Documented endpoints used, on the record's own host (InvenioRDM REST API, "Drafts and Records"):
- `GET /api/records/{id}` (Accept: application/json): the record. Fields read: `id`; `metadata.title`,
  `.description` (HTML), `.publication_date` (EDTF: a full date is kept), `.version`, `.creators[]`
  (`person_or_org.name` / `given_name` + `family_name`, `person_or_org.identifiers[]` with scheme `orcid`,
  `affiliations[].name`), `.rights[]` (`id`, `title` (text or {lang: text}), `link` / `props.url`),
  `.subjects[].subject`; `pids.doi.identifier`; `links.self_html`; `access.files` ("public" or
  "restricted") and `access.embargo` (`active`, `until`); `files.enabled`, `files.count` and
  `files.entries` (a mapping of key to entry, or a list).
  Zenodo answers application/json in its legacy shape, which is read too: `doi`, `metadata.creators[]`
  (`name`, `orcid`, `affiliation`), `metadata.license.id`, `metadata.keywords[]`, `metadata.access_right`
  ("open", "embargoed", "restricted", "closed") with `metadata.embargo_date`, `links.html`, and `files`
  as a list of entries.
- `GET /api/records/{id}/files` when the record does not carry its entries: `entries[]`.
  Each entry: `key` (a path: InvenioRDM keys may hold folders; legacy `filename`), `size` (legacy
  `filesize`), `checksum` ("md5:<hex>"), `mimetype`.
- Downloads (never fetched here): `GET /api/records/{id}/files/{key}/content` on the same host, built from
  the key rather than taken from the answer's links, so a record cannot point the mirror elsewhere.
Restricted or embargoed files are listed with `restricted=True` and their download address left empty.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from django.utils.translation import gettext_noop

from portal import i18n
from submissions.resolvers import fetching
from submissions.resolvers.files import (
    check_count,
    embargo_words,
    https_or_empty,
    prefixed_checksum,
    record_files,
    restricted_file,
    restricted_words,
)
from submissions.resolvers.licences import hub_licence
from submissions.resolvers.people import creator
from submissions.resolvers.records import Record, RecordFile, ResolveError
from submissions.resolvers.values import distinct, iso_date, items, obj, text, whole_number

FAMILY = "invenio"

_RECORD_ID = r"([A-Za-z0-9][A-Za-z0-9-]{0,63})"
_LANDING = re.compile(rf"^/records?/{_RECORD_ID}/?$")
_API = re.compile(rf"^/api/records/{_RECORD_ID}/?$")
_HEX_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class Target:
    """A record of an InvenioRDM installation: its site and its id."""

    base: str  # "https://host[:port]"
    host: str
    record_id: str


def match(parts):
    """Return the Target a split https URL names (landing page or API address), or None. No network."""
    found = _LANDING.match(parts.path) or _API.match(parts.path)
    if found is None:
        return None
    return Target(base=f"https://{parts.netloc}", host=parts.hostname or "", record_id=found.group(1))


def fetch(target, *, location):
    """Read the record through the installation's API and return it as a Record."""
    api_url = f"{target.base}/api/records/{target.record_id}"
    subject = i18n.message(gettext_noop("record %(id)s at %(host)s"), id=target.record_id, host=target.host)
    data = obj(fetching.get_json(api_url, subject=subject))
    metadata = obj(data.get("metadata"))
    if not metadata:
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "%(host)s answered without the metadata of %(subject)s, so it is not an InvenioRDM record. "
                    "Check the address, or give the data files' addresses one per line."
                ),
                host=target.host,
                subject=subject,
            )
        )
    licence_id, licence_name, licence_url = _licence(metadata)
    links = obj(data.get("links"))
    return Record(
        family=FAMILY,
        location=location,
        landing_url=https_or_empty(links.get("self_html"))
        or https_or_empty(links.get("html"))
        or f"{target.base}/records/{target.record_id}",
        api_url=api_url,
        doi=(text(obj(obj(data.get("pids")).get("doi")).get("identifier")) or text(data.get("doi"))).lower(),
        title=text(metadata.get("title")),
        description=text(metadata.get("description")),
        creators=tuple(found for entry in items(metadata.get("creators")) if (found := _creator(entry))),
        license=hub_licence(identifier=licence_id, name=licence_name, url=licence_url),
        license_name=licence_name or licence_id,
        license_url=licence_url,
        published=iso_date(metadata.get("publication_date")),
        version=text(metadata.get("version")),
        keywords=distinct(
            [text(obj(subject_entry).get("subject")) for subject_entry in items(metadata.get("subjects"))]
            + [text(keyword) for keyword in items(metadata.get("keywords"))]
        ),
        files=_files(target, data, metadata, subject=subject),
    )


def _creator(entry):
    """Return a Creator from an RDM `person_or_org` entry or a legacy Zenodo one."""
    entry = obj(entry)
    person = obj(entry.get("person_or_org"))
    affiliations = [text(obj(affiliation).get("name")) for affiliation in items(entry.get("affiliations"))]
    if person:
        name = text(person.get("name")) or ", ".join(
            part for part in (text(person.get("family_name")), text(person.get("given_name"))) if part
        )
        orcid_id = next(
            (
                text(obj(identifier).get("identifier"))
                for identifier in items(person.get("identifiers"))
                if text(obj(identifier).get("scheme")).lower() == "orcid"
            ),
            "",
        )
        return creator(name, orcid_id=orcid_id, affiliation=next(filter(None, affiliations), ""))
    return creator(entry.get("name"), orcid_id=entry.get("orcid"), affiliation=entry.get("affiliation"))


def _licence(metadata):
    """Return the record's first licence as (id, name, url), from RDM `rights` or legacy `license`."""
    rights = [obj(entry) for entry in items(metadata.get("rights"))]
    if rights:
        right = rights[0]
        title = right.get("title")
        if isinstance(title, dict):
            title = title.get("en") or next(iter(title.values()), "")
        url = right.get("link") or right.get("url") or obj(right.get("props")).get("url")
        return text(right.get("id")) or text(right.get("identifier")), text(title), https_or_empty(url)
    legacy = metadata.get("license")
    if isinstance(legacy, dict):
        return text(legacy.get("id")), text(legacy.get("title")), https_or_empty(legacy.get("url"))
    return text(legacy), "", ""


def _restriction(data, metadata):
    """Return why the record's files cannot be downloaded (a stored message), or None when they are public."""
    access = obj(data.get("access"))
    embargo = obj(access.get("embargo"))
    if embargo.get("active") is True:
        return embargo_words(iso_date(embargo.get("until")))
    if text(access.get("files")).lower() == "restricted":
        return restricted_words()
    access_right = text(metadata.get("access_right")).lower()
    if access_right == "embargoed":
        return embargo_words(iso_date(metadata.get("embargo_date")))
    if access_right == "restricted":
        return restricted_words()
    if access_right == "closed":
        return i18n.message(gettext_noop("closed access (the files are not shared)"))
    return None


def _files(target, data, metadata, *, subject):
    """Return the record's files, asking the files endpoint when the record does not carry them."""
    restriction = _restriction(data, metadata)
    files = data.get("files")
    if isinstance(files, list):
        entries = files
    else:
        files = obj(files)
        check_count(whole_number(files.get("count")), subject=subject)
        entries = files.get("entries")
        if entries is None and files.get("enabled") is not False:
            if restriction:
                raise ResolveError(
                    i18n.message(
                        gettext_noop(
                            "The files of %(subject)s are %(restriction)s, and the repository does not list them, "
                            "so nothing can be taken from it. Give the address of an open version, or the files' "
                            "public addresses one per line."
                        ),
                        subject=subject,
                        restriction=restriction,
                    )
                )
            listing = fetching.get_json(
                f"{target.base}/api/records/{target.record_id}/files", subject=subject
            )
            entries = obj(listing).get("entries")
        if isinstance(entries, dict):
            entries = list(entries.values())
    entries = items(entries)
    if not entries and restriction:
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s has no files that are listed (%(restriction)s). Give the address of a record "
                        "with its data files, or the files' addresses one per line."
                    ),
                    subject=subject,
                    restriction=restriction,
                )
            )
        )
    if not entries:
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s has no files. Give the address of a record with its data files, or the "
                        "files' addresses one per line."
                    ),
                    subject=subject,
                )
            )
        )
    check_count(len(entries), subject=subject)
    return record_files((_file(target, obj(entry), restriction) for entry in entries), subject=subject)


def _file(target, entry, restriction):
    """Return one RecordFile from a files entry."""
    key = text(entry.get("key")) or text(entry.get("filename"))
    size = whole_number(entry.get("size"))
    if size is None:
        size = whole_number(entry.get("filesize"))
    announced = text(entry.get("checksum"))
    checksums = prefixed_checksum(announced) or (
        {"md5": announced.lower()} if _HEX_MD5.match(announced) else {}
    )
    media_type = text(entry.get("mimetype"))
    if restriction:
        return restricted_file(
            path=key, size=size, checksums=checksums, media_type=media_type, restriction=restriction
        )
    url = f"{target.base}/api/records/{target.record_id}/files/{quote(key, safe='/')}/content"
    return RecordFile(path=key, url=url, size=size, checksums=checksums, media_type=media_type)
