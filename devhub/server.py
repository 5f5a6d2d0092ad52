"""HTTP front of the development Hub: the routes `huggingface_hub` 2.4 calls, plus the /_devhub/ control API.

Served routes (repo type prefix `datasets/`, `spaces/` or none for models, as on the Hub):
- `GET /api/whoami-v2`; `POST /api/repos/create`; `DELETE /api/repos/delete`; `POST /api/validate-yaml`;
- `GET /api/datasets?author=&search=&sort=&limit=`; `GET /api/datasets/{id}[/revision/{rev}]?blobs=true`;
- `POST /api/datasets/{id}/preupload/{rev}`; `POST /api/datasets/{id}/commit/{rev}` (NDJSON);
- `GET /api/datasets/{id}/tree/{rev}[/{path}]`; `POST /api/datasets/{id}/paths-info/{rev}`;
- `GET /api/datasets/{id}/commits/{rev}`; `PUT /api/datasets/{id}/settings` ({"visibility"} or {"private"});
- `POST /datasets/{id}.git/info/lfs/objects/batch` (basic transfer), `PUT /_lfs/upload/{sha256}`,
  `POST /datasets/{id}.git/info/lfs/objects/verify`;
- `GET|HEAD /datasets/{id}/resolve/{rev}/{path}` (Range supported);
- `GET /datasets/{id}`: a human page (card rendered, files listed), for the portal's links in the offline demo.
Xet is not spoken: the xet token routes answer 501 with a message. The client picks Xet on its own whenever
`hf_xet` is installed, so clients of this server must run with `HF_HUB_DISABLE_XET=1` (set before importing
huggingface_hub, or `huggingface_hub.constants.HF_HUB_DISABLE_XET = True`).

Control API (JSON, no auth, never faulted nor logged): `POST /_devhub/faults`, `GET|DELETE /_devhub/faults`,
`GET|DELETE /_devhub/log`, `POST /_devhub/reset`,
`POST /_devhub/counts` {repo_id, repo_type, downloads, likes},
`POST /_devhub/bad-tokens` {token}, `GET /_devhub/health`.

This server is for tests and the offline demo only: it binds 127.0.0.1 by default, trusts every token that is
not listed as bad, and must never be exposed or used as a store of record.
"""

import base64
import contextlib
import hashlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from devhub import pages
from devhub.faults import FaultPlan
from devhub.storage import REPO_TYPES, RepoStore, StoreError, card_tags, check_card_yaml

logger = logging.getLogger(__name__)

_TYPE_PLURALS = {f"{t}s": t for t in REPO_TYPES}
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_BODY_LIMIT = 2 * 1024**3  # one JSON/NDJSON body; LFS uploads are streamed to disk and not bound by this
_XET_MESSAGE = (
    "devhub does not implement the Xet protocol: run the client with HF_HUB_DISABLE_XET=1 "
    "(set before importing huggingface_hub) so that it uploads with plain LFS"
)


