"""The file view an early upload reads while the download is still writing it (catalog.passthrough)."""

import ctypes
import mmap
import os
import sys
import threading

import pytest

from catalog.passthrough import DigestMismatch, GrowingFile

MIB = 1024 * 1024


@pytest.fixture
def growing(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    view = GrowingFile(path, size=20)
    yield path, view
    view.close()


def test_reads_stop_at_what_is_written_and_the_end_is_the_announced_size(growing):
    path, view = growing
    assert view.seek(0, os.SEEK_END) == 20
    view.seek(0)
    view.written(10)
    assert view.read(4) == b"0123"
    assert view.read(100) == b"456789"
    with path.open("ab") as out:
        out.write(b"abcdefghij")
    view.written(15)
    assert view.read(100) == b"abcde"
    assert view.tell() == 15


def test_the_last_byte_waits_until_the_bytes_are_verified(growing):
    path, view = growing
    with path.open("ab") as out:
        out.write(b"abcdefghij")
    view.written(20)
    view.seek(10)
    got = []
    reader = threading.Thread(target=lambda: got.append(view.read(100)))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive() and not got  # everything is on disk, but not yet verified
    view.finish()
    reader.join()
    assert got == [b"abcdefghij"]
    assert view.read(1) == b""


def test_a_failed_check_makes_every_read_raise(growing):
    path, view = growing
    with path.open("ab") as out:
        out.write(b"abcdefghij")
    view.written(20)
    view.seek(10)
    failed = []

    def read():
        try:
            view.read(100)
        except DigestMismatch as exc:
            failed.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    view.fail(DigestMismatch("not the announced bytes"))
    reader.join()
    assert len(failed) == 1
    view.seek(0)
    with pytest.raises(DigestMismatch):
        view.read(1)


def _resident(path):
    """Return, page by page, whether the file's pages are in the page cache (Linux `mincore`)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    with path.open("rb") as handle:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, handle.fileno(), 0)
    assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
    try:
        vector = (ctypes.c_ubyte * pages)()
        assert libc.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
        return [bool(flag & 1) for flag in vector]
    finally:
        libc.munmap(address, size)


def _cached_file(path, size):
    data = os.urandom(size)
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())  # written to disk, so the cache may drop the pages at once
    return data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and fadvise as on Linux")
def test_the_page_cache_drops_what_the_upload_has_read_a_window_behind_it(tmp_path):
    control = tmp_path / "control.bin"
    _cached_file(control, MIB)
    with control.open("rb") as handle:
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    if any(_resident(control)):
        pytest.skip("this file system keeps its pages in memory (tmpfs)")
    path = tmp_path / "data.bin"
    data = _cached_file(path, 8 * MIB)
    assert all(_resident(path))
    view = GrowingFile(path, size=8 * MIB, drop_behind=MIB)
    view.written(8 * MIB)
    view.finish()
    read = b"".join(iter(lambda: view.read(64 * 1024), b""))

    assert read == data
    pages_per_mib = MIB // mmap.PAGESIZE
    resident = _resident(path)
    # The reader is at 8 MiB: the cache was asked to drop the first 7 MiB. It keeps the last window, and the
    # page or large folio (up to 2 MiB here) that straddles the limit.
    assert not any(resident[: 6 * pages_per_mib])
    assert all(resident[7 * pages_per_mib :])
    # A retry (the client rewinds) reads the dropped bytes again from disk.
    view.seek(0)
    assert view.read(MIB) == data[:MIB]
    view.close()
