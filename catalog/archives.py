"""Unpack fetched zip and tar archives, refusing anything that could escape the folder or exhaust the worker.

Every entry name is checked (no absolute paths, no ``..``, no drive letters, no backslash tricks), links,
devices and FIFOs are refused, and the number of entries, the bytes written and the compression ratio are
counted while writing (headers are never trusted to stay within the limits). Members are streamed in 1 MiB
chunks with SHA-256 computed on the way, so memory stays flat whatever the archive holds.

Which entries and archives are refused is `portal.archive_policy`'s decision, the same rules that the data
check applies before approval; this module adds what only unpacking meets (damaged data, bounded reads,
tarfile's own data filter, a path that resolves outside the folder).

This module must not: call ``ZipFile.extractall``/``extract``, read a whole member into memory, follow or
create links, or leave a half-extracted folder behind. On any failure the destination folder is emptied
(it stays in place, empty). Refusals raise ``UnsafeArchive`` with a message a curator can act on (stored
form in ``UnsafeArchive.message``, for `portal.i18n`).
See https://cheatsheetseries.owasp.org/cheatsheets/File_Upload_Cheat_Sheet.html and
https://docs.python.org/3/library/tarfile.html#extraction-filters
"""

import bz2
import gzip
import hashlib
import lzma
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_noop

from portal import archive_policy, i18n

CHUNK_BYTES = 1024 * 1024

# tarfile reads a pax or GNU long-name header into memory in one piece and runs regular expressions over
# it (CVE-2024-6232), so a huge header is refused before it is read. Real headers are a few hundred bytes.
MAX_TAR_HEADER_BYTES = 64 * 1024

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty zip
_COMPRESSED_TAR_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
}
_OPENERS = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{257}")
_CORRUPT_ENTRY = gettext_noop("The entry %(entry)s is corrupt (%(error)s).")


class UnsafeArchive(Exception):
    """The archive was refused; the message names the entry and the reason, for a curator.

    ``message`` is the stored form (`portal.i18n`), for a reader in any language; ``str()`` is English.
    """

    def __init__(self, stored):
        super().__init__(i18n.english(stored))
        self.message = stored


@dataclass(frozen=True)
class ExtractedFile:
    """One regular file written by ``extract_archive``: its relative POSIX path, size and SHA-256."""

    path: str
    size: int
    sha256: str


def _detect_format(path: Path) -> str | None:
    """Return "zip", "tar", "gz", "bz2" or "xz" (compressed tar) from the content, or None."""
    with open(path, "rb") as file:
        head = file.read(tarfile.BLOCKSIZE)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    for magic, compression in _COMPRESSED_TAR_MAGIC.items():
        if head.startswith(magic):
            # A compressed CSV is not an archive: look for a tar header inside.
            try:
                with _OPENERS[compression](path, "rb") as stream:
                    block = stream.read(tarfile.BLOCKSIZE)
            except _DECOMPRESSION_ERRORS:
                return None
            return compression if _is_tar_header(block) else None
    return "tar" if _is_tar_header(head) else None


def _is_tar_header(block: bytes) -> bool:
    """True when the block is a valid tar header (checksum verified), ustar or old v7 format."""
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except (tarfile.HeaderError, ValueError, OverflowError):
        return False
    return True


def is_archive(path: Path) -> bool:
    """True when the file is a zip, tar, tar.gz, tar.bz2 or tar.xz archive, judged by content, not name."""
    return _detect_format(Path(path)) is not None


@dataclass
class _Budget:
    """The archive policy's rules for one archive, with its compressed bytes consumed so far; raises refusals."""

    archive: str
    rules: archive_policy.ArchiveRules
    compressed_so_far: Callable[[], int]

    def refuse(self, problem) -> UnsafeArchive:
        """Return the UnsafeArchive for a problem (a stored message) found in this archive."""
        return UnsafeArchive(
            i18n.message(
                gettext_noop("%(archive)s: %(problem)s The archive was not unpacked."),
                archive=self.archive,
                problem=problem,
            )
        )

    def refuse_entry(self, msgid, entry, **params) -> UnsafeArchive:
        """Return the UnsafeArchive for a problem of one entry that only unpacking meets."""
        return self.refuse(i18n.message(msgid, entry=repr(entry), **params))

    def check(self, problem) -> None:
        """Raise the refusal when the policy returned one."""
        if problem is not None:
            raise self.refuse(problem)

    def admit(self, entry: str, *, kind: str, link_target=None, encrypted=False) -> tuple[str, ...]:
        """Count an entry and return its path parts, refusing it as the archive policy says."""
        self.check(self.rules.count(entry))
        parts, problem = self.rules.admit(entry, kind=kind, link_target=link_target, encrypted=encrypted)
        self.check(problem)
        return parts

    def charge(self, *, entry: str, chunk: int, entry_written: int, entry_compressed: int | None) -> None:
        """Account for a chunk about to be written; refuse before it reaches the disk if over a limit."""
        self.check(
            self.rules.charge(
                entry=entry,
                size=chunk,
                entry_written=entry_written,
                entry_compressed=entry_compressed,
                archive_compressed=self.compressed_so_far(),
            )
        )


