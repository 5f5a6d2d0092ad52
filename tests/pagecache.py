"""What the page cache holds of a file, for tests of the code that keeps large files out of it (Linux only).

`resident(path)` asks `mincore` page by page; `cached_file` writes a file and syncs it, so that its pages
are in the cache and clean (droppable at once); `skip_unless_droppable` skips a test on a file system whose
pages cannot be dropped or seen (tmpfs keeps its pages as its storage; ZFS keeps data outside this cache).
"""

import ctypes
import mmap
import os
import sys

import pytest

MIB = 1024 * 1024

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="mincore and fadvise as on Linux"
)


def resident(path):
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


def cached_file(path, size):
    """Write `size` random bytes to `path`, synced to disk (so the cache may drop them at once); return them."""
    data = os.urandom(size)
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return data


def skip_unless_droppable(folder):
    """Skip the test unless a synced file in `folder` is seen in the page cache and leaves it when told to."""
    control = folder / "page-cache-control.bin"
    cached_file(control, MIB)
    held = all(resident(control))
    with control.open("rb") as handle:
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    dropped = not any(resident(control))
    control.unlink()
    if not (held and dropped):
        pytest.skip("this file system's pages cannot be seen in the page cache or dropped from it")
