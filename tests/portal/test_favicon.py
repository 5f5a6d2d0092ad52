"""The favicon: served at /favicon.ico (browsers ask there on every page) and linked from every page."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_is_served_at_the_site_root():
    # Regression: /favicon.ico was a 404 on every page.
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header


@pytest.mark.parametrize("path", ["/", "/datasets/", "/contribute/", "/my-submissions/"])
def test_every_page_links_the_favicon(path):
    assert '<link rel="icon" href="/favicon.ico"' in Client().get(path).content.decode()
