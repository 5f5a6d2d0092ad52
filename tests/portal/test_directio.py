"""Writing and reading data files past the page cache, and falling back to it (portal.directio)."""

import os

import pytest

from portal import directio, safefetch
from tests.pagecache import MIB, linux_only, resident, skip_unless_droppable
from tests.sources import generated_bytes, generated_sha256


@pytest.fixture
def direct_folder(tmp_path):
    """A folder on a file system that takes direct I/O, else the test is skipped."""
    probe = tmp_path / "probe"
    probe.touch()
    try:
        os.close(os.open(probe, os.O_RDONLY | os.O_DIRECT))  # asked of the system, not of the code under test
    except (AttributeError, OSError):
        pytest.skip("this system or file system refuses O_DIRECT")
    return tmp_path


def test_aligned_blocks_unaligned_tails_and_misaligned_memory_all_land_in_the_file(direct_folder):
    path = direct_folder / "data.bin"
    path.touch()
    aligned = directio.buffer(2 * directio.ALIGNMENT)
    aligned[:] = os.urandom(len(aligned))
    misaligned = memoryview(directio.buffer(directio.ALIGNMENT + 1))[1:]  # a direct write refuses it
    misaligned[:] = os.urandom(directio.ALIGNMENT)
    with directio.Writer(path) as out:
        out.write_at(memoryview(aligned), 0)  # past the cache
        out.write_at(b"tail", 2 * directio.ALIGNMENT)  # an unaligned length: through the cache
        out.write_at(misaligned, 3 * directio.ALIGNMENT)  # EINVAL past the cache: through it from now on
        out.write_at(memoryview(aligned), 4 * directio.ALIGNMENT)
    data = path.read_bytes()
    assert data[: 2 * directio.ALIGNMENT] == bytes(aligned)
    assert data[2 * directio.ALIGNMENT : 2 * directio.ALIGNMENT + 4] == b"tail"
    assert data[2 * directio.ALIGNMENT + 4 : 3 * directio.ALIGNMENT] == bytes(directio.ALIGNMENT - 4)
    assert data[3 * directio.ALIGNMENT : 4 * directio.ALIGNMENT] == bytes(misaligned)
    assert data[4 * directio.ALIGNMENT :] == bytes(aligned)


@pytest.mark.parametrize("direct", [True, False])
def test_block_reads_return_the_bytes_at_any_offset_and_stop_at_the_end(tmp_path, monkeypatch, direct):
    if not direct:
        monkeypatch.setattr(directio, "open_direct", lambda path, flags: None)
    data = os.urandom(3 * 65536 + 1000)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    reader = directio.BlockReader(path, block_size=65536)
    try:
        for offset, count in [(0, 10), (5, 65536), (65530, 100), (65536, 65536), (3 * 65536 + 990, 100)]:
            expected = data[offset : min(offset + count, reader.block_end(offset))]
            assert reader.read_at(offset, count) == expected, (offset, count)
        assert reader.read_at(len(data), 10) == b""
        # A block not yet whole (a download still writing it) is read through the cache, as asked.
        assert reader.read_at(2 * 65536 + 7, 20, block_ready=False) == data[2 * 65536 + 7 : 2 * 65536 + 27]
    finally:
        reader.close()


@linux_only
def test_a_download_leaves_the_page_cache_as_it_found_it(direct_folder, source_server):
    skip_unless_droppable(direct_folder)
    size = 8 * MIB + 100  # whole blocks past the cache, and a tail through it
    source_server.add_generated("/data", size, seed=21)
    path = direct_folder / "data"
    result = safefetch.download(source_server.url("/data"), path, max_bytes=16 * MIB)
    assert result.sha256 == generated_sha256(size, seed=21)
    held = resident(path)
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
def test_a_download_read_while_it_is_written_goes_through_the_page_cache(direct_folder, source_server):
    """The early upload reads the file as it grows: the page cache is where it finds the bytes."""
    skip_unless_droppable(direct_folder)
    size = 4 * MIB
    source_server.add_generated("/data", size, seed=22)
    path = direct_folder / "data"
    safefetch.download(
        source_server.url("/data"), path, max_bytes=16 * MIB, on_response=lambda response: True
    )
    assert all(resident(path))
