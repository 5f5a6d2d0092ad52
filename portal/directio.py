"""Writing and reading large data files past the page cache (`O_DIRECT`), where the system allows it.

A mirrored data file is written once and read once, so caching it only costs: a gigabyte of fresh page
cache per gigabyte of data, which pushes out what the machine's other work had cached, and on a virtual
machine whose balloon reports free pages to its host, a fault to the hypervisor for each fresh page (2.5
to 3 s of system time per GiB on the development VM, against 0.25 s for the same bytes written into pages
just freed). Blocks whose offset and length are multiples of `ALIGNMENT`, from page-aligned buffers
(`buffer()`), skip the cache; anything else, and every file system that refuses `O_DIRECT`, goes through
it as usual. Reads and writes through the cache and past it may be mixed on one file: the kernel writes
cached changes out before a direct read of their range.
"""

import errno
import mmap
import os

ALIGNMENT = 4096


def buffer(size):
    """Return a writable, page-aligned buffer of `size` bytes for direct reads and writes."""
    return mmap.mmap(-1, size)


def open_direct(path, flags):
    """Open `path` with `flags` past the page cache; return the descriptor, or None where that is refused."""
    if not hasattr(os, "O_DIRECT"):
        return None
    try:
        return os.open(path, flags | os.O_DIRECT)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise


def _aligned(*numbers):
    return all(number % ALIGNMENT == 0 for number in numbers)


class Writer:
    """Writes a file at given offsets: aligned blocks of a `buffer()` past the page cache (unless not
    `direct`: for a file read while it is written), the rest through it."""

    def __init__(self, path, *, direct=True):
        self._fd = os.open(path, os.O_WRONLY)
        self._direct = open_direct(path, os.O_WRONLY) if direct else None

    def write_at(self, data, offset):
        """Write all of `data` (a view of a `buffer()` from its start, or any bytes) at `offset`."""
        view = memoryview(data).cast("B")
        done = 0
        if self._direct is not None and _aligned(offset, len(view)):
            try:
                done = os.pwrite(self._direct, view, offset)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                self._stop_direct()  # the file system wants another alignment: use the cache from now on
        while done < len(view):
            done += os.pwrite(self._fd, view[done:], offset + done)

    def _stop_direct(self):
        os.close(self._direct)
        self._direct = None

    def close(self):
        """Close the file's descriptors."""
        if self._direct is not None:
            self._stop_direct()
        os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class BlockReader:
    """Reads a file in aligned blocks of `block_size` past the page cache, and small reads from the last one.

    `read_at(offset, count, block_ready)` returns at most `count` bytes, never past the end of the block that
    holds `offset`; `block_ready` says that this whole block (or the file's end, when it falls inside) is
    in the file, so it may be read at once. Where direct reads are refused, or a block is not ready, the
    bytes asked for are read through the page cache.
    """

    def __init__(self, path, *, block_size=1024 * 1024):
        self.block_size = block_size
        self._fd = os.open(path, os.O_RDONLY)
        self._direct = open_direct(path, os.O_RDONLY)
        self._block = buffer(block_size) if self._direct is not None else None
        self._start = self._length = 0  # the block held in `_block`

    def block_end(self, offset):
        """Return where the block that holds `offset` ends."""
        return offset - offset % self.block_size + self.block_size

    def read_at(self, offset, count, *, block_ready=True):
        """Return up to `count` bytes at `offset`, within its block; fewer only at the end of the file."""
        count = min(count, self.block_end(offset) - offset)
        if not self._holds(offset, count) and self._direct is not None and block_ready:
            start = offset - offset % self.block_size
            try:
                self._length = os.preadv(self._direct, [self._block], start)
                self._start = start
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                os.close(self._direct)
                self._direct = None
        if self._start <= offset < self._start + self._length:
            # A block read when it was whole: what it lacks past `offset` is past the end of the file.
            first = offset - self._start
            return self._block[first : min(first + count, self._length)]
        return os.pread(self._fd, count, offset)

    def _holds(self, offset, count):
        return self._start <= offset and offset + count <= self._start + self._length

    def close(self):
        """Close the file's descriptors."""
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None
        os.close(self._fd)
