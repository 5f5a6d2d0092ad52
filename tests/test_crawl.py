"""A crawl of the demo site, then each address replayed with its numbers and slugs mutated.

The demo's own loaders make the site (`loaddemo`: submissions in every state of the review; `loadcatalogdemo`:
published datasets, through the real mirror to the dev Hub). From `/` and from the status links of the
demo's e-mails, every link of the public pages is followed; signed in as a curator, every link of the
admin from `/admin/`. Then each address is requested again with its numbers and slugs replaced (zero,
negative, huge, not a number, another slug, an overlong one). Every answer is 2xx, 3xx, 400, 403, 404, 405
or 429, never a server error, with DEBUG on and with the production settings; the public HTML pages also
keep their ids unique and their labels tied to fields.
"""

import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from catalog.management.commands.loadcatalogdemo import DEMO, sample_bytes, sample_name
from tests.factories import committed, make_curator_user, status_token_from
from tests.html_ids import id_problems
from tests.production import HTTPS_HEADERS, MODES, use_mode

pytestmark = [pytest.mark.django_db]

ALLOWED = {400, 403, 404, 405, 429}
NOT_FOLLOWED = ("/static/", "/admin/logout/", "/media/")
# Addresses per URL pattern replayed with mutations (the patterns, not every filter of a list, are the point).
REPLAYED_PER_ROUTE = 2
NUMBER_MUTATIONS = ["0", "-1", "1.5", "abc", "9223372036854775808", "99999999999999999999999"]
SEGMENT_MUTATIONS = ["no-such-thing", "x" * 300, "%C3%A9t%C3%A9", "..", "%2F"]
MAX_PAGES = 250
PAGES_PER_ROUTE = 3
# The curators' part of the admin: the review queue and pages, and the catalog's rows they may read.
CURATORS_ADMIN = ("/admin/submissions/", "/admin/catalog/")


class Links(HTMLParser):
    """The addresses a page links to: <a href>, <link href>, <area href> and <form action>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = {"a": "href", "link": "href", "area": "href", "form": "action"}.get(tag)
        if name and attributes.get(name):
            self.found.append(attributes[name])


def json_links(value):
    """Yield the absolute addresses found in a JSON document (the API's `url`, `next`, `croissant_url`...)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from json_links(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_links(item)
    elif isinstance(value, str) and value.startswith("http://testserver/"):
        yield value


def links_of(response, base):
    """Return the same-site addresses (path and query) that an HTML page or a JSON answer links to."""
    kind = response.get("Content-Type", "")
    if "json" in kind:
        found = list(json_links(response.json()))
    elif "html" in kind:
        parser = Links()
        parser.feed(response.content.decode(errors="replace"))
        found = parser.found
    else:
        return []
    addresses = []
    for href in found:
        parts = urlsplit(href)
        if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
            continue
        path = parts.path if parts.path.startswith("/") else base.rsplit("/", 1)[0] + "/" + parts.path
        if not parts.path:
            path = base
        address = path + (f"?{parts.query}" if parts.query else "")
        if not address.startswith(NOT_FOLLOWED):
            addresses.append(address)
    return addresses


def crawl(client, seeds, *, inside=("/",)):
    """Follow every link from `seeds` within the `inside` prefixes; return {address: status} and the routes."""
    seen, routes, queue = {}, {}, list(seeds)
    while queue and len(seen) < MAX_PAGES:
        address = queue.pop(0)
        parts = urlsplit(address)
        # One visit per path and set of parameter names: a list's every filter value is the same page.
        key = (
            parts.path,
            tuple(sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})),
        )
        if key in seen or not (parts.path.startswith(inside) or address in seeds):
            continue
        if len(routes.get(route_of(parts.path), ())) >= PAGES_PER_ROUTE:
            continue  # enough rows of this kind (every event, every check result...): the same page
        response = client.get(address)
        seen[key] = response.status_code
        assert response.status_code < 400 or response.status_code in ALLOWED, (address, response.status_code)
        match = response.wsgi_request.resolver_match
        if match is not None:
            routes.setdefault(match.route, []).append(address)
        if response.status_code in (301, 302, 303, 307, 308):
            queue.append(response["Location"])
        elif response.status_code == 200:
            if not parts.path.startswith("/admin/") and "html" in response.get("Content-Type", ""):
                assert id_problems(response.content) == [], address
            queue.extend(links_of(response, parts.path))
    return seen, routes


