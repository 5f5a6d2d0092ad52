"""figshare: an item's page `/articles/<type>/<slug>/<id>[/<version>]` on figshare.com or an institutional
portal (FIGSHARE_HOSTS: `*.figshare.com` by default), or its API address `<FIGSHARE_API_URL>/articles/<id>`.

Documented endpoints used, at FIGSHARE_API_URL (figshare API v2, public articles, no token):
- `GET /articles/{article_id}` ("View article details", ArticleComplete), or
  `GET /articles/{article_id}/versions/{version_id}` when the page's address pins a version. Fields read:
  `title`, `description` (HTML), `doi`, `url_public_html`, `published_date`, `version`, `authors[]`
  (`full_name`, `orcid_id`), `license` (`name`, `url`), `tags[]` and `keywords[]`, `is_embargoed`,
  `embargo_date`, `embargo_type` ("article" or "file"), `is_confidential`.
- `GET /articles/{article_id}/files?page=N&page_size=100` ("List article files", PublicFile[]; for a pinned
  version `/articles/{article_id}/versions/{version_id}/files`), page after page until a short page; the
  file count is checked against MAX_FILES_PER_DATASET before each next page is asked for. Fields read:
  `name`, `size`, `computed_md5` (else `supplied_md5`), `mimetype`, `download_url`, `is_link_only`.
figshare files have no folders: each path is the file's name. A link-only file (kept elsewhere) and the
files of an embargoed item are listed with `restricted=True` and never fetched.
"""

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.resolvers import fetching
from submissions.resolvers.files import (
    check_count,
    checksum,
    embargo_words,
    https_or_empty,
    record_files,
    restricted_file,
)
from submissions.resolvers.licences import hub_licence
from submissions.resolvers.people import creator
from submissions.resolvers.records import Record, RecordFile, ResolveError
from submissions.resolvers.values import distinct, iso_date, items, obj, text, whole_number

FAMILY = "figshare"
PAGE_SIZE = 100

_API_PATH = re.compile(r"^/articles/(\d+)(?:/versions/(\d+))?/?$")


@dataclass(frozen=True)
class Target:
    """A figshare item: its id and, when the address pins one, its version."""

    article_id: str
    version: str = ""


def match(parts):
    """Return the Target a split https URL names (an item's page on a figshare portal, or its API address)."""
    api = urlsplit(settings.FIGSHARE_API_URL)
    if parts.netloc.lower() == api.netloc.lower() and parts.path.startswith(api.path.rstrip("/") + "/"):
        found = _API_PATH.match(parts.path[len(api.path.rstrip("/")) :])
        return Target(found.group(1), found.group(2) or "") if found else None
    host = (parts.hostname or "").lower()
    if not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in settings.FIGSHARE_HOSTS):
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2 or segments[0] != "articles" or not segments[-1].isdigit():
        return None
    # /articles/<type>/<slug>/<id>/<version>: an item id has many digits, a version few.
    if len(segments) >= 4 and segments[-2].isdigit() and len(segments[-1]) <= 4 < len(segments[-2]):
        return Target(segments[-2], segments[-1])
    return Target(segments[-1])


def fetch(target, *, location):
    """Read the item through figshare's API and return it as a Record."""
    api_url = f"{settings.FIGSHARE_API_URL}/articles/{target.article_id}"
    if target.version:
        api_url += f"/versions/{target.version}"
    if target.version:
        subject = i18n.message(
            gettext_noop("figshare item %(id)s version %(version)s"),
            id=target.article_id,
            version=target.version,
        )
    else:
        subject = i18n.message(gettext_noop("figshare item %(id)s"), id=target.article_id)
    data = obj(fetching.get_json(api_url, subject=subject))
    if not data:
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "figshare answered without the details of %(subject)s. Check the address, or give the data "
                    "files' addresses one per line."
                ),
                subject=subject,
            )
        )
    licence = obj(data.get("license"))
    licence_name, licence_url = text(licence.get("name")), text(licence.get("url"))
    return Record(
        family=FAMILY,
        location=location,
        landing_url=https_or_empty(data.get("url_public_html")) or location.strip(),
        api_url=api_url,
        doi=text(data.get("doi")).lower(),
        title=text(data.get("title")),
        description=text(data.get("description")),
        creators=tuple(
            found
            for author in items(data.get("authors"))
            if (found := creator(obj(author).get("full_name"), orcid_id=obj(author).get("orcid_id")))
        ),
        license=hub_licence(name=licence_name, url=licence_url),
        license_name=licence_name,
        license_url=licence_url,
        published=iso_date(data.get("published_date")),
        version=text(data.get("version")),
        keywords=distinct(text(word) for word in items(data.get("tags")) + items(data.get("keywords"))),
        files=_files(api_url, _restriction(data), subject=subject),
    )


def _restriction(data):
    """Return why the item's files cannot be downloaded (a stored message), or None."""
    if data.get("is_embargoed") is True:
        return embargo_words(iso_date(data.get("embargo_date")))
    if data.get("is_confidential") is True:
        return i18n.message(gettext_noop("confidential (the files are not shared)"))
    return None


def _files(api_url, restriction, *, subject):
    """Return the item's files, page after page, refusing an item of too many files before the next page."""
    entries, page, first_ids = [], 1, set()
    while True:
        answer = items(
            fetching.get_json(
                f"{api_url}/files?page={page}&page_size={PAGE_SIZE}",
                subject=i18n.message(gettext_noop("the files of %(subject)s"), subject=subject),
            )
        )
        first = text(obj(answer[0]).get("id")) if answer else ""
        if first and first in first_ids:
            break  # the same page again: a server that ignores paging has given everything
        first_ids.add(first)
        entries.extend(answer)
        check_count(len(entries), subject=subject, partial=len(answer) >= PAGE_SIZE)
        if len(answer) < PAGE_SIZE:
            break
        page += 1
    if not entries and restriction:
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s has no files that are listed (%(restriction)s). Give the address of an item "
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
                        "%(subject)s has no files. Give the address of an item with its data files, or the files' "
                        "addresses one per line."
                    ),
                    subject=subject,
                )
            )
        )
    return record_files((_file(obj(entry), restriction) for entry in entries), subject=subject)


def _file(entry, restriction):
    """Return one RecordFile from a PublicFile."""
    name = text(entry.get("name"))
    size = whole_number(entry.get("size"))
    checksums = checksum("md5", entry.get("computed_md5")) or checksum("md5", entry.get("supplied_md5"))
    media_type = text(entry.get("mimetype"))
    url = https_or_empty(entry.get("download_url"))
    if entry.get("is_link_only") is True:
        return restricted_file(
            path=name,
            size=size,
            checksums=checksums,
            media_type=media_type,
            restriction=i18n.message(gettext_noop("link only (the file is kept elsewhere)")),
            url=url,
        )
    if restriction or not url:
        return restricted_file(
            path=name,
            size=size,
            checksums=checksums,
            media_type=media_type,
            restriction=restriction or i18n.message(gettext_noop("no https download address")),
        )
    return RecordFile(path=name, url=url, size=size, checksums=checksums, media_type=media_type)
