"""On-disk state of the development Hub: content-addressed blobs and one JSON file per repo.

Layout under the data directory:
- ``blobs/<aa>/<sha256>``: every file's bytes, regular or LFS, named by SHA-256 (so re-uploads are free);
- ``repos/<type>s/<namespace>/<name>.json``: a repo's settings, counters and full commit history, each commit
  holding the complete file map of the tree at that commit (small dev repos: simplicity beats compactness);
- ``tmp/``: partial uploads, renamed into ``blobs/`` only once their hash is checked.

Every repo file is written to a temporary file and renamed over the old one, so a killed server leaves either
the old or the new state, never half of one. This module knows nothing about HTTP; it must not import the
server or any Django code.
"""

import base64
import contextlib
import datetime
import fnmatch
import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

# The Hub refuses plain git blobs from 10 MiB on; the client asks the preupload endpoint which mode to use.
LFS_THRESHOLD_BYTES = 10 * 1024 * 1024

# A subset of the .gitattributes the Hub writes into every new dataset repo: these patterns go to LFS.
_LFS_PATTERNS = """
*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.lz4 *.mds *.mlmodel *.model
*.msgpack *.npy *.npz *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors
*.tar *.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents* *.mp3 *.ogg *.wav *.flac *.jpg *.jpeg
*.png *.gif *.webp *.mp4 *.webm
"""
DEFAULT_GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _LFS_PATTERNS.split())

_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
REPO_TYPES = ("model", "dataset", "space")


class StoreError(Exception):
    """A request the store refuses; carries the HTTP status and Hub error code to answer with."""

    def __init__(self, message: str, *, status: int = 400, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def now_iso() -> str:
    """Return the current UTC time in the Hub's date format (milliseconds, 'Z')."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def git_blob_oid(data: bytes) -> str:
    """Return the git object id (SHA-1 of 'blob <size>\\0' + data) of a byte string."""
    header = f"blob {len(data)}\0".encode()
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


def lfs_pointer(*, sha256: str, size: int) -> bytes:
    """Return the git-lfs pointer file that git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def validate_repo_id(repo_id: str) -> tuple[str, str]:
    """Split 'namespace/name' and check both parts against the Hub's naming rule."""
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_NAME_RE.match(p) for p in parts) or ".." in repo_id or "--" in repo_id:
        raise StoreError(
            f"Invalid repo id '{repo_id}': use namespace/name with letters, digits, '-', '_', '.'"
        )
    if parts[1].endswith(".git"):
        raise StoreError(f"Invalid repo name '{parts[1]}': it must not end with '.git'")
    return parts[0], parts[1]


def validate_path_in_repo(path: str) -> str:
    """Refuse file paths that would escape the repo or shadow git internals."""
    segments = path.split("/")
    if (
        not path
        or path.startswith("/")
        or any(s in ("", ".", "..") for s in segments)
        or segments[0] == ".git"
    ):
        raise StoreError(f"Invalid path in repo: '{path}'")
    return path


def _gitattributes_lfs_patterns(text: str) -> list[str]:
    patterns = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and "filter=lfs" in fields[1:]:
            patterns.append(fields[0])
    return patterns


def _matches_any(path: str, patterns: Iterable[str]) -> bool:
    basename = path.rsplit("/", 1)[-1]
    # git matches a slash-free pattern against the basename at any depth,
    # and a pattern with a slash against the whole path.
    return any(fnmatch.fnmatchcase(path if "/" in p else basename, p.lstrip("/")) for p in patterns)


def parse_card_data(readme: bytes) -> dict | None:
    """Return the YAML header of a README.md as a dict, or None when it has none or it does not parse."""
    text = readme.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 4)
    if end < 0:
        return None
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    # Round-trip through JSON so aliases, dates and odd keys cannot break the repo file or the API answer.
    try:
        return json.loads(json.dumps(data, default=str))
    except (TypeError, ValueError, RecursionError):
        return None


