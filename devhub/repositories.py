"""Local doubles of research-data repositories, for tests and the offline demo: one https server on 127.0.0.1.

It speaks the documented JSON of
- the InvenioRDM / Zenodo records API: `GET /api/records/{id}` (the RDM shape, or Zenodo's legacy shape),
  `GET /api/records/{id}/files`, `GET /api/records/{id}/files/{key}/content`; landing pages
  `/records/{id}` (and Zenodo's old `/record/{id}`, redirected);
- the Dataverse native API `GET /api/datasets/:persistentId/?persistentId=...` and Data Access API
  `GET /api/access/datafile/{id}` (`?format=original` for ingested tables, which are otherwise served as
  a tab-separated archival copy); pages `/dataset.xhtml?persistentId=...`, `/citation?persistentId=...`
  (redirected to the dataset page, as DOIs land there);
- the figshare API v2 `GET /v2/articles/{id}[/versions/{v}]` and `GET /v2/articles/{id}[/versions/{v}]/files`
  (paginated with `page` and `page_size`, 10 by default), downloads `/ndownloader/files/{id}`, item pages
  `/articles/dataset/{slug}/{id}/{version}`;
- a DOI resolver: `/doi/{doi}` answers 302 to the record's landing page, 404 for an unknown DOI;
- plain files `/files/{name}`;
with downloads that honour a single `Range` (206 and Content-Range) and HEAD, and a correct Content-Length.

Records are registered per test (`add_invenio`, `add_dataverse`, `add_figshare`, `add_doi`, `add_file`) from a
`Deposit`: title, creators with ORCID iDs, licence, DOI, dates, keywords, and `DataFile`s whose bytes are
given or generated deterministically from their size; the double computes their MD5, SHA-1 and SHA-256 and
announces them as each repository does. Restricted and embargoed files answer 403. `fault()` makes the next
requests of a path pattern answer a status (404, 500, 429 with Retry-After), an HTML page instead of JSON,
or garbage bytes. Every request is logged (`log`, `requests_for`).

TLS: the server is given a certificate and key (tests issue them with trustme, the offline demo makes a
self-signed one with `devhub.datasource.ensure_certificate`), which the portal trusts through
PORTAL_FETCH_CA_BUNDLE. With `folder=`, any path that is no repository route is served from that folder:
`python -m devhub.datasource` (the offline demo's data source) is this server, with the demo record of
`add_demo_record`. This is a development tool: it binds 127.0.0.1, needs no extra package, and the
product never imports it.
"""

import contextlib
import dataclasses
import hashlib
import html
import json
import re
import socket
import ssl
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

# cryptography comes with the runtime's sign-in libraries (PyJWT); devhub.oidc uses it too.
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 64 * 1024
JSON_TYPE = "application/json"


_ZEROS = bytes(BLOCK)


