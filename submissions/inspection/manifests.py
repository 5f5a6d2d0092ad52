"""List what a sampled zip or tar archive holds, under the project's archive limits, and pull out a few members.

The limits are the mirroring's (`MIRROR_MAX_FILES`, `MIRROR_MAX_RATIO`, `MIRROR_MAX_BYTES`): an archive that
the mirror would refuse to unpack is reported here, before approval. Nothing is unpacked to disk but the
first tabular member and a few images or sounds, each copied under the inspection's byte cap. A zip is read
from its central directory (the end of the sampled file); a tar is read as a stream from the sample's start,
so its listing covers the sampled part only when the archive is larger than the sample.
"""

import dataclasses
import mimetypes
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path, PurePosixPath

from django.conf import settings

from submissions.inspection import media, personal_data
from submissions.inspection.sampling import BoundedReader

LISTED_ENTRIES = 200
MEDIA_EXAMPLES = 5
MEDIA_MEMBER_BYTES = 4 * 1024 * 1024
# Small archives of empty cells compress extremely well and are harmless; the ratio counts beyond this.
RATIO_GRACE_BYTES = 1024 * 1024
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
    table_member: str = ""
    table_path: Path | None = None

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


def member_type(name):
    """Return a member's type from its name (its bytes are mostly not in the sample)."""
    guessed = mimetypes.guess_type(name)[0]
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in (".parquet", ".jsonl", ".ndjson", ".arrow", ".feather"):
        return suffix[1:]
    return guessed or "unknown"


def _unsafe_name(name):
    """Return why a member name could escape an unpacking folder, or ""."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        return "is an absolute path"
    if ".." in path.parts:
        return "climbs out of the folder with .."
    return ""


def list_zip(path: Path, scratch: Path, *, complete: bool) -> Listing:
    """List a zip from its central directory; refuse what the mirror's unpacking would refuse."""
    listing = Listing()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if complete:
            listing.refusals.append(f"The zip archive is damaged: {exc}.")
        else:
            listing.problems.append(
                "The zip's table of contents (at its end) is not in the sample: the server does not send "
                "byte ranges, so the members could not be listed."
            )
        return listing
    with archive:
        infos = archive.infolist()
        compressed = 0
        for info in infos:
            if info.is_dir():
                continue
            problem = _unsafe_name(info.filename)
            if problem:
                listing.refusals.append(
                    f"The member {info.filename!r} {problem}; the archive cannot be unpacked."
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                listing.problems.append(
                    f"The member {info.filename!r} is a link; links are refused when unpacking."
                )
                continue
            listing.add(info.filename, info.file_size)
            compressed += info.compress_size
        _check_limits(listing, compressed=compressed)
        if listing.refusals:
            return listing
        for info in infos:
            if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
                continue
            _pick(listing, info.filename, lambda info=info: archive.open(info), info.file_size, scratch)
    return listing


def list_tar(path: Path, scratch: Path, *, held: int) -> Listing:
    """List a (decompressed) tar from the start of the sample, as far as the sample goes."""
    listing = Listing()
    with path.open("rb") as raw:
        try:
            archive = tarfile.open(fileobj=BoundedReader(raw, held), mode="r|")  # noqa: SIM115 - closed below
        except (tarfile.TarError, EOFError, OSError) as exc:
            listing.refusals.append(f"The tar archive is damaged: {exc}.")
            return listing
        try:
            for member in archive:
                problem = _unsafe_name(member.name)
                if problem:
                    listing.refusals.append(
                        f"The member {member.name!r} {problem}; the archive cannot be unpacked."
                    )
                if member.issym() or member.islnk():
                    listing.problems.append(
                        f"The member {member.name!r} is a link to {member.linkname!r}; links are refused when "
                        "unpacking."
                    )
                    continue
                if not member.isfile():
                    if not member.isdir():
                        listing.problems.append(
                            f"The member {member.name!r} is a device or pipe, not a file."
                        )
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
    _check_limits(listing, compressed=None)
    return listing


def _check_limits(listing, *, compressed):
    """Refuse an archive over the mirror's caps on files, bytes or compression ratio."""
    if listing.file_count > settings.MIRROR_MAX_FILES:
        listing.refusals.append(
            f"The archive holds {listing.file_count:,} files, more than the limit of {settings.MIRROR_MAX_FILES:,}."
        )
    if listing.total_size > settings.MIRROR_MAX_BYTES:
        listing.refusals.append(
            f"The archive expands to {listing.total_size:,} bytes, more than the limit of "
            f"{settings.MIRROR_MAX_BYTES:,} bytes."
        )
    if compressed is not None and listing.total_size > RATIO_GRACE_BYTES:
        ratio = listing.total_size / max(compressed, 1)
        if ratio > settings.MIRROR_MAX_RATIO:
            listing.refusals.append(
                f"The archive expands {ratio:,.0f} times (limit {settings.MIRROR_MAX_RATIO}): a decompression bomb."
            )


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
        listing.problems.append(f"The member {name!r} could not be read from the sample.")
        target.unlink(missing_ok=True)
        return False
    return written > 0
