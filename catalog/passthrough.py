"""Uploading a file to the Hub while it is still being downloaded, when its source announces its SHA-256.

Git LFS names an object by its SHA-256, and the Hub wants that name before the upload may start: without
it the mirror must receive (and hash) the whole file before sending its first byte. A source that states
the digest in its headers (`safefetch.announced_sha256`) lets both run at once: `EarlyUpload` starts the
LFS upload of the file under the announced name as soon as the download's headers arrive, and the upload
reads the file through a `GrowingFile` that waits for the bytes the download has written.

The announced digest is a claim. The last byte of the file is held back from the upload until the
download has finished and its own SHA-256 equals the announced one; on a mismatch the upload is cut
short, so the Hub never receives a complete object under a wrong name (and the Hub checks the name
against the bytes as well). Nothing is committed here: the commit of the upload step names the object,
which the Hub then already holds. An upload that fails for any other reason only loses the head start:
the upload step sends the verified file as it would have without a digest.

The page cache carries the bytes from the download to the upload: the download writes through it (where
a download with nobody reading along writes past it, `portal.directio`), and the upload has it drop what
has been sent (`GrowingFile`'s drop-behind): the cache holds about two windows (64 MiB) of the file
behind the upload, and what the download has written ahead of it.
"""

import contextlib
import logging
import os
import threading

from catalog import hub
from portal import directio

logger = logging.getLogger(__name__)


class DigestMismatch(Exception):
    """The bytes received do not have the SHA-256 their source announced."""


class DownloadStopped(Exception):
    """The download ended before the whole file was received; the upload must not complete."""


# How far behind the upload the page cache keeps the file (and how much it is asked to drop at a time).
DROP_BEHIND_BYTES = 32 * 1024 * 1024


class GrowingFile(directio.SeekableReader):
    """A read-only, seekable view of a file of a known final `size` that another thread is still writing.

    `written(offset)` tells it how far the file holds its bytes; `finish()` that the writer is done and the
    bytes are verified, `fail(error)` that they are not (reads then raise `error`). Reads wait for bytes that
    are not written yet, and the read that would return the last byte waits for `finish()` or `fail()`.

    Each time the reader is another `drop_behind` bytes further, the page cache is asked to drop the file up
    to that many bytes behind it (`POSIX_FADV_DONTNEED`, where the system has it). Pages still waiting to be
    written to disk are not dropped by that, only queued for writing: the next ask drops them.
    """

    def __init__(self, path, *, size, on_read=None, drop_behind=DROP_BEHIND_BYTES):
        super().__init__(size)
        self._fd = os.open(path, os.O_RDONLY)
        self._written = 0
        self._done = False
        self._error = None
        self._changed = threading.Condition()
        self._on_read = on_read
        self._drop_behind = drop_behind if hasattr(os, "posix_fadvise") else None
        self._dropped = 0  # the bytes before this offset were asked to leave the page cache

    def written(self, offset):
        """Record that the file holds its bytes up to `offset` (called by the writing thread)."""
        with self._changed:
            self._written = max(self._written, offset)
            self._changed.notify_all()

    def finish(self):
        """Record that the download ended and its bytes are verified: the last byte may be read."""
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def fail(self, error):
        """Record that the bytes must not be sent in full: every read from now on raises `error`."""
        with self._changed:
            self._error = error
            self._changed.notify_all()

    def seek(self, offset, whence=os.SEEK_SET):
        """Move to `offset`; the end is the file's final size, not the bytes written so far."""
        position = super().seek(offset, whence)
        self._dropped = min(self._dropped, position)  # a reread (a retry) is dropped behind again
        return position

    def wait_for(self, count):
        """Wait until the first `count` bytes are written (or the download ended); return them."""
        with self._changed:
            self._changed.wait_for(lambda: self._written >= count or self._done or self._error is not None)
            if self._error is not None:
                raise self._error
        return os.pread(self._fd, count, 0)

    def read(self, size=-1, /):
        """Read up to `size` bytes, waiting for the download; the last byte only once verified."""
        wanted = self._size - self._position if size is None or size < 0 else size
        count = self._claim(wanted)
        if count == 0:
            return b""
        # One copy, straight from the page cache (RawIOBase.read would add two through a bytearray).
        data = os.pread(self._fd, count, self._position)
        self._advance(data, count)
        return data

    def _claim(self, wanted):
        """Wait until bytes at the position may be read; return how many of `wanted` (0 at the end)."""
        wanted = min(wanted, self._size - self._position)
        if wanted <= 0:
            return 0
        with self._changed:
            self._changed.wait_for(
                lambda: self._error is not None or self._done or self._written > self._position
            )
            if self._error is None and not self._done:
                wanted = min(wanted, self._written - self._position)
                if self._position + wanted >= self._size:
                    self._changed.wait_for(lambda: self._done or self._error is not None)
            if self._error is not None:
                raise self._error
        return wanted

    def _advance(self, data, count):
        if len(data) < count:
            raise DownloadStopped("The file is shorter than its announced size.")
        self._position += count
        if self._on_read is not None:
            self._on_read(count)
        self._drop_read_windows()

    def _drop_read_windows(self):
        """Ask the page cache to drop the file up to a window behind the reader, at each window it reads."""
        window = self._drop_behind
        if window and self._position - self._dropped >= 2 * window:
            self._dropped = self._position - window
            # From the start each time: pages that were still being written to disk at the last call, and a
            # large folio that straddled its limit, are dropped now.
            with contextlib.suppress(OSError):  # advice: never a reason to fail the upload
                os.posix_fadvise(self._fd, 0, self._dropped, os.POSIX_FADV_DONTNEED)

    def close(self):
        """Close the file descriptor."""
        if not self.closed:
            os.close(self._fd)
        super().close()


