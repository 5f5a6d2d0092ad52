"""The rules every record's file list must keep, whichever repository it came from.

A record's file names become paths in a dataset folder and on the Hub, so a name that climbs out (`../`),
is absolute, holds a NUL, a control character or a backslash, or repeats (or nests under) another file's
path is refused with the file named; a record with more files than MAX_FILES_PER_DATASET is refused as
soon as that is known, before any further request. Checksums are kept as the repository announces them,
by kind, in lowercase hex, and only when they have the length of their kind.
"""

import posixpath
import re
import unicodedata

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.resolvers.records import RecordFile, ResolveError
from submissions.resolvers.values import text

# Hex digest lengths of the checksum kinds repositories announce.
_DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_DIGEST_NAMES = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha512": "sha512",
    "sha-512": "sha512",
}
_HEX = re.compile(r"^[0-9a-f]+$")
MAX_PATH_LENGTH = 1024
MAX_NAME_BYTES = 255


def check_count(count, *, subject, partial=False):
    """Refuse a record of more than MAX_FILES_PER_DATASET files (`partial`: `count` is what was listed so far)."""
    limit = settings.MAX_FILES_PER_DATASET
    if count is not None and count > limit:
        if partial:
            words = gettext_noop(
                "%(subject)s lists at least %(count)s files, more than the %(limit)s that one dataset may hold. "
                "Split it into several submissions, or give an archive of its files instead."
            )
        else:
            words = gettext_noop(
                "%(subject)s lists %(count)s files, more than the %(limit)s that one dataset may hold. Split it "
                "into several submissions, or give an archive of its files instead."
            )
        raise ResolveError(
            i18n.sentence(
                i18n.message(words, subject=subject, count=i18n.number(count), limit=i18n.number(limit))
            )
        )


def checksum(kind, value):
    """Return {kind: hex} for an announced checksum, or {} when the kind is unknown or the value is no digest."""
    name = _DIGEST_NAMES.get(text(kind).lower())
    digest = text(value).lower()
    if name is None or len(digest) != _DIGEST_LENGTHS[name] or not _HEX.match(digest):
        return {}
    return {name: digest}


def prefixed_checksum(value):
    """Return {kind: hex} for an "md5:abc..." checksum as InvenioRDM writes it, or {}."""
    kind, _, digest = text(value).partition(":")
    return checksum(kind, digest) if digest else {}


def path_problem(path):
    """Return why `path` cannot be a file's path in a dataset (a stored message), or None when it can."""
    if not path:
        return i18n.message(gettext_noop("has no name"))
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in path):
        return i18n.message(gettext_noop("holds a NUL or another control character"))
    if "\\" in path:
        return i18n.message(gettext_noop("holds a backslash"))
    if path.startswith("/"):
        return i18n.message(gettext_noop("is an absolute path"))
    segments = path.split("/")
    if ".." in segments:
        return i18n.message(gettext_noop("climbs out of the dataset's folder (../)"))
    if "" in segments or "." in segments:
        return i18n.message(gettext_noop("has an empty or '.' folder in its path"))
    if len(path) > MAX_PATH_LENGTH or any(len(segment.encode()) > MAX_NAME_BYTES for segment in segments):
        return i18n.message(gettext_noop("is too long"))
    return None


def record_files(files, *, subject):
    """Return `files` (RecordFile) as a tuple once every path passed the rules; raise ResolveError naming a bad one."""
    files = tuple(files)
    check_count(len(files), subject=subject)
    seen = {}
    for file in files:
        problem = path_problem(file.path)
        if problem is not None:
            raise ResolveError(
                i18n.sentence(
                    i18n.message(
                        gettext_noop(
                            "%(subject)s lists a file %(path)s whose name %(problem)s, so it cannot be stored in a "
                            "dataset. Ask the repository to correct the file's name, or give the other files' "
                            "addresses one per line."
                        ),
                        subject=subject,
                        path=repr(file.path),
                        problem=problem,
                    )
                )
            )
        # Names that differ only in their Unicode form look the same to a person and clash on some disks.
        key = unicodedata.normalize("NFC", file.path)
        if key in seen:
            raise ResolveError(
                i18n.sentence(
                    i18n.message(
                        gettext_noop(
                            "%(subject)s lists the file %(path)s twice (or two files whose names look the same), "
                            "so one would overwrite the other. Ask the repository to rename one of them."
                        ),
                        subject=subject,
                        path=repr(file.path),
                    )
                )
            )
        seen[key] = file
    for key in seen:
        folder = posixpath.dirname(key)
        while folder:
            if folder in seen:
                raise ResolveError(
                    i18n.sentence(
                        i18n.message(
                            gettext_noop(
                                "%(subject)s lists %(folder)s both as a file and as a folder of %(path)s; a dataset "
                                "cannot hold both. Ask the repository to rename one of them."
                            ),
                            subject=subject,
                            folder=repr(folder),
                            path=repr(key),
                        )
                    )
                )
            folder = posixpath.dirname(folder)
    return files


def restricted_file(*, path, size, checksums, media_type="", restriction, url=""):
    """Return a RecordFile that is listed but never fetched; `restriction` says why (a stored message)."""
    return RecordFile(
        path=path,
        url=url,
        size=size,
        checksums=checksums,
        media_type=media_type,
        restricted=True,
        restriction=i18n.english(restriction),
        restriction_message=restriction,
    )


def embargo_words(until):
    """Return "embargoed until <date>" (or "embargoed" without a date), a stored message."""
    if until:
        return i18n.message(gettext_noop("embargoed until %(date)s"), date=until)
    return i18n.message(gettext_noop("embargoed"))


def restricted_words():
    """Return "restricted (needs permission)", a stored message."""
    return i18n.message(gettext_noop("restricted (needs permission)"))


def https_or_empty(url):
    """Return `url` when it is an https URL, else "" (a repository's link is never followed as http)."""
    url = text(url)
    return url if url.lower().startswith("https://") else ""
