"""Fetch a bounded sample of a dataset into a scratch folder that is removed afterwards.

The sample is fetched through `portal.safefetch.sample` only: at most `INSPECT_MAX_BYTES`, in at most
`INSPECT_SECONDS`. Where the server accepts ranges, the last bytes are fetched too and written at their own
offset in a sparse file, so readers that start at the end (a Parquet footer, a zip's central directory) work
on a file of the real size that holds only the sampled bytes on disk. A gzip sample is unpacked into the
same folder under the same byte cap and the archive policy's compression ratio (`portal.archive_policy`).
"""

import contextlib
import dataclasses
import shutil
import tempfile
import time
import zlib
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import archive_policy, safefetch
from portal.i18n import message

CHUNK_BYTES = 1024 * 1024
# zlib's window bits for a gzip header and trailer.
GZIP_WBITS = 16 + zlib.MAX_WBITS
# Share of the byte cap spent on the end of a ranged resource (footers, central directories).
TAIL_SHARE = 8


@dataclasses.dataclass
class Sample:
    """The sampled bytes of one resource (or of what a gzip held) and how much of it they are."""

    path: Path
    size: int | None
    held: list
    complete: bool
    timed_out: bool = False
    gzip_problem: dict | None = None
    gzip_bomb: bool = False
    deadline: float = 0.0
    scratch: Path = Path()

    @property
    def prefix_bytes(self):
        """Return how many bytes from the start are held."""
        return self.held[0][1] if self.held and self.held[0][0] == 0 else 0

    @property
    def bytes_held(self):
        """Return how many bytes of the resource the sample holds."""
        return sum(end - start for start, end in self.held)

    def head(self, limit):
        """Return the first `limit` held bytes."""
        with self.path.open("rb") as handle:
            return handle.read(min(limit, self.prefix_bytes))

    def seconds_left(self):
        """Return how much of the time cap is left."""
        return max(0.0, self.deadline - time.monotonic())


@contextlib.contextmanager
def scratch_folder():
    """Yield a new folder under INSPECT_WORK_DIR and remove it, whatever happens inside."""
    root = Path(settings.INSPECT_WORK_DIR)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="inspect-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fetch(url, folder):
    """Fetch the sample of `url` into `folder`; raise `safefetch.FetchFailed` when nothing can be fetched."""
    deadline = time.monotonic() + settings.INSPECT_SECONDS
    max_bytes = settings.INSPECT_MAX_BYTES
    result = safefetch.sample(
        url,
        folder / "sample",
        max_bytes=max_bytes,
        tail_bytes=max_bytes // TAIL_SHARE,
        seconds=settings.INSPECT_SECONDS,
    )
    return Sample(
        path=result.path,
        size=result.size,
        held=result.held,
        complete=result.complete,
        timed_out=result.timed_out,
        deadline=deadline,
        scratch=folder,
    )


def gunzip(sample):
    """Return a Sample of what the gzip `sample` holds, unpacked from its prefix under the byte cap.

    zlib is fed block by block with a bound on each output, so neither a decompression bomb nor a long
    stream can take more than the byte cap. The ratio is that of the bytes written to the compressed bytes
    zlib actually consumed (not the blocks read ahead), so a bomb is named as one as soon as it passes the
    archive policy's ratio. A stream that stops before its end is reported as truncated only when the sample
    held the whole file and zlib consumed all of it (a prefix of a larger file is expected to stop early, and
    the byte cap stops a long stream before its end).
    """
    max_bytes = settings.INSPECT_MAX_BYTES
    max_ratio = settings.MIRROR_MAX_RATIO
    target = sample.scratch / "gunzipped"
    written, fed, problem, bomb, capped = 0, 0, None, False, False
    decompressor = zlib.decompressobj(wbits=GZIP_WBITS)
    with sample.path.open("rb") as raw, target.open("wb") as out:
        source = BoundedReader(raw, sample.prefix_bytes)
        pending = b""
        try:
            while True:
                if not pending:
                    pending = source.read(CHUNK_BYTES)
                    fed += len(pending)
                    if not pending:
                        break
                room = max_bytes - written
                # With no room left, one more byte is asked for: whether the stream goes on past the cap.
                block = decompressor.decompress(pending, max(room, 1))
                pending = decompressor.unconsumed_tail
                if archive_policy.ratio_exceeded(written + len(block), fed - len(pending), max_ratio):
                    problem, bomb = archive_policy.gzip_bomb(max_ratio), True
                capped = not room and bool(block)
                if not room or bomb:
                    break
                out.write(block)
                written += len(block)
                if decompressor.eof:
                    # Data after the first gzip member (rare) is not inspected.
                    break
        except zlib.error as exc:
            problem = message(gettext_noop("The gzip stream is damaged (%(error)s)."), error=str(exc))
        input_left = bool(pending) or source.left > 0
    ended = decompressor.eof and written < max_bytes
    if problem is None and sample.complete and not decompressor.eof and not input_left and not capped:
        problem = message(
            gettext_noop("The gzip file is truncated: it ends before its compressed stream does.")
        )
    return Sample(
        path=target,
        size=written if ended and sample.complete else None,
        held=[(0, written)] if written else [],
        complete=ended and sample.complete and problem is None,
        timed_out=sample.timed_out,
        gzip_problem=problem,
        gzip_bomb=bomb,
        deadline=sample.deadline,
        scratch=sample.scratch,
    )


class BoundedReader:
    """A read-only file object over the first `limit` bytes of another, counting what was read."""

    def __init__(self, raw, limit):
        self._raw = raw
        self.left = limit
        self.consumed = 0

    def read(self, size=-1):
        """Read at most `size` bytes, never past the limit."""
        if size is None or size < 0 or size > self.left:
            size = self.left
        block = self._raw.read(size)
        if len(block) < size:
            self.left = 0  # the file ends before the limit
        else:
            self.left -= len(block)
        self.consumed += len(block)
        return block
