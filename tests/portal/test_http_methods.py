"""Every view answers only the methods it serves: 405 with an honest Allow header for any other."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from submissions.models import Submission

pytestmark = pytest.mark.django_db

# Every route of the product (the admin is Django's own), with the methods it serves.
ROUTES = {
    "": ("/", {"GET", "HEAD"}),
    "readyz": ("/readyz", {"GET", "HEAD"}),
    "i18n/setlang/": ("/i18n/setlang/", {"POST"}),
    "contribute/": ("/contribute/", {"GET", "HEAD", "POST"}),
    "contribute/received/<str:reference>/": ("/contribute/received/DP-1/", {"GET", "HEAD"}),
    "status/<str:token>/": ("/status/x/", {"GET", "HEAD"}),
    "status/<str:token>/confirm/": ("/status/x/confirm/", {"POST"}),
    "status/<str:token>/reply/": ("/status/x/reply/", {"POST"}),
    "status/<str:token>/revise/": ("/status/x/revise/", {"POST"}),
    "status/<str:token>/withdraw/": ("/status/x/withdraw/", {"GET", "HEAD", "POST"}),
    "status/<str:token>/reopen/": ("/status/x/reopen/", {"POST"}),
    "status/<str:token>/progress.json": ("/status/x/progress.json", {"GET", "HEAD"}),
    "status/<str:token>/draft-card.md": ("/status/x/draft-card.md", {"GET", "HEAD"}),
    "status/<str:token>/location/": ("/status/x/location/", {"POST"}),
    "status/<str:token>/correction/": ("/status/x/correction/", {"POST"}),
    "status/<str:token>/card-version/": ("/status/x/card-version/", {"POST"}),
    "contribute/what-we-accept/": ("/contribute/what-we-accept/", {"GET", "HEAD"}),
    "contribute/card-template/": ("/contribute/card-template/", {"GET", "HEAD", "POST"}),
    "my-submissions/": ("/my-submissions/", {"GET", "HEAD", "POST"}),
    "my-submissions/<str:token>/": ("/my-submissions/x/", {"GET", "HEAD", "POST"}),
    "datasets/": ("/datasets/", {"GET", "HEAD"}),
    "datasets/feed.atom": ("/datasets/feed.atom", {"GET", "HEAD"}),
    "datasets/<slug:slug>/": ("/datasets/x/", {"GET", "HEAD"}),
    "datasets/<slug:slug>/croissant.json": ("/datasets/x/croissant.json", {"GET", "HEAD"}),
    "datasets/<slug:slug>/CITATION.cff": ("/datasets/x/CITATION.cff", {"GET", "HEAD"}),
    "datasets/dcat.jsonld": ("/datasets/dcat.jsonld", {"GET", "HEAD"}),
    "datasets/dcat.ttl": ("/datasets/dcat.ttl", {"GET", "HEAD"}),
    "sitemap.xml": ("/sitemap.xml", {"GET", "HEAD"}),
    "sitemap-<section>.xml": ("/sitemap-datasets.xml", {"GET", "HEAD"}),
    "healthz": ("/healthz", {"GET", "HEAD"}),
    # Django REST framework's views also answer OPTIONS (and say so in Allow).
    "api/datasets/": ("/api/datasets/", {"GET", "HEAD", "OPTIONS"}),
    "api/datasets/<slug:slug>/": ("/api/datasets/x/", {"GET", "HEAD", "OPTIONS"}),
    "api/schema/": ("/api/schema/", {"GET", "HEAD", "OPTIONS"}),
    # Sign-in (identity/urls.py): allauth's views, limited to what the portal uses of them.
    "accounts/login/": ("/accounts/login/", {"GET", "HEAD"}),
    "accounts/logout/": ("/accounts/logout/", {"GET", "HEAD", "POST"}),
    "accounts/inactive/": ("/accounts/inactive/", {"GET", "HEAD"}),
    "accounts/3rdparty/login/cancelled/": ("/accounts/3rdparty/login/cancelled/", {"GET", "HEAD"}),
    "accounts/3rdparty/login/error/": ("/accounts/3rdparty/login/error/", {"GET", "HEAD"}),
    "accounts/3rdparty/signup/": ("/accounts/3rdparty/signup/", {"GET", "HEAD", "POST"}),
    "accounts/3rdparty/": ("/accounts/3rdparty/", {"GET", "HEAD", "POST"}),
    "accounts/oidc/<str:provider_id>/login/": ("/accounts/oidc/orcid/login/", {"GET", "HEAD", "POST"}),
    "accounts/oidc/<str:provider_id>/login/callback/": (
        "/accounts/oidc/orcid/login/callback/",
        {"GET", "HEAD"},
    ),
    # Any other address under /api/: a JSON 404 whatever the method.
    "^api/([\\s\\S]*/)?$": ("/api/nothing/", {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}),
}
OTHER_METHODS = ("PUT", "PATCH", "DELETE", "POST", "GET")


def routes(resolver=None, prefix=""):
    """Yield the pattern of every route outside the admin."""
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if pattern.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern


def test_every_route_is_listed_here():
    assert set(routes()) == set(ROUTES), "add the new route and its methods to ROUTES"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_other_methods_get_405_and_an_honest_allow(route):
    url, served = ROUTES[route]
    client = Client()
    for method in OTHER_METHODS:
        if method in served:
            continue
        response = client.generic(method, url)
        assert response.status_code == 405, (method, url, response.status_code)
        allowed = {part.strip() for part in response["Allow"].split(",")}
        assert allowed == served, (method, url, allowed)


def test_put_on_the_contribution_form_stores_nothing():
    response = Client().put("/contribute/", "name=x")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert Submission.objects.count() == 0
