"""List what a sampled zip or tar archive holds, under the portal's archive policy, and pull out a few members.

The rules are the mirror's own (`portal.archive_policy`: entry names, links and special files, encryption,
duplicate paths, and the limits `MIRROR_MAX_FILES`, `MIRROR_MAX_BYTES`, `MIRROR_MAX_RATIO`): an archive
that the mirror would refuse to unpack is a refusal here, a failing finding before approval. Nothing is
unpacked to disk but the first tabular member and a few images or sounds, each copied under the
inspection's byte cap. A zip is read from its central directory (the end of the sampled file); a tar is read
as a stream from the sample's start, so its listing covers the sampled part only when the archive is larger
than the sample.
"""

import dataclasses
import mimetypes
import tarfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import archive_policy
from portal.i18n import message, message_plural, number
from submissions.inspection import media, personal_data
from submissions.inspection.sampling import BoundedReader

LISTED_ENTRIES = 200
MEDIA_EXAMPLES = 5
MEDIA_MEMBER_BYTES = 4 * 1024 * 1024
# Entries refused one by one that are named in the findings; the others are counted.
NAMED_REFUSALS = 5
CHUNK_BYTES = 1024 * 1024
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".json", ".arrow", ".feather")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".tif", ".tiff", ".bmp")
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus")


@dataclasses.dataclass
class Listing:
    """What an archive holds, as far as the sample shows."""

    entries: list = dataclasses.field(default_factory=list)
    file_count: int = 0
    total_size: int = 0
    partial: bool = False
    types: Counter = dataclasses.field(default_factory=Counter)
    media: list = dataclasses.field(default_factory=list)
    problems: list = dataclasses.field(default_factory=list)
    refusals: list = dataclasses.field(default_factory=list)
    unnamed_refusals: int = 0
    table_member: str = ""
    table_path: Path | None = None

    def refuse(self, problem):
        """Record what the archive policy refuses (a stored message); past a few entries, count them."""
        if problem is None:
            return
        if len(self.refusals) < NAMED_REFUSALS:
            self.refusals.append(problem)
        else:
            self.unnamed_refusals += 1

    def findings(self):
        """Return the refusals as the data check's failures, with what the curator can do about them."""
        if not self.refusals:
            return []
        failures = list(self.refusals)
        if self.unnamed_refusals:
            failures.append(
                message_plural(
                    "%(more)s more entry of the archive is refused too.",
                    "%(more)s more entries of the archive are refused too.",
                    count=self.unnamed_refusals,
                    more=number(self.unnamed_refusals),
                )
            )
        failures.append(UNPACKING_REFUSED)
        return failures

    def add(self, name, size):
        """Count one regular file of the archive."""
        self.file_count += 1
        self.total_size += size
        kind = member_type(name)
        self.types[kind] += 1
        if len(self.entries) < LISTED_ENTRIES:
            # A file may be named after a person ("jane.doe@example.org.csv"): names are shown masked too.
            self.entries.append({"path": personal_data.mask_text(name), "size": size, "type": kind})

    def as_dict(self):
        """Return the listing as stored in a check result's details."""
        return {
            "entries": self.entries,
            "file_count": self.file_count,
            "total_size": self.total_size,
            "partial": self.partial,
            "types": dict(self.types.most_common()),
            "media": self.media,
        }


UNPACKING_REFUSED = message(
    gettext_noop(
        "The portal's mirror refuses to unpack this archive on the Hub: ask the contributor for a new one, or "
        "approve with an override and leave the archive packed."
    )
)


def member_type(name):
    """Return a member's type from its name (its bytes are mostly not in the sample)."""
    guessed = mimetypes.guess_type(name)[0]
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in (".parquet", ".jsonl", ".ndjson", ".arrow", ".feather"):
        return suffix[1:]
    return guessed or "unknown"


def _rules():
    """The archive policy with the mirror's limits; names are quoted masked, as the listing shows them."""
    return archive_policy.ArchiveRules.from_settings(shown=personal_data.mask_text)


