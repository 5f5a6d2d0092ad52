"""Tests of catalog.archives: hostile archives are refused and leave nothing; good ones unpack exactly."""

import bz2
import gzip
import hashlib
import io
import lzma
import os
import stat
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from catalog.archives import ExtractedFile, UnsafeArchive, extract_archive, is_archive

MiB = 1024 * 1024
LIMITS = {"max_total_bytes": 100 * MiB, "max_files": 100, "max_ratio": 200}


class _Zeros:
    """A readable stream of n zero bytes, so tests can build bombs without holding them in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def _files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*"))


def assert_refused(archive: Path, dest: Path, match: str, **limits) -> UnsafeArchive:
    """Extraction raises UnsafeArchive naming the reason, and dest is left in place and empty."""
    with pytest.raises(UnsafeArchive, match=match) as caught:
        extract_archive(archive, dest, **{**LIMITS, **limits})
    assert dest.is_dir()
    assert _files_under(dest) == []
    assert archive.name in str(caught.value)
    return caught.value


def _zip(path: Path, entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def _tar_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _tar_special(tar: tarfile.TarFile, name: str, kind: bytes, linkname: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    tar.addfile(info)


def _tar(path: Path, entries: dict[str, bytes], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in entries.items():
            _tar_file(tar, name, data)
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "out"


# Paths that leave the folder


def test_zip_with_parent_component_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "evil.zip", {"ok.txt": b"fine", "../evil": b"x"})
    assert "../evil" in zipfile.ZipFile(archive).namelist()
    assert_refused(archive, dest, r"entry '\.\./evil' climbs out of the folder")
    assert not (tmp_path / "evil").exists()


def test_zip_with_absolute_path_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "abs.zip", {"/abs": b"x"})
    assert zipfile.ZipFile(archive).namelist() == ["/abs"]
    assert_refused(archive, dest, r"entry '/abs' has an absolute path")


def test_zip_with_backslash_parent_component_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "win.zip", {"data\\..\\..\\evil.txt": b"x"})
    assert_refused(archive, dest, r"climbs out of the folder")


def test_zip_with_drive_letter_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "drive.zip", {"C:/Windows/evil.dll": b"x"})
    assert_refused(archive, dest, r"entry 'C:/Windows/evil.dll' starts with a Windows drive letter")


def test_tar_with_parent_component_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "evil.tar", {"ok.txt": b"fine", "sub/../../evil": b"x"})
    assert_refused(archive, dest, r"entry 'sub/\.\./\.\./evil' climbs out of the folder")
    assert not (tmp_path / "evil").exists()


def test_tar_with_absolute_path_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "abs.tar", {"/etc/evil": b"x"})
    assert_refused(archive, dest, r"entry '/etc/evil' has an absolute path")


def test_name_with_control_characters_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "ctl.tar", {"a\nb.txt": b"x"})
    assert_refused(archive, dest, r"has control characters in its name")


# Links and special files


def test_tar_with_symlink_is_refused(tmp_path, dest):
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tar:
        _tar_file(tar, "first.txt", b"written before the link")
        _tar_special(tar, "passwd", tarfile.SYMTYPE, "/etc/passwd")
    assert_refused(archive, dest, r"entry 'passwd' is a symbolic link \(to '/etc/passwd'\)")


def test_tar_with_hardlink_is_refused(tmp_path, dest):
    archive = tmp_path / "hard.tar"
    with tarfile.open(archive, "w") as tar:
        _tar_file(tar, "target.txt", b"x")
        _tar_special(tar, "copy.txt", tarfile.LNKTYPE, "target.txt")
    assert_refused(archive, dest, r"entry 'copy.txt' is a hard link")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (tarfile.CHRTYPE, "is a device file"),
        (tarfile.BLKTYPE, "is a device file"),
        (tarfile.FIFOTYPE, r"is a FIFO \(named pipe\)"),
    ],
)
def test_tar_with_device_or_fifo_is_refused(tmp_path, dest, kind, reason):
    archive = tmp_path / "special.tar"
    with tarfile.open(archive, "w") as tar:
        _tar_special(tar, "dev/thing", kind)
    assert_refused(archive, dest, rf"entry 'dev/thing' {reason}")


def test_zip_with_symlink_entry_is_refused(tmp_path, dest):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        info = zipfile.ZipInfo("shortcut")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zip_file.writestr(info, "/etc/passwd")
    assert_refused(archive, dest, r"entry 'shortcut' is a symbolic link")


# Duplicates and clashes


def test_zip_with_duplicate_entry_is_refused(tmp_path, dest):
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr("data.csv", b"first")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zip_file.writestr("data.csv", b"second")
    assert_refused(archive, dest, r"entry 'data.csv' appears twice in the archive")


def test_tar_with_duplicate_after_normalisation_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "dup.tar", {"a/data.csv": b"first", "./a//data.csv": b"second"})
    assert_refused(archive, dest, r"entry './a//data.csv' appears twice")


def test_tar_with_file_used_as_folder_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "clash.tar", {"a": b"file", "a/b": b"inside a file"})
    assert_refused(archive, dest, r"entry 'a/b' lies inside 'a', which is a file")


# Limits


def test_zip_bomb_is_refused_by_ratio(tmp_path, dest):
    archive = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zip_file,
        zip_file.open("zeros.bin", "w") as member,
    ):
        zeros = _Zeros(50 * MiB)
        while chunk := zeros.read(MiB):
            member.write(chunk)
    assert archive.stat().st_size < MiB
    assert_refused(
        archive, dest, r"entry 'zeros.bin' expands more than 100 times its compressed size", max_ratio=100
    )


def test_tar_gz_bomb_is_refused_by_ratio(tmp_path, dest):
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 50 * MiB
        tar.addfile(info, _Zeros(info.size))
    assert archive.stat().st_size < MiB
    assert_refused(
        archive, dest, r"takes the archive to more than 100 times its compressed size", max_ratio=100
    )


def test_small_compressible_file_is_within_ratio_grace(tmp_path, dest):
    archive = _zip(tmp_path / "sparse.zip", {"mask.bin": bytes(200_000)})
    files = extract_archive(archive, dest, **{**LIMITS, "max_ratio": 100})
    assert [(f.path, f.size) for f in files] == [("mask.bin", 200_000)]


def test_zip_with_too_many_files_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(5)})
    assert_refused(archive, dest, r"has 5 entries, over the limit of 3", max_files=3)


def test_tar_with_too_many_files_is_refused_and_cleaned(tmp_path, dest):
    archive = _tar(tmp_path / "many.tar", {f"d/f{i}.txt": b"x" for i in range(5)})
    assert_refused(archive, dest, r"entry 'd/f3.txt' is beyond the limit of 3 files and folders", max_files=3)


def test_zip_declaring_too_many_bytes_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "big.zip", {"a.bin": os.urandom(600), "b.bin": os.urandom(600)})
    assert_refused(
        archive, dest, r"declares 1,200 bytes, over the limit of 1,000 bytes", max_total_bytes=1000
    )


def test_tar_over_total_size_is_refused_while_writing(tmp_path, dest):
    archive = _tar(
        tmp_path / "big.tar", {"a.bin": os.urandom(400), "b.bin": os.urandom(400), "c.bin": b"x" * 400}
    )
    assert_refused(
        archive,
        dest,
        r"entry 'c.bin' takes the unpacked size over the limit of 1,000 bytes",
        max_total_bytes=1000,
    )


def test_oversized_tar_extended_header_is_refused(tmp_path, dest):
    archive = tmp_path / "pax.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("file.txt")
        info.pax_headers = {"comment": "x" * 200_000}
        tar.addfile(info, io.BytesIO(b""))
    assert_refused(archive, dest, r"has entry headers larger than")


# Encrypted and corrupt archives


def _set_encrypted_flag(path: Path) -> None:
    """Set bit 0 of the general-purpose flags in the local header and the central directory."""
    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))


def test_encrypted_zip_entry_is_refused(tmp_path, dest):
    archive = _zip(
        tmp_path / "secret.zip", {"secret.txt": b"password protected"}, compression=zipfile.ZIP_STORED
    )
    _set_encrypted_flag(archive)
    assert zipfile.ZipFile(archive).infolist()[0].flag_bits & 0x1
    assert_refused(archive, dest, r"entry 'secret.txt' is encrypted")


def test_truncated_zip_is_refused(tmp_path, dest):
    archive = _zip(tmp_path / "cut.zip", {"a.bin": os.urandom(10_000)})
    archive.write_bytes(archive.read_bytes()[:5000])
    assert_refused(archive, dest, r"The archive is corrupt or not a zip file")


def test_zip_with_bad_crc_is_refused(tmp_path, dest):
    payload = b"hello world " * 100
    archive = _zip(tmp_path / "crc.zip", {"a.txt": payload}, compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    data[data.find(payload) + 10] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert_refused(archive, dest, r"entry 'a.txt' is corrupt \(Bad CRC-32")


def test_truncated_tar_gz_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "cut.tar.gz", {"a.txt": b"ok", "b.bin": os.urandom(200_000)}, mode="w:gz")
    archive.write_bytes(archive.read_bytes()[:100_000])
    assert is_archive(archive)
    assert_refused(archive, dest, r"is corrupt or truncated")


def test_tar_with_damaged_header_in_the_middle_is_refused(tmp_path, dest):
    archive = _tar(tmp_path / "damaged.tar", {"a.txt": b"x" * 100, "b.txt": b"y" * 100})
    data = bytearray(archive.read_bytes())
    data[1024 : 1024 + 100] = b"\xff" * 100  # the second member's header: name and mode fields
    archive.write_bytes(bytes(data))
    assert_refused(archive, dest, r"is corrupt: a header is damaged")


def test_file_that_is_not_an_archive_is_refused(tmp_path, dest):
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"just some text, named like a zip\n" * 50)
    assert_refused(archive, dest, r"not a zip or tar archive")


# Destination folder


def test_non_empty_destination_is_refused_and_untouched(tmp_path, dest):
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    archive = _zip(tmp_path / "ok.zip", {"a.txt": b"a"})
    with pytest.raises(ValueError, match="not empty"):
        extract_archive(archive, dest, **LIMITS)
    assert (dest / "keep.txt").read_text() == "mine"
    assert _files_under(dest) == [dest / "keep.txt"]


# Good archives


def _good_entries() -> dict[str, bytes]:
    return {
        "README.md": b"# Data\n",
        "data/train/part-0.csv": b"a,b\n1,2\n" * 1000,
        "data/train/part-1.bin": os.urandom(3 * MiB + 17),  # several chunks
        "data/test/empty.txt": b"",
        "docs/é.txt": b"unicode name",
    }


def _expected(entries: dict[str, bytes]) -> list[ExtractedFile]:
    return [
        ExtractedFile(path=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        for name, data in entries.items()
    ]


def _assert_extracted(files: list[ExtractedFile], entries: dict[str, bytes], dest: Path) -> None:
    assert files == _expected(entries)
    for name, data in entries.items():
        assert (dest / name).read_bytes() == data
    on_disk = {path.relative_to(dest).as_posix() for path in dest.rglob("*") if path.is_file()}
    assert on_disk == set(entries)


def test_good_zip_with_nested_folders_extracts_exactly(tmp_path, dest):
    entries = _good_entries()
    archive = tmp_path / "good.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zip_file:
        zip_file.mkdir("data/") if hasattr(zip_file, "mkdir") else zip_file.writestr("data/", b"")
        for name, data in entries.items():
            zip_file.writestr(name, data)
    files = extract_archive(archive, dest, **LIMITS)
    _assert_extracted(files, entries, dest)


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_good_tar_extracts_exactly(tmp_path, dest, mode):
    entries = _good_entries()
    archive = tmp_path / "good.archive"
    with tarfile.open(archive, mode) as tar:
        directory = tarfile.TarInfo("./data")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        for name, data in entries.items():
            _tar_file(tar, f"./{name}", data)
    files = extract_archive(archive, dest, **LIMITS)
    _assert_extracted(files, entries, dest)


def test_missing_destination_is_created(tmp_path):
    dest = tmp_path / "deep" / "new"
    archive = _zip(tmp_path / "ok.zip", {"a.txt": b"a"})
    assert extract_archive(archive, dest, **LIMITS) == _expected({"a.txt": b"a"})


# Detection by content


def test_is_archive_recognises_formats_by_content(tmp_path):
    entries = {"a.txt": b"hello"}
    assert is_archive(_zip(tmp_path / "no-extension", entries))
    for mode in ("w", "w:gz", "w:bz2", "w:xz"):
        assert is_archive(_tar(tmp_path / f"archive-{mode[-2:]}.bin", entries, mode=mode))


def test_is_archive_rejects_compressed_plain_files_and_misnamed_text(tmp_path):
    csv = b"a,b\n1,2\n" * 100
    (tmp_path / "data.csv.gz").write_bytes(gzip.compress(csv))
    (tmp_path / "data.csv.bz2").write_bytes(bz2.compress(csv))
    (tmp_path / "data.csv.xz").write_bytes(lzma.compress(csv))
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    (tmp_path / "fake.tar").write_bytes(b"x" * 1024)
    (tmp_path / "empty.tar").write_bytes(b"")
    for name in ("data.csv.gz", "data.csv.bz2", "data.csv.xz", "fake.zip", "fake.tar", "empty.tar"):
        assert not is_archive(tmp_path / name), name


def test_tar_extended_header_with_long_digit_run_is_refused(tmp_path, dest):
    archive = tmp_path / "digits.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("file.txt")
        info.pax_headers = {"comment": "1" * 5000}
        tar.addfile(info, io.BytesIO(b""))
    assert_refused(archive, dest, r"has a malformed extended header")


# Memory stays flat: members are streamed, never read whole


def _write_random_member(write, size: int) -> None:
    for _ in range(size // MiB):
        write(os.urandom(MiB))


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_extraction_memory_does_not_grow_with_member_size(tmp_path, dest, kind):
    size = 24 * MiB
    archive = tmp_path / f"large.{kind}"
    if kind == "zip":
        with (
            zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zip_file,
            zip_file.open("large.bin", "w") as member,
        ):
            _write_random_member(member.write, size)
    else:
        source = tmp_path / "large.bin"
        with open(source, "wb") as out:
            _write_random_member(out.write, size)
        with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
            tar.add(source, arcname="large.bin")
        source.unlink()
    tracemalloc.start()
    try:
        files = extract_archive(archive, dest, **LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(f.path, f.size) for f in files] == [("large.bin", size)]
    assert peak < 8 * MiB, f"peak {peak} bytes while extracting a {size}-byte member"