def _target(budget: _Budget, dest: Path, entry: str, parts: tuple[str, ...]) -> Path:
    """The path of an entry in dest, checked again after resolving in case a check above was fooled."""
    target = dest.joinpath(*parts)
    if not target.resolve().is_relative_to(dest):
        raise budget.refuse_entry(
            gettext_noop("The entry %(entry)s would land outside the destination folder."), entry
        )
    return target


def _write_file(
    *,
    budget: _Budget,
    read: Callable[[int], bytes],
    target: Path,
    entry: str,
    compressed: int | None,
) -> tuple[int, str]:
    """Stream one member to target in chunks, charging the budget first; return its size and SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    # O_EXCL and O_NOFOLLOW: never overwrite or write through anything already there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        while chunk := read(CHUNK_BYTES):
            size += len(chunk)
            budget.charge(entry=entry, chunk=len(chunk), entry_written=size, entry_compressed=compressed)
            out.write(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def _zip_reader(budget: _Budget, entry: str, source) -> Callable[[int], bytes]:
    """A read function for one zip member that reports damaged data as a refusal, not an OSError."""

    def read(size: int) -> bytes:
        try:
            return source.read(size)
        except (zipfile.BadZipFile, *_DECOMPRESSION_ERRORS) as error:
            raise budget.refuse_entry(_CORRUPT_ENTRY, entry, error=str(error)) from None

    return read


def _extract_zip(archive_path: Path, dest: Path, rules: archive_policy.ArchiveRules) -> list[ExtractedFile]:
    archive_size = archive_path.stat().st_size
    consumed = 0
    budget = _Budget(
        archive=archive_path.name, rules=rules, compressed_so_far=lambda: min(consumed, archive_size)
    )
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise budget.refuse(
            i18n.message(
                gettext_noop("The archive is corrupt or not a zip file (%(error)s)."), error=str(error)
            )
        ) from None
    extracted = []
    with archive:
        infos = archive.infolist()
        budget.check(rules.too_many_entries(len(infos)))
        # Headers may lie low, which the write-time count catches; when they admit to too much, stop early.
        budget.check(rules.too_large(sum(info.file_size for info in infos)))
        for info in infos:
            entry = info.filename
            kind = archive_policy.zip_kind(info)
            parts = budget.admit(entry, kind=kind, encrypted=archive_policy.zip_encrypted(info))
            if kind == archive_policy.FOLDER:
                if parts:
                    _target(budget, dest, entry, parts).mkdir(parents=True, exist_ok=True)
                continue
            target = _target(budget, dest, entry, parts)
            consumed += info.compress_size
            try:
                source = archive.open(info)
            except NotImplementedError as error:
                raise budget.refuse_entry(
                    gettext_noop("The entry %(entry)s uses an unsupported compression method (%(error)s)."),
                    entry,
                    error=str(error),
                ) from None
            except (zipfile.BadZipFile, RuntimeError, ValueError, *_DECOMPRESSION_ERRORS) as error:
                raise budget.refuse_entry(_CORRUPT_ENTRY, entry, error=str(error)) from None
            with source:
                size, sha256 = _write_file(
                    budget=budget,
                    read=_zip_reader(budget, entry, source),
                    target=target,
                    entry=entry,
                    compressed=info.compress_size,
                )
            extracted.append(ExtractedFile(path="/".join(parts), size=size, sha256=sha256))
    return extracted


class _GuardedTarStream:
    """The decompressed tar stream handed to tarfile: bounds header reads and reports corruption.

    Outside ``member_data()`` tarfile is reading headers; their total per member is capped before any
    memory is spent, and long digit runs are refused because tarfile's pax parser backtracks on them
    quadratically (CVE-2024-6232, fixed in Python 3.11.10; this keeps older interpreters safe).
    """

    def __init__(self, *, stream, budget: _Budget) -> None:
        self.stream = stream
        self.budget = budget
        self.header_bytes = 0
        self.in_member_data = False

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or (self.in_member_data and size > CHUNK_BYTES):
            raise self.budget.refuse(
                i18n.message(gettext_noop("The archive could not be read in bounded chunks."))
            )
        if not self.in_member_data:
            self.header_bytes += size
            if self.header_bytes > MAX_TAR_HEADER_BYTES:
                raise self.budget.refuse(
                    i18n.message(
                        gettext_noop("The archive has entry headers larger than %(limit)s bytes."),
                        limit=i18n.number(MAX_TAR_HEADER_BYTES),
                    )
                )
        try:
            data = self.stream.read(size)
        except _DECOMPRESSION_ERRORS as error:
            raise self.budget.refuse(_corrupt_archive(error)) from None
        if not self.in_member_data and _LONG_DIGIT_RUN.search(data):
            raise self.budget.refuse(
                i18n.message(
                    gettext_noop("The archive has a malformed extended header (a very long run of digits).")
                )
            )
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        try:
            return self.stream.seek(offset, whence)
        except _DECOMPRESSION_ERRORS as error:
            raise self.budget.refuse(_corrupt_archive(error)) from None

    def tell(self) -> int:
        return self.stream.tell()

    def next_member(self) -> None:
        """Start counting header bytes afresh for the next member."""
        self.header_bytes = 0

    @contextmanager
    def member_data(self):
        """Allow chunk-sized reads while a member's data is copied."""
        self.in_member_data = True
        try:
            yield
        finally:
            self.in_member_data = False


