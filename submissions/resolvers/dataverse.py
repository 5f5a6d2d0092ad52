"""Any Dataverse installation: a dataset's page `/dataset.xhtml?persistentId=doi:...` (or `/citation?...`,
where DOIs land), or its native API address `/api/datasets/:persistentId/?persistentId=...`, on any host.

Documented endpoints used, on the dataset's own host (Dataverse API Guide):
- Native API, "Get JSON Representation of a Dataset": `GET /api/datasets/:persistentId/?persistentId=<pid>`
  answers `{"status": "OK", "data": {...}}` (the latest published version for a client without a token).
  Fields read: `data.protocol`, `.authority`, `.identifier` (the DOI), `.publicationDate`;
  `data.latestVersion.versionNumber`, `.versionMinorNumber`, `.versionState`, `.releaseTime`, `.license`
  (`name`, `uri`; older installations: a plain name), `.metadataBlocks.citation.fields[]` by `typeName`:
  `title`, `author[]` (`authorName`, `authorAffiliation`, `authorIdentifierScheme` "ORCID",
  `authorIdentifier`), `dsDescription[].dsDescriptionValue`, `keyword[].keywordValue`; and
  `latestVersion.files[]`: `label`, `directoryLabel` (the folder layout, kept), `restricted`,
  `dataFile.id`, `.filename`, `.contentType`, `.filesize`, `.checksum` (`type`, `value`; older: `md5`),
  `.embargo.dateAvailable`, and for ingested tabular files `.originalFileFormat`, `.originalFileName`,
  `.originalFileSize`.
- Data Access API (never fetched here): `GET /api/access/datafile/{id}` on the same host. For an ingested
  tabular file we ask `?format=original`: Dataverse serves its own tab-separated "archival" copy by
  default, while the checksum it announces is the original upload's, so only the original bytes can be
  verified (and they are what the contributor deposited).
A version pinned in the page's address (`&version=1.0`) is not followed: the latest published version is read.
Restricted and embargoed files are listed with `restricted=True` and no download address.
"""

import mimetypes
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from django.utils import timezone
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.resolvers import fetching
from submissions.resolvers.files import (
    checksum,
    embargo_words,
    record_files,
    restricted_file,
    restricted_words,
)
from submissions.resolvers.licences import hub_licence
from submissions.resolvers.people import creator
from submissions.resolvers.records import Record, RecordFile, ResolveError
from submissions.resolvers.values import distinct, iso_date, items, obj, text, whole_number

FAMILY = "dataverse"

_PAGES = frozenset(
    {"/dataset.xhtml", "/citation", "/api/datasets/:persistentId", "/api/datasets/:persistentId/"}
)


@dataclass(frozen=True)
class Target:
    """A dataset of a Dataverse installation: its site and persistent id ("doi:10.7910/DVN/ABC")."""

    base: str
    host: str
    persistent_id: str


def match(parts):
    """Return the Target a split https URL names (dataset page, citation or native API address), or None."""
    if parts.path not in _PAGES:
        return None
    persistent_id = (parse_qs(parts.query).get("persistentId") or [""])[0].strip()
    if not persistent_id or any(char.isspace() for char in persistent_id):
        return None
    return Target(base=f"https://{parts.netloc}", host=parts.hostname or "", persistent_id=persistent_id)


def fetch(target, *, location):
    """Read the dataset through the installation's native API and return it as a Record."""
    pid = quote(target.persistent_id, safe=":/")
    api_url = f"{target.base}/api/datasets/:persistentId/?persistentId={pid}"
    subject = i18n.message(
        gettext_noop("the dataset %(id)s at %(host)s"), id=target.persistent_id, host=target.host
    )
    data = obj(obj(fetching.get_json(api_url, subject=subject)).get("data"))
    version = obj(data.get("latestVersion"))
    if not version:
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "%(host)s answered without a published version of %(subject)s. Check the address, or give "
                    "the data files' addresses one per line."
                ),
                host=target.host,
                subject=subject,
            )
        )
    if text(version.get("versionState")).upper() == "DEACCESSIONED":
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s was withdrawn (deaccessioned) by its repository, so its files cannot be used."
                    ),
                    subject=subject,
                )
            )
        )
    fields = {
        text(obj(field).get("typeName")): obj(field).get("value")
        for field in items(obj(obj(version.get("metadataBlocks")).get("citation")).get("fields"))
    }
    licence = version.get("license")
    licence_name, licence_url = (
        (text(licence.get("name")), text(licence.get("uri")))
        if isinstance(licence, dict)
        else (text(licence), "")
    )
    major, minor = whole_number(version.get("versionNumber")), whole_number(version.get("versionMinorNumber"))
    return Record(
        family=FAMILY,
        location=location,
        landing_url=f"{target.base}/dataset.xhtml?persistentId={pid}",
        api_url=api_url,
        doi=_doi(data, target.persistent_id),
        title=text(fields.get("title")),
        description="\n\n".join(
            found
            for entry in items(fields.get("dsDescription"))
            if (found := _value(entry, "dsDescriptionValue"))
        ),
        creators=tuple(found for entry in items(fields.get("author")) if (found := _author(entry))),
        license=hub_licence(name=licence_name, url=licence_url),
        license_name=licence_name,
        license_url=licence_url,
        published=iso_date(data.get("publicationDate")) or iso_date(version.get("releaseTime")),
        version=f"{major}.{minor}" if major is not None and minor is not None else "",
        keywords=distinct(_value(entry, "keywordValue") for entry in items(fields.get("keyword"))),
        files=_files(target, items(version.get("files")), subject=subject),
    )


