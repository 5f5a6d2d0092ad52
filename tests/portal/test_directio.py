"""Writing and reading data files past the page cache, and falling back to it (portal.directio)."""

import errno
import os

import pytest

from portal import directio, safefetch
from tests.pagecache import MIB, linux_only, resident, skip_unless_droppable
from tests.sources import generated_bytes, generated_sha256


@pytest.fixture
def direct_folder(tmp_path):
    """A folder on a file system that takes direct I/O and shows its page cache, else the test is skipped."""
    probe = tmp_path / "probe"
    probe.touch()
    try:
        os.close(os.open(probe, os.O_RDONLY | os.O_DIRECT))  # asked of the system, not of the code under test
    except (AttributeError, OSError):
        pytest.skip("this system or file system refuses O_DIRECT")
    skip_unless_droppable(tmp_path)
    return tmp_path


def _block(fill):
    block = directio.buffer(directio.ALIGNMENT)
    block.write(bytes([fill]) * directio.ALIGNMENT)
    return block


@linux_only
def test_aligned_blocks_go_past_the_cache_and_everything_else_through_it(direct_folder):
    path = direct_folder / "data.bin"
    path.touch()
    a, b = _block(1), _block(2)
    with directio.Writer(path) as out:
        out.write_at(a, directio.ALIGNMENT, 0)  # past the cache
        out.write_at(b"tail", 4, directio.ALIGNMENT)  # not a buffer(), unaligned: through the cache
        out.write_at(b, directio.ALIGNMENT, 2 * directio.ALIGNMENT)  # past the cache still
    data = path.read_bytes()
    assert data == bytes(a) + b"tail" + bytes(directio.ALIGNMENT - 4) + bytes(b)
    # (read_bytes above filled the cache; what counts is what the writes left, checked on a fresh file.)
    fresh = direct_folder / "fresh.bin"
    fresh.touch()
    with directio.Writer(fresh) as out:
        out.write_at(a, directio.ALIGNMENT, 0)
        out.write_at(b"tail", 4, directio.ALIGNMENT)
        out.write_at(b, directio.ALIGNMENT, 2 * directio.ALIGNMENT)
    assert resident(fresh) == [False, True, False]


@linux_only
def test_a_file_system_that_refuses_a_direct_write_gets_the_rest_through_the_cache(
    direct_folder, monkeypatch
):
    path = direct_folder / "data.bin"
    path.touch()
    out = directio.Writer(path)
    real_pwrite = os.pwrite

    def pwrite(fd, data, offset):
        if fd == out._direct:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    with out:
        out.write_at(_block(3), directio.ALIGNMENT, 0)
        out.write_at(_block(4), directio.ALIGNMENT, directio.ALIGNMENT)
    assert path.read_bytes() == bytes([3]) * directio.ALIGNMENT + bytes([4]) * directio.ALIGNMENT


@pytest.mark.parametrize("size", [3 * 65536 + 1000, 3 * 65536])
@pytest.mark.parametrize("direct", [True, False])
def test_block_reads_return_the_bytes_at_any_offset_and_stop_at_the_end(tmp_path, settings, size, direct):
    if direct:
        probe = tmp_path / "probe"
        probe.touch()
        try:
            os.close(os.open(probe, os.O_RDONLY | os.O_DIRECT))
        except (AttributeError, OSError):
            pytest.skip("this system or file system refuses O_DIRECT")
    settings.MIRROR_DIRECT_IO = direct
    data = os.urandom(size)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    reader = directio.BlockReader(path, block_size=65536)
    try:
        cases = [(0, 10, 10), (5, 65536, 65531), (65530, 100, 6), (65536, 65536, 65536), (size - 10, 100, 10)]
        for offset, count, expected in cases:
            assert reader.read_at(offset, count) == data[offset : offset + expected], (offset, count)
        assert reader.read_at(size, 10) == b""
        assert reader.read_at(3, 5) == data[3:8]  # going back (a retry)
    finally:
        reader.close()


def test_a_refused_direct_read_is_read_through_the_cache(direct_folder, monkeypatch):
    data = os.urandom(100_000)
    path = direct_folder / "data.bin"
    path.write_bytes(data)

    def preadv(fd, buffers, offset):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "preadv", preadv)
    reader = directio.BlockReader(path, block_size=65536)
    try:
        assert reader.read_at(70_000, 1000) == data[70_000:71_000]
        assert reader.read_at(0, 65536) == data[:65536]
    finally:
        reader.close()


@linux_only
@pytest.mark.parametrize("resumed", [False, True])
def test_a_download_leaves_the_page_cache_as_it_found_it(direct_folder, source_server, resumed):
    size = 8 * MIB + 100  # whole blocks past the cache, and a tail through it
    source_server.add_generated("/data", size, seed=21)
    path = direct_folder / "data"
    if resumed:  # a partial file cut anywhere (synced and out of the cache): it resumes at a block boundary
        cached_file_bytes = b"".join(generated_bytes(21, 0, 10_000))
        with path.open("wb") as out:
            out.write(cached_file_bytes)
            out.flush()
            os.fsync(out.fileno())
            os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    result = safefetch.download(source_server.url("/data"), path, max_bytes=16 * MIB, resume=resumed)
    assert result.sha256 == generated_sha256(size, seed=21)
    held = resident(path)
    # Only the last page, the tail shorter than a block, went through the cache.
    assert not any(held[:-1]), f"{sum(held)} of {len(held)} pages in the page cache"
    # Reading it back for the upload, block by block, does not fill the cache either.
    reader = directio.BlockReader(path)
    try:
        received = b"".join(reader.read_at(offset, MIB) for offset in range(0, size, MIB))
    finally:
        reader.close()
    assert received == b"".join(generated_bytes(21, 0, size))
    assert not any(resident(path)[:-1])


@linux_only
def test_with_direct_io_turned_off_a_download_goes_through_the_cache(direct_folder, source_server, settings):
    settings.MIRROR_DIRECT_IO = False
    source_server.add_generated("/data", 4 * MIB, seed=23)
    path = direct_folder / "data"
    safefetch.download(source_server.url("/data"), path, max_bytes=16 * MIB)
    if not any(resident(path)):
        pytest.skip("the machine dropped the file's pages before the test could look (memory pressure)")
    assert all(resident(path))


@linux_only
def test_a_download_read_while_it_is_written_goes_through_the_page_cache(direct_folder, source_server):
    """The early upload reads the file as it grows: the page cache is where it finds the bytes."""
    source_server.add_generated("/data", 4 * MIB, seed=22)
    path = direct_folder / "data"
    safefetch.download(
        source_server.url("/data"), path, max_bytes=16 * MIB, on_response=lambda response: True
    )
    if not any(resident(path)):
        pytest.skip("the machine dropped the file's pages before the test could look (memory pressure)")
    assert all(resident(path))
