"""Wrong, used or expired private links get the portal's friendly 404 page, also with DEBUG on (never
Django's debug page with the URL patterns), and the same page whatever the case."""

import pytest
from django.core import mail
from django.test import Client

from tests.factories import submit
from tests.submissions.test_my_submissions import ask_for_link, sign_in_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def debug_on(settings):
    settings.DEBUG = True


def assert_friendly_404(response):
    page = response.content.decode()
    assert response.status_code == 404
    assert "This link does not work" in page and "ask for a new sign-in link" in page
    assert "URLconf" not in page and "technical" not in page.lower()
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    "url",
    [
        "/status/not-a-real-token-at-all-000000000/",
        "/status/not-a-real-token-at-all-000000000/withdraw/",
        "/my-submissions/made-up-token-000000000000/",
        "/contribute/received/DP-2026-999999/",
    ],
)
def test_unknown_links_get_the_friendly_page(url):
    assert_friendly_404(Client().get(url))


def test_posting_to_an_unknown_status_link_gets_the_friendly_page():
    assert_friendly_404(Client().post("/status/not-a-real-token-at-all-000000000/reply/", {"text": "Hi"}))


def test_a_used_sign_in_link_gets_the_same_friendly_page():
    submit(email="me@example.org")
    mail.outbox.clear()
    ask_for_link("me@example.org")
    url = f"/my-submissions/{sign_in_token(mail.outbox[0])}/"
    assert Client().post(url).status_code == 200
    assert_friendly_404(Client().post(url))
    assert_friendly_404(Client().get(url))