def check_card_yaml(text: str) -> tuple[list[str], list[str]]:
    """Return (errors, warnings) for a README's YAML header, as the Hub's validate-yaml endpoint does."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return [], ["empty or missing yaml metadata in repo card"]
    end = text.find("\n---", 4)
    if end < 0:
        return ["the YAML header is not closed by a '---' line"], []
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError as err:
        return [f"the YAML header does not parse: {err}"], []
    if data is None:
        return [], ["empty or missing yaml metadata in repo card"]
    if not isinstance(data, dict):
        return ["the YAML header must be a mapping of keys to values"], []
    return [], []


def card_tags(card: dict | None) -> list[str]:
    """Derive the Hub-style tags ('license:mit', 'language:en', ...) from a card's metadata."""
    tags: list[str] = []
    card = card or {}
    for key in ("task_categories", "task_ids", "language", "license", "size_categories", "modality"):
        values = card.get(key)
        values = values if isinstance(values, list) else [values] if values is not None else []
        tags.extend(f"{key}:{v}" for v in values if isinstance(v, str | int | float | bool))
    extra = card.get("tags")
    if isinstance(extra, list):
        tags.extend(str(t) for t in extra if isinstance(t, str))
    tags.append("region:us")
    return tags


class RepoStore:
    """Thread-safe store of repos and blobs under one data directory."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.blobs_dir = self.root / "blobs"
        self.repos_dir = self.root / "repos"
        self.tmp_dir = self.root / "tmp"
        for folder in (self.blobs_dir, self.repos_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # One lock for all repo state: this is a development server, and one lock makes every change atomic.
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], dict] = {}
        for path in self.repos_dir.glob("*s/*/*.json"):
            repo = json.loads(path.read_text())
            self._repos[(repo["type"], repo["id"])] = repo

    # -- blobs ---------------------------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        """Return where the blob with this SHA-256 lives (whether it exists or not)."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise StoreError(f"Invalid sha256 '{sha256}'")
        return self.blobs_dir / sha256[:2] / sha256

    def has_blob(self, sha256: str, *, size: int | None = None) -> bool:
        """Tell whether a blob is stored, and has the given size when one is given."""
        path = self.blob_path(sha256)
        return path.is_file() and (size is None or path.stat().st_size == size)

    def put_blob_bytes(self, data: bytes) -> str:
        """Store bytes as a blob and return their SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has_blob(sha256, size=len(data)):
            self._write_blob(sha256, [data], expected_size=len(data))
        return sha256

    def put_blob_stream(self, chunks: Iterable[bytes], *, sha256: str, size: int) -> None:
        """Store a streamed blob, refusing it when its hash or size differ from what was announced."""
        self.blob_path(sha256)  # validates the hash before anything is written
        self._write_blob(sha256, chunks, expected_size=size)

    def _write_blob(self, sha256: str, chunks: Iterable[bytes], *, expected_size: int) -> None:
        digest = hashlib.sha256()
        written = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                for chunk in chunks:
                    digest.update(chunk)
                    written += len(chunk)
                    tmp.write(chunk)
            if digest.hexdigest() != sha256 or written != expected_size:
                raise StoreError(
                    f"Uploaded content does not match: expected sha256 {sha256} and {expected_size} bytes, "
                    f"got {digest.hexdigest()} and {written} bytes",
                    status=400,
                )
            target = self.blob_path(sha256)
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp_name, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)

    def read_blob(self, sha256: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield a blob's bytes from start to end (inclusive), in chunks."""
        with open(self.blob_path(sha256), "rb") as f:
            f.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = f.read(1024 * 1024 if remaining is None else min(1024 * 1024, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    # -- repos ---------------------------------------------------------------------------------------------

    def _repo_file(self, repo_type: str, repo_id: str) -> Path:
        namespace, name = validate_repo_id(repo_id)
        return self.repos_dir / f"{repo_type}s" / namespace / f"{name}.json"

    def _save(self, repo: dict) -> None:
        path = self._repo_file(repo["type"], repo["id"])
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".repo-", suffix=".json")
        with os.fdopen(fd, "w") as tmp:
            json.dump(repo, tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)

    @staticmethod
    def _snapshot(repo: dict) -> dict:
        # Commits are never changed once appended, so copying the containers is enough for a stable read.
        return {**repo, "branches": dict(repo["branches"]), "commits": list(repo["commits"])}

    def get_repo(self, *, repo_type: str, repo_id: str) -> dict | None:
        """Return a read-only snapshot of the repo's state, or None when it does not exist."""
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            return self._snapshot(repo) if repo is not None else None

    def require_repo(self, *, repo_type: str, repo_id: str) -> dict:
        """Return the repo's state, or raise a 404 RepoNotFound."""
        repo = self.get_repo(repo_type=repo_type, repo_id=repo_id)
        if repo is None:
            raise StoreError(f"Repository not found: {repo_type} {repo_id}", status=404, code="RepoNotFound")
        return repo

    def list_repos(self, *, repo_type: str) -> list[dict]:
        """Return read-only snapshots of all repos of a type."""
        with self._lock:
            return [self._snapshot(r) for (t, _), r in self._repos.items() if t == repo_type]

    def create_repo(self, *, repo_type: str, repo_id: str, private: bool, author: str) -> bool:
        """Create a repo with the Hub's initial commit; return False when it already existed."""
        validate_repo_id(repo_id)
        with self._lock:
            if (repo_type, repo_id) in self._repos:
                return False
            repo = {
                "type": repo_type,
                "id": repo_id,
                "private": private,
                "createdAt": now_iso(),
                "downloads": 0,
                "likes": 0,
                "branches": {},
                "commits": [],
            }
            # The Hub starts every repo with one commit holding a .gitattributes; mirror that faithfully.
            sha = self.put_blob_bytes(DEFAULT_GITATTRIBUTES.encode())
            files = {".gitattributes": self._regular_entry(DEFAULT_GITATTRIBUTES.encode(), sha)}
            self._append_commit(repo, files=files, summary="initial commit", description="", author=author)
            self._repos[(repo_type, repo_id)] = repo
            self._save(repo)
            return True

    def delete_repo(self, *, repo_type: str, repo_id: str) -> bool:
        """Delete a repo's state (blobs stay, shared by content); return False when it did not exist."""
        with self._lock:
            if self._repos.pop((repo_type, repo_id), None) is None:
                return False
            self._repo_file(repo_type, repo_id).unlink(missing_ok=True)
            return True

    def set_private(self, *, repo_type: str, repo_id: str, private: bool) -> bool:
        """Make a repo private or public; return False when it does not exist."""
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                return False
            repo["private"] = bool(private)
            self._save(repo)
            return True

    def set_counts(
        self, *, repo_type: str, repo_id: str, downloads: int | None = None, likes: int | None = None
    ) -> dict:
        """Set a repo's usage figures, as the Hub's counters would have them."""
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                raise StoreError(
                    f"Repository not found: {repo_type} {repo_id}", status=404, code="RepoNotFound"
                )
            if downloads is not None:
                repo["downloads"] = int(downloads)
            if likes is not None:
                repo["likes"] = int(likes)
            self._save(repo)
            return {"downloads": repo["downloads"], "likes": repo["likes"]}

    # -- commits and trees ---------------------------------------------------------------------------------

    @staticmethod
    def resolve(repo: dict, revision: str) -> dict:
        """Return the commit a branch name or commit id points at, or raise RevisionNotFound."""
        commit_id = repo["branches"].get(revision, revision)
        for commit in reversed(repo["commits"]):
            if commit["id"] == commit_id:
                return commit
        raise StoreError(f"Invalid rev id: {revision}", status=404, code="RevisionNotFound")

    @staticmethod
    def _regular_entry(data: bytes, sha256: str) -> dict:
        return {"sha256": sha256, "size": len(data), "lfs": False, "oid": git_blob_oid(data)}

    @staticmethod
    def _lfs_entry(sha256: str, size: int) -> dict:
        pointer = lfs_pointer(sha256=sha256, size=size)
        return {
            "sha256": sha256,
            "size": size,
            "lfs": True,
            "oid": git_blob_oid(pointer),
            "pointerSize": len(pointer),
        }

    def upload_mode(self, *, repo: dict, revision: str, path: str, size: int, sample: bytes) -> str:
        """Decide 'lfs' or 'regular' for a file the way the Hub does: size, binary sample, .gitattributes."""
        if size >= LFS_THRESHOLD_BYTES or b"\0" in sample:
            return "lfs"
        files = self.resolve(repo, revision)["files"]
        attributes = files.get(".gitattributes")
        if attributes is not None and not attributes["lfs"]:
            text = b"".join(self.read_blob(attributes["sha256"])).decode("utf-8", errors="replace")
            if _matches_any(path, _gitattributes_lfs_patterns(text)):
                return "lfs"
        return "regular"

    def commit(
        self,
        *,
        repo_type: str,
        repo_id: str,
        revision: str,
        operations: list[tuple[str, dict]],
        summary: str,
        description: str,
        parent_commit: str | None,
        author: str,
    ) -> dict:
        """Apply NDJSON commit operations on a branch and return the new commit."""
        # Decode regular files before taking the lock: base64 of a large file is slow.
        prepared: list[tuple[str, dict]] = []
        for key, value in operations:
            if key == "file":
                path = validate_path_in_repo(str(value.get("path", "")))
                if value.get("encoding", "base64") != "base64":
                    raise StoreError(f"Unsupported encoding for '{path}': use base64")
                data = base64.b64decode(value.get("content", ""), validate=True)
                if len(data) >= LFS_THRESHOLD_BYTES:
                    raise StoreError(
                        f"'{path}' is {len(data)} bytes: files of 10 MiB or more must be uploaded with LFS",
                        status=400,
                    )
                prepared.append(
                    ("file", {"path": path, "entry": self._regular_entry(data, self.put_blob_bytes(data))})
                )
            elif key == "lfsFile":
                path = validate_path_in_repo(str(value.get("path", "")))
                sha256 = str(value.get("oid", ""))
                size = value.get("size")
                if not self.has_blob(sha256, size=size):
                    raise StoreError(
                        f"LFS object {sha256} for '{path}' was not uploaded (or its size differs)", status=422
                    )
                size = self.blob_path(sha256).stat().st_size
                prepared.append(("file", {"path": path, "entry": self._lfs_entry(sha256, size)}))
            elif key in ("deletedFile", "deletedFolder"):
                prepared.append((key, {"path": str(value.get("path", "")).rstrip("/")}))
            else:
                raise StoreError(f"Unsupported commit operation '{key}'")

        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                raise StoreError(
                    f"Repository not found: {repo_type} {repo_id}", status=404, code="RepoNotFound"
                )
            if revision not in repo["branches"]:
                raise StoreError(f"Invalid rev id: {revision}", status=404, code="RevisionNotFound")
            head = self.resolve(repo, revision)
            if parent_commit is not None and parent_commit != head["id"]:
                raise StoreError(
                    "A commit has happened since. Please refresh and try again.", status=412, code=None
                )
            files = dict(head["files"])
            for key, op in prepared:
                path = op["path"]
                if key == "file":
                    files[path] = op["entry"]
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise StoreError(
                            f"A file with this name doesn't exist: {path}", status=404, code="EntryNotFound"
                        )
                else:
                    doomed = [p for p in files if p.startswith(path + "/")]
                    if not doomed:
                        raise StoreError(
                            f"A folder with this name doesn't exist: {path}", status=404, code="EntryNotFound"
                        )
                    for p in doomed:
                        del files[p]
            commit = self._append_commit(
                repo, files=files, summary=summary, description=description, author=author, branch=revision
            )
            self._save(repo)
            return json.loads(json.dumps(commit))

    def _append_commit(
        self, repo: dict, *, files: dict, summary: str, description: str, author: str, branch: str = "main"
    ) -> dict:
        parent = repo["branches"].get(branch)
        seed = json.dumps([parent, summary, sorted(files.items()), now_iso(), secrets.token_hex(8)])
        commit_id = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        previous = self.resolve(repo, parent)["files"] if parent else {}
        stamped = {}
        for path, entry in files.items():
            old = previous.get(path)
            # A file's last commit moves only when its content changes, as git blame would have it.
            same = old is not None and old["oid"] == entry["oid"] and "lastCommit" in old
            stamped[path] = {**entry, "lastCommit": old["lastCommit"] if same else commit_id}
        files = stamped
        card = None
        readme = files.get("README.md")
        if readme is not None and readme["size"] <= 1024 * 1024:
            card = parse_card_data(b"".join(self.read_blob(readme["sha256"])))
        commit = {
            "id": commit_id,
            "parent": parent,
            "title": summary,
            "message": description,
            "date": now_iso(),
            "author": author,
            "files": files,
            "cardData": card,
        }
        repo["commits"].append(commit)
        repo["branches"][branch] = commit_id
        return commit
