"""Tests of portal.safefetch against a real https source on 127.0.0.1 and real listening sockets."""

import base64
import hashlib
import http.client
import io
import socket

import pytest

from portal import safefetch
from portal.safefetch import FetchBlocked, FetchError, FetchFailed, FetchTooLarge
from tests.sources import SourceServer, generated_bytes, generated_sha256

pytest_plugins = ["tests.fixtures_sources"]

MIB = 1024 * 1024


@pytest.fixture
def no_allowed_networks(settings):
    """Run with the production default: no network is exempt from the block."""
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []


@pytest.fixture
def fake_dns(monkeypatch):
    """Replace the module's resolver with a table, recording each lookup."""
    table = {}
    lookups = []

    def resolve(host, port):
        lookups.append(host)
        return list(table[host])

    monkeypatch.setattr(safefetch, "resolve", resolve)
    return table, lookups


# -- the static policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/", "loopback"),
        ("https://localhost/", "localhost"),
        ("https://LOCALHOST./", "localhost"),
        ("https://api.localhost/", "localhost"),
        ("https://[::1]/", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://2130706433/", "unusual way of writing the IP address 127.0.0.1"),
        ("https://0x7f.1/", "unusual way of writing the IP address 127.0.0.1"),
        ("https://0177.0.0.1/", "unusual way of writing the IP address 127.0.0.1"),
        ("https://127.1/", "unusual way of writing the IP address 127.0.0.1"),
        ("https://[::ffff:127.0.0.1]/", "loopback address (this machine) wrapped in IPv6"),
        ("https://[::ffff:a9fe:a9fe]/", "link-local"),
        ("https://[64:ff9b::a00:1]/", "private network address wrapped in IPv6"),
        ("https://[2002:7f00:1::]/", "loopback address (this machine) wrapped in IPv6"),
        ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
        ("https://10.0.0.5/", "private network address"),
        ("https://172.16.3.4/", "private network address"),
        ("https://192.168.1.1/", "private network address"),
        ("https://100.64.0.1/", "shared"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://[::]/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
        ("https://[ff02::1]/", "multicast"),
        ("https://240.0.0.1/", "reserved"),
        ("https://255.255.255.255/", "reserved"),
        ("https://[fe80::1]/", "link-local"),
        ("https://[fc00::1]/", "private network address"),
        ("https://[fec0::1]/", "site-local"),
        ("http://example.org/data.csv", "Only https://"),
        ("ftp://example.org/data.csv", "Only https://"),
        ("file:///etc/passwd", "Only https://"),
        ("https://user:secret@example.org/", "user name or password"),
        ("https://user@example.org/", "user name or password"),
        ("https://example.org:0/", "invalid port"),
        ("https://example.org:99999/", "invalid port"),
        ("https://exa mple.org/", "spaces"),
        ("https://example.org\\@10.0.0.1/", "backslashes"),
        ("https://[::1/", "not a valid URL"),
        ("https:///data.csv", "no host name"),
        ("https://1.2.3.4.5/", "not a valid host name"),
        ("https://exa$mple.org/", "not a valid host name"),
    ],
)
def test_check_url_refuses(no_allowed_networks, url, reason):
    with pytest.raises(FetchBlocked) as caught:
        safefetch.check_url(url)
    assert reason in str(caught.value)


def test_blocked_private_address_message_names_the_address(no_allowed_networks):
    with pytest.raises(FetchBlocked, match=r"The address 10\.0\.0\.5 is a private network address\."):
        safefetch.check_url("https://10.0.0.5/data.csv")


def test_check_url_refuses_overlong_address(settings):
    settings.PORTAL_URL_MAX_LENGTH = 100
    with pytest.raises(FetchBlocked, match="longer than 100 characters"):
        safefetch.check_url("https://example.org/" + "a" * 100)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/data.csv",
        "https://data.example.org:8443/a/b?x=1",
        "https://8.8.8.8/file",
        "https://[2606:4700::1111]/file",
        "https://bücher.example/daten.csv",
    ],
)
def test_check_url_accepts_public_https(no_allowed_networks, url):
    assert safefetch.check_url(url) is None


