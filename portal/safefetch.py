"""The one HTTP client for URLs that contributors give us (location check, mirroring downloads).

Every contributor-supplied URL is fetched through this module and nothing else, following the OWASP
Server-Side Request Forgery prevention cheat sheet
(https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html):

- https only, no credentials in the URL, no IP literal in an unusual numeric form (``2130706433``);
- the host is resolved once with ``resolve()``; every address it resolves to must be a public internet address
  (or lie in ``PORTAL_FETCH_ALLOWED_NETWORKS``), otherwise nothing is connected to;
- the TCP connection goes to one of those checked addresses (pinned), while TLS uses the original host name
  for SNI and certificate verification, so a DNS answer that changes between check and connect is never used;
- redirects are followed by hand, at most ``MAX_REDIRECTS``, and each new URL passes the whole policy again;
- short timeouts (``PORTAL_FETCH_TIMEOUT``) and a byte cap on every body read; bodies are streamed in chunks.

This module must not be bypassed with another HTTP client for contributor URLs, must not send cookies or
credentials, and must not hold a whole response body in memory. It knows nothing about submissions or the Hub.
"""

import base64
import binascii
import contextlib
import dataclasses
import email.utils
import functools
import hashlib
import http.client
import ipaddress
import os
import queue
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

from portal import directio, i18n

MAX_REDIRECTS = 5
DEFAULT_CHUNK_SIZE = 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "DatasetPortal-fetch/1.0"

# Special-purpose ranges from the IANA registries, in plain words for a curator. Python 3.11's
# `is_global` misses several of them (6to4, NAT64, site-local, 192.0.0.0/24), so the list is explicit.
_BLOCKED_NETWORKS = [
    (ipaddress.ip_network(cidr), reason)
    for cidr, reason in [
        ("0.0.0.0/8", gettext_noop("an unspecified or 'this network' address")),
        ("10.0.0.0/8", gettext_noop("a private network address")),
        ("100.64.0.0/10", gettext_noop("a shared (carrier-grade NAT) address")),
        ("127.0.0.0/8", gettext_noop("a loopback address (this machine)")),
        ("169.254.0.0/16", gettext_noop("a link-local address (used by cloud metadata services)")),
        ("172.16.0.0/12", gettext_noop("a private network address")),
        ("192.0.0.0/24", gettext_noop("a special-purpose address")),
        ("192.0.2.0/24", gettext_noop("a documentation address")),
        ("192.88.99.0/24", gettext_noop("a special-purpose relay address")),
        ("192.168.0.0/16", gettext_noop("a private network address")),
        ("198.18.0.0/15", gettext_noop("a benchmarking address")),
        ("198.51.100.0/24", gettext_noop("a documentation address")),
        ("203.0.113.0/24", gettext_noop("a documentation address")),
        ("224.0.0.0/4", gettext_noop("a multicast address")),
        ("240.0.0.0/4", gettext_noop("a reserved address")),
        ("::/128", gettext_noop("an unspecified address")),
        ("::1/128", gettext_noop("a loopback address (this machine)")),
        ("::/96", gettext_noop("a deprecated IPv4-compatible address")),
        ("64:ff9b:1::/48", gettext_noop("a local-use translation address")),
        ("100::/64", gettext_noop("a discard-only address")),
        ("2001::/23", gettext_noop("a special-purpose address (such as a Teredo tunnel)")),
        ("2001:db8::/32", gettext_noop("a documentation address")),
        ("3fff::/20", gettext_noop("a documentation address")),
        ("5f00::/16", gettext_noop("a special-purpose routing address")),
        ("fc00::/7", gettext_noop("a private network address (unique local)")),
        ("fe80::/10", gettext_noop("a link-local address")),
        ("fec0::/10", gettext_noop("a site-local address")),
        ("ff00::/8", gettext_noop("a multicast address")),
    ]
]
# IPv6 forms that carry an IPv4 address: the embedded address decides.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class FetchFailed(i18n.MessageError):
    """Base of every failure of this module; the message is fit for a curator to read.

    Raised with a stored message (`portal.i18n.message`): `exc.message` keeps it for whoever stores it, str(exc)
    says it in the active language."""


class FetchBlocked(FetchFailed):
    """The URL or an address it leads to is refused by the policy; nothing was fetched from it."""


class FetchTooLarge(FetchFailed):
    """The body is, or declares to be, larger than the caller's byte cap."""