def generated_block(seed, index):
    """Return block `index` of the deterministic pseudo-random file for `seed`: the AES-CTR keystream of a
    key derived from the seed, so that any block is made on its own (for ranges) and at gigabytes per second
    (a benchmark must measure its client, not this generator)."""
    key = hashlib.sha256(f"repository file {seed}".encode()).digest()
    counter = (index * BLOCK // 16).to_bytes(16, "big")
    return Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor().update(_ZEROS)


def generated_bytes(seed, start, end):
    """Yield bytes [start, end) of the deterministic pseudo-random file for `seed`, block by block."""
    position = start
    while position < end:
        index, skip = divmod(position, BLOCK)
        block = generated_block(seed, index)[skip : skip + (end - position)]
        yield block
        position += len(block)


@dataclasses.dataclass
class Person:
    """A creator of a deposit."""

    name: str
    orcid: str = ""
    affiliation: str = ""


@dataclasses.dataclass
class DataFile:
    """A file of a deposit: its path (folders kept) and its bytes, given or generated from `size`."""

    path: str
    content: bytes | None = None
    size: int | None = None
    media_type: str = "application/octet-stream"
    restricted: bool = False  # needs permission (Dataverse file, or the files of a whole record)
    embargo_until: str = ""  # "2027-03-01"
    link: str = ""  # figshare: a link-only file kept at this address
    ingested: bool = False  # Dataverse: an ingested table (served tab-separated unless format=original)
    # Set by the double when the deposit is registered.
    file_id: int = 0
    url: str = ""
    md5: str = ""
    sha1: str = ""
    sha256: str = ""

    def __post_init__(self):
        if self.content is None and self.size is None:
            raise ValueError("give a DataFile its content or its size")

    @property
    def length(self):
        """Return the size of the file's bytes."""
        return len(self.content) if self.content is not None else self.size

    def chunks(self, start, end):
        """Yield the file's bytes [start, end)."""
        if self.content is not None:
            yield self.content[start:end]
        else:
            yield from generated_bytes(self.path, start, end)

    @property
    def name(self):
        """Return the last segment of the path."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def folder(self):
        """Return the folders of the path ("" at the top)."""
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def archival(self):
        """Return the tab-separated copy Dataverse makes of an ingested table."""
        return (self.content or b"").replace(b",", b"\t")


@dataclasses.dataclass
class Deposit:
    """What a repository holds about one record."""

    title: str
    files: list
    creators: list = dataclasses.field(default_factory=list)
    description: str = ""
    doi: str = ""
    license_id: str = ""
    license_name: str = ""
    license_url: str = ""
    published: str = "2024-05-01"
    version: str = "1"
    keywords: list = dataclasses.field(default_factory=list)
    restricted: bool = False  # the record's files need permission (InvenioRDM access.files)
    embargo_until: str = ""  # the record's files are embargoed until this date (InvenioRDM, figshare)


@dataclasses.dataclass
class Registered:
    """A deposit as the double serves it."""

    family: str
    deposit: Deposit
    landing_url: str
    api_url: str
    doi: str

    def file(self, path):
        """Return the DataFile at `path`."""
        return next(file for file in self.deposit.files if file.path == path)


@dataclasses.dataclass(frozen=True)
class LoggedRequest:
    """One request the double received."""

    method: str
    path: str
    headers: dict


@dataclasses.dataclass
class _Fault:
    pattern: str
    kind: str
    status: int
    retry_after: object
    count: int | None


class _Answer(Exception):
    """Raised by a route to answer with a status, headers and body."""

    def __init__(self, status, body=b"", *, content_type="text/plain; charset=utf-8", headers=None):
        super().__init__(status)
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers or {}


def _json_answer(status, document):
    return _Answer(status, json.dumps(document).encode(), content_type=JSON_TYPE)


def _page(title, body=""):
    """Return a small HTML landing page."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


class _Handler(SimpleHTTPRequestHandler):
    """Serves the routes of the RepositoryDouble that owns the server (and its folder, if any)."""

    server_version = "RepositoryDouble/1.0"
    # Kept-alive connections, as the repositories' own servers keep them (every answer has a Content-Length).
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        """Keep output quiet; the double keeps its own request log."""

    def do_GET(self):
        """Serve a GET."""
        self._serve(head=False)

    def do_HEAD(self):
        """Serve a HEAD."""
        self._serve(head=True)

    def _serve(self, *, head):
        double = self.server.double
        double._record(LoggedRequest(self.command, self.path, dict(self.headers.items())))
        try:
            double._apply_fault(self.path)
            route = double._route(self)
        except _Answer as answer:
            self._answer(answer, head=head)
            return
        if route is None:
            if double.folder is None:
                self._answer(_Answer(404, b"not found\n"), head=head)
            elif head:
                super().do_HEAD()
            else:
                super().do_GET()
            return
        self._send_file(route, head=head)

    def _answer(self, answer, *, head):
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not head:
            self.wfile.write(answer.body)

    def _send_file(self, served, *, head):
        """Send a file's bytes, honouring a single byte range."""
        size, chunks, content_type, headers = served
        start, end, status = 0, size, 200
        wanted = (self.headers.get("Range") or "").strip()
        found = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted)
        if found and (found.group(1) or found.group(2)):
            if found.group(1):
                start = int(found.group(1))
                end = min(int(found.group(2)) + 1, size) if found.group(2) else size
            else:
                start = max(0, size - int(found.group(2)))
            if start >= size or start >= end:
                self._answer(_Answer(416, headers={"Content-Range": f"bytes */{size}"}), head=head)
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Accept-Ranges", "bytes")
        for name, value in headers.items():
            self.send_header(name, value)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if head:
            return
        try:
            for block in chunks(start, end):
                self.wfile.write(block)
        except OSError:
            return  # the client stopped reading


class _TLSServer(ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in the request's own thread."""

    daemon_threads = True

    def finish_request(self, request, client_address):
        """Wrap the accepted socket in TLS, then serve it; a failed handshake just drops the client."""
        # No Nagle delay between a response's headers and its body (as production servers set it).
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.double._context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self, **self.handler_options)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        """Stay quiet: clients hang up on purpose."""