def test_allowed_network_exempts_literal(settings):
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert safefetch.check_url("https://127.0.0.1:8443/") is None
    # The allow-list never reaches past its networks.
    with pytest.raises(FetchBlocked, match="private network"):
        safefetch.check_url("https://10.0.0.5/")


def test_fetch_failures_share_one_base():
    assert issubclass(FetchBlocked, FetchFailed)
    assert issubclass(FetchError, FetchFailed)
    assert issubclass(FetchTooLarge, FetchFailed)


# -- resolved addresses ----------------------------------------------------------------------------------


def test_name_resolving_to_private_address_is_refused(no_allowed_networks, fake_dns):
    table, _lookups = fake_dns
    table["data.example.org"] = ["10.0.0.5"]
    with pytest.raises(FetchBlocked) as caught:
        safefetch.probe("https://data.example.org/data.csv")
    assert str(caught.value) == "The host data.example.org resolves to a private network address (10.0.0.5)."


def test_every_resolved_address_is_checked(no_allowed_networks, fake_dns):
    table, _lookups = fake_dns
    table["mixed.example.org"] = ["93.184.216.34", "2606:2800:220:1::1", "::ffff:169.254.169.254"]
    with pytest.raises(FetchBlocked, match="link-local"):
        safefetch.probe("https://mixed.example.org/")


def test_name_resolving_to_loopback_makes_no_connection(no_allowed_networks, fake_dns, listener):
    table, _lookups = fake_dns
    table["sneaky.example.org"] = ["127.0.0.1"]
    with pytest.raises(FetchBlocked, match="loopback"):
        safefetch.download(f"https://sneaky.example.org:{listener.port}/", "/nonexistent/x", max_bytes=10)
    assert listener.connections == 0


def test_literal_loopback_with_port_makes_no_connection(no_allowed_networks, listener):
    with pytest.raises(FetchBlocked, match="loopback"):
        safefetch.probe(listener.url("/data"))
    assert listener.connections == 0


def test_listener_sees_a_connection_when_the_address_is_allowed(settings, listener):
    # The control for the tests above: with the block lifted, the same fetch does reach the listener.
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with pytest.raises(FetchError) as caught:
        safefetch.probe(listener.url("/data"))
    assert caught.value.retryable is True
    assert listener.connections == 1


def test_real_resolver_returns_addresses_of_localhost():
    assert set(safefetch.resolve("localhost", 443)) & {"127.0.0.1", "::1"}


def test_connection_is_pinned_to_checked_address_and_tls_uses_the_name(settings, fake_dns):
    name = "data.example.test"
    # Precondition: the system resolver does not know the name, so only the checked address can be used.
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(name, 443)
    table, lookups = fake_dns
    table[name] = ["127.0.0.1"]
    with SourceServer(names=[name]) as server:
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.PORTAL_FETCH_CA_BUNDLE = str(server.ca_path)
        server.add_bytes("/hello.txt", b"hello", content_type="text/plain")
        with safefetch.stream(server.url("/hello.txt", host=name), max_bytes=100) as response:
            body = b"".join(response.iter_chunks())
        assert body == b"hello"
        assert server.requests_for("/hello.txt")[0].headers["Host"] == f"{name}:{server.port}"
    assert lookups == [name]


def test_certificate_for_another_name_is_refused(settings, fake_dns, source_server):
    table, _lookups = fake_dns
    table["other.example.test"] = ["127.0.0.1"]
    source_server.add_bytes("/x", b"x")
    with pytest.raises(FetchError, match="certificate") as caught:
        safefetch.probe(source_server.url("/x", host="other.example.test"))
    assert caught.value.retryable is False


