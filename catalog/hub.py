"""The only module that talks to the Hugging Face Hub, through `huggingface_hub.HfApi`.

It reads `HF_TOKEN`, `HUB_ORGANIZATION` and `HF_ENDPOINT` from the settings at call time, and turns the
client's errors into `HubError`, which says whether retrying can help (network errors, 5xx, 429) or not
(401/403, names or YAML the Hub refuses). Nothing else in the portal imports `huggingface_hub`'s API.
"""

import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub import constants as hub_constants
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.lfs import UploadInfo

from portal import directio

logger = logging.getLogger(__name__)

PUBLIC_HUB = "https://huggingface.co"
# LFS objects sent at once by one call (the client's threads): several small files' requests overlap.
UPLOAD_THREADS = 4
REPO_TYPE = "dataset"


class HubError(Exception):
    """A call to the Hub failed; `retryable` says whether trying again later can succeed."""

    def __init__(self, message, *, retryable, status=None, retry_after=None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """A file in a Hub repository as its tree lists it."""

    path: str
    size: int
    git_oid: str
    sha256: str | None  # set for LFS files only


def api():
    """Return a client for the configured Hub endpoint and token."""
    endpoint = settings.HF_ENDPOINT
    if endpoint.rstrip("/") != PUBLIC_HUB:
        # The Xet upload path needs the real Hub's storage service; a compatible server speaks plain LFS.
        hub_constants.HF_HUB_DISABLE_XET = True
    return HfApi(endpoint=endpoint, token=settings.HF_TOKEN or None, library_name="dataset-portal")


def dataset_url(repo_id):
    """Return the public page of a dataset repository."""
    return f"{settings.HF_ENDPOINT}/datasets/{repo_id}"


def _call(description, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except HubError:
        raise
    except Exception as exc:
        raise classify(exc, description=description) from exc


def classify(exc, *, description):
    """Turn an exception from the client into a HubError that says whether to retry."""
    if type(exc) is RuntimeError and exc.__cause__ is not None:
        # The client wraps a failed LFS upload ("Error while uploading …") around the error that decides.
        return classify(exc.__cause__, description=description)
    if isinstance(exc, HfHubHTTPError) and getattr(exc, "response", None) is not None:
        status = exc.response.status_code
        retry_after = _retry_after(exc.response.headers.get("Retry-After"))
        detail = exc.server_message or str(exc).splitlines()[0]
        if status == 429 or status >= 500 or status in (408, 409, 412):
            return HubError(
                f"{description}: the Hub answered HTTP {status} ({detail}); retrying.",
                retryable=True,
                status=status,
                retry_after=retry_after,
            )
        if status in (401, 403):
            return HubError(
                f"{description}: the Hub refused our token (HTTP {status}). Check HF_TOKEN and that it may "
                f"write to the organisation {settings.HUB_ORGANIZATION}.",
                retryable=False,
                status=status,
            )
        return HubError(
            f"{description}: the Hub refused the request (HTTP {status}): {detail}",
            retryable=False,
            status=status,
        )
    if isinstance(exc, OSError | TimeoutError | ConnectionError) or type(exc).__module__.startswith(
        ("httpx", "httpcore")
    ):
        return HubError(
            f"{description}: network error talking to the Hub ({type(exc).__name__}: {exc}).", retryable=True
        )
    if isinstance(exc, ValueError):
        return HubError(f"{description}: {exc}", retryable=False)
    return HubError(f"{description}: unexpected {type(exc).__name__}: {exc}", retryable=False)


def _retry_after(value):
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def repo_exists(repo_id):
    """Whether a dataset repository exists on the Hub."""
    client = api()
    try:
        client.dataset_info(repo_id)
    except RepositoryNotFoundError:
        return False
    except Exception as exc:
        raise classify(exc, description=f"Looking up {repo_id}") from exc
    return True


def create_repo(repo_id):
    """Create a private dataset repository, or do nothing if it exists already.

    It stays private (invisible to anyone without our token) until `make_public` after verification,
    so a failed or half-done publication is never seen.
    """
    _call(f"Creating {repo_id}", api().create_repo, repo_id, repo_type=REPO_TYPE, exist_ok=True, private=True)


def make_public(repo_id):
    """Make a dataset repository public (doing it again changes nothing)."""
    _call(
        f"Making {repo_id} public",
        api().update_repo_settings,
        repo_id,
        repo_type=REPO_TYPE,
        visibility="public",
    )


def make_private(repo_id):
    """Make a dataset repository private (a withdrawn dataset's; doing it again changes nothing)."""
    _call(
        f"Making {repo_id} private",
        api().update_repo_settings,
        repo_id,
        repo_type=REPO_TYPE,
        visibility="private",
    )


def delete_repo(repo_id):
    """Delete a dataset repository; a repository that is already gone is no error."""
    _call(f"Deleting {repo_id}", api().delete_repo, repo_id, repo_type=REPO_TYPE, missing_ok=True)


def commit_titles(repo_id):
    """Return (commit id, title) of every commit on the main branch, newest first."""
    commits = _call(f"Listing commits of {repo_id}", api().list_repo_commits, repo_id, repo_type=REPO_TYPE)
    return [(commit.commit_id, commit.title) for commit in commits]


def upload_files(repo_id, *, files, commit_message, texts=None, known_sha256=None, on_read=None):
    """Upload local files in one commit; `files` maps paths in the repo to local paths, `texts` paths to text
    content (the card files). Returns the commit id.

    `known_sha256` maps paths in the repo to SHA-256 sums computed while fetching, which spares the client
    another full read of each file. `on_read(n)` is called, from the client's upload threads, as each
    chunk of an LFS file is sent. LFS objects the Hub already holds are not sent again, so a retried
    upload resumes where it stopped.
    """
    known_sha256 = known_sha256 or {}
    operations = []
    for path_in_repo, local_path in sorted(files.items()):
        operation = _CountedAdd(path_in_repo=path_in_repo, path_or_fileobj=str(local_path), on_read=on_read)
        if path_in_repo in known_sha256:
            operation.upload_info.sha256 = bytes.fromhex(known_sha256[path_in_repo])
        operations.append(operation)
    for path_in_repo, text in sorted((texts or {}).items()):
        operations.append(CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=text.encode("utf-8")))
    info = _call(
        f"Uploading to {repo_id}",
        api().create_commit,
        repo_id,
        operations,
        commit_message=commit_message,
        repo_type=REPO_TYPE,
        num_threads=UPLOAD_THREADS,
    )
    return info.oid


def preupload_files(repo_id, files, *, on_read=None):
    """Send fetched files' LFS objects before the commit that will add them; return {path: upload mode}.

    `files` is [(path in the repo, local path, SHA-256 hex)]. The Hub answers each file's mode: "lfs" (its
    object is sent now, unless the Hub holds it already) or "regular" (a small text file the Hub keeps in
    git, which the commit sends). It lets a batch upload files while its next ones download; the commit then
    finds the objects stored. Nothing is committed here.
    """
    operations = []
    for path_in_repo, local_path, sha256 in files:
        operation = _CountedAdd(path_in_repo=path_in_repo, path_or_fileobj=str(local_path), on_read=on_read)
        operation.upload_info.sha256 = bytes.fromhex(sha256)
        operations.append(operation)
    _call(
        f"Uploading {len(operations)} files to {repo_id}",
        api().preupload_lfs_files,
        repo_id,
        additions=operations,
        repo_type=REPO_TYPE,
        num_threads=UPLOAD_THREADS,
    )
    # The client records the Hub's answer on each operation (as `upload_lfs_ahead` reads it too).
    return {operation.path_in_repo: operation._upload_mode for operation in operations}


def upload_lfs_ahead(repo_id, *, path_in_repo, local_path, size, sha256, sample, reader):
    """Upload a file's LFS object before the commit that will add it; return whether the Hub now holds it.

    The object is named by `sha256` and read from `reader` (a seekable binary file object of `size` bytes:
    a file still being downloaded). `sample` is its first 512 bytes, from which the Hub decides whether the
    file goes to LFS at all; when it does not (a small text file), nothing is sent and False is returned.
    Nothing is committed: `upload_files` later commits the path, and finds the object already stored.
    With Xet storage (the public Hub, `hf_xet` installed) nothing is sent either and False is returned: the
    Xet client reads files by path, in its own single pass, and must never be given one still growing.
    """
    client = api()
    if not hub_constants.HF_HUB_DISABLE_XET and importlib.util.find_spec("hf_xet") is not None:
        return False  # the client's own rule for choosing Xet

    operation = _ReaderAdd(path_in_repo=path_in_repo, path_or_fileobj=str(local_path), reader=reader)
    # The file on disk is still growing: its size, sample and digest are the announced ones, never re-read.
    operation.upload_info = UploadInfo(size=size, sample=sample, sha256=bytes.fromhex(sha256))
    _call(
        f"Uploading {path_in_repo} to {repo_id}",
        client.preupload_lfs_files,
        repo_id,
        additions=[operation],
        repo_type=REPO_TYPE,
        num_threads=1,
    )
    return operation._upload_mode == "lfs" and operation._is_uploaded


class _CountingReader(directio.SeekableReader):
    """A file opened for an upload, read in blocks past the page cache, that reports each chunk read."""

    def __init__(self, path, on_read):
        self._file = directio.BlockReader(path)
        super().__init__(os.fstat(self._file.fileno()).st_size)
        self._on_read = on_read

    def read(self, size=-1, /):
        """Read up to `size` bytes (never past the end of a block; all the rest if `size` is -1)."""
        if size is None or size < 0:
            return self.readall()
        if size == 0 or self._position >= self._size:
            return b""
        chunk = self._file.read_at(self._position, size)
        self._position += len(chunk)
        if chunk:
            self._on_read(len(chunk))
        return chunk

    def close(self):
        """Close the file."""
        if not self.closed:
            self._file.close()
        super().close()


@dataclasses.dataclass
class _CountedAdd(CommitOperationAdd):
    """A file to add whose LFS upload reports its progress (the client reads it through `as_file`)."""

    on_read: Callable[[int], None] | None = dataclasses.field(default=None, repr=False, compare=False)

    @contextlib.contextmanager
    def as_file(self, with_tqdm=False):
        """Yield the file for reading; the upload (asked `with_tqdm`) gets a counting reader."""
        if not with_tqdm or self.on_read is None or not isinstance(self.path_or_fileobj, str | Path):
            with super().as_file(with_tqdm=with_tqdm) as handle:
                yield handle
            return
        with _CountingReader(self.path_or_fileobj, self.on_read) as handle:
            yield handle


@dataclasses.dataclass
class _ReaderAdd(CommitOperationAdd):
    """A file to add whose LFS upload reads from a given file object instead of opening the local path."""

    reader: io.RawIOBase | None = dataclasses.field(default=None, repr=False, compare=False)

    @contextlib.contextmanager
    def as_file(self, with_tqdm=False):
        """Yield the reader, at its start, for the upload; anything else reads the local path."""
        if not with_tqdm or self.reader is None:
            with super().as_file(with_tqdm=with_tqdm) as handle:
                yield handle
            return
        self.reader.seek(0)
        yield self.reader


def remote_files(repo_id):
    """Return the files of a repository's main branch by path."""

    def listing():
        entries = api().list_repo_tree(repo_id, repo_type=REPO_TYPE, recursive=True)
        files = {}
        for entry in entries:
            if not hasattr(entry, "blob_id"):
                continue  # a folder
            lfs = getattr(entry, "lfs", None)
            files[entry.path] = RemoteFile(
                path=entry.path,
                size=entry.size,
                git_oid=entry.blob_id,
                sha256=lfs.sha256 if lfs else None,
            )
        return files

    return _call(f"Listing the files of {repo_id}", listing)


def paths_info(repo_id, paths):
    """Return the files among `paths` on a repository's main branch, by path (missing ones are left out)."""

    def listing():
        files = {}
        entries = api().get_paths_info(repo_id, list(paths), repo_type=REPO_TYPE, expand=False)
        for entry in entries:
            if not hasattr(entry, "blob_id"):
                continue  # a folder
            lfs = getattr(entry, "lfs", None)
            files[entry.path] = RemoteFile(
                path=entry.path, size=entry.size, git_oid=entry.blob_id, sha256=lfs.sha256 if lfs else None
            )
        return files

    return _call(f"Looking up files of {repo_id}", listing)


def list_usage(organization=None):
    """Return {repo id: (downloads, likes)} for every dataset of the organisation, in one listing call."""
    organization = organization or settings.HUB_ORGANIZATION

    def listing():
        return {
            info.id: (info.downloads or 0, info.likes or 0)
            for info in api().list_datasets(author=organization, expand=["downloads", "likes"])
        }

    return _call(f"Listing the datasets of {organization}", listing)


def git_blob_id(path):
    """Return the git blob id (SHA-1 of the header and content) of a local file, read in chunks."""
    size = path.stat().st_size
    digest = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