class _CorruptTarHeader(Exception):
    """A header in the middle of a tar is damaged (tarfile would silently stop there)."""


class _StrictTarInfo(tarfile.TarInfo):
    """TarInfo that reports a damaged header instead of letting tarfile take it for the end of the archive."""

    @classmethod
    def fromtarfile(cls, tarfile_):
        try:
            return super().fromtarfile(tarfile_)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as error:
            raise _CorruptTarHeader(str(error)) from None


def _tar_data_filter(budget: _Budget, member: tarfile.TarInfo, dest: Path) -> None:
    """Let tarfile's data filter veto what the archive policy admitted (odd modes, paths after resolving)."""
    try:
        tarfile.data_filter(member, str(dest))
    except tarfile.FilterError as error:
        raise budget.refuse_entry(
            gettext_noop("The entry %(entry)s was refused by the tar data filter (%(error)s)."),
            member.name,
            error=str(error),
        ) from None


def _extract_tar(
    archive_path: Path, dest: Path, compression: str, rules: archive_policy.ArchiveRules
) -> list[ExtractedFile]:
    extracted = []
    with open(archive_path, "rb") as raw:
        stream = _OPENERS[compression](raw, "rb") if compression != "tar" else raw
        budget = _Budget(archive=archive_path.name, rules=rules, compressed_so_far=raw.tell)
        guarded = _GuardedTarStream(stream=stream, budget=budget)
        try:
            with tarfile.open(fileobj=guarded, mode="r:", tarinfo=_StrictTarInfo) as archive:
                while (member := archive.next()) is not None:
                    guarded.next_member()
                    kind = archive_policy.tar_kind(member)
                    parts = budget.admit(member.name, kind=kind, link_target=member.linkname or None)
                    _tar_data_filter(budget, member, dest)
                    if kind == archive_policy.FOLDER:
                        if parts:
                            _target(budget, dest, member.name, parts).mkdir(parents=True, exist_ok=True)
                        continue
                    target = _target(budget, dest, member.name, parts)
                    source = archive.extractfile(member)
                    with guarded.member_data():
                        size, sha256 = _write_file(
                            budget=budget, read=source.read, target=target, entry=member.name, compressed=None
                        )
                    extracted.append(ExtractedFile(path="/".join(parts), size=size, sha256=sha256))
        except _CorruptTarHeader as error:
            raise budget.refuse(
                i18n.message(
                    gettext_noop("The archive is corrupt: a header is damaged (%(error)s)."), error=str(error)
                )
            ) from None
        except (tarfile.TarError, ValueError) as error:
            # ValueError: tarfile parses sparse maps and numbers with int() and lets it escape.
            raise budget.refuse(_corrupt_archive(error)) from None
        finally:
            if stream is not raw:
                stream.close()
    return extracted


def _corrupt_archive(error):
    return i18n.message(gettext_noop("The archive is corrupt or truncated (%(error)s)."), error=str(error))


def _empty_directory(directory: Path) -> None:
    """Remove everything inside directory, leaving it in place."""
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def extract_archive(
    archive_path: Path, dest_dir: Path, *, max_total_bytes: int, max_files: int, max_ratio: float
) -> list[ExtractedFile]:
    """Unpack a zip or tar archive into dest_dir (created if missing, must be empty) and list its files.

    Raises UnsafeArchive when an entry or a limit refuses the archive; on any failure dest_dir is left in
    place and empty. Raises ValueError when dest_dir is not empty, so that the clean-up never deletes
    anything the archive did not put there.
    """
    if max_total_bytes < 0 or max_files < 0 or max_ratio <= 0:
        raise ValueError("limits must be positive")
    archive_path, dest_dir = Path(archive_path), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    if any(dest_dir.iterdir()):
        raise ValueError(f"{dest_dir} is not empty; extract_archive needs an empty folder")
    compression = _detect_format(archive_path)
    if compression is None:
        raise UnsafeArchive(
            i18n.message(
                gettext_noop("%(archive)s: the file is not a zip or tar archive (or is corrupt)."),
                archive=archive_path.name,
            )
        )
    dest = dest_dir.resolve()
    rules = archive_policy.ArchiveRules(
        max_files=max_files, max_total_bytes=max_total_bytes, max_ratio=max_ratio
    )
    try:
        if compression == "zip":
            return _extract_zip(archive_path, dest, rules)
        return _extract_tar(archive_path, dest, compression, rules)
    except BaseException:
        _empty_directory(dest)
        raise