def _value(compound, name):
    """Return the text of one sub-field of a compound citation field."""
    return text(obj(obj(compound).get(name)).get("value"))


def _author(entry):
    """Return a Creator from a citation `author` entry."""
    scheme = _value(entry, "authorIdentifierScheme").upper()
    return creator(
        _value(entry, "authorName"),
        orcid_id=_value(entry, "authorIdentifier") if scheme == "ORCID" else "",
        affiliation=_value(entry, "authorAffiliation"),
    )


def _doi(data, persistent_id):
    """Return the dataset's DOI (lowercase), or "" when its persistent id is not a DOI."""
    if (
        text(data.get("protocol")).lower() == "doi"
        and text(data.get("authority"))
        and text(data.get("identifier"))
    ):
        return f"{text(data.get('authority'))}/{text(data.get('identifier'))}".lower()
    if persistent_id.lower().startswith("doi:"):
        return persistent_id[4:].lower()
    return ""


def _files(target, entries, *, subject):
    """Return the dataset's files, in their folders, with the original format of ingested tables."""
    if not entries:
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s has no files. Give the address of a dataset with its data files, or the "
                        "files' addresses one per line."
                    ),
                    subject=subject,
                )
            )
        )
    return record_files((_file(target, obj(entry), subject=subject) for entry in entries), subject=subject)


def _file(target, entry, *, subject):
    """Return one RecordFile from a `latestVersion.files[]` entry."""
    data_file = obj(entry.get("dataFile"))
    name = text(entry.get("label")) or text(data_file.get("filename"))
    folder = text(entry.get("directoryLabel")).rstrip("/")
    file_id = whole_number(data_file.get("id"))
    announced = obj(data_file.get("checksum"))
    checksums = checksum(announced.get("type"), announced.get("value")) or checksum(
        "md5", data_file.get("md5")
    )
    original_format = text(data_file.get("originalFileFormat"))
    query = ""
    if original_format:
        # An ingested table: the original file, its name, size and type (the checksum is already the original's).
        name = text(data_file.get("originalFileName")) or _original_name(name, original_format)
        size = whole_number(data_file.get("originalFileSize"))
        media_type = original_format
        query = "?format=original"
    else:
        size = whole_number(data_file.get("filesize"))
        media_type = text(data_file.get("contentType"))
    path = f"{folder}/{name}" if folder else name
    restriction = _restriction(entry, data_file)
    if restriction:
        return restricted_file(
            path=path, size=size, checksums=checksums, media_type=media_type, restriction=restriction
        )
    if file_id is None:
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s lists the file %(path)s without its file id, so it cannot be downloaded. "
                        "Give the files' addresses one per line."
                    ),
                    subject=subject,
                    path=repr(path),
                )
            )
        )
    url = f"{target.base}/api/access/datafile/{file_id}{query}"
    return RecordFile(path=path, url=url, size=size, checksums=checksums, media_type=media_type)


def _original_name(name, original_format):
    """Return the name of an ingested file's original when the API does not say it (older installations)."""
    stem = name.removesuffix(".tab")
    return stem + (mimetypes.guess_extension(original_format) or "")


def _restriction(entry, data_file):
    """Return why a file cannot be downloaded (a stored message), or None."""
    available = iso_date(obj(data_file.get("embargo")).get("dateAvailable"))
    if available and available > timezone.now().date().isoformat():
        return embargo_words(available)
    if entry.get("restricted") is True or data_file.get("restricted") is True:
        return restricted_words()
    return None