def route_of(path):
    """The URL pattern that serves `path` ("" when none does)."""
    try:
        return resolve(path).route
    except Resolver404:
        return ""


def mutations(address):
    """Yield `address` with each number and each path segment replaced, one at a time."""
    parts = urlsplit(address)
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        if not segment:
            continue
        replacements = NUMBER_MUTATIONS if segment.isdigit() else SEGMENT_MUTATIONS[:2]
        for replacement in replacements:
            path = "/".join([*segments[:index], replacement, *segments[index + 1 :]])
            yield path + (f"?{parts.query}" if parts.query else "")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for index, (name, value) in enumerate(pairs):
        replacements = NUMBER_MUTATIONS if value.isdigit() else SEGMENT_MUTATIONS
        for replacement in replacements:
            mutated = [*pairs[:index], (name, replacement), *pairs[index + 1 :]]
            yield parts.path + "?" + urlencode(mutated)


def replay_mutated(client, routes, *, per_route=REPLAYED_PER_ROUTE):
    """Request each route's first addresses with every mutation; return how many requests were made."""
    made = 0
    for addresses in routes.values():
        for address in addresses[:per_route]:
            for mutated in mutations(address):
                response = client.get(mutated)
                made += 1
                assert response.status_code < 400 or response.status_code in ALLOWED, (
                    mutated,
                    response.status_code,
                )
    return made


@pytest.fixture
def demo_site(devhub, source_server, settings, tmp_path):
    """The demo's submissions and catalog, made by its own loaders; the status links of its e-mails."""
    settings.PORTAL_DEMO_DATA_DIR = tmp_path / "demo-data"
    for entry in DEMO:
        if entry["hosted"]:
            source_server.add_bytes("/" + sample_name(entry), sample_bytes(entry), content_type="text/csv")
    with committed():
        # --force: the production run loads the same demo (the command refuses it with DEBUG off otherwise).
        call_command("loaddemo", force=True, stdout=io.StringIO())
        call_command("loadcatalogdemo", source_url=source_server.url("/"))
    status_links = sorted(
        {
            f"/status/{status_token_from(message.body)}/"
            for message in mail.outbox
            if "/status/" in message.body
        }
    )
    assert status_links
    return status_links


def test_every_link_answers_and_so_do_its_mutations(demo_site, settings):
    # Both modes in one test: loading the demo through the dev Hub is the slow part, and it is done once.
    for mode in MODES:
        use_mode(settings, mode)
        crawl_and_replay(demo_site)


def crawl_and_replay(demo_site):
    """Crawl the public site and the curators' admin, and replay what was found with mutations."""
    public = Client(**HTTPS_HEADERS)
    # The README's addresses for machines, and the private status links of the demo's e-mails.
    seen, routes = crawl(public, ["/", "/api/datasets/", "/api/schema/", "/sitemap.xml", *demo_site])
    assert len(seen) > 30 and len(routes) > 15, sorted(routes)
    assert {"datasets/<slug:slug>/", "status/<str:token>/", "api/datasets/"} <= set(routes)
    assert replay_mutated(public, routes) > 100

    curator = Client(**HTTPS_HEADERS)
    curator.force_login(make_curator_user("alice"))
    seen, routes = crawl(curator, ["/admin/", "/admin/submissions/submission/"], inside=CURATORS_ADMIN)
    assert any(re.search(r"<path:object_id>/change/", route) for route in routes), sorted(routes)
    assert len(seen) > 20
    assert replay_mutated(curator, routes, per_route=1) > 50
