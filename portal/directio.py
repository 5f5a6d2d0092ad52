"""Writing and reading large data files past the page cache (`O_DIRECT`), where the system allows it.

A mirrored data file is written once and read once, so caching it only costs: a gigabyte of fresh page
cache per gigabyte of data, which pushes out what the machine's other work had cached, and on a virtual
machine whose balloon reports free pages to its host, a fault to the hypervisor for each fresh page (2.5
to 3 s of system time per GiB on the development VM, against 0.25 s for the same bytes written into pages
just freed). Blocks whose offset and length are multiples of `ALIGNMENT`, from page-aligned buffers
(`buffer()`), skip the cache; anything else, and every file system that refuses `O_DIRECT`, goes through
it as usual. Reads and writes through the cache and past it may be mixed on one file: the kernel writes
cached changes out before a direct read of their range.

This module does not decide what to cache: a file that another thread reads while it is being written
should go through the cache (its reader finds the bytes there), and a storage where each direct write is a
network round trip (NFS, FUSE) may be faster through it: `MIRROR_DIRECT_IO=false` turns direct I/O off.
"""

import errno
import io
import mmap
import os

from django.conf import settings

ALIGNMENT = 4096


def buffer(size):
    """Return a writable, page-aligned buffer of `size` bytes for direct reads and writes."""
    return mmap.mmap(-1, size)


def open_direct(path, flags):
    """Open `path` with `flags` past the page cache; return the descriptor, or None where off or refused."""
    if not settings.MIRROR_DIRECT_IO or not hasattr(os, "O_DIRECT"):
        return None
    try:
        return os.open(path, flags | os.O_DIRECT)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise


def _aligned(*numbers):
    return all(number % ALIGNMENT == 0 for number in numbers)


def _open_pair(path, flags):
    """Open `path` through the cache and past it; return both descriptors (the second may be None)."""
    fd = os.open(path, flags)
    try:
        return fd, open_direct(path, flags)
    except BaseException:
        os.close(fd)
        raise


class Writer:
    """Writes a file at given offsets: aligned blocks of a `buffer()` past the page cache, the rest through
    it (and all of it, unless `direct`)."""

    def __init__(self, path, *, direct=True):
        self._fd, self._direct = (
            _open_pair(path, os.O_WRONLY) if direct else (os.open(path, os.O_WRONLY), None)
        )

    def write_at(self, data, length, offset):
        """Write the first `length` bytes of `data` (a `buffer()`, or any bytes) at `offset`."""
        with memoryview(data).cast("B")[:length] as view:
            done = 0
            whole = length - length % ALIGNMENT  # the aligned blocks; a shorter tail goes through the cache
            if self._direct is not None and isinstance(data, mmap.mmap) and _aligned(offset) and whole:
                try:
                    done = os.pwrite(self._direct, view[:whole], offset)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    self._stop_direct()  # the file system wants another alignment: the cache from now on
            while done < length:
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
    """Reads a finished file in aligned blocks of `block_size` past the page cache, and small reads from the
    last block read.

    `read_at(offset, count)` returns at most `count` bytes, never past the end of the block that holds
    `offset`. The file must not change while the reader is open (a block read is kept). Where direct reads
    are refused, the bytes asked for are read through the page cache.
    """

    def __init__(self, path, *, block_size=1024 * 1024):
        self.block_size = block_size
        self._fd, self._direct = _open_pair(path, os.O_RDONLY)
        self._block = buffer(block_size) if self._direct is not None else None
        self._start = self._length = 0  # the block held in `_block`

    def fileno(self):
        """Return the descriptor that reads through the page cache."""
        return self._fd

    def block_end(self, offset):
        """Return where the block that holds `offset` ends."""
        return offset - offset % self.block_size + self.block_size

    def read_at(self, offset, count):
        """Return up to `count` bytes at `offset`, within its block; fewer only at the end of the file."""
        count = min(count, self.block_end(offset) - offset)
        if not self._holds(offset) and self._direct is not None:
            start = offset - offset % self.block_size
            try:
                self._length = os.preadv(self._direct, [self._block], start)
                self._start = start
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                os.close(self._direct)
                self._direct = None
        if self._holds(offset):
            # A short block is the end of the file.
            first = offset - self._start
            return self._block[first : min(first + count, self._length)]
        return os.pread(self._fd, count, offset)

    def _holds(self, offset):
        return self._start <= offset < self._start + self._length

    def close(self):
        """Close the file's descriptors."""
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None
        os.close(self._fd)


class SeekableReader(io.RawIOBase):
    """The seeking and `readinto` of a read-only file of a known `size`; subclasses implement `read`."""

    def __init__(self, size):
        super().__init__()
        self._size = size
        self._position = 0

    def readable(self):
        """Return True: the file can be read."""
        return True

    def seekable(self):
        """Return True: an upload client rewinds to retry."""
        return True

    def seek(self, offset, whence=os.SEEK_SET):
        """Move to `offset` from the start, the current position or the end (the file's known size)."""
        bases = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}
        if whence not in bases:
            raise ValueError(f"Invalid whence: {whence}")
        self._position = max(0, bases[whence] + offset)
        return self._position

    def tell(self):
        """Return the current position."""
        return self._position

    def readinto(self, buffer):
        """Read into `buffer`, like `read`."""
        with memoryview(buffer).cast("B") as view:
            data = self.read(len(view))
            view[: len(data)] = data
        return len(data)
