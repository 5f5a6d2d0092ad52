"""A local https data source and a connection recorder, for tests of everything that fetches URLs.

`SourceServer` serves https on 127.0.0.1 with a throwaway CA from `trustme` (point PORTAL_FETCH_CA_BUNDLE at
`ca_path`), from a `ThreadingHTTPServer` in a background thread. Routes are added per test: generated files of
any size (produced block by block, never built in memory), bytes, redirects, error statuses, flaky and slow
responses, wrong or missing Content-Length, chunked bodies and byte ranges. Every request is logged.

`Listener` is a bare TCP socket that only records connection attempts, so a test can prove that a refused URL
made no connection at all. This module is test support: it must not be imported by portal code.
"""

import contextlib
import dataclasses
import hashlib
import re
import select
import shutil
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

GENERATED_BLOCK = 64 * 1024
_ZEROS = bytes(GENERATED_BLOCK)


def generated_block(seed, index):
    """Return block `index` of the deterministic pseudo-random file for `seed`.

    The file is the AES-CTR keystream of a key derived from the seed: any block can be made on its own (for
    byte ranges), and at gigabytes per second, so that a benchmark measures its client rather than the
    source's generator (Python's `Random.randbytes` made 235 MiB/s and held the GIL while it did).
    """
    key = hashlib.sha256(f"generated file {seed}".encode()).digest()
    counter = (index * GENERATED_BLOCK // 16).to_bytes(16, "big")
    return Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor().update(_ZEROS)


def generated_bytes(seed, start, end):
    """Yield the bytes [start, end) of the generated file for `seed`, block by block."""
    position = start
    while position < end:
        index, skip = divmod(position, GENERATED_BLOCK)
        block = generated_block(seed, index)[skip : skip + (end - position)]
        yield block
        position += len(block)


def generated_sha256(size, seed=0):
    """Return the hex SHA-256 of the generated file of `size` bytes for `seed`, computed by streaming."""
    digest = hashlib.sha256()
    for block in generated_bytes(seed, 0, size):
        digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class LoggedRequest:
    """One request the source server received."""

    method: str
    path: str
    headers: dict


@dataclasses.dataclass
class _Body:
    """A route that serves a body: `chunks(start, end)` yields its bytes from `start` to `end`."""

    size: int
    chunks: object
    content_type: str = "application/octet-stream"
    ranges: bool = True
    declared_size: object = "actual"  # "actual", None (no Content-Length, close-delimited) or an int
    chunked: bool = False
    head_allowed: bool = True
    delay: float = 0.0
    headers: dict = dataclasses.field(default_factory=dict)
    rate: float = 0.0  # bytes per second; 0 sends as fast as possible
    # GETs wait here until as many are in flight as the barrier has parties (503 when it times out): proves
    # that a client fetches several files at once.
    barrier: object = None


@dataclasses.dataclass
class _Status:
    """A route that answers a fixed status, such as a redirect or a 404."""

    status: int
    body: bytes = b""
    headers: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Drip:
    """A route that sends its headers one line at a time, slowly and forever (a slowloris server)."""

    interval: float


@dataclasses.dataclass
class _Failing:
    """A route that answers `status` for its first `times` requests, then behaves as `then`."""

    status: int
    times: int
    then: object
    retry_after: object = None
    seen: int = 0


class _Handler(BaseHTTPRequestHandler):
    """Serves the routes of the SourceServer that owns the HTTP server."""

    server_version = "TestSource/1.0"

    def log_message(self, format, *args):
        """Keep test output quiet; the server keeps its own request log."""

    def do_GET(self):
        """Serve a GET."""
        self._serve(head=False)

    def do_HEAD(self):
        """Serve a HEAD."""
        self._serve(head=True)

    def _serve(self, *, head):
        source = self.server.source
        if source.keep_alive:
            # Decided per request (the class answers HTTP/1.0): keep the connection unless the client closes it.
            self.protocol_version = "HTTP/1.1"
            self.close_connection = (self.headers.get("Connection") or "").lower() == "close"
        source._record(LoggedRequest(self.command, self.path, dict(self.headers.items())))
        route = source._routes.get(self.path.split("?", 1)[0])
        while isinstance(route, _Failing):
            with source._lock:
                route.seen += 1
                failing = route.seen <= route.times
            if not failing:
                route = route.then
                continue
            headers = {} if route.retry_after is None else {"Retry-After": str(route.retry_after)}
            self._answer(_Status(route.status, b"temporarily failing\n", headers), head=head)
            return
        if route is None:
            self._answer(_Status(404, b"not found\n"), head=head)
        elif isinstance(route, _Body) and route.barrier is not None and not head and not self._passed(route):
            self._answer(_Status(503, b"the other downloads did not come\n"), head=head)
        elif isinstance(route, _Drip):
            self._drip(route)
        elif isinstance(route, _Status):
            self._answer(route, head=head)
        else:
            self._send_body(route, head=head)

    @staticmethod
    def _passed(route):
        try:
            route.barrier.wait()
        except threading.BrokenBarrierError:
            return False
        return True

    def _drip(self, route):
        # A status line, then one header line every `interval` seconds, never ending the headers.
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            while not self.server.source._stopping.wait(route.interval):
                self.wfile.write(b"X-Slow: a\r\n")
                self.wfile.flush()
        except OSError:
            return

    def _answer(self, route, *, head):
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        if not head:
            self.wfile.write(route.body)

    def _send_body(self, route, *, head):
        if head and not route.head_allowed:
            self._answer(_Status(405, b""), head=True)
            return
        if route.delay and self.server.source._stopping.wait(route.delay):
            return
        start, end, status = 0, route.size, 200
        wanted = self.headers.get("Range")
        if route.ranges and wanted:
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted.strip())
            first = int(match.group(1)) if match else route.size
            if first >= route.size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{route.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            last = int(match.group(2)) if match.group(2) else route.size - 1
            start, end, status = first, min(last, route.size - 1) + 1, 206
        if route.chunked:
            self.protocol_version = "HTTP/1.1"
        self.send_response(status)
        self.send_header("Content-Type", route.content_type)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.ranges:
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{route.size}")
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.close_connection = True
        elif route.declared_size == "actual":
            self.send_header("Content-Length", str(end - start))
        elif route.declared_size is not None:
            self.send_header("Content-Length", str(route.declared_size))
        self.end_headers()
        if head:
            return
        try:
            for block in route.chunks(start, end):
                if route.chunked:
                    self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                else:
                    self.wfile.write(block)
                if route.rate and self.server.source._stopping.wait(len(block) / route.rate):
                    return
            if route.chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            # The client stopped reading (size cap, test over): nothing to report.
            return


class _TLSServer(ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in the request's own thread."""

    daemon_threads = True

    def finish_request(self, request, client_address):
        """Wrap the accepted socket in TLS, then serve it; a failed handshake just drops the client."""
        # No Nagle delay between a response's headers and its body (as production servers set it).
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.source._context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        with self.source._lock:
            self.source.connections += 1
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        """Stay quiet: clients in tests hang up on purpose."""


class SourceServer:
    """An https data source on 127.0.0.1 with routes that tests add; use it as a context manager."""

    def __init__(self, *, host="127.0.0.1", names=(), keep_alive=False):
        """`keep_alive`: answer in HTTP/1.1 and keep connections open between requests (HTTP/1.0 otherwise)."""
        self.keep_alive = keep_alive
        # TLS connections accepted so far.
        self.connections = 0
        self._ca = trustme.CA()
        self._tmp = Path(tempfile.mkdtemp(prefix="source-server-"))
        self.ca_path = self._tmp / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_path))
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(host, *names).configure_cert(self._context)
        self.host = host
        self._routes = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.log = []
        self._httpd = _TLSServer((host, 0), _Handler)
        self._httpd.source = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Stop serving, wake slow handlers and remove the CA file."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def url(self, path, *, host=None):
        """Return the https URL of `path` on this server (optionally under another name for the host)."""
        return f"https://{host or self.host}:{self.port}{path}"

    def _record(self, request):
        with self._lock:
            self.log.append(request)

    def requests_for(self, path):
        """Return the logged requests whose path (without query) is `path`."""
        with self._lock:
            return [r for r in self.log if r.path.split("?", 1)[0] == path]

    def add_generated(self, path, size, seed=0, **options):
        """Serve a deterministic pseudo-random file of `size` bytes, generated while it is sent.

        Options: content_type, ranges (bool), declared_size ("actual", None or an int), chunked,
        head_allowed, delay (seconds before answering), headers (extra response headers), rate (bytes per
        second, to keep a download running while a test acts), barrier (a threading.Barrier that GETs wait at).
        """
        self._routes[path] = _Body(size=size, chunks=lambda s, e: generated_bytes(seed, s, e), **options)

    def add_bytes(self, path, data, **options):
        """Serve `data`, with the same options as add_generated."""
        self._routes[path] = _Body(size=len(data), chunks=lambda s, e: iter([data[s:e]]), **options)

    def add_file(self, path, file_path, **options):
        """Serve a file from disk, read block by block (benchmarks serve files of several GB)."""

        def chunks(start, end):
            with open(file_path, "rb") as handle:
                handle.seek(start)
                position = start
                while position < end and (block := handle.read(min(GENERATED_BLOCK, end - position))):
                    yield block
                    position += len(block)

        self._routes[path] = _Body(size=Path(file_path).stat().st_size, chunks=chunks, **options)

    def add_repeated(self, path, head, line, size, **options):
        """Serve `head` then `line` over and over up to `size` bytes, generated while it is sent (a huge CSV)."""

        def chunks(start, end):
            block = line * max(1, GENERATED_BLOCK // len(line))
            position = start
            while position < end:
                if position < len(head):
                    piece = head[position : min(end, len(head))]
                else:
                    offset = (position - len(head)) % len(block)
                    piece = block[offset : offset + (end - position)]
                yield piece
                position += len(piece)

        self._routes[path] = _Body(size=size, chunks=chunks, **options)

    def add_redirect(self, path, location, *, status=302):
        """Redirect `path` to `location` (any URL, including http:// or another host)."""
        self._routes[path] = _Status(status, b"", {"Location": location})

    def add_status(self, path, status, *, body=b"", headers=None):
        """Answer `path` with a fixed status (404, 403, 500...) and body."""
        self._routes[path] = _Status(status, body, dict(headers or {}))

    def add_dripping_headers(self, path, *, interval=0.2):
        """Answer `path` with headers that trickle in forever, each line well within a socket timeout."""
        self._routes[path] = _Drip(interval=interval)

    def add_failing(self, path, *, status=503, times=1, retry_after=None):
        """Answer `status` to the first `times` requests of `path`, then serve what `path` served before."""
        then = self._routes.get(path, _Status(404, b"not found\n"))
        self._routes[path] = _Failing(status=status, times=times, then=then, retry_after=retry_after)


class Listener:
    """A TCP socket that accepts and counts connection attempts, answering nothing."""

    def __init__(self, *, host="127.0.0.1"):
        self.host = host
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]
        self._peers = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def url(self, path="/", *, scheme="https"):
        """Return a URL of this listener."""
        return f"{scheme}://{self.host}:{self.port}{path}"

    def _drain(self):
        """Accept every connection already queued by the kernel, recording and closing each."""
        while True:
            try:
                conn, peer = self._sock.accept()
            except (BlockingIOError, OSError):
                return
            self._peers.append(peer)
            conn.close()

    def _run(self):
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._sock], [], [], 0.05)
            if readable:
                with self._lock:
                    self._drain()

    @property
    def connections(self):
        """Return the number of connection attempts so far, including ones not yet picked up by the thread."""
        # The kernel completes a TCP handshake before accept(): draining here leaves no attempt uncounted.
        with self._lock:
            self._drain()
            return len(self._peers)

    def close(self):
        """Stop listening."""
        self._stopping.set()
        self._thread.join(timeout=5)
        self._sock.close()
