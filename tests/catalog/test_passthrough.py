"""The file view an early upload reads while the download is still writing it (catalog.passthrough)."""

import os
import threading

import pytest

from catalog.passthrough import DigestMismatch, GrowingFile


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