class RepositoryDouble:
    """Doubles of Zenodo/InvenioRDM, Dataverse, figshare and a DOI resolver on 127.0.0.1; a context manager."""

    def __init__(self, *, cert_file, key_file, host="127.0.0.1", port=0, folder=None, figshare_host=None):
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(cert_file), str(key_file))
        self.host = host
        self.folder = folder
        self.figshare_host = figshare_host or host
        self._lock = threading.Lock()
        self.log = []
        self._faults = []
        self._invenio, self._dataverse, self._figshare = {}, {}, {}
        self._dois = {}
        self._downloads = {}
        self._next_file_id = 5000
        self._httpd = _TLSServer((host, port), _Handler)
        self._httpd.double = self
        self._httpd.handler_options = {"directory": str(folder)} if folder is not None else {}
        self.port = self._httpd.server_address[1]
        self._thread = None

    # -- running ----------------------------------------------------------------------------------------

    def start(self):
        """Serve in a daemon thread and return self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def close(self):
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()

    # -- addresses --------------------------------------------------------------------------------------

    def url(self, path, *, host=None):
        """Return the https URL of `path` on this server (optionally under another name of the host)."""
        return f"https://{host or self.host}:{self.port}{path}"

    @property
    def doi_resolver_url(self):
        """Return the value for DOI_RESOLVER_URL."""
        return self.url("/doi/")

    @property
    def figshare_api_url(self):
        """Return the value for FIGSHARE_API_URL."""
        return self.url("/v2")

    # -- registering ------------------------------------------------------------------------------------

    def add_invenio(self, record_id, deposit, *, legacy=False, files_in_body=True):
        """Serve `deposit` as InvenioRDM record `record_id` (`legacy`: in Zenodo's legacy JSON shape).

        `files_in_body=False` leaves the entries out of the record, so that clients ask the files endpoint.
        """
        record_id = str(record_id)
        for file in deposit.files:
            # Served by the content route, which checks the record's access, not as a plain download.
            self._prepare(file, None)
            file.url = self.url(f"/api/records/{record_id}/files/{quote(file.path, safe='/')}/content")
        registered = Registered(
            family="invenio",
            deposit=deposit,
            landing_url=self.url(f"/records/{record_id}"),
            api_url=self.url(f"/api/records/{record_id}"),
            doi=deposit.doi,
        )
        with self._lock:
            self._invenio[record_id] = (registered, legacy, files_in_body)
        self._register_doi(deposit.doi, registered.landing_url)
        return registered

    def add_dataverse(self, persistent_id, deposit, *, checksum_type="MD5", dataset_id=None):
        """Serve `deposit` as Dataverse dataset `persistent_id` ("doi:10.7910/DVN/ABC").

        `checksum_type` is the installation's fixity algorithm: MD5, SHA-1, SHA-256 or SHA-512.
        """
        for file in deposit.files:
            self._prepare(file, None)
            file.url = self.url(
                f"/api/access/datafile/{file.file_id}" + ("?format=original" if file.ingested else "")
            )
        with self._lock:
            dataset_id = dataset_id or 100 + len(self._dataverse)
        pid = quote(persistent_id, safe=":/")
        registered = Registered(
            family="dataverse",
            deposit=deposit,
            landing_url=self.url(f"/dataset.xhtml?persistentId={pid}"),
            api_url=self.url(f"/api/datasets/:persistentId/?persistentId={pid}"),
            doi=deposit.doi or (persistent_id[4:] if persistent_id.lower().startswith("doi:") else ""),
        )
        with self._lock:
            self._dataverse[persistent_id.lower()] = (registered, persistent_id, checksum_type, dataset_id)
        self._register_doi(registered.doi, self.url(f"/citation?persistentId={pid}"))
        return registered

    def add_figshare(self, article_id, deposit, *, list_embargoed_files=True):
        """Serve `deposit` as figshare item `article_id`, its page on `figshare_host`.

        `list_embargoed_files=False` hides the files of an embargoed item, as a portal may.
        """
        article_id = int(article_id)
        for file in deposit.files:
            self._prepare(file, None)
            file.url = file.link or self.url(f"/ndownloader/files/{file.file_id}")
        slug = re.sub(r"[^A-Za-z0-9]+", "_", deposit.title).strip("_") or "item"
        registered = Registered(
            family="figshare",
            deposit=deposit,
            landing_url=self.url(
                f"/articles/dataset/{slug}/{article_id}/{deposit.version}", host=self.figshare_host
            ),
            api_url=f"{self.figshare_api_url}/articles/{article_id}",
            doi=deposit.doi,
        )
        with self._lock:
            self._figshare[article_id] = (registered, list_embargoed_files)
        self._register_doi(deposit.doi, registered.landing_url)
        return registered

    def add_doi(self, doi, url):
        """Make the DOI resolver send `doi` to `url` (any address: a file, a page, another host)."""
        self._register_doi(doi, url)

    def add_file(self, name, file):
        """Serve a DataFile at /files/<name>; return its URL."""
        self._prepare(file, f"/files/{quote(name)}")
        return file.url

    def fault(self, pattern, *, kind="status", status=503, retry_after=None, count=1):
        """Make the next `count` requests whose path (with query) matches `pattern` misbehave.

        `kind`: "status" answers `status` (with Retry-After when given), "html" a web page with 200, "garbage"
        random bytes with 200 and a JSON content type. `count=None`: every matching request.
        """
        if kind not in ("status", "html", "garbage"):
            raise ValueError(f"unknown fault kind {kind!r}")
        re.compile(pattern)
        with self._lock:
            self._faults.append(_Fault(pattern, kind, status, retry_after, count))

    def requests_for(self, pattern):
        """Return the logged requests whose path (with query) matches `pattern`."""
        with self._lock:
            return [request for request in self.log if re.search(pattern, request.path)]

    # -- internals --------------------------------------------------------------------------------------

    def _record(self, request):
        with self._lock:
            self.log.append(request)

    def _register_doi(self, doi, url):
        if doi:
            with self._lock:
                self._dois[doi.lower()] = url

    def _prepare(self, file, route):
        """Give a file its id, its checksums and (when `route` is given) its download route."""
        # MD5 and SHA-1 are what repositories announce (for integrity, not security).
        md5 = hashlib.md5(usedforsecurity=False)
        sha1 = hashlib.sha1(usedforsecurity=False)
        sha256 = hashlib.sha256()
        for block in file.chunks(0, file.length):
            md5.update(block)
            sha1.update(block)
            sha256.update(block)
        file.md5, file.sha1, file.sha256 = md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()
        with self._lock:
            self._next_file_id += 1
            file.file_id = self._next_file_id
            if route is not None:
                self._downloads[route] = file
        if route is not None:
            file.url = self.url(route)

    def _apply_fault(self, path):
        with self._lock:
            fault = next(
                (f for f in self._faults if (f.count is None or f.count > 0) and re.search(f.pattern, path)),
                None,
            )
            if fault is not None and fault.count is not None:
                fault.count -= 1
        if fault is None:
            return
        if fault.kind == "html":
            raise _Answer(200, _page("Maintenance", "<p>We will be back soon.</p>"), content_type="text/html")
        if fault.kind == "garbage":
            raise _Answer(200, bytes(range(256)) * 4, content_type=JSON_TYPE)
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        raise _Answer(
            fault.status,
            json.dumps({"status": fault.status}).encode(),
            content_type=JSON_TYPE,
            headers=headers,
        )

    def _route(self, handler):
        """Answer a repository route (raising _Answer), return a file to send, or None for the folder."""
        parts = urlsplit(handler.path)
        path, query = parts.path, parse_qs(parts.query)
        if path.startswith("/doi/"):
            target = self._dois.get(unquote(path[len("/doi/") :]).lower())
            if target is None:
                raise _Answer(404, _page("DOI Not Found"), content_type="text/html")
            raise _Answer(302, headers={"Location": target})
        if path in self._downloads:
            return self._download(self._downloads[path])
        for pattern, method in self._routes:
            found = re.fullmatch(pattern, path)
            if found:
                return method(self, *found.groups(), query=query, handler=handler)
        return None

    # InvenioRDM / Zenodo

    def _invenio_record(self, record_id):
        found = self._invenio.get(record_id)
        if found is None:
            raise _json_answer(404, {"status": 404, "message": "The persistent identifier does not exist."})
        return found

    def _invenio_landing(self, record_id, *, query, handler):
        if handler.path.startswith("/record/"):
            raise _Answer(301, headers={"Location": self.url(f"/records/{record_id}")})
        registered, _legacy, _in_body = self._invenio_record(record_id)
        raise _Answer(200, _page(registered.deposit.title), content_type="text/html; charset=utf-8")

    def _invenio_api(self, record_id, *, query, handler):
        registered, legacy, in_body = self._invenio_record(record_id)
        if legacy:
            raise _json_answer(200, self._zenodo_legacy(record_id, registered, in_body))
        raise _json_answer(200, self._invenio_rdm(record_id, registered, in_body))

    def _invenio_files(self, record_id, *, query, handler):
        registered, _legacy, _in_body = self._invenio_record(record_id)
        deposit = registered.deposit
        if deposit.restricted or deposit.embargo_until:
            raise _json_answer(403, {"status": 403, "message": "Permission denied."})
        entries = [self._invenio_entry(record_id, file) for file in deposit.files]
        raise _json_answer(
            200,
            {
                "enabled": True,
                "default_preview": None,
                "order": [],
                "entries": entries,
                "links": {"self": self.url(f"/api/records/{record_id}/files")},
            },
        )

    def _invenio_entry(self, record_id, file):
        content = self.url(f"/api/records/{record_id}/files/{quote(file.path, safe='/')}/content")
        return {
            "key": file.path,
            "size": file.length,
            "checksum": f"md5:{file.md5}",
            "mimetype": file.media_type,
            "status": "completed",
            "links": {"self": content.removesuffix("/content"), "content": content},
        }

    def _invenio_rdm(self, record_id, registered, in_body):
        deposit = registered.deposit
        files = {"enabled": True, "count": len(deposit.files), "order": []}
        if in_body:
            files["entries"] = {file.path: self._invenio_entry(record_id, file) for file in deposit.files}
        rights = []
        if deposit.license_id or deposit.license_name:
            rights.append(
                {
                    "id": deposit.license_id,
                    "title": {"en": deposit.license_name},
                    "props": {"scheme": "spdx", "url": deposit.license_url},
                }
            )
        return {
            "id": record_id,
            "is_published": True,
            "pids": {"doi": {"identifier": deposit.doi, "provider": "datacite"}} if deposit.doi else {},
            "metadata": {
                "resource_type": {"id": "dataset", "title": {"en": "Dataset"}},
                "title": deposit.title,
                "description": deposit.description,
                "publication_date": deposit.published,
                "version": deposit.version,
                "creators": [
                    {
                        "person_or_org": {
                            "type": "personal",
                            "name": person.name,
                            **(
                                {"identifiers": [{"scheme": "orcid", "identifier": person.orcid}]}
                                if person.orcid
                                else {}
                            ),
                        },
                        **({"affiliations": [{"name": person.affiliation}]} if person.affiliation else {}),
                    }
                    for person in deposit.creators
                ],
                "rights": rights,
                "subjects": [{"subject": keyword} for keyword in deposit.keywords],
            },
            "access": {
                "record": "public",
                "files": "restricted" if deposit.restricted or deposit.embargo_until else "public",
                "embargo": {
                    "active": bool(deposit.embargo_until),
                    "until": deposit.embargo_until or None,
                    "reason": None,
                },
            },
            "files": files,
            "links": {
                "self": registered.api_url,
                "self_html": registered.landing_url,
                "files": f"{registered.api_url}/files",
            },
        }

    def _zenodo_legacy(self, record_id, registered, in_body):
        deposit = registered.deposit
        access_right = (
            "embargoed" if deposit.embargo_until else "restricted" if deposit.restricted else "open"
        )
        document = {
            "id": int(record_id) if record_id.isdigit() else record_id,
            "recid": record_id,
            "doi": deposit.doi,
            "doi_url": f"https://doi.org/{deposit.doi}" if deposit.doi else "",
            "metadata": {
                "title": deposit.title,
                "doi": deposit.doi,
                "publication_date": deposit.published,
                "description": deposit.description,
                "access_right": access_right,
                "creators": [
                    {"name": person.name, "affiliation": person.affiliation or None, "orcid": person.orcid}
                    for person in deposit.creators
                ],
                "keywords": list(deposit.keywords),
                "version": deposit.version,
                "license": {"id": deposit.license_id},
                "resource_type": {"title": "Dataset", "type": "dataset"},
            },
            "links": {"self": registered.api_url, "html": registered.landing_url},
        }
        if deposit.embargo_until:
            document["metadata"]["embargo_date"] = deposit.embargo_until
        if in_body:
            document["files"] = [
                {
                    "id": f"{file.file_id:08x}-0000-4000-8000-000000000000",
                    "key": file.path,
                    "size": file.length,
                    "checksum": f"md5:{file.md5}",
                    "links": {"self": file.url},
                }
                for file in deposit.files
            ]
        return document

    def _invenio_content(self, record_id, key, *, query, handler):
        registered, _legacy, _in_body = self._invenio_record(record_id)
        deposit = registered.deposit
        file = next((f for f in deposit.files if f.path == unquote(key)), None)
        if file is None:
            raise _json_answer(404, {"status": 404, "message": "The file does not exist."})
        if deposit.restricted or deposit.embargo_until:
            raise _json_answer(403, {"status": 403, "message": "Permission denied."})
        return self._download(file)

    # Dataverse

    def _dataverse_dataset(self, query):
        pid = (query.get("persistentId") or [""])[0]
        found = self._dataverse.get(pid.lower())
        if found is None:
            raise _json_answer(
                404, {"status": "ERROR", "message": f"Dataset with Persistent ID {pid} not found."}
            )
        return found

    def _dataverse_page(self, *, query, handler):
        registered, *_ = self._dataverse_dataset(query)
        raise _Answer(200, _page(registered.deposit.title), content_type="text/html; charset=utf-8")

    def _dataverse_citation(self, *, query, handler):
        registered, *_ = self._dataverse_dataset(query)
        raise _Answer(302, headers={"Location": registered.landing_url})

    def _dataverse_api(self, *, query, handler):
        registered, persistent_id, checksum_type, dataset_id = self._dataverse_dataset(query)
        deposit = registered.deposit
        protocol, _, rest = persistent_id.partition(":")
        authority, _, identifier = rest.partition("/")
        major, _, minor = (deposit.version or "1.0").partition(".")

        def field(name, value, *, multiple=False, kind="primitive"):
            return {"typeName": name, "multiple": multiple, "typeClass": kind, "value": value}

        def compound(**values):
            return {name: field(name, value) for name, value in values.items() if value}

        authors = [
            compound(
                authorName=person.name,
                authorAffiliation=person.affiliation,
                authorIdentifierScheme="ORCID" if person.orcid else "",
                authorIdentifier=person.orcid,
            )
            for person in deposit.creators
        ]
        raise _json_answer(
            200,
            {
                "status": "OK",
                "data": {
                    "id": dataset_id,
                    "identifier": identifier,
                    "persistentUrl": f"https://doi.org/{rest}" if protocol == "doi" else "",
                    "protocol": protocol,
                    "authority": authority,
                    "publisher": "Repository double",
                    "publicationDate": deposit.published,
                    "latestVersion": {
                        "id": dataset_id * 10,
                        "datasetId": dataset_id,
                        "datasetPersistentId": persistent_id,
                        "versionNumber": int(major or 1),
                        "versionMinorNumber": int(minor or 0),
                        "versionState": "RELEASED",
                        "releaseTime": f"{deposit.published}T10:00:00Z",
                        **(
                            {"license": {"name": deposit.license_name, "uri": deposit.license_url}}
                            if deposit.license_name
                            else {}
                        ),
                        "fileAccessRequest": True,
                        "metadataBlocks": {
                            "citation": {
                                "displayName": "Citation Metadata",
                                "fields": [
                                    field("title", deposit.title),
                                    field("author", authors, multiple=True, kind="compound"),
                                    field(
                                        "dsDescription",
                                        [compound(dsDescriptionValue=deposit.description)]
                                        if deposit.description
                                        else [],
                                        multiple=True,
                                        kind="compound",
                                    ),
                                    field(
                                        "keyword",
                                        [compound(keywordValue=keyword) for keyword in deposit.keywords],
                                        multiple=True,
                                        kind="compound",
                                    ),
                                ],
                            }
                        },
                        "files": [self._dataverse_file(file, checksum_type) for file in deposit.files],
                    },
                },
            },
        )

    def _dataverse_file(self, file, checksum_type):
        digest = {"MD5": file.md5, "SHA-1": file.sha1, "SHA-256": file.sha256}.get(checksum_type, "")
        if checksum_type == "SHA-512":
            digest = hashlib.sha512(b"".join(file.chunks(0, file.length))).hexdigest()
        data_file = {
            "id": file.file_id,
            "persistentId": "",
            "filename": file.name,
            "contentType": file.media_type,
            "filesize": file.length,
            "storageIdentifier": f"file://{file.file_id:x}",
            "rootDataFileId": -1,
            "checksum": {"type": checksum_type, "value": digest},
            "restricted": file.restricted,
        }
        if checksum_type == "MD5":
            data_file["md5"] = digest
        label = file.name
        if file.ingested:
            label = file.name.rsplit(".", 1)[0] + ".tab"
            data_file.update(
                filename=label,
                contentType="text/tab-separated-values",
                filesize=len(file.archival()),
                originalFileFormat=file.media_type,
                originalFormatLabel="Comma Separated Values",
                originalFileSize=file.length,
                originalFileName=file.name,
                UNF="UNF:6:double",
            )
        if file.embargo_until:
            data_file["embargo"] = {"dateAvailable": file.embargo_until, "reason": "Awaiting publication"}
        entry = {"label": label, "restricted": file.restricted, "version": 1, "dataFile": data_file}
        if file.folder:
            entry["directoryLabel"] = file.folder
        return entry

    def _dataverse_download(self, file_id, *, query, handler):
        file = next(
            (
                f
                for registered, *_ in self._dataverse.values()
                for f in registered.deposit.files
                if f.file_id == int(file_id)
            ),
            None,
        )
        if file is None:
            raise _json_answer(404, {"status": "ERROR", "message": f"Datafile {file_id}: File not found"})
        if file.restricted or file.embargo_until:
            raise _json_answer(
                403,
                {
                    "status": "ERROR",
                    "message": "Not authorized to access this object via this API endpoint. Please check your "
                    "code for typos, or consult our API guide at http://guides.dataverse.org.",
                },
            )
        if file.ingested and (query.get("format") or [""])[0] != "original":
            archival = file.archival()
            return (
                len(archival),
                lambda start, end: iter([archival[start:end]]),
                "text/tab-separated-values",
                {},
            )
        return self._download(file)

    # figshare

    def _figshare_item(self, article_id, version):
        found = self._figshare.get(int(article_id))
        if found is None or (version and version != found[0].deposit.version):
            raise _json_answer(404, {"message": "Entity not found: article", "code": "EntityNotFound"})
        return found

    def _figshare_page(self, article_id, *, query, handler):
        registered, _listed = self._figshare_item(article_id, "")
        raise _Answer(200, _page(registered.deposit.title), content_type="text/html; charset=utf-8")

    def _figshare_public_files(self, registered, listed):
        deposit = registered.deposit
        if deposit.embargo_until and not listed:
            return []
        return [
            {
                "id": file.file_id,
                "name": file.path,
                "size": file.length,
                "is_link_only": bool(file.link),
                "download_url": file.url,
                "supplied_md5": file.md5,
                "computed_md5": "" if file.link else file.md5,
                "mimetype": file.media_type,
            }
            for file in deposit.files
        ]

    def _figshare_api(self, article_id, version, *, query, handler):
        registered, listed = self._figshare_item(article_id, version)
        deposit = registered.deposit
        raise _json_answer(
            200,
            {
                "id": int(article_id),
                "title": deposit.title,
                "doi": deposit.doi,
                "url": registered.api_url,
                "url_public_html": registered.landing_url,
                "url_public_api": registered.api_url,
                "published_date": f"{deposit.published}T09:00:00Z",
                "version": int(deposit.version or 1),
                "defined_type_name": "dataset",
                "description": deposit.description,
                "authors": [
                    {
                        "id": index + 1,
                        "full_name": person.name,
                        "is_active": True,
                        "url_name": re.sub(r"\W+", "_", person.name),
                        "orcid_id": person.orcid,
                    }
                    for index, person in enumerate(deposit.creators)
                ],
                "license": {"value": 1, "name": deposit.license_name, "url": deposit.license_url},
                "tags": list(deposit.keywords),
                "categories": [],
                "is_embargoed": bool(deposit.embargo_until),
                "embargo_date": deposit.embargo_until or None,
                "embargo_type": "file" if deposit.embargo_until else "",
                "embargo_title": "File(s) under embargo" if deposit.embargo_until else "",
                "is_confidential": False,
                "is_public": True,
                "status": "public",
                "files": self._figshare_public_files(registered, listed)[:10],
            },
        )

    def _figshare_files(self, article_id, version, *, query, handler):
        registered, listed = self._figshare_item(article_id, version)
        page = int((query.get("page") or ["1"])[0])
        size = int((query.get("page_size") or ["10"])[0])
        files = self._figshare_public_files(registered, listed)
        raise _json_answer(200, files[(page - 1) * size : page * size])

    def _figshare_download(self, file_id, *, query, handler):
        for registered, _listed in self._figshare.values():
            for file in registered.deposit.files:
                if file.file_id == int(file_id) and not file.link:
                    if registered.deposit.embargo_until:
                        raise _json_answer(403, {"message": "File is under embargo", "code": "Forbidden"})
                    return self._download(file)
        raise _json_answer(404, {"message": "Entity not found: file", "code": "EntityNotFound"})

    @staticmethod
    def _download(file):
        return file.length, file.chunks, file.media_type, {"Content-MD5": file.md5}

    _routes = (
        (r"/records?/([A-Za-z0-9-]+)/?", _invenio_landing),
        (r"/api/records/([A-Za-z0-9-]+)/?", _invenio_api),
        (r"/api/records/([A-Za-z0-9-]+)/files/?", _invenio_files),
        (r"/api/records/([A-Za-z0-9-]+)/files/(.+)/content", _invenio_content),
        (r"/dataset\.xhtml", _dataverse_page),
        (r"/citation", _dataverse_citation),
        (r"/api/datasets/:persistentId/?", _dataverse_api),
        (r"/api/access/datafile/(\d+)", _dataverse_download),
        (r"/articles/(?:[^/]+/)*?(\d{5,})(?:/\d{1,4})?/?", _figshare_page),
        (r"/v2/articles/(\d+)(?:/versions/(\d+))?/?", _figshare_api),
        (r"/v2/articles/(\d+)(?:/versions/(\d+))?/files/?", _figshare_files),
        (r"/ndownloader/files/(\d+)", _figshare_download),
    )


# -- the offline demo's record ------------------------------------------------------------------------

DEMO_RECORD_ID = "1001"
DEMO_DOI = (
    "10.5072/zenodo.1001"  # 10.5072 is DataCite's test prefix (Zenodo's sandbox uses it): never a real DOI
)


def demo_deposit():
    """Return the offline demo's Zenodo-style record: a small harbour water-quality table in three splits."""
    header = "sample_id,harbour,sampled_on,depth_m,temperature_c,salinity_psu,turbidity_ntu\n"
    harbours = ["Aarhus", "Gdansk", "Kiel", "Klaipeda", "Tallinn", "Turku"]

    def rows(first, count):
        lines = [header]
        for number in range(first, first + count):
            harbour = harbours[number % len(harbours)]
            day = 1 + number % 28
            month = 1 + (number // 28) % 12
            lines.append(
                f"WQ-{number:05d},{harbour},2022-{month:02d}-{day:02d},{1 + number % 9},"
                f"{4 + (number * 37 % 160) / 10:.1f},{6 + (number * 13 % 50) / 10:.1f},{(number * 7 % 90) / 10:.1f}\n"
            )
        return "".join(lines).encode()

    return Deposit(
        title="Baltic harbour water quality samples 2022",
        description="<p>Water samples from six Baltic harbours in 2022, split for machine learning into "
        "train, validation and test sets. A demo record of the portal's offline repository double.</p>",
        creators=[
            Person("Carberry, Josiah", orcid="0000-0002-1825-0097", affiliation="Brown University"),
            Person("Lindqvist, Maja", affiliation="Baltic Marine Institute (demo)"),
        ],
        doi=DEMO_DOI,
        license_id="cc-by-4.0",
        license_name="Creative Commons Attribution 4.0 International",
        license_url="https://creativecommons.org/licenses/by/4.0/legalcode",
        published="2024-05-01",
        version="1.0",
        keywords=["water quality", "Baltic Sea", "harbours"],
        files=[
            DataFile("train.csv", rows(0, 600), media_type="text/csv"),
            DataFile("validation.csv", rows(600, 120), media_type="text/csv"),
            DataFile("test.csv", rows(720, 180), media_type="text/csv"),
        ],
    )


def add_demo_record(double):
    """Register the demo record (Zenodo's legacy JSON shape, as zenodo.org answers) and return it."""
    return double.add_invenio(DEMO_RECORD_ID, demo_deposit(), legacy=True)


__all__ = [
    "DEMO_DOI",
    "DEMO_RECORD_ID",
    "DataFile",
    "Deposit",
    "LoggedRequest",
    "Person",
    "Registered",
    "RepositoryDouble",
    "add_demo_record",
    "demo_deposit",
]
