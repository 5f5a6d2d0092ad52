"""The file view an early upload reads while the download is still writing it (catalog.passthrough)."""

import mmap
import os
import threading

import pytest

from catalog.passthrough import DigestMismatch, GrowingFile
from tests.pagecache import MIB, cached_file, linux_only, resident, skip_unless_droppable


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


@linux_only
def test_the_page_cache_drops_what_the_upload_has_read_a_window_behind_it(tmp_path):
    skip_unless_droppable(tmp_path)
    path = tmp_path / "data.bin"
    data = cached_file(path, 8 * MIB)
    if not all(resident(path)):
        pytest.skip("the machine dropped the file's pages before the test could (memory pressure)")
    view = GrowingFile(path, size=8 * MIB, drop_behind=MIB)
    try:
        view.written(8 * MIB)
        view.finish()
        read = b"".join(iter(lambda: view.read(64 * 1024), b""))
        assert read == data
        pages_per_mib = MIB // mmap.PAGESIZE
        held = resident(path)
        # The reader is at 8 MiB: the cache was asked to drop the first 7 MiB. It keeps the last window, and
        # the page or large folio that straddles the limit (up to 1 MiB asked for here).
        assert not any(held[: 6 * pages_per_mib])
        assert all(held[7 * pages_per_mib :])
        # A retry (the client rewinds) reads the dropped bytes again, and drops them behind it again.
        view.seek(0)
        assert b"".join(view.read(64 * 1024) for _ in range(48)) == data[: 3 * MIB]
        assert not any(resident(path)[:pages_per_mib])
    finally:
        view.close()