class FetchError(FetchFailed):
    """A network failure, timeout, TLS error or unwanted HTTP status."""

    def __init__(self, message, *, status=None, retryable=True, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """What a location check learnt from the headers of a URL, without reading its body."""

    final_url: str
    status: int
    reachable: bool
    content_type: str
    size: int | None
    redirects: list[str]
    accepts_ranges: bool


@dataclasses.dataclass(frozen=True)
class DownloadResult:
    """A finished download: where it is, how large, its SHA-256 (hex) and any other digests asked for."""

    path: Path
    size: int
    sha256: str
    content_type: str
    final_url: str
    digests: dict = dataclasses.field(default_factory=dict)  # {"sha256": hex, "md5": hex, ...}


class Digests:
    """SHA-256 and any other hashlib algorithms (e.g. MD5, as repositories announce it), fed the same bytes."""

    def __init__(self, extra=()):
        self._digests = {"sha256": hashlib.sha256()}
        for name in extra:
            if name not in self._digests:
                self._digests[name] = hashlib.new(name, usedforsecurity=False)

    def update(self, data):
        """Feed `data` to every digest."""
        for digest in self._digests.values():
            digest.update(data)

    def hexdigest(self):
        """Return the SHA-256 in hex."""
        return self._digests["sha256"].hexdigest()

    def hexdigests(self):
        """Return every digest in hex, by algorithm name."""
        return {name: digest.hexdigest() for name, digest in self._digests.items()}


@dataclasses.dataclass(frozen=True)
class _Target:
    """A URL that passed the policy, with the addresses it may be connected to."""

    url: str
    host: str
    port: int
    request_target: str
    addresses: list[str]


def resolve(host, port):
    """Return the IP addresses (as strings) that `host` resolves to for TCP; tests may replace this."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        # A temporary resolver failure heals; a name that does not exist does not.
        retryable = exc.errno in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None))
        raise FetchError(
            i18n.message(gettext_noop("The host name %(host)s could not be resolved."), host=host),
            retryable=retryable,
        ) from exc
    addresses = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def check_url(url):
    """Raise FetchBlocked if the scheme, credentials, length, host or IP literal of `url` is refused."""
    _check_static(url)


def probe(url):
    """Return what the headers of `url` say (status, type, size, ranges), reading no body."""
    conn, response, final_url, redirects = _open("HEAD", url, headers={})
    _close(conn, response)
    result = _probe_result(response, final_url, redirects, accepts_ranges=_accepts_ranges(response))
    if result.reachable and result.size is not None:
        return result
    # Many servers refuse HEAD (405), fail it, or omit the size there: ask for the first byte instead.
    # A network failure of HEAD is raised as is, so a dead host costs one timeout, not two.
    conn, response, final_url, redirects = _open("GET", url, headers={"Range": "bytes=0-0"})
    try:
        accepts = response.status == 206 or _accepts_ranges(response)
        return _probe_result(response, final_url, redirects, accepts_ranges=accepts)
    finally:
        # The body may be the whole file when the server ignores Range: never read it.
        _close(conn, response)


class StreamResponse:
    """A body being streamed by `stream()`; read it with `iter_chunks()` or `read_into()`."""

    def __init__(self, *, response, final_url, redirects, start, max_bytes, chunk_size, hops=()):
        self._response = response
        self.final_url = final_url
        self.redirects = redirects
        self.status = response.status
        self.content_type = _media_type(response)
        self.resumed = response.status == 206
        # Offset of the first byte this response delivers within the whole resource.
        self.offset = start if self.resumed else 0
        self._max_bytes = max_bytes
        self._chunk_size = chunk_size
        self._declared = _declared_length(response)
        self.size = self._total_size(start)
        # The SHA-256 of the whole resource when the server states it (hex), else None. A claim, not a fact:
        # whoever relies on it must compare it with the digest of the bytes received.
        self.announced_sha256 = announced_sha256(response, hops=hops, size=self.size)
        self.bytes_read = 0
        if self.offset > max_bytes:
            raise FetchTooLarge(_too_large_message(max_bytes, declared=self.offset))
        if self.size is not None and self.size > max_bytes:
            raise FetchTooLarge(_too_large_message(max_bytes, declared=self.size))

    def _total_size(self, start):
        """Return the size of the whole resource when the headers say it."""
        if self.resumed:
            first, total = _content_range(self._response)
            if first != start:
                raise FetchError(
                    f"The server resumed at byte {first} instead of byte {start}.",
                    status=206,
                    retryable=False,
                )
            return total
        return self._declared

    def iter_chunks(self):
        """Yield the body in chunks of at most `chunk_size` bytes, enforcing the byte cap."""
        while chunk := self._next(self._response.read):
            yield chunk

    def read_into(self, buffer):
        """Receive the body's next bytes (at most `chunk_size`) into `buffer`; return how many, 0 at the end.

        Like `iter_chunks`, but into a buffer the caller reuses: a large download then allocates (and, on a
        virtual machine, faults in) a few buffers once instead of a new chunk per megabyte.
        """
        with memoryview(buffer) as view:
            return len(self._next(lambda size: view[: self._response.readinto(view[:size])]))

    def _next(self, read):
        """Return what `read(size)` gives of the body next, enforcing the byte cap; empty at the end."""
        # Never ask for more than one byte past the cap, so an oversized body is stopped at once.
        allowed = self._max_bytes - self.offset - self.bytes_read
        try:
            chunk = read(min(self._chunk_size, allowed + 1))
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc, host=urlsplit(self.final_url).hostname) from exc
        if chunk:
            self.bytes_read += len(chunk)
            if self.offset + self.bytes_read > self._max_bytes:
                raise FetchTooLarge(_too_large_message(self._max_bytes))
        # http.client returns an empty read, not an error, when the peer closes before Content-Length.
        elif self._declared is not None and self.bytes_read < self._declared:
            raise FetchError(
                f"The connection closed after {self.bytes_read} of {self._declared} bytes.", retryable=True
            )
        return chunk


@contextlib.contextmanager
def stream(url, *, max_bytes, chunk_size=DEFAULT_CHUNK_SIZE, start=0, headers=None):
    """Open `url` for a streamed GET (resuming at byte `start`), yielding a StreamResponse.

    `max_bytes` caps the whole resource, including the `start` bytes already held by the caller. `headers`
    adds request headers (such as `Accept: application/json` for a repository's API).
    """
    # Ask for the SHA-256 of the whole resource (RFC 9530, and RFC 3230 for older servers): a server that
    # can tell it lets the caller check the bytes against it, and upload them while they arrive.
    headers = {"Want-Repr-Digest": "sha-256=10", "Want-Digest": "SHA-256", **(headers or {})}
    if start:
        headers["Range"] = f"bytes={start}-"
    hops = []
    conn, response, final_url, redirects = _open("GET", url, headers=headers, hops=hops)
    try:
        if response.status not in (200, 206):
            raise _status_error(response, host=urlsplit(final_url).hostname)
        yield StreamResponse(
            response=response,
            final_url=final_url,
            redirects=redirects,
            start=start,
            max_bytes=max_bytes,
            chunk_size=chunk_size,
            hops=hops,
        )
    finally:
        _close(conn, response)


class _HashingWriter(threading.Thread):
    """Writes and hashes chunks in a thread while the caller receives the next ones.

    Both the file write and SHA-256 of a large buffer release the GIL, so receiving, hashing and writing
    overlap. The caller receives each chunk into `buffer()`, one of `depth` + 2 page-aligned buffers that the
    writer hands back once the chunk is written: memory stays flat, no new memory is touched per chunk, and
    whole blocks go to disk past the page cache (`portal.directio`). `out` has `write_at(data, length,
    offset)`; the chunks are written one after another from `offset`. An error of the write is raised in the
    caller at its next `buffer()` or `put`, or on leaving the `with` block.
    """

    def __init__(self, out, digest, *, offset, chunk_size, depth=4, on_written=None):
        super().__init__(name="safefetch-writer", daemon=True)
        self._out, self._digest = out, digest
        self._offset = offset
        self._free = queue.Queue()
        for _ in range(depth + 2):
            self._free.put(directio.buffer(chunk_size))
        self._chunks = queue.Queue()
        self._error = None
        self._on_written = on_written

    def run(self):
        """Write and hash chunks until the end marker (None); after an error, only drain."""
        while (item := self._chunks.get()) is not None:
            buffer, length = item
            if self._error is None:
                try:
                    self._out.write_at(buffer, length, self._offset)
                    with memoryview(buffer)[:length] as chunk:
                        self._digest.update(chunk)
                    self._offset += length
                    if self._on_written is not None:
                        self._on_written(self._offset)
                except BaseException as exc:
                    self._error = exc
            self._free.put(buffer)

    def buffer(self):
        """Return a buffer to receive the next chunk into, waiting while every buffer holds one to write."""
        self._raise_error()
        return self._free.get()

    def put(self, buffer, length):
        """Queue the first `length` bytes of a buffer from `buffer()`; raise the writer's error, if any."""
        self._raise_error()
        self._chunks.put((buffer, length))

    def _raise_error(self):
        if self._error is not None:
            raise self._error

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self._chunks.put(None)
        self.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error


def download(
    url,
    dest_path,
    *,
    max_bytes,
    progress: Callable[[int, int | None], None] | None = None,
    resume=False,
    chunk_size=DEFAULT_CHUNK_SIZE,
    on_response: Callable[["StreamResponse"], bool] | None = None,
    on_written: Callable[[int], None] | None = None,
    extra_digests=(),
):
    """Stream `url` into `dest_path`, computing SHA-256 on the way; resume a partial file if asked.

    `extra_digests` names other hashlib algorithms (e.g. "md5") computed on the same bytes, returned in the
    result's `digests` with the SHA-256.

    `on_response(response)` is called once the headers passed every check, before any byte of the body is
    written; it returns True when the caller will read the file as it grows, which is then written through
    the page cache (else whole blocks go past it: the file is read at most once, later).
    `on_written(offset)` is called, from the writing thread, each time the file holds its bytes up to
    `offset`. A failed download leaves its partial file for a later `resume=True` call, except when it is
    too large.
    """
    dest_path = Path(dest_path)
    digest = Digests(extra_digests)
    start = 0
    if resume and dest_path.exists():
        # Resume at a block boundary, so that every later write may go past the page cache; the digest must
        # cover the bytes kept, read back in blocks.
        kept = dest_path.stat().st_size
        # Always ask for some bytes again (the last block at least): a file kept whole would otherwise ask for
        # a range past the end of the resource, which servers answer 416.
        kept -= kept % directio.ALIGNMENT or min(kept, directio.ALIGNMENT)
        held = directio.BlockReader(dest_path, block_size=chunk_size)
        try:
            while start < kept:
                block = held.read_at(start, kept - start)
                if not block:
                    break
                digest.update(block)
                start += len(block)
        finally:
            held.close()
    try:
        with stream(url, max_bytes=max_bytes, chunk_size=chunk_size, start=start) as response:
            if not response.resumed and start:
                digest = Digests(extra_digests)
            with dest_path.open("r+b" if response.resumed else "wb") as out:
                out.truncate(response.offset)
            done = response.offset
            read_along = on_response(response) if on_response is not None else False
            with (
                directio.Writer(dest_path, direct=not read_along) as out,
                _HashingWriter(
                    out, digest, offset=done, chunk_size=chunk_size, on_written=on_written
                ) as writer,
            ):
                while length := response.read_into(buffer := writer.buffer()):
                    writer.put(buffer, length)
                    done += length
                    if progress is not None:
                        progress(done, response.size)
    except FetchTooLarge:
        dest_path.unlink(missing_ok=True)
        raise
    return DownloadResult(
        path=dest_path,
        size=done,
        sha256=digest.hexdigest(),
        content_type=response.content_type,
        final_url=response.final_url,
        digests=digest.hexdigests(),
    )


@dataclasses.dataclass(frozen=True)
class SampleResult:
    """A bounded sample of a resource, written into a (sparse) file at the bytes' own offsets.

    `held` lists the (start, end) byte ranges that were fetched; the rest of the file reads as zeros and
    holds nothing on disk. `complete` is true when the whole resource was fetched.
    """

    path: Path
    size: int | None
    held: list[tuple[int, int]]
    complete: bool
    timed_out: bool
    content_type: str
    final_url: str

    @property
    def bytes_held(self):
        """Return how many bytes of the resource the sample holds."""
        return sum(end - start for start, end in self.held)


def sample(url, dest_path, *, max_bytes, tail_bytes=0, seconds, chunk_size=DEFAULT_CHUNK_SIZE):
    """Fetch at most `max_bytes` of `url` into `dest_path`: its start, and its last `tail_bytes` if ranged.

    Where the server honours byte ranges, the first `max_bytes - tail_bytes` bytes and the last `tail_bytes`
    are asked for separately (a Parquet footer or a zip's central directory sits at the end); otherwise the
    prefix of a plain GET is read and the connection closed at the cap. The whole fetch stops after `seconds`
    of wall time (a server that trickles bytes): what arrived by then is kept and `timed_out` is set.
    Unlike `download`, a resource larger than the cap is not an error: the sample is simply partial.
    """
    dest_path = Path(dest_path)
    deadline = time.monotonic() + seconds
    tail_bytes = max(0, min(tail_bytes, max_bytes // 2))
    head_want = max_bytes - tail_bytes
    with dest_path.open("wb") as out:
        head = _sample_range(
            url, out, start=0, want=head_want, plain_want=max_bytes, deadline=deadline, chunk_size=chunk_size
        )
        held = [(0, head.received)] if head.received else []
        size = head.size
        complete = size is not None and head.received >= size
        if not head.ranged and head.ended and not head.timed_out:
            # A plain 200 that ended by itself was the whole resource, even without a Content-Length.
            complete, size = True, head.received if size is None else size
        timed_out = head.timed_out
        if head.ranged and not complete and not timed_out and tail_bytes and size:
            start = max(head.received, size - tail_bytes)
            tail = _sample_range(
                head.final_url, out, start=start, want=size - start, deadline=deadline, chunk_size=chunk_size
            )
            if tail.received:
                held.append((start, start + tail.received))
            timed_out = tail.timed_out
            complete = held == [(0, size)] or (len(held) == 2 and held[0][1] == held[1][0] == size)
    return SampleResult(
        path=dest_path,
        size=size,
        held=held,
        complete=complete,
        timed_out=timed_out,
        content_type=head.content_type,
        final_url=head.final_url,
    )


@dataclasses.dataclass
class _RangeRead:
    """What one ranged (or plain) GET of `sample` delivered."""

    received: int = 0
    size: int | None = None
    ranged: bool = False
    ended: bool = False
    timed_out: bool = False
    content_type: str = ""
    final_url: str = ""


def _sample_range(url, out, *, start, want, deadline, chunk_size, plain_want=None):
    """GET `want` bytes of `url` from byte `start` and write them at their offset in `out`.

    When the server ignores the range of a request from byte 0, up to `plain_want` bytes are read instead
    (there will be no second request for the end).
    """
    read = _RangeRead(final_url=url)
    if want <= 0:
        return read
    conn, response, read.final_url, _redirects = _open(
        "GET", url, headers={"Range": f"bytes={start}-{start + want - 1}"}
    )
    overdue = threading.Event()
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _abort, args=(conn, overdue))
    watchdog.daemon = True
    watchdog.start()
    try:
        if response.status == 416 and start == 0:
            # Some servers answer an empty file's range with 416; it is an empty resource.
            read.size, read.ended = 0, True
            return read
        if response.status not in (200, 206):
            raise _status_error(response, host=urlsplit(read.final_url).hostname)
        read.content_type = _media_type(response)
        if response.status == 206:
            first, read.size = _content_range(response)
            if first != start:
                raise FetchError(f"The server sent byte {first} instead of byte {start}.", retryable=False)
            read.ranged = True
        elif start:
            # The server ignored the range of a tail request: the prefix already fetched is all we take.
            return read
        else:
            read.size = _declared_length(response)
            want = plain_want or want
        out.seek(start)
        while read.received < want:
            try:
                # read1 returns what has arrived, so a trickling server cannot hold one read for long.
                chunk = response.read1(min(chunk_size, want - read.received))
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if overdue.is_set():
                    read.timed_out = True
                    break
                raise _network_error(exc, host=urlsplit(read.final_url).hostname) from exc
            if not chunk:
                read.timed_out = overdue.is_set()
                read.ended = not read.timed_out
                break
            out.write(chunk)
            read.received += len(chunk)
        return read
    finally:
        watchdog.cancel()
        _close(conn, response)


# -- policy -------------------------------------------------------------------------------------------


def _allowed_networks():
    """Return the networks exempt from the address block, read from settings at call time."""
    networks = []
    for cidr in settings.PORTAL_FETCH_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"PORTAL_FETCH_ALLOWED_NETWORKS holds {cidr!r}, not a network"
            ) from exc
    return networks


def _address_problem(address, allowed):
    """Return why `address` may not be connected to, in plain words, or None when it may."""
    if any(address.version == net.version and address in net for net in allowed):
        return None
    if address.version == 6:
        embedded = address.ipv4_mapped
        if embedded is not None:
            # The socket reaches the mapped IPv4 address itself, so the allow-list applies to it.
            problem = _address_problem(embedded, allowed)
            return (
                None
                if problem is None
                else i18n.message(gettext_noop("%(problem)s wrapped in IPv6"), problem=problem)
            )
        if address in _NAT64 or address in _SIXTOFOUR:
            # Reached through a gateway: the embedded IPv4 must be public, never merely allowed.
            embedded = address.sixtofour or ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            problem = _address_problem(embedded, [])
            return (
                None
                if problem is None
                else i18n.message(gettext_noop("%(problem)s wrapped in IPv6"), problem=problem)
            )
    for network, reason in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return i18n.message(reason)
    if not address.is_global:
        return i18n.message(gettext_noop("not a public internet address"))
    return None


def _parse_ip(host):
    """Return `host` as an IP address if it is a literal, refusing numeric forms other than dotted quads."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # Resolvers read 2130706433, 0x7f.1 or 0177.0.0.1 as 127.0.0.1; no real host name ends in a number.
        try:
            meant = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise FetchBlocked(f"The host {host} is not a valid host name or IP address.") from None
        raise FetchBlocked(
            f"The host {host} is an unusual way of writing the IP address {meant}; "
            "write addresses as four decimal numbers, or better, use a host name."
        )
    return None


def _ascii_host(host):
    """Return `host` as a lowercase ASCII host name, or raise FetchBlocked if it is not a valid one."""
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FetchBlocked(f"The host {host} is not a valid host name.") from None
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise FetchBlocked(f"The host {host} is not a valid host name.")
    return ascii_host


def _check_static(url):
    """Apply the part of the policy that needs no DNS; return the host, port and IP (if a literal)."""
    max_length = settings.PORTAL_URL_MAX_LENGTH
    if not isinstance(url, str) or not url:
        raise FetchBlocked("The address is empty.")
    if len(url) > max_length:
        raise FetchBlocked(f"The address is longer than {max_length} characters.")
    if any(ord(char) <= 32 or ord(char) == 127 or char == "\\" for char in url):
        raise FetchBlocked("The address contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise FetchBlocked("The address is not a valid URL.") from None
    if parts.scheme.lower() != "https":
        raise FetchBlocked("Only https:// addresses can be fetched.")
    if "@" in parts.netloc:
        raise FetchBlocked("The address contains a user name or password; remove them.")
    try:
        port = parts.port if parts.port is not None else 443
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise FetchBlocked("The address has an invalid port number.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchBlocked("The address has no host name.")
    ip = _parse_ip(host)
    if ip is not None:
        problem = _address_problem(ip, _allowed_networks())
        if problem is not None:
            raise FetchBlocked(
                i18n.message(gettext_noop("The address %(ip)s is %(problem)s."), ip=str(ip), problem=problem)
            )
        return str(ip), port, ip
    host = _ascii_host(host)
    if host == "localhost" or host.endswith(".localhost"):
        raise FetchBlocked("The host name localhost means this machine; it cannot be fetched.")
    return host, port, None


def _check_target(url):
    """Apply the whole policy to `url`, resolving its host; return where it may be connected to."""
    host, port, ip = _check_static(url)
    if ip is not None:
        addresses = [str(ip)]
    else:
        addresses = resolve(host, port)
        if not addresses:
            raise FetchError(
                i18n.message(gettext_noop("The host name %(host)s has no address."), host=host),
                retryable=False,
            )
        allowed = _allowed_networks()
        # Every address is checked, not only the first: the connection may use any of them.
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            problem = _address_problem(address, allowed)
            if problem is not None:
                raise FetchBlocked(
                    i18n.message(
                        gettext_noop("The host %(host)s resolves to %(problem)s (%(address)s)."),
                        host=host,
                        problem=problem,
                        address=str(address),
                    )
                )
    parts = urlsplit(url)
    # Keep existing %-escapes, encode anything else that may not travel in a request line.
    safe = "/%:@!$&'()*+,;=-._~"
    request_target = quote(parts.path or "/", safe=safe)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=safe + "?")
    return _Target(url=url, host=host, port=port, request_target=request_target, addresses=addresses)


# -- connection --------------------------------------------------------------------------------------


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked IP address, verifying TLS against the URL's host name."""

    def __init__(self, target, *, context, timeout):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._target = target
        self.context = context
        # The checked address the connection went to; a kept-alive connection is reused only while it is
        # still allowed.
        self.peer_address = None

    def connect(self):
        """Connect to the first reachable checked address, then start TLS for the original host name."""
        last_error = None
        for address in self._target.addresses:
            try:
                raw = socket.create_connection((address, self.port), timeout=self.timeout)
                self.peer_address = address
                break
            except OSError as exc:
                last_error = exc
        else:
            raise last_error or OSError("no address to connect to")
        try:
            self.sock = self._context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        # http.client forgets `sock` once a response owns the connection; a watchdog still needs to cut it.
        self.pinned_socket = self.sock


def _ssl_context():
    """Return a verifying TLS context, trusting PORTAL_FETCH_CA_BUNDLE when set (tests), else system CAs."""
    return _context_for(settings.PORTAL_FETCH_CA_BUNDLE or None)


@functools.lru_cache(maxsize=8)
def _context_for(bundle):
    # Loading the CAs costs about a millisecond: a dataset of many files is fetched over one context (an
    # SSLContext may be shared by threads), rebuilt only when the bundle setting names another file.
    context = ssl.create_default_context(cafile=bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _send(target, method, headers):
    """Send one request to `target` and return (connection, response) with headers read.

    A kept-alive connection to one of the addresses the policy has just allowed is used when there is one;
    if the server had closed it meanwhile (before any answer), the request goes again on a new connection.
    """
    context = _ssl_context()
    conn = _POOL.take(target, context)
    if conn is not None:
        try:
            return conn, _request(conn, target, method, headers)
        except _StaleConnection:
            pass
    conn = _PinnedHTTPSConnection(target, context=context, timeout=settings.PORTAL_FETCH_TIMEOUT)
    return conn, _request(conn, target, method, headers)


class _StaleConnection(Exception):
    """A kept-alive connection turned out closed by its server before answering: try a new one."""


def _request(conn, target, method, headers):
    reused = conn.sock is not None
    # The socket timeout bounds each read; this bounds the whole wait for the headers, so a server that
    # trickles them in (slowloris) cannot hold a worker.
    deadline = settings.PORTAL_FETCH_HEADERS_DEADLINE
    overdue = threading.Event()
    watchdog = threading.Timer(deadline, _abort, args=(conn, overdue))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, target.request_target, headers={"User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        if overdue.is_set():
            # Cut mid-headers, http.client takes the end of the stream for the end of the headers.
            raise OSError("headers overdue")
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        if overdue.is_set():
            raise FetchError(
                f"The server {target.host} took more than {deadline:.0f} s to send its answer's headers.",
                retryable=True,
            ) from exc
        if reused and isinstance(exc, _STALE_ERRORS):
            raise _StaleConnection from exc
        raise _network_error(exc, host=target.host) from exc
    finally:
        watchdog.cancel()
    return response


# What sending on a connection the server closed while it sat idle raises (GET and HEAD are safe to resend).
_STALE_ERRORS = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)


class _ConnectionPool:
    """Idle kept-alive connections, so that the files of one server (a record's thousand files) do not each
    pay a TCP and TLS handshake.

    A connection is reused only for a request whose URL has just passed the whole policy again and only when
    the address it is connected to is among the addresses that check allowed: pinning holds as before. It is
    kept only when its last answer was read to the end and the server keeps the connection open; a few per
    server, for a few seconds. A process forked from one holding connections starts with none.
    """

    def __init__(self, *, per_host=8, idle_seconds=10.0):
        self._lock = threading.Lock()
        self._idle = {}
        self._per_host = per_host
        self._idle_seconds = idle_seconds

    def take(self, target, context):
        """Return an idle connection to `target`'s host through an allowed address, or None."""
        now = time.monotonic()
        expired = []
        found = None
        with self._lock:
            entries = self._idle.get((target.host, target.port, id(context)), [])
            while entries:
                conn, since = entries.pop()
                if now - since <= self._idle_seconds and conn.peer_address in target.addresses:
                    found = conn
                    break
                expired.append(conn)
        for conn in expired:
            conn.close()
        return found

    def give(self, conn):
        """Keep `conn` for the next request to its host; the oldest beyond the per-host limit is closed."""
        key = (conn.host, conn.port, id(conn.context))
        with self._lock:
            entries = self._idle.setdefault(key, [])
            entries.append((conn, time.monotonic()))
            surplus = entries[: -self._per_host]
            del entries[: -self._per_host]
        for old, _since in surplus:
            old.close()

    def clear(self, *, close=True):
        """Forget every idle connection (closing them unless they belong to another process)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        if close:
            for entries in idle.values():
                for conn, _since in entries:
                    conn.close()


_POOL = _ConnectionPool()
# A child process must not read or write on its parent's sockets.
os.register_at_fork(after_in_child=lambda: _POOL.clear(close=False))


def _abort(conn, overdue):
    """Cut a connection whose headers are overdue (called by the watchdog timer)."""
    overdue.set()
    sock = conn.sock or getattr(conn, "pinned_socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _close(conn, response):
    """Close a response; keep its connection for the next request when it can carry one, else close it."""
    # Reusable when the body was read to its end (or had none) and neither side asked to close.
    reusable = (
        (response.isclosed() or response.length == 0)
        and not response.will_close
        and conn.sock is not None
        and getattr(conn, "peer_address", None) is not None
    )
    # http.client hands the socket over to the response when the server closes after the body, so closing
    # only the connection would leak it.
    response.close()
    if reusable:
        _POOL.give(conn)
    else:
        conn.close()


def _open(method, url, *, headers, hops=None):
    """Send `method` to `url`, re-checking each redirect; return (conn, response, final url, redirects).

    The headers of each redirect answer are appended to `hops` when a list is given.
    """
    redirects = []
    current = url
    while True:
        if redirects:
            try:
                target = _check_target(current)
            except FetchBlocked as exc:
                raise FetchBlocked(f"The address redirects to {current}, which is refused: {exc}") from exc
        else:
            target = _check_target(current)
        conn, response = _send(target, method, headers)
        location = response.getheader("Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return conn, response, current, redirects
        if hops is not None:
            hops.append(response.headers)
        _close(conn, response)
        if len(redirects) >= MAX_REDIRECTS:
            raise FetchError(
                f"The address redirects more than {MAX_REDIRECTS} times.",
                status=response.status,
                retryable=False,
            )
        current = urljoin(current, location.strip())
        redirects.append(current)


# -- responses -----------------------------------------------------------------------------------------


def _media_type(response):
    """Return the response's media type, lowercase and without parameters ("" when absent)."""
    return (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()


def _declared_length(response):
    """Return Content-Length as an int, or None when absent, invalid or not applicable."""
    value = response.getheader("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _content_range(response):
    """Return (first byte, total size or None) from a 206 response's Content-Range header."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", response.getheader("Content-Range") or "")
    if match is None:
        raise FetchError("The server sent a partial response without a valid Content-Range.", retryable=False)
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _accepts_ranges(response):
    """Return True when the response says the server honours byte ranges."""
    return (response.getheader("Accept-Ranges") or "").strip().lower() == "bytes"


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def announced_sha256(response, *, hops=(), size=None):
    """Return the SHA-256 (hex) of the whole resource as the server states it, or None.

    Read, in this order: RFC 9530 `Repr-Digest: sha-256=:…:` (the representation, valid on a 206 too);
    `Content-Digest: sha-256=:…:` (the body: only on a full 200 without Content-Encoding); RFC 3230
    `Digest: SHA-256=…`; S3's `x-amz-checksum-sha256` when it covers the full object (not a composite of
    parts); the Hugging Face Hub's `X-Linked-Etag` for LFS files, on the answer or on a redirect that led to
    it, when its `X-Linked-Size` matches. A plain `ETag` is opaque (RFC 9110) and never read as a digest.
    """
    encoded = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoded not in ("", "identity"):
        return None  # every digest below would then describe other bytes than the ones we store
    found = _structured_sha256(response.getheader("Repr-Digest"))
    if found is None and response.status == 200:
        found = _structured_sha256(response.getheader("Content-Digest"))
    if found is None:
        found = _legacy_sha256(response.getheader("Digest"))
    if (
        found is None
        and (response.getheader("x-amz-checksum-type") or "FULL_OBJECT").upper() == "FULL_OBJECT"
    ):
        found = _base64_sha256(response.getheader("x-amz-checksum-sha256"))
    if found is None:
        for headers in [response.headers, *reversed(list(hops))]:
            found = _linked_sha256(headers, size=size)
            if found is not None:
                break
    return found


def _base64_sha256(value):
    """Return the hex of a base64-encoded 32-byte digest, or None."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _structured_sha256(value):
    """Return the sha-256 member of an RFC 9530 dictionary field (`sha-256=:<base64>:`) as hex, or None."""
    for member in (value or "").split(","):
        name, _, item = member.strip().partition("=")
        item = item.strip().split(";", 1)[0].strip()
        if name.strip().lower() == "sha-256" and len(item) > 2 and item[0] == item[-1] == ":":
            return _base64_sha256(item[1:-1])
    return None


def _legacy_sha256(value):
    """Return the SHA-256 of an RFC 3230 `Digest` field (`SHA-256=<base64>`) as hex, or None."""
    for member in (value or "").split(","):
        name, _, item = member.strip().partition("=")
        if name.strip().lower() == "sha-256":
            return _base64_sha256(item)
    return None


def _linked_sha256(headers, *, size):
    """Return the Hub's `X-Linked-Etag` of an LFS file (quoted hex SHA-256) when `X-Linked-Size` is `size`."""
    etag = (headers.get("X-Linked-Etag") or "").strip().removeprefix("W/").strip('"').lower()
    linked_size = (headers.get("X-Linked-Size") or "").strip()
    if not _SHA256_HEX.fullmatch(etag) or not linked_size.isdigit() or int(linked_size) != size:
        return None
    return etag


def _probe_result(response, final_url, redirects, *, accepts_ranges):
    """Build a ProbeResult from a response whose body is not read."""
    if response.status == 206:
        _first, size = _content_range(response)
    elif 200 <= response.status < 300:
        size = _declared_length(response)
    else:
        size = None
    return ProbeResult(
        final_url=final_url,
        status=response.status,
        reachable=200 <= response.status < 300,
        content_type=_media_type(response),
        size=size,
        redirects=list(redirects),
        accepts_ranges=accepts_ranges,
    )


def _retry_after(response):
    """Return the Retry-After header in seconds (from a number or an HTTP date), or None."""
    value = (response.getheader("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time()))


def _status_error(response, *, host):
    """Return the FetchError for an HTTP status that is not a success."""
    status = response.status
    retryable = status >= 500 or status in (408, 429)
    explanation = {
        401: gettext_noop("the file needs a login"),
        403: gettext_noop("access to the file is forbidden"),
        404: gettext_noop("the file was not found"),
        410: gettext_noop("the file is gone"),
        416: gettext_noop("the requested byte range is past the end of the file"),
        429: gettext_noop("too many requests; try again later"),
    }.get(
        status,
        gettext_noop("the server failed; try again later")
        if status >= 500
        else gettext_noop("the request was refused"),
    )
    return FetchError(
        i18n.message(
            gettext_noop("The server %(host)s answered %(status)s %(reason)s: %(explanation)s."),
            host=host,
            status=status,
            reason=response.reason,
            explanation=i18n.message(explanation),
        ),
        status=status,
        retryable=retryable,
        retry_after=_retry_after(response),
    )


def _network_error(exc, *, host):
    """Return the FetchError for a network, timeout or TLS failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError(
            f"The TLS certificate of {host} could not be verified: {exc.verify_message}.", retryable=False
        )
    if isinstance(exc, TimeoutError):
        return FetchError(
            i18n.message(gettext_noop("The server %(host)s did not answer in time."), host=host),
            retryable=True,
        )
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"The secure connection to {host} failed: {exc.reason or exc}.", retryable=True)
    if isinstance(exc, ConnectionRefusedError):
        return FetchError(
            i18n.message(gettext_noop("The server %(host)s refused the connection."), host=host),
            retryable=True,
        )
    return FetchError(f"The connection to {host} failed: {exc}.", retryable=True)


def _too_large_message(max_bytes, *, declared=None):
    """Return the curator-facing message for a body over the cap."""
    if declared is not None:
        return i18n.message(
            gettext_noop("The file is %(declared)s bytes, more than the limit of %(limit)s bytes."),
            declared=declared,
            limit=max_bytes,
        )
    return i18n.message(
        gettext_noop("The file is larger than the limit of %(limit)s bytes."), limit=max_bytes
    )