def test_untrusted_certificate_is_refused(settings, source_server):
    settings.PORTAL_FETCH_CA_BUNDLE = ""
    source_server.add_bytes("/x", b"x")
    with pytest.raises(FetchError, match="certificate") as caught:
        safefetch.probe(source_server.url("/x"))
    assert caught.value.retryable is False


# -- redirects ------------------------------------------------------------------------------------------


def test_redirect_to_address_outside_allow_list_makes_no_connection(settings, source_server, make_listener):
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    other = make_listener("127.0.0.2")
    source_server.add_redirect("/go", other.url("/data"))
    with pytest.raises(FetchBlocked) as caught:
        safefetch.probe(source_server.url("/go"))
    assert f"redirects to https://127.0.0.2:{other.port}/data" in str(caught.value)
    assert "loopback" in str(caught.value)
    assert len(source_server.requests_for("/go")) == 1
    assert other.connections == 0
    # Control: once 127.0.0.2 is allowed, the same redirect does connect to the listener.
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with pytest.raises(FetchError):
        safefetch.probe(source_server.url("/go"))
    assert other.connections == 1


def test_redirect_to_plain_http_is_refused(source_server, listener):
    source_server.add_redirect("/go", listener.url("/data", scheme="http"))
    with pytest.raises(FetchBlocked, match="Only https://"):
        safefetch.download(source_server.url("/go"), "/nonexistent/x", max_bytes=10)
    assert listener.connections == 0


def test_redirects_are_followed_and_reported(source_server, tmp_path):
    source_server.add_bytes("/final.csv", b"a,b\n1,2\n", content_type="text/csv; charset=utf-8")
    source_server.add_redirect("/one", "/two", status=301)
    source_server.add_redirect("/two", source_server.url("/final.csv"), status=307)
    result = safefetch.download(source_server.url("/one"), tmp_path / "f.csv", max_bytes=100)
    assert result.final_url == source_server.url("/final.csv")
    assert result.content_type == "text/csv"
    assert (tmp_path / "f.csv").read_bytes() == b"a,b\n1,2\n"
    probed = safefetch.probe(source_server.url("/one"))
    assert probed.redirects == [source_server.url("/two"), source_server.url("/final.csv")]


def test_more_than_five_redirects_fail(source_server):
    for hop in range(6):
        source_server.add_redirect(f"/r{hop}", f"/r{hop + 1}")
    source_server.add_bytes("/r6", b"end")
    with pytest.raises(FetchError, match="more than 5 times") as caught:
        safefetch.probe(source_server.url("/r0"))
    assert caught.value.retryable is False
    assert safefetch.probe(source_server.url("/r1")).redirects[-1] == source_server.url("/r6")


# -- probe ------------------------------------------------------------------------------------------------


def test_probe_reports_size_type_and_ranges(source_server):
    source_server.add_generated("/data.csv", 123_456, seed=1, content_type="text/csv")
    result = safefetch.probe(source_server.url("/data.csv"))
    assert (result.status, result.reachable, result.size) == (200, True, 123_456)
    assert result.content_type == "text/csv"
    assert result.accepts_ranges is True
    assert [r.method for r in source_server.requests_for("/data.csv")] == ["HEAD"]


def test_probe_falls_back_to_range_get_when_head_is_refused(source_server):
    source_server.add_generated("/data.bin", 5000, head_allowed=False)
    result = safefetch.probe(source_server.url("/data.bin"))
    assert (result.status, result.size, result.accepts_ranges) == (206, 5000, True)
    logged = source_server.requests_for("/data.bin")
    assert [r.method for r in logged] == ["HEAD", "GET"]
    assert logged[1].headers["Range"] == "bytes=0-0"


def test_probe_without_any_size_reports_none(source_server):
    source_server.add_generated("/stream", 5000, ranges=False, declared_size=None)
    result = safefetch.probe(source_server.url("/stream"))
    assert (result.reachable, result.size, result.accepts_ranges) == (True, None, False)


def test_probe_of_missing_file_is_unreachable(source_server):
    source_server.add_status("/gone", 404)
    result = safefetch.probe(source_server.url("/gone"))
    assert (result.status, result.reachable, result.size) == (404, False, None)