def list_zip(path: Path, scratch: Path, *, complete: bool) -> Listing:
    """List a zip from its central directory; refuse what the mirror's unpacking would refuse."""
    listing = Listing()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if complete:
            listing.refuse(message(gettext_noop("The zip archive is damaged: %(error)s."), error=str(exc)))
        else:
            listing.problems.append(
                message(
                    gettext_noop(
                        "The zip's table of contents (at its end) is not in the sample: the server does not "
                        "send byte ranges, so the members could not be listed."
                    )
                )
            )
        return listing
    rules = _rules()
    with archive:
        infos = archive.infolist()
        listing.refuse(rules.too_many_entries(len(infos)))
        listing.refuse(rules.too_large(sum(info.file_size for info in infos)))
        compressed = 0
        files = []
        for info in infos:
            kind = archive_policy.zip_kind(info)
            _parts, problem = rules.admit(
                info.filename, kind=kind, encrypted=archive_policy.zip_encrypted(info)
            )
            listing.refuse(problem)
            if kind != archive_policy.FILE:
                continue
            listing.refuse(rules.entry_bomb(info.filename, info.file_size, info.compress_size))
            listing.add(info.filename, info.file_size)
            compressed += info.compress_size
            files.append(info)
        listing.refuse(rules.bomb(listing.total_size, compressed))
        if listing.refusals:
            return listing
        for info in files:
            _pick(listing, info.filename, lambda info=info: archive.open(info), info.file_size, scratch)
    return listing


def list_tar(path: Path, scratch: Path, *, held: int) -> Listing:
    """List a (decompressed) tar from the start of the sample, as far as the sample goes."""
    listing = Listing()
    rules = _rules()
    with path.open("rb") as raw:
        try:
            archive = tarfile.open(fileobj=BoundedReader(raw, held), mode="r|")  # noqa: SIM115 - closed below
        except (tarfile.TarError, EOFError, OSError) as exc:
            listing.refuse(message(gettext_noop("The tar archive is damaged: %(error)s."), error=str(exc)))
            return listing
        over_limit = None
        try:
            for member in archive:
                over_limit = over_limit or rules.count(member.name)
                kind = archive_policy.tar_kind(member)
                _parts, problem = rules.admit(member.name, kind=kind, link_target=member.linkname or None)
                listing.refuse(problem)
                if kind != archive_policy.FILE:
                    continue
                listing.add(member.name, member.size)
                _pick(
                    listing,
                    member.name,
                    lambda member=member: archive.extractfile(member),
                    member.size,
                    scratch,
                )
        except (tarfile.TarError, EOFError, OSError, zlib.error):
            # The sample ends inside the archive: what was listed is what the sample holds.
            listing.partial = True
        finally:
            archive.close()
    listing.refuse(over_limit)
    listing.refuse(rules.too_large(listing.total_size))
    return listing


def _pick(listing, name, opener, size, scratch):
    """Copy the first tabular member, and a few images or sounds, into the scratch folder."""
    suffix = PurePosixPath(name).suffix.lower()
    if not listing.table_member and suffix in TABLE_SUFFIXES:
        target = scratch / "member-table"
        if _copy_member(listing, name, opener, target, limit=settings.INSPECT_MAX_BYTES):
            listing.table_member, listing.table_path = name, target
    elif len(listing.media) < MEDIA_EXAMPLES and suffix in IMAGE_SUFFIXES + AUDIO_SUFFIXES:
        target = scratch / f"member-media-{len(listing.media)}{suffix}"
        if _copy_member(listing, name, opener, target, limit=MEDIA_MEMBER_BYTES):
            info = media.image_info(target) if suffix in IMAGE_SUFFIXES else media.audio_info(target)
            if info is not None:
                listing.media.append({"path": name, **info})
        target.unlink(missing_ok=True)


def _copy_member(listing, name, opener, target, *, limit):
    """Copy at most `limit` bytes of a member; False when its bytes are not in the sample or damaged."""
    written = 0
    try:
        with opener() as source, target.open("wb") as out:
            while written < limit and (block := source.read(min(CHUNK_BYTES, limit - written))):
                out.write(block)
                written += len(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, tarfile.TarError, RuntimeError, ValueError):
        listing.problems.append(
            message(
                gettext_noop("The member %(member)s could not be read from the sample."),
                member=repr(personal_data.mask_text(name)),
            )
        )
        target.unlink(missing_ok=True)
        return False
    return written > 0