class HubError(Exception):
    """An error answer: HTTP status, message, and the Hub's X-Error-Code when there is one."""

    def __init__(self, status: int, message: str, *, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


class _DroppedConnection(Exception):
    """Raised to close the socket without an answer (fault injection)."""


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, *, store: RepoStore, plan: FaultPlan, user: str, organizations, bad_tokens):
        self.store = store
        self.plan = plan
        self.user = user
        self.organizations = tuple(organizations)
        self.bad_tokens = set(bad_tokens)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _HubRequestHandler)

    def process_request(self, request, client_address):
        # As production web servers do (nginx's tcp_nodelay): a response's headers and its small body go out
        # in two writes, and Nagle's algorithm would hold the second until the client's delayed ACK of the
        # first, some 40 ms later, on every keep-alive request.
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Keep-alive connections would otherwise hold handler threads (and the port) after stop().
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devhub/1"
    timeout = 120  # idle keep-alive connections end on their own
    server: _HubHTTPServer

    # -- plumbing ------------------------------------------------------------------------------------------

    def log_message(self, format, *args):
        logger.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        self.url_path, self.query = split.path, parse_qs(split.query)
        self.status_sent: int | None = None
        self.body_consumed = False
        if self.url_path.startswith("/_devhub/"):
            self.log_entry = None
            self._dispatch_control(method)
            return
        fault = self.server.plan.take(method=method, path=self.url_path)
        self.log_entry = {
            "method": method,
            "path": self.url_path,
            "query": split.query,
            "fault": fault.kind if fault is not None else None,
        }
        try:
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "drop":
                raise _DroppedConnection
            if fault is not None and fault.kind == "status":
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                raise HubError(fault.status, fault.message, headers=headers)
            self._dispatch(method)
        except _DroppedConnection:
            self._drain_body()
            self.close_connection = True
            self._record(None)
            return
        except HubError as err:
            self._send_error(err)
        except StoreError as err:
            self._send_error(HubError(err.status, err.message, code=err.code))
        except (ConnectionError, TimeoutError):
            # The client went away mid-request: nothing to answer, and not worth a traceback.
            self.close_connection = True
            self._record(self.status_sent)
        except Exception as err:
            logger.exception("devhub: error answering %s %s", method, self.path)
            self._send_error(HubError(500, f"Internal error in devhub: {err!r}"))

    def _record(self, status: int | None) -> None:
        # Logged before the answer leaves, so a client that has its answer always finds it in the log.
        if self.log_entry is not None:
            self.server.plan.record(status=status, **self.log_entry)
            self.log_entry = None

    def _iter_body(self) -> Iterator[bytes]:
        """Yield the request body in chunks, plain or chunked transfer-encoding."""
        self.body_consumed = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield from self._read_exactly(size)
                self.rfile.readline(16)
        yield from self._read_exactly(int(self.headers.get("Content-Length") or 0))

    def _read_exactly(self, size: int) -> Iterator[bytes]:
        """Yield `size` bytes of the request body in chunks of at most 1 MiB."""
        remaining = size
        while remaining:
            chunk = self.rfile.read(min(remaining, 1024 * 1024))
            if not chunk:
                raise ConnectionError("client closed the connection mid-body")
            remaining -= len(chunk)
            yield chunk

    def _drain_body(self) -> None:
        if not self.body_consumed:
            for _ in self._iter_body():
                pass

    def _read_body(self) -> bytes:
        data = bytearray()
        for chunk in self._iter_body():
            data += chunk
            if len(data) > _BODY_LIMIT:
                raise HubError(413, "Request body too large")
        return bytes(data)

    def _read_json(self) -> dict:
        body = self._read_body()
        try:
            value = json.loads(body or b"{}")
        except ValueError as err:
            raise HubError(400, f"Body is not valid JSON: {err}") from err
        if not isinstance(value, dict):
            raise HubError(400, "Body must be a JSON object")
        return value

    def _start_response(self, status: int, *, content_type: str, length: int, headers: dict) -> None:
        self._drain_body()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name, value)
        self.status_sent = status
        self._record(status)
        self.end_headers()

    def _send(self, status: int, body: bytes, *, content_type: str, headers: dict | None = None) -> None:
        self._start_response(status, content_type=content_type, length=len(body), headers=headers or {})
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, value, *, status: int = 200, headers: dict | None = None, content_type=None) -> None:
        self._send(
            status,
            json.dumps(value).encode(),
            content_type=content_type or "application/json; charset=utf-8",
            headers=headers,
        )

    def _send_error(self, err: HubError) -> None:
        headers = dict(err.headers)
        headers["X-Error-Message"] = err.message.encode("ascii", "replace").decode()
        if err.code:
            headers["X-Error-Code"] = err.code
        self._send_json({"error": err.message}, status=err.status, headers=headers)

    def _base_url(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self._base_url()}/{_URL_PREFIX[repo_type]}{repo_id}"

    # -- auth ----------------------------------------------------------------------------------------------

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth:
            return None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or token.strip() in self.server.bad_tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return token.strip()

    def _require_user(self) -> str:
        if self._token() is None:
            raise HubError(401, "You must be authenticated to do this: pass a token")
        return self.server.user

    def _can_write(self, namespace: str) -> bool:
        return namespace == self.server.user or namespace in self.server.organizations

    def _readable_repo(self, repo_type: str, repo_id: str) -> dict:
        repo = self.server.store.get_repo(repo_type=repo_type, repo_id=repo_id)
        if repo is None or (repo["private"] and self._token() is None):
            raise HubError(401 if repo else 404, f"Repository not found: {repo_id}", code="RepoNotFound")
        self._token()  # a bad token is refused even on a public repo, as on the Hub
        return repo

    def _writable_repo(self, repo_type: str, repo_id: str) -> dict:
        self._require_user()
        repo = self._readable_repo(repo_type, repo_id)
        if not self._can_write(repo_id.split("/")[0]):
            raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    # -- routing -------------------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        segments = [unquote(s) for s in self.url_path.split("/")[1:]]
        if segments[:1] == ["api"]:
            self._dispatch_api(method, segments[1:])
        elif segments[:2] == ["_lfs", "upload"] and len(segments) == 3 and method == "PUT":
            self._lfs_upload(segments[2])
        else:
            self._dispatch_repo_path(method, segments)

    def _dispatch_api(self, method: str, segs: list[str]) -> None:
        if segs == ["whoami-v2"] and method == "GET":
            return self._whoami()
        if segs == ["repos", "create"] and method == "POST":
            return self._create_repo()
        if segs == ["repos", "delete"] and method == "DELETE":
            return self._delete_repo()
        if segs == ["validate-yaml"] and method == "POST":
            return self._validate_yaml()
        if not segs or segs[0] not in _TYPE_PLURALS:
            raise HubError(404, f"Unknown route: {self.url_path}")
        repo_type = _TYPE_PLURALS[segs[0]]
        if len(segs) == 1 and method == "GET":
            return self._list_repos(repo_type)
        if len(segs) < 3:
            raise HubError(404, f"Unknown route: {self.url_path}")
        repo_id, action, rest = f"{segs[1]}/{segs[2]}", segs[3] if len(segs) > 3 else None, segs[4:]
        routes = {
            (None, "GET"): lambda: self._repo_info(repo_type, repo_id, "main"),
            ("revision", "GET"): lambda: self._repo_info(repo_type, repo_id, "/".join(rest)),
            ("preupload", "POST"): lambda: self._preupload(repo_type, repo_id, "/".join(rest)),
            ("commit", "POST"): lambda: self._commit(repo_type, repo_id, "/".join(rest)),
            ("tree", "GET"): lambda: self._tree(repo_type, repo_id, rest[0] if rest else "main", rest[1:]),
            ("paths-info", "POST"): lambda: self._paths_info(repo_type, repo_id, "/".join(rest)),
            ("commits", "GET"): lambda: self._commits(repo_type, repo_id, "/".join(rest) or "main"),
            ("settings", "PUT"): lambda: self._update_settings(repo_type, repo_id),
        }
        if action in ("xet-write-token", "xet-read-token"):
            raise HubError(501, _XET_MESSAGE)
        handler = routes.get((action, method))
        if handler is None:
            raise HubError(404, f"Unknown route: {method} {self.url_path}")
        return handler()

    def _dispatch_repo_path(self, method: str, segs: list[str]) -> None:
        repo_type = "model"
        if segs and segs[0] in ("datasets", "spaces"):
            repo_type, segs = _TYPE_PLURALS[segs[0]], segs[1:]
        if len(segs) == 2 and repo_type == "dataset" and method in ("GET", "HEAD"):
            return self._repo_page(repo_type, f"{segs[0]}/{segs[1]}")
        if len(segs) < 3:
            raise HubError(404, f"Unknown route: {self.url_path}")
        namespace, name, rest = segs[0], segs[1], segs[2:]
        if name.endswith(".git") and rest[:3] == ["info", "lfs", "objects"] and method == "POST":
            repo_id = f"{namespace}/{name[: -len('.git')]}"
            if rest[3:] == ["batch"]:
                return self._lfs_batch(repo_type, repo_id)
            if rest[3:] == ["verify"]:
                return self._lfs_verify(repo_type, repo_id)
        if rest[0] == "resolve" and len(rest) >= 3 and method in ("GET", "HEAD"):
            return self._resolve(repo_type, f"{namespace}/{name}", rest[1], "/".join(rest[2:]))
        raise HubError(404, f"Unknown route: {method} {self.url_path}")

    # -- account and repos ---------------------------------------------------------------------------------

    def _whoami(self) -> None:
        user = self._require_user()
        self._send_json(
            {
                "type": "user",
                "id": f"devhub-{user}",
                "name": user,
                "fullname": user,
                "email": f"{user}@devhub.invalid",
                "emailVerified": True,
                "isPro": False,
                "orgs": [
                    {"type": "org", "name": org, "fullname": org, "roleInOrg": "admin"}
                    for org in self.server.organizations
                ],
                "auth": {"type": "access_token", "accessToken": {"displayName": "devhub", "role": "write"}},
            }
        )

    def _create_repo(self) -> None:
        user = self._require_user()
        body = self._read_json()
        repo_type = body.get("type") or "model"
        if repo_type not in REPO_TYPES:
            raise HubError(400, f"Invalid repo type '{repo_type}'")
        namespace = body.get("organization") or user
        repo_id = f"{namespace}/{body.get('name', '')}"
        if not self._can_write(namespace):
            raise HubError(
                403, f"You don't have the rights to create a {repo_type} under the namespace {namespace}"
            )
        private = body.get("visibility") == "private" or bool(body.get("private"))
        created = self.server.store.create_repo(
            repo_type=repo_type, repo_id=repo_id, private=private, author=user
        )
        url = self._repo_url(repo_type, repo_id)
        if not created:
            self._send_json({"error": f"You already created this {repo_type} repo", "url": url}, status=409)
            return
        self._send_json({"url": url, "name": repo_id, "id": repo_id})

    def _delete_repo(self) -> None:
        user = self._require_user()
        body = self._read_json()
        repo_type = body.get("type") or "model"
        namespace = body.get("organization") or user
        repo_id = f"{namespace}/{body.get('name', '')}"
        if not self._can_write(namespace):
            raise HubError(403, f"You don't have the rights to delete {repo_id}")
        if not self.server.store.delete_repo(repo_type=repo_type, repo_id=repo_id):
            raise HubError(404, f"Repository not found: {repo_id}", code="RepoNotFound")
        self._send_json({})

    def _update_settings(self, repo_type: str, repo_id: str) -> None:
        self._writable_repo(repo_type, repo_id)
        body = self._read_json()
        if "visibility" in body:
            if body["visibility"] not in ("public", "private"):
                raise HubError(400, f"Invalid visibility '{body['visibility']}': use public or private")
            private = body["visibility"] == "private"
        elif isinstance(body.get("private"), bool):
            private = body["private"]
        else:
            raise HubError(400, "Nothing to update: send visibility (public or private)")
        self.server.store.set_private(repo_type=repo_type, repo_id=repo_id, private=private)
        self._send_json({})

    def _validate_yaml(self) -> None:
        errors, warnings = check_card_yaml(str(self._read_json().get("content", "")))
        self._send_json(
            {"errors": [{"message": m} for m in errors], "warnings": [{"message": m} for m in warnings]},
            status=400 if errors else 200,
        )

    def _summary(self, repo: dict, commit: dict) -> dict:
        card = commit.get("cardData")
        summary = {
            "_id": f"devhub-{repo['id']}",
            "id": repo["id"],
            "author": repo["id"].split("/")[0],
            "sha": commit["id"],
            "createdAt": repo["createdAt"],
            "lastModified": commit["date"],
            "private": repo["private"],
            "gated": False,
            "disabled": False,
            "downloads": repo["downloads"],
            "likes": repo["likes"],
            "tags": card_tags(card),
        }
        if card is not None:
            summary["cardData"] = card
        return summary

    def _repo_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._readable_repo(repo_type, repo_id)
        commit = self.server.store.resolve(repo, revision)
        info = self._summary(repo, commit)
        with_blobs = self.query.get("blobs", ["false"])[0].lower() == "true"
        siblings = []
        for path, entry in sorted(commit["files"].items()):
            sibling = {"rfilename": path}
            if with_blobs:
                sibling.update(size=entry["size"], blobId=entry["oid"])
                if entry["lfs"]:
                    sibling["lfs"] = {
                        "sha256": entry["sha256"],
                        "size": entry["size"],
                        "pointerSize": entry["pointerSize"],
                    }
            siblings.append(sibling)
        info["siblings"] = siblings
        info["usedStorage"] = sum(e["size"] for e in commit["files"].values())
        self._send_json(info)

    def _list_repos(self, repo_type: str) -> None:
        authenticated = self._token() is not None
        author = self.query.get("author", [None])[0]
        searches = [s.lower() for s in self.query.get("search", [])]
        entries = []
        for repo in self.server.store.list_repos(repo_type=repo_type):
            if repo["private"] and not authenticated:
                continue
            if author is not None and repo["id"].split("/")[0] != author:
                continue
            if any(s not in repo["id"].lower() for s in searches):
                continue
            entries.append(self._summary(repo, self.server.store.resolve(repo, "main")))
        sort = self.query.get("sort", [None])[0]
        if sort in ("downloads", "likes", "lastModified", "createdAt"):
            entries.sort(key=lambda e: e[sort], reverse=True)
        else:
            entries.sort(key=lambda e: e["id"])
        limit = self.query.get("limit", [None])[0]
        if limit is not None:
            entries = entries[: int(limit)]
        self._send_json(entries)

    # -- reading files -------------------------------------------------------------------------------------

    @staticmethod
    def _tree_entry(path: str, entry: dict) -> dict:
        item = {"type": "file", "oid": entry["oid"], "size": entry["size"], "path": path}
        if entry["lfs"]:
            item["lfs"] = {"oid": entry["sha256"], "size": entry["size"], "pointerSize": entry["pointerSize"]}
        return item

    @staticmethod
    def _folder_entry(path: str, commit_id: str) -> dict:
        # Folders have no stored git tree; a stable made-up oid per (commit, path) is enough for the client.
        oid = hashlib.sha1(f"{commit_id}:{path}".encode(), usedforsecurity=False).hexdigest()
        return {"type": "directory", "oid": oid, "path": path}

    def _tree(self, repo_type: str, repo_id: str, revision: str, path_segments: list[str]) -> None:
        repo = self._readable_repo(repo_type, repo_id)
        commit = self.server.store.resolve(repo, revision)
        base = "/".join(path_segments).strip("/")
        recursive = self.query.get("recursive", ["false"])[0].lower() == "true"
        prefix = f"{base}/" if base else ""
        files: list[dict] = []
        folders: set[str] = set()
        for path, entry in commit["files"].items():
            if not path.startswith(prefix):
                continue
            relative = path[len(prefix) :].split("/")
            for depth in range(1, len(relative)):
                if recursive or depth == 1:
                    folders.add(prefix + "/".join(relative[:depth]))
            if recursive or len(relative) == 1:
                files.append(self._tree_entry(path, entry))
        if base and not files and not folders:
            raise HubError(404, f"Entry not found: {base}", code="EntryNotFound")
        listing = [self._folder_entry(f, commit["id"]) for f in sorted(folders)]
        self._send_json(listing + sorted(files, key=lambda e: e["path"]))

    def _paths_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._readable_repo(repo_type, repo_id)
        commit = self.server.store.resolve(repo, revision)
        if "json" in self.headers.get("Content-Type", ""):
            paths = self._read_json().get("paths", [])
        else:
            paths = parse_qs(self._read_body().decode()).get("paths", [])
        answer = []
        for path in paths:
            path = path.strip("/")
            if path in commit["files"]:
                answer.append(self._tree_entry(path, commit["files"][path]))
            elif any(p.startswith(path + "/") for p in commit["files"]):
                answer.append(self._folder_entry(path, commit["id"]))
        self._send_json(answer)

    def _commits(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._readable_repo(repo_type, repo_id)
        commit = self.server.store.resolve(repo, revision)
        by_id = {c["id"]: c for c in repo["commits"]}
        history = []
        while commit is not None:
            history.append(
                {
                    "id": commit["id"],
                    "title": commit["title"],
                    "message": commit["message"],
                    "date": commit["date"],
                    "authors": [{"user": commit["author"]}],
                }
            )
            commit = by_id.get(commit["parent"]) if commit["parent"] else None
        self._send_json(history)

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._readable_repo(repo_type, repo_id)
        commit = self.server.store.resolve(repo, revision)
        entry = commit["files"].get(path)
        if entry is None:
            raise HubError(404, f"Entry not found: {path}", code="EntryNotFound")
        size = entry["size"]
        etag = entry["sha256"] if entry["lfs"] else entry["oid"]
        headers = {
            "ETag": f'"{etag}"',
            "X-Repo-Commit": commit["id"],
            "Accept-Ranges": "bytes",
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
        }
        if entry["lfs"]:
            headers.update({"X-Linked-Etag": f'"{entry["sha256"]}"', "X-Linked-Size": str(size)})
        start, end, status = 0, size - 1, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if match and size > 0 and (match.group(1) or match.group(2)):
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:
                start = max(size - int(match.group(2)), 0)
            if start > end:
                raise HubError(
                    416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
                )
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1 if size else 0
        self._start_response(status, content_type="application/octet-stream", length=length, headers=headers)
        if self.command == "HEAD" or size == 0:
            return
        for chunk in self.server.store.read_blob(entry["sha256"], start=start, end=end):
            self.wfile.write(chunk)

    def _repo_page(self, repo_type: str, repo_id: str) -> None:
        repo = self.server.store.get_repo(repo_type=repo_type, repo_id=repo_id)
        if repo is None or repo["private"]:  # a browser sends no token: private repos are not found
            self._send(404, pages.not_found_page(repo_id), content_type="text/html; charset=utf-8")
            return
        files = self.server.store.resolve(repo, "main")["files"]
        readme = None
        if "README.md" in files:
            readme = b"".join(self.server.store.read_blob(files["README.md"]["sha256"]))
        page = pages.repo_page(
            repo_id=repo_id,
            files=files,
            readme=readme,
            file_url=lambda path: f"{self._repo_url(repo_type, repo_id)}/resolve/main/{quote(path)}",
        )
        self._send(200, page, content_type="text/html; charset=utf-8")

    # -- writing files -------------------------------------------------------------------------------------

    def _preupload(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._writable_repo(repo_type, repo_id)
        store = self.server.store
        files = self._read_json().get("files", [])
        commit = store.resolve(repo, revision)
        answer = []
        for item in files:
            path = item.get("path", "")
            sample = base64.b64decode(item.get("sample", "") or "")
            mode = store.upload_mode(
                repo=repo, revision=revision, path=path, size=int(item.get("size", 0)), sample=sample
            )
            existing = commit["files"].get(path)
            oid = None
            if existing is not None:
                # The client compares this with its own oid to skip unchanged files:
                # sha256 for LFS, git sha1 for regular files.
                oid = (
                    existing["sha256"] if mode == "lfs" else existing["oid"] if not existing["lfs"] else None
                )
            answer.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self._send_json({"files": answer, "commitOid": commit["id"]})

    def _commit(self, repo_type: str, repo_id: str, revision: str) -> None:
        user = self._require_user()
        self._writable_repo(repo_type, repo_id)
        if self.query.get("create_pr", ["0"])[0] in ("1", "true"):
            raise HubError(501, "devhub does not implement pull requests (create_pr)")
        header: dict = {}
        operations: list[tuple[str, dict]] = []
        for line in self._read_body().splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as err:
                raise HubError(400, f"Commit payload line is not JSON: {err}") from err
            if item.get("key") == "header":
                header = item.get("value") or {}
            else:
                operations.append((item.get("key"), item.get("value") or {}))
        if not header.get("summary"):
            raise HubError(400, "Commit header with a summary is required")
        commit = self.server.store.commit(
            repo_type=repo_type,
            repo_id=repo_id,
            revision=revision,
            operations=operations,
            summary=header["summary"],
            description=header.get("description", ""),
            parent_commit=header.get("parentCommit"),
            author=user,
        )
        self._send_json(
            {
                "success": True,
                "commitOid": commit["id"],
                "commitUrl": f"{self._repo_url(repo_type, repo_id)}/commit/{commit['id']}",
                "commitMessage": commit["title"],
                "pullRequestUrl": None,
            }
        )

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        self._writable_repo(repo_type, repo_id)
        body = self._read_json()
        if body.get("operation") != "upload":
            raise HubError(400, "devhub only answers LFS batch 'upload' operations")
        if "basic" not in body.get("transfers", ["basic"]):
            raise HubError(400, "devhub only offers the 'basic' LFS transfer")
        base = self._base_url()
        objects = []
        for obj in body.get("objects", []):
            oid, size = str(obj.get("oid", "")), obj.get("size")
            if not re.fullmatch(r"[0-9a-f]{64}", oid) or not isinstance(size, int) or size < 0:
                objects.append(
                    {"oid": oid, "size": size or 0, "error": {"code": 422, "message": "Invalid object"}}
                )
                continue
            answer = {"oid": oid, "size": size, "authenticated": True}
            # Without "actions" the client knows the object is already stored and skips the upload.
            if not self.server.store.has_blob(oid, size=size):
                answer["actions"] = {
                    "upload": {"href": f"{base}/_lfs/upload/{oid}?size={size}", "expires_in": 3600},
                    "verify": {
                        "href": f"{base}/{_URL_PREFIX[repo_type]}{repo_id}.git/info/lfs/objects/verify",
                        "expires_in": 3600,
                    },
                }
            objects.append(answer)
        self._send_json(
            {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
            content_type="application/vnd.git-lfs+json",
        )

    def _lfs_upload(self, oid: str) -> None:
        try:
            size = int(self.query.get("size", [""])[0])
        except ValueError as err:
            raise HubError(400, "The upload URL lacks its size") from err
        self.server.store.put_blob_stream(self._iter_body(), sha256=oid, size=size)
        self._send(200, b"", content_type="text/plain", headers={"ETag": f'"{oid}"'})

    def _lfs_verify(self, repo_type: str, repo_id: str) -> None:
        self._writable_repo(repo_type, repo_id)
        body = self._read_json()
        if not self.server.store.has_blob(str(body.get("oid", "")), size=body.get("size")):
            raise HubError(404, f"LFS object {body.get('oid')} of size {body.get('size')} was not uploaded")
        self._send_json({"oid": body["oid"], "size": body["size"]})

    # -- control API ---------------------------------------------------------------------------------------

    def _dispatch_control(self, method: str) -> None:
        plan = self.server.plan
        route = self.url_path[len("/_devhub/") :].strip("/")
        try:
            if route == "health" and method == "GET":
                self._send_json({"ok": True})
            elif route == "faults" and method == "POST":
                self._send_json(plan.add(**self._read_json()))
            elif route == "faults" and method == "GET":
                self._send_json(plan.faults())
            elif route == "faults" and method == "DELETE":
                plan.clear_faults()
                self._send_json({})
            elif route == "log" and method == "GET":
                self._send_json(plan.log())
            elif route == "log" and method == "DELETE":
                plan.clear_log()
                self._send_json({})
            elif route == "reset" and method == "POST":
                plan.clear_faults()
                plan.clear_log()
                self._send_json({})
            elif route == "counts" and method == "POST":
                body = self._read_json()
                counts = self.server.store.set_counts(
                    repo_type=body.get("repo_type", "dataset"),
                    repo_id=body["repo_id"],
                    downloads=body.get("downloads"),
                    likes=body.get("likes"),
                )
                self._send_json(counts)
            elif route == "bad-tokens" and method == "POST":
                self.server.bad_tokens.add(self._read_json()["token"])
                self._send_json({})
            else:
                raise HubError(404, f"Unknown control route: {method} /_devhub/{route}")
        except HubError as err:
            self._send_error(err)
        except StoreError as err:
            self._send_error(HubError(err.status, err.message, code=err.code))
        except (KeyError, TypeError, ValueError) as err:
            self._send_error(HubError(400, f"Bad control request: {err!r}"))


class DevHub:
    """A Hub-compatible server bound to 127.0.0.1, served from a background thread."""

    def __init__(
        self,
        *,
        data_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = "devhub-user",
        organizations: tuple[str, ...] = ("dataset-portal",),
        bad_tokens: tuple[str, ...] = (),
    ):
        self.store = RepoStore(data_dir)
        self.plan = FaultPlan()
        self._httpd = _HubHTTPServer(
            (host, port),
            store=self.store,
            plan=self.plan,
            user=user,
            organizations=organizations,
            bad_tokens=bad_tokens,
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to use as HF_ENDPOINT / HfApi(endpoint=...)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def user(self) -> str:
        """The user name every good token belongs to."""
        return self._httpd.user

    def start(self) -> "DevHub":
        """Serve in a daemon thread and return self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="devhub", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by `python -m devhub`)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving, close open connections and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> "DevHub":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- helpers mirroring the control API -----------------------------------------------------------------

    def fail_next(
        self,
        *,
        count: int = 1,
        status: int = 503,
        method: str | None = None,
        path: str = ".*",
        retry_after: float | None = None,
    ) -> dict:
        """Answer `status` (with Retry-After when given) to the next `count` matching requests."""
        return self.plan.add(
            kind="status", count=count, status=status, method=method, path=path, retry_after=retry_after
        )

    def drop_next(self, *, count: int = 1, method: str | None = None, path: str = ".*") -> dict:
        """Close the socket without answering the next `count` matching requests."""
        return self.plan.add(kind="drop", count=count, method=method, path=path)

    def delay_next(
        self, *, seconds: float, count: int = 1, method: str | None = None, path: str = ".*"
    ) -> dict:
        """Wait `seconds` before answering the next `count` matching requests."""
        return self.plan.add(kind="delay", count=count, delay=seconds, method=method, path=path)

    def reset(self) -> None:
        """Forget planned faults and empty the request log (repos are kept)."""
        self.plan.clear_faults()
        self.plan.clear_log()

    def request_log(self, *, method: str | None = None, path: str | None = None) -> list[dict]:
        """Return logged requests, optionally only those of a method and matching a path regex."""
        return [
            entry
            for entry in self.plan.log()
            if (method is None or entry["method"] == method.upper())
            and (path is None or re.search(path, entry["path"]))
        ]

    def set_counts(
        self,
        repo_id: str,
        *,
        repo_type: str = "dataset",
        downloads: int | None = None,
        likes: int | None = None,
    ) -> dict:
        """Set the downloads and likes that info and listing calls report for a repo."""
        return self.store.set_counts(repo_type=repo_type, repo_id=repo_id, downloads=downloads, likes=likes)

    def add_bad_token(self, token: str) -> None:
        """Make every request carrying this token answer 401."""
        self._httpd.bad_tokens.add(token)