# -- download and stream ------------------------------------------------------------------------------------


SHA = hashlib.sha256(b"the data").digest()
SHA_HEX = SHA.hex()
B64 = base64.b64encode(SHA).decode()


@pytest.mark.parametrize(
    ("headers", "status", "announced"),
    [
        ({}, 200, None),
        ({"Repr-Digest": f"sha-512=:{B64}:, sha-256=:{B64}:"}, 200, SHA_HEX),
        ({"Repr-Digest": f"sha-256=:{B64}:"}, 206, SHA_HEX),
        ({"Content-Digest": f"sha-256=:{B64}:"}, 200, SHA_HEX),
        # A partial body's Content-Digest is the digest of that part only.
        ({"Content-Digest": f"sha-256=:{B64}:"}, 206, None),
        ({"Digest": f"MD5=abc, SHA-256={B64}"}, 200, SHA_HEX),
        ({"x-amz-checksum-sha256": B64}, 200, SHA_HEX),
        ({"x-amz-checksum-sha256": B64, "x-amz-checksum-type": "COMPOSITE"}, 200, None),
        ({"X-Linked-Etag": f'"{SHA_HEX}"', "X-Linked-Size": "8"}, 200, SHA_HEX),
        ({"X-Linked-Etag": f'"{SHA_HEX}"', "X-Linked-Size": "9"}, 200, None),
        # An ETag is opaque, even when it looks like a SHA-256.
        ({"ETag": f'"{SHA_HEX}"'}, 200, None),
        ({"Repr-Digest": "sha-256=:bm90IDMyIGJ5dGVz:"}, 200, None),
        ({"Repr-Digest": f"sha-256=:{B64}:", "Content-Encoding": "gzip"}, 200, None),
    ],
)
def test_announced_sha256_is_read_from_digest_headers_only(headers, status, announced):
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    message = http.client.parse_headers(io.BytesIO(raw.encode() + b"\r\n"))

    class Answer:
        def __init__(self):
            self.status, self.headers = status, message

        def getheader(self, name, default=None):
            return message.get(name, default)

    assert safefetch.announced_sha256(Answer(), size=8) == announced


def test_download_reports_the_announced_digest_before_the_body_and_each_write(source_server, tmp_path):
    size = 3 * MIB + 5
    digest = bytes.fromhex(generated_sha256(size, seed=3))
    source_server.add_generated(
        "/d.bin", size, seed=3, headers={"Repr-Digest": f"sha-256=:{base64.b64encode(digest).decode()}:"}
    )
    seen, written = [], []

    def on_response(response):
        seen.append((response.announced_sha256, response.size, (tmp_path / "d.bin").stat().st_size))

    result = safefetch.download(
        source_server.url("/d.bin"),
        tmp_path / "d.bin",
        max_bytes=10 * MIB,
        on_response=on_response,
        on_written=written.append,
    )
    assert seen == [(digest.hex(), size, 0)]
    (request,) = source_server.requests_for("/d.bin")
    assert request.headers["Want-Repr-Digest"] == "sha-256=10"
    assert result.sha256 == digest.hex()
    assert written == sorted(written) and written[-1] == size