class EarlyUpload:
    """The LFS upload of one file of a repository that starts while the file is being downloaded.

    Give `start` to the download as its `on_response` and `written` as its `on_written`; after the download,
    call `finish(sha256=…, size=…)` with what was received (raises `DigestMismatch` when it differs
    from what was announced), or `abandon()` when the download failed.
    """

    def __init__(self, repo_id, *, path_in_repo, local_path, min_size, on_read=None, known_sha256=None):
        self.repo_id = repo_id
        # A SHA-256 announced elsewhere (by the file's repository record, or the contributor): used when the
        # server's headers announce none. Checked against the bytes like a header's.
        self.known_sha256 = known_sha256
        self.path_in_repo = path_in_repo
        self.local_path = local_path
        self.min_size = min_size
        self.on_read = on_read
        self.announced = self.size = None
        self.uploaded = False
        self._file = None
        self._thread = None
        self._error = None

    def start(self, response):
        """Start the upload if the response announces the SHA-256 of a file large enough for LFS.

        Returns whether it started: the upload then reads the file as the download writes it.
        """
        announced = response.announced_sha256 or self.known_sha256
        if announced is None or response.size is None or response.size < self.min_size:
            return False
        self.announced, self.size = announced, response.size
        self._file = GrowingFile(self.local_path, size=response.size, on_read=self.on_read)
        self._file.written(response.offset)
        self._thread = threading.Thread(
            target=self._upload, args=(response.size,), name="mirror-early-upload", daemon=True
        )
        self._thread.start()
        return True

    def written(self, offset):
        """Pass on how far the download has written the file."""
        if self._file is not None:
            self._file.written(offset)

    def _upload(self, size):
        try:
            sample = self._file.wait_for(512)
            self.uploaded = hub.upload_lfs_ahead(
                self.repo_id,
                path_in_repo=self.path_in_repo,
                local_path=self.local_path,
                size=size,
                sha256=self.announced,
                sample=sample,
                reader=self._file,
            )
        except BaseException as exc:  # reported by finish(); a thread must not die with it unseen
            self._error = exc

    def finish(self, *, sha256, size):
        """Let the upload send its last byte if the bytes received are the ones announced; wait for the end.

        Raises DigestMismatch (the upload is cut short first) when the bytes are not what was announced.
        Returns whether the Hub now holds the object; a failed upload is logged and leaves it to the upload
        step.
        """
        if self._thread is None:
            return False
        if sha256 != self.announced or size != self.size:
            error = DigestMismatch(
                f"The data received ({size} bytes) has the SHA-256 {sha256}, but its server announced "
                f"{self.announced} ({self.size} bytes)."
            )
            self._stop(error)
            raise error
        self._file.finish()
        self._thread.join()
        self._file.close()
        if self._error is not None:
            logger.warning(
                "Uploading %s to %s while downloading it failed (%s); the upload step sends it again.",
                self.path_in_repo,
                self.repo_id,
                self._error,
            )
            return False
        return self.uploaded

    def abandon(self):
        """Stop the upload of a download that failed, without sending the file in full."""
        if self._thread is not None:
            self._stop(DownloadStopped("The download stopped before the end of the file."))

    def _stop(self, error):
        self._file.fail(error)
        self._thread.join()
        self._file.close()
