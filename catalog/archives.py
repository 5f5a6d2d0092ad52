"""Unpack fetched zip and tar archives, refusing anything that could escape the folder or exhaust the worker.

Every entry name is checked (no absolute paths, no ``..``, no drive letters, no backslash tricks), links,
devices and FIFOs are refused, and the number of entries, the bytes written and the compression ratio are
counted while writing (headers are never trusted to stay within the limits). Members are streamed in 1 MiB
chunks with SHA-256 computed on the way, so memory stays flat whatever the archive holds.

This module must not: call ``ZipFile.extractall``/``extract``, read a whole member into memory, follow or
create links, or leave a half-extracted folder behind. On any failure the destination folder is emptied
(it stays in place, empty). Refusals raise ``UnsafeArchive`` with a message a curator can act on.
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
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_BYTES = 1024 * 1024

# Small, highly compressible files (a CSV of empty cells, a sparse mask) are common and harmless; the ratio
# only becomes a threat in bulk, so it is enforced once this many bytes have been written.
RATIO_GRACE_BYTES = 1024 * 1024

# tarfile reads a pax or GNU long-name header into memory in one piece and runs regular expressions over
# it (CVE-2024-6232), so a huge header is refused before it is read. Real headers are a few hundred bytes.
MAX_TAR_HEADER_BYTES = 64 * 1024

MAX_NAME_COMPONENT_BYTES = 255

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty zip
_COMPRESSED_TAR_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
}
_OPENERS = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
_ZIP_ENCRYPTED_FLAG = 0x1
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{257}")


class UnsafeArchive(Exception):
    """The archive was refused; the message names the entry and the reason, for a curator."""


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
    """Counts entries and bytes written across one archive and refuses as soon as a limit is crossed."""

    archive: str
    max_total_bytes: int
    max_files: int
    max_ratio: float
    compressed_so_far: Callable[[], int]
    written: int = 0
    entries: int = 0
    kinds: dict[tuple[str, ...], str] = field(default_factory=dict)

    def refuse(self, entry: str | None, reason: str) -> UnsafeArchive:
        where = f"entry {entry!r}" if entry is not None else "the archive"
        return UnsafeArchive(f"{self.archive}: {where} {reason}; the archive was not unpacked.")

    def count_entry(self, entry: str) -> None:
        self.entries += 1
        if self.entries > self.max_files:
            raise self.refuse(entry, f"is beyond the limit of {self.max_files} files and folders")

    def claim_path(self, entry: str, parts: tuple[str, ...], *, is_dir: bool) -> None:
        """Record a path; refuse a duplicate file, or a file and a folder with the same path."""
        for depth in range(1, len(parts)):
            if self.kinds.setdefault(parts[:depth], "dir") == "file":
                raise self.refuse(entry, f"lies inside {'/'.join(parts[:depth])!r}, which is a file")
        previous = self.kinds.get(parts)
        if previous == "file":
            raise self.refuse(entry, "appears twice in the archive (duplicate entry)")
        if previous == "dir" and not is_dir:
            raise self.refuse(entry, "is a file with the same path as a folder")
        self.kinds[parts] = "dir" if is_dir else "file"

    def charge(self, *, entry: str, chunk: int, entry_written: int, entry_compressed: int | None) -> None:
        """Account for a chunk about to be written; refuse before it reaches the disk if over a limit."""
        self.written += chunk
        if self.written > self.max_total_bytes:
            raise self.refuse(
                entry, f"takes the unpacked size over the limit of {self.max_total_bytes} bytes"
            )
        bomb = f"more than {self.max_ratio:g} times its compressed size (possible zip bomb)"
        entry_limit = None if entry_compressed is None else self.max_ratio * max(entry_compressed, 1)
        if entry_limit is not None and entry_written > max(entry_limit, RATIO_GRACE_BYTES):
            raise self.refuse(entry, f"expands {bomb}")
        archive_limit = self.max_ratio * max(self.compressed_so_far(), 1)
        if self.written > max(archive_limit, RATIO_GRACE_BYTES):
            raise self.refuse(entry, f"takes the archive to {bomb}")


def _safe_parts(budget: _Budget, entry: str) -> tuple[str, ...]:
    """Split an entry name into path components, refusing any name that could leave the destination."""
    if not entry:
        raise budget.refuse(entry, "has an empty name")
    try:
        encoded = entry.encode("utf-8")
    except UnicodeEncodeError:
        raise budget.refuse(entry, "has a name that is not valid UTF-8") from None
    if b"\x00" in encoded or any(ord(char) < 32 or ord(char) == 127 for char in entry):
        raise budget.refuse(entry, "has control characters in its name")
    # Archives made on Windows may use backslashes as separators; reading them as separators lets the
    # ".." check below see "..\\evil" for what it is on the machine that will use the files.
    name = entry.replace("\\", "/")
    if name.startswith("/"):
        raise budget.refuse(entry, "has an absolute path")
    if _DRIVE_LETTER.match(name):
        raise budget.refuse(entry, "starts with a Windows drive letter")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise budget.refuse(entry, "climbs out of the folder with '..'")
    if any(len(part.encode("utf-8")) > MAX_NAME_COMPONENT_BYTES for part in parts):
        raise budget.refuse(entry, f"has a name part longer than {MAX_NAME_COMPONENT_BYTES} bytes")
    return parts


def _target(budget: _Budget, dest: Path, entry: str, parts: tuple[str, ...]) -> Path:
    """The path of an entry in dest, checked again after resolving in case a check above was fooled."""
    target = dest.joinpath(*parts)
    if not target.resolve().is_relative_to(dest):
        raise budget.refuse(entry, "would land outside the destination folder")
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


def _refuse_special_zip_entry(budget: _Budget, info: zipfile.ZipInfo) -> None:
    """Refuse zip entries whose Unix mode says link, device, FIFO or socket, and encrypted entries."""
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type == stat.S_IFLNK:
        raise budget.refuse(info.filename, "is a symbolic link")
    if file_type in (stat.S_IFCHR, stat.S_IFBLK):
        raise budget.refuse(info.filename, "is a device file")
    if file_type == stat.S_IFIFO:
        raise budget.refuse(info.filename, "is a FIFO (named pipe)")
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise budget.refuse(info.filename, "is not a regular file or folder")
    if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
        raise budget.refuse(info.filename, "is encrypted (password-protected archives cannot be mirrored)")


def _zip_reader(budget: _Budget, entry: str, source) -> Callable[[int], bytes]:
    """A read function for one zip member that reports damaged data as a refusal, not an OSError."""

    def read(size: int) -> bytes:
        try:
            return source.read(size)
        except (zipfile.BadZipFile, *_DECOMPRESSION_ERRORS) as error:
            raise budget.refuse(entry, f"is corrupt ({error})") from None

    return read


def _extract_zip(archive_path: Path, dest: Path, limits: dict) -> list[ExtractedFile]:
    archive_size = archive_path.stat().st_size
    consumed = 0
    budget = _Budget(
        archive=archive_path.name, compressed_so_far=lambda: min(consumed, archive_size), **limits
    )
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise budget.refuse(None, f"is corrupt or not a zip file ({error})") from None
    extracted = []
    with archive:
        infos = archive.infolist()
        if len(infos) > budget.max_files:
            raise budget.refuse(None, f"has {len(infos)} entries, over the limit of {budget.max_files}")
        # Headers may lie low, which the write-time count catches; when they admit to too much, stop early.
        declared = sum(info.file_size for info in infos)
        if declared > budget.max_total_bytes:
            raise budget.refuse(
                None, f"declares {declared} bytes, over the limit of {budget.max_total_bytes}"
            )
        for info in infos:
            entry = info.filename
            budget.count_entry(entry)
            parts = _safe_parts(budget, entry)
            _refuse_special_zip_entry(budget, info)
            # Some Windows tools mark folders with a trailing backslash instead of a slash.
            if info.is_dir() or (entry.endswith("\\") and info.file_size == 0):
                if parts:
                    budget.claim_path(entry, parts, is_dir=True)
                    _target(budget, dest, entry, parts).mkdir(parents=True, exist_ok=True)
                continue
            if not parts:
                raise budget.refuse(entry, "is a file without a name")
            budget.claim_path(entry, parts, is_dir=False)
            target = _target(budget, dest, entry, parts)
            consumed += info.compress_size
            try:
                source = archive.open(info)
            except NotImplementedError as error:
                raise budget.refuse(entry, f"uses an unsupported compression method ({error})") from None
            except (zipfile.BadZipFile, RuntimeError, ValueError, *_DECOMPRESSION_ERRORS) as error:
                raise budget.refuse(entry, f"is corrupt ({error})") from None
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
            raise self.budget.refuse(None, "could not be read in bounded chunks")
        if not self.in_member_data:
            self.header_bytes += size
            if self.header_bytes > MAX_TAR_HEADER_BYTES:
                raise self.budget.refuse(None, f"has entry headers larger than {MAX_TAR_HEADER_BYTES} bytes")
        try:
            data = self.stream.read(size)
        except _DECOMPRESSION_ERRORS as error:
            raise self.budget.refuse(None, f"is corrupt or truncated ({error})") from None
        if not self.in_member_data and _LONG_DIGIT_RUN.search(data):
            raise self.budget.refuse(None, "has a malformed extended header (a very long run of digits)")
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        try:
            return self.stream.seek(offset, whence)
        except _DECOMPRESSION_ERRORS as error:
            raise self.budget.refuse(None, f"is corrupt or truncated ({error})") from None

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


def _refuse_special_tar_member(budget: _Budget, member: tarfile.TarInfo, dest: Path) -> None:
    """Refuse links, devices, FIFOs and unknown types, then let tarfile's data filter veto the rest."""
    if member.issym():
        raise budget.refuse(member.name, f"is a symbolic link (to {member.linkname!r})")
    if member.islnk():
        raise budget.refuse(member.name, f"is a hard link (to {member.linkname!r})")
    if member.ischr() or member.isblk():
        raise budget.refuse(member.name, "is a device file")
    if member.isfifo():
        raise budget.refuse(member.name, "is a FIFO (named pipe)")
    if not (member.isreg() or member.isdir()):
        raise budget.refuse(member.name, "is not a regular file or folder")
    try:
        tarfile.data_filter(member, str(dest))
    except tarfile.FilterError as error:
        raise budget.refuse(member.name, f"was refused by the tar data filter ({error})") from None