def test_download_of_five_mib_has_correct_sha256(source_server, tmp_path):
    size = 5 * MIB
    source_server.add_generated("/big.bin", size, seed=7)
    seen = []
    result = safefetch.download(
        source_server.url("/big.bin"),
        tmp_path / "big.bin",
        max_bytes=10 * MIB,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.size == size
    assert result.sha256 == generated_sha256(size, seed=7)
    assert (tmp_path / "big.bin").stat().st_size == size
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_stream_yields_bounded_chunks(source_server):
    source_server.add_generated("/data", MIB + 10, seed=2)
    with safefetch.stream(source_server.url("/data"), max_bytes=2 * MIB, chunk_size=64 * 1024) as response:
        sizes = [len(chunk) for chunk in response.iter_chunks()]
    assert max(sizes) <= 64 * 1024
    assert sum(sizes) == MIB + 10


def test_declared_size_over_cap_is_refused_before_reading(source_server, tmp_path):
    source_server.add_generated("/big", 2 * MIB)
    with pytest.raises(FetchTooLarge, match=f"{2 * MIB} bytes, more than the limit of {MIB} bytes"):
        safefetch.download(source_server.url("/big"), tmp_path / "big", max_bytes=MIB)
    assert not (tmp_path / "big").exists()


@pytest.mark.parametrize("options", [{"declared_size": None}, {"chunked": True}])
def test_undeclared_size_over_cap_stops_the_download(source_server, tmp_path, options):
    source_server.add_generated("/big", 2 * MIB, ranges=False, **options)
    with pytest.raises(FetchTooLarge, match=f"larger than the limit of {MIB} bytes"):
        safefetch.download(source_server.url("/big"), tmp_path / "big", max_bytes=MIB)
    assert not (tmp_path / "big").exists()


def test_chunked_body_within_cap_downloads(source_server, tmp_path):
    source_server.add_generated("/chunked", 300_000, seed=3, chunked=True, ranges=False)
    result = safefetch.download(source_server.url("/chunked"), tmp_path / "c", max_bytes=MIB)
    assert result.sha256 == generated_sha256(300_000, seed=3)


def test_body_longer_than_content_length_is_cut_at_the_declared_length(source_server, tmp_path):
    source_server.add_generated("/long", 5000, seed=4, declared_size=1000, ranges=False)
    result = safefetch.download(source_server.url("/long"), tmp_path / "l", max_bytes=MIB)
    expected = b"".join(generated_bytes(4, 0, 1000))
    assert (result.size, result.sha256) == (1000, hashlib.sha256(expected).hexdigest())


def test_body_shorter_than_content_length_is_a_retryable_error(source_server, tmp_path):
    source_server.add_generated("/short", 5000, declared_size=10_000, ranges=False)
    with pytest.raises(FetchError, match="closed after 5000 of 10000 bytes") as caught:
        safefetch.download(source_server.url("/short"), tmp_path / "s", max_bytes=MIB)
    assert caught.value.retryable is True


def test_not_found_is_not_retryable(source_server, tmp_path):
    source_server.add_status("/missing", 404)
    with pytest.raises(FetchError, match="404") as caught:
        safefetch.download(source_server.url("/missing"), tmp_path / "m", max_bytes=MIB)
    assert (caught.value.status, caught.value.retryable) == (404, False)
    assert "not found" in str(caught.value)


def test_service_unavailable_is_retryable_with_retry_after(source_server):
    source_server.add_bytes("/flaky", b"finally")
    source_server.add_failing("/flaky", status=503, times=1, retry_after=7)
    with pytest.raises(FetchError) as caught, safefetch.stream(source_server.url("/flaky"), max_bytes=100):
        pass
    assert (caught.value.status, caught.value.retryable, caught.value.retry_after) == (503, True, 7)
    with safefetch.stream(source_server.url("/flaky"), max_bytes=100) as response:
        assert b"".join(response.iter_chunks()) == b"finally"


def test_too_many_requests_is_retryable(source_server):
    source_server.add_status("/busy", 429)
    with pytest.raises(FetchError) as caught, safefetch.stream(source_server.url("/busy"), max_bytes=100):
        pass
    assert (caught.value.status, caught.value.retryable) == (429, True)


def test_slow_server_times_out_as_retryable(settings, source_server):
    settings.PORTAL_FETCH_TIMEOUT = 0.3
    source_server.add_generated("/slow", 100, delay=30)
    with pytest.raises(FetchError, match="did not answer in time") as caught:
        safefetch.probe(source_server.url("/slow"))
    assert caught.value.retryable is True


def test_stream_resumes_with_range(source_server):
    source_server.add_generated("/data", 3 * MIB, seed=5)
    with safefetch.stream(source_server.url("/data"), max_bytes=4 * MIB, start=MIB) as response:
        assert (response.resumed, response.offset, response.size) == (True, MIB, 3 * MIB)
        digest = hashlib.sha256()
        for chunk in response.iter_chunks():
            digest.update(chunk)
    expected = hashlib.sha256(b"".join(generated_bytes(5, MIB, 3 * MIB))).hexdigest()
    assert digest.hexdigest() == expected
    assert source_server.requests_for("/data")[0].headers["Range"] == f"bytes={MIB}-"


def test_stream_says_when_server_ignores_range(source_server):
    source_server.add_generated("/data", 200_000, seed=6, ranges=False)
    with safefetch.stream(source_server.url("/data"), max_bytes=MIB, start=1000) as response:
        assert (response.resumed, response.offset, response.size) == (False, 0, 200_000)
        assert sum(len(chunk) for chunk in response.iter_chunks()) == 200_000


@pytest.mark.parametrize("ranges", [True, False])
def test_download_resumes_a_partial_file(source_server, tmp_path, ranges):
    size = 3 * MIB
    source_server.add_generated("/data", size, seed=8, ranges=ranges)
    partial = tmp_path / "data"
    with partial.open("wb") as out:
        for block in generated_bytes(8, 0, MIB + 123):
            out.write(block)
    result = safefetch.download(source_server.url("/data"), partial, max_bytes=4 * MIB, resume=True)
    assert (result.size, result.sha256) == (size, generated_sha256(size, seed=8))
    assert partial.stat().st_size == size
    # It resumes at the last 4 KiB boundary, so that every later write is aligned (see portal.directio).
    assert source_server.requests_for("/data")[0].headers["Range"] == f"bytes={MIB}-"


@pytest.mark.parametrize("body", ["plain", "chunked", "resumed"])
def test_a_download_of_many_chunks_through_the_reused_buffers_keeps_every_byte(source_server, tmp_path, body):
    """Thousands of 4 KiB chunks pass through the writer's few buffers: none may be reused too early."""
    size = 3 * MIB + 5
    source_server.add_generated("/data", size, seed=12, chunked=body == "chunked")
    target = tmp_path / "data"
    if body == "resumed":
        target.write_bytes(b"".join(generated_bytes(12, 0, 10_000)))
    result = safefetch.download(
        source_server.url("/data"), target, max_bytes=4 * MIB, resume=body == "resumed", chunk_size=4096
    )
    assert (result.size, result.sha256) == (size, generated_sha256(size, seed=12))
    assert hashlib.sha256(target.read_bytes()).hexdigest() == result.sha256


def test_headers_trickling_in_forever_are_cut_at_the_deadline(source_server, settings):
    settings.PORTAL_FETCH_TIMEOUT = 1
    settings.PORTAL_FETCH_HEADERS_DEADLINE = 1.5
    source_server.add_dripping_headers("/slow", interval=0.2)
    with pytest.raises(safefetch.FetchError, match=r"took more than \d s to send") as caught:
        safefetch.probe(source_server.url("/slow"))
    assert caught.value.retryable


# -- bounded samples (the data check) ------------------------------------------------------------------


def test_sample_of_a_ranged_file_holds_its_start_and_end_only(source_server, tmp_path):
    size = 5 * MIB
    source_server.add_generated("/big.bin", size, seed=3)
    result = safefetch.sample(
        source_server.url("/big.bin"), tmp_path / "s", max_bytes=MIB, tail_bytes=MIB // 4, seconds=10
    )
    assert result.size == size and not result.complete and not result.timed_out
    assert result.held == [(0, 3 * MIB // 4), (size - MIB // 4, size)]
    assert result.bytes_held == MIB
    expected = b"".join(generated_bytes(3, 0, size))
    data = (tmp_path / "s").read_bytes()
    assert len(data) == size  # a sparse file of the real size...
    assert data[: 3 * MIB // 4] == expected[: 3 * MIB // 4]
    assert data[-MIB // 4 :] == expected[-MIB // 4 :]
    assert data[3 * MIB // 4 : -MIB // 4].count(0) == size - MIB  # ...holding zeros between
    assert [r.headers["Range"] for r in source_server.requests_for("/big.bin")] == [
        f"bytes=0-{3 * MIB // 4 - 1}",
        f"bytes={size - MIB // 4}-{size - 1}",
    ]


def test_sample_of_a_small_file_is_complete_in_one_request(source_server, tmp_path):
    source_server.add_bytes("/small.csv", b"a,b\n1,2\n")
    result = safefetch.sample(
        source_server.url("/small.csv"), tmp_path / "s", max_bytes=MIB, tail_bytes=1024, seconds=10
    )
    assert result.complete and result.size == 8 and result.held == [(0, 8)]
    assert len(source_server.requests_for("/small.csv")) == 1


def test_sample_without_ranges_reads_the_prefix_and_stops_at_the_cap(source_server, tmp_path):
    source_server.add_generated("/noranges.bin", 50 * MIB, ranges=False, declared_size=None)
    result = safefetch.sample(
        source_server.url("/noranges.bin"), tmp_path / "s", max_bytes=MIB, tail_bytes=1024, seconds=10
    )
    assert not result.complete and result.size is None
    assert result.held == [(0, MIB)]
    assert (tmp_path / "s").stat().st_size == MIB


def test_sample_without_ranges_of_a_whole_small_file_is_complete(source_server, tmp_path):
    source_server.add_bytes("/plain.csv", b"x\n1\n", ranges=False, declared_size=None)
    result = safefetch.sample(source_server.url("/plain.csv"), tmp_path / "s", max_bytes=MIB, seconds=10)
    assert result.complete and result.size == 4


def test_sample_of_a_trickling_server_stops_at_its_deadline(source_server, tmp_path):
    source_server.add_generated("/slow.bin", 10 * MIB, rate=50_000)
    result = safefetch.sample(source_server.url("/slow.bin"), tmp_path / "s", max_bytes=MIB, seconds=0.5)
    assert result.timed_out and not result.complete
    assert 0 < result.bytes_held < MIB


def test_sample_of_an_empty_file(source_server, tmp_path):
    source_server.add_bytes("/empty", b"")
    result = safefetch.sample(source_server.url("/empty"), tmp_path / "s", max_bytes=MIB, seconds=10)
    assert result.complete and result.size == 0 and result.held == []


def test_sample_follows_the_ssrf_policy(settings, listener, tmp_path):
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(FetchBlocked):
        safefetch.sample(listener.url("/x"), tmp_path / "s", max_bytes=MIB, seconds=10)
    assert listener.connections == 0


def test_sample_of_a_missing_file_raises(source_server, tmp_path):
    source_server.add_status("/gone", 404)
    with pytest.raises(FetchError, match="404"):
        safefetch.sample(source_server.url("/gone"), tmp_path / "s", max_bytes=MIB, seconds=10)


def test_a_failed_write_of_the_download_is_raised_in_the_reading_thread():
    """The writer thread hashes and writes while the caller reads; its error must not be lost."""

    class FullDisk:
        def write_at(self, chunk, length, offset):
            raise OSError(28, "No space left on device")

    digest = hashlib.sha256()
    received = 0
    with (
        pytest.raises(OSError, match="No space left"),
        safefetch._HashingWriter(FullDisk(), digest, offset=0, chunk_size=1024) as writer,
    ):
        for _ in range(100):
            buffer = writer.buffer()
            buffer[:] = b"x" * 1024
            writer.put(buffer, 1024)
            received += 1
    # The reading thread learnt of the error while receiving, not only at the end: it had at most every
    # buffer (6) in hand, and one more, when it failed.
    assert received <= 7


# -- kept-alive connections ------------------------------------------------------------------------------


@pytest.fixture
def keep_alive_server(settings):
    """A source that answers in HTTP/1.1 and keeps connections open, as repositories' servers do."""
    safefetch._POOL.clear()
    with SourceServer(names=["data.example.test"], keep_alive=True) as server:
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.PORTAL_FETCH_CA_BUNDLE = str(server.ca_path)
        yield server
    safefetch._POOL.clear()


def _fetch(url, tmp_path, name):
    return safefetch.download(url, tmp_path / name, max_bytes=10 * MIB)


def test_the_files_of_one_server_share_a_kept_alive_connection(keep_alive_server, tmp_path):
    for index in range(5):
        keep_alive_server.add_generated(f"/file-{index}.bin", 300_000 + index, seed=index)
    results = [
        _fetch(keep_alive_server.url(f"/file-{index}.bin"), tmp_path, f"{index}.bin") for index in range(5)
    ]
    assert [result.sha256 for result in results] == [generated_sha256(300_000 + i, seed=i) for i in range(5)]
    assert keep_alive_server.connections == 1


def test_a_server_that_closes_after_each_answer_gets_a_new_connection_each_time(source_server, tmp_path):
    safefetch._POOL.clear()
    for index in range(3):
        source_server.add_generated(f"/file-{index}.bin", 1000, seed=index)
        assert _fetch(source_server.url(f"/file-{index}.bin"), tmp_path, f"{index}.bin").size == 1000
    assert source_server.connections == 3
    assert not safefetch._POOL._idle or not any(safefetch._POOL._idle.values())


def test_a_kept_connection_is_not_reused_once_the_policy_refuses_its_address(
    settings, keep_alive_server, tmp_path
):
    keep_alive_server.add_generated("/a.bin", 1000)
    _fetch(keep_alive_server.url("/a.bin"), tmp_path, "a.bin")
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(FetchBlocked, match="loopback"):
        _fetch(keep_alive_server.url("/a.bin"), tmp_path, "again.bin")
    assert len(keep_alive_server.requests_for("/a.bin")) == 1


def test_a_kept_connection_is_not_reused_when_the_name_resolves_elsewhere(
    fake_dns, keep_alive_server, tmp_path
):
    table, _lookups = fake_dns
    name = "data.example.test"
    table[name] = ["127.0.0.1"]
    keep_alive_server.add_generated("/a.bin", 1000)
    _fetch(keep_alive_server.url("/a.bin", host=name), tmp_path, "a.bin")
    # The name now points at an address where nothing listens: the kept connection to 127.0.0.1 is not used.
    table[name] = ["127.0.0.3"]
    with pytest.raises(FetchError):
        _fetch(keep_alive_server.url("/a.bin", host=name), tmp_path, "again.bin")
    assert len(keep_alive_server.requests_for("/a.bin")) == 1
    assert keep_alive_server.connections == 1


def test_a_kept_connection_the_server_dropped_is_replaced_without_an_error(keep_alive_server, tmp_path):
    keep_alive_server.add_generated("/a.bin", 1000, seed=1)
    _fetch(keep_alive_server.url("/a.bin"), tmp_path, "a.bin")
    (kept,) = [conn for entries in safefetch._POOL._idle.values() for conn, _since in entries]
    kept.sock.shutdown(socket.SHUT_RDWR)  # as when the server closes an idle connection
    result = _fetch(keep_alive_server.url("/a.bin"), tmp_path, "again.bin")
    assert result.sha256 == generated_sha256(1000, seed=1)
    assert keep_alive_server.connections == 2


def test_a_body_left_unread_closes_its_connection(keep_alive_server, tmp_path):
    keep_alive_server.add_generated("/big.bin", 4 * MIB)
    keep_alive_server.add_generated("/small.bin", 1000)
    with safefetch.stream(
        keep_alive_server.url("/big.bin"), max_bytes=10 * MIB, chunk_size=64 * 1024
    ) as response:
        next(response.iter_chunks())
    assert _fetch(keep_alive_server.url("/small.bin"), tmp_path, "small.bin").size == 1000
    assert keep_alive_server.connections == 2