def _extract_tar(archive_path: Path, dest: Path, compression: str, limits: dict) -> list[ExtractedFile]:
    extracted = []
    with open(archive_path, "rb") as raw:
        stream = _OPENERS[compression](raw, "rb") if compression != "tar" else raw
        budget = _Budget(archive=archive_path.name, compressed_so_far=raw.tell, **limits)
        guarded = _GuardedTarStream(stream=stream, budget=budget)
        try:
            with tarfile.open(fileobj=guarded, mode="r:", tarinfo=_StrictTarInfo) as archive:
                while (member := archive.next()) is not None:
                    guarded.next_member()
                    budget.count_entry(member.name)
                    parts = _safe_parts(budget, member.name)
                    _refuse_special_tar_member(budget, member, dest)
                    if member.isdir():
                        if parts:
                            budget.claim_path(member.name, parts, is_dir=True)
                            _target(budget, dest, member.name, parts).mkdir(parents=True, exist_ok=True)
                        continue
                    if not parts:
                        raise budget.refuse(member.name, "is a file without a name")
                    budget.claim_path(member.name, parts, is_dir=False)
                    target = _target(budget, dest, member.name, parts)
                    source = archive.extractfile(member)
                    with guarded.member_data():
                        size, sha256 = _write_file(
                            budget=budget, read=source.read, target=target, entry=member.name, compressed=None
                        )
                    extracted.append(ExtractedFile(path="/".join(parts), size=size, sha256=sha256))
        except _CorruptTarHeader as error:
            raise budget.refuse(None, f"is corrupt: a header is damaged ({error})") from None
        except (tarfile.TarError, ValueError) as error:
            # ValueError: tarfile parses sparse maps and numbers with int() and lets it escape.
            raise budget.refuse(None, f"is corrupt or truncated ({error})") from None
        finally:
            if stream is not raw:
                stream.close()
    return extracted


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
        raise UnsafeArchive(f"{archive_path.name}: the file is not a zip or tar archive (or is corrupt).")
    dest = dest_dir.resolve()
    limits = {"max_total_bytes": max_total_bytes, "max_files": max_files, "max_ratio": max_ratio}
    try:
        if compression == "zip":
            return _extract_zip(archive_path, dest, limits)
        return _extract_tar(archive_path, dest, compression, limits)
    except BaseException:
        _empty_directory(dest)
        raise
