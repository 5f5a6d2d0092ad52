"""Rate limits: the contribution form per address and per e-mail, status-page posts per link, sign-in
requests, admin sign-in attempts; over a limit a 429 page with the retry time, nothing stored or e-mailed."""

import socket

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory

from portal import ratelimits
from submissions.models import CardRevision, Event, Submission
from tests.conftest import stored_files
from tests.factories import UserFactory, changes_requested, committed, submit
from tests.submissions.test_contribute import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits_on(settings):
    """Switch the rate limits on, over a cache of this test alone, with roomy defaults."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"}
    }
    settings.RATELIMIT_ENABLE = True
    # The named local-memory cache outlives a test in this process: start from no counts at all.
    cache.clear()
    settings.PORTAL_RATE_CONTRIBUTE_PER_IP = "100/h"
    settings.PORTAL_RATE_CONTRIBUTE_PER_EMAIL = "100/h"
    settings.PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP = "100/h"
    settings.PORTAL_RATE_STATUS_POSTS_PER_LINK = "100/h"
    settings.PORTAL_RATE_SIGN_IN_PER_IP = "100/h"
    settings.PORTAL_RATE_SIGN_IN_PER_EMAIL = "100/h"
    return settings


def contribute(*, ip="198.51.100.7", **overrides):
    with committed():
        return Client(REMOTE_ADDR=ip).post("/contribute/", form_data(**overrides))


def stored(media_root):
    return (
        Submission.objects.count(),
        CardRevision.objects.count(),
        Event.objects.count(),
        len(mail.outbox),
        len(stored_files(media_root)),
    )


def assert_too_many(response):
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 3600
    text = response.content.decode()
    assert "Too many requests" in text
    assert "Nothing was stored and no e-mail was sent." in text
    assert "Please try again in" in text


def test_contribution_form_is_limited_per_address(limits_on, media_root):
    limits_on.PORTAL_RATE_CONTRIBUTE_PER_IP = "2/h"
    for n in range(2):
        response = contribute(name=f"Harbour levels part {n}", contact_email=f"a{n}@harbour.example")
        assert response.status_code == 302
    before = stored(media_root)
    response = contribute(name="Harbour levels part 3", contact_email="a3@harbour.example")
    assert_too_many(response)
    assert stored(media_root) == before
    # Another address is not affected.
    assert contribute(ip="198.51.100.8", name="Harbour levels elsewhere").status_code == 302


def test_contribution_form_is_limited_per_email_whatever_the_case(limits_on, media_root):
    limits_on.PORTAL_RATE_CONTRIBUTE_PER_EMAIL = "1/h"
    assert contribute(ip="203.0.113.1", contact_email="Data@Harbour.example").status_code == 302
    before = stored(media_root)
    response = contribute(ip="203.0.113.2", name="Other harbour levels", contact_email="data@harbour.EXAMPLE")
    assert_too_many(response)
    assert stored(media_root) == before


def test_refused_posts_count_toward_the_looser_limit_only(limits_on, media_root):
    # Regression: 18 posts refused by the form's checks gave a 429 "try again in 40 minutes".
    limits_on.PORTAL_RATE_CONTRIBUTE_PER_IP = "2/h"
    limits_on.PORTAL_RATE_CONTRIBUTE_PER_EMAIL = "2/h"
    limits_on.PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP = "8/h"
    for _ in range(5):
        response = contribute(name="x")  # too short: refused beside the field, nothing stored
        assert response.status_code == 200
        assert "Use at least 3 characters" in response.content.decode()
    assert stored(media_root)[0] == 0
    # The contributor corrects the form: it is stored, and then one more.
    assert contribute(name="Harbour levels corrected").status_code == 302
    assert contribute(name="Harbour levels second part").status_code == 302
    # Two stored from this address (and e-mail): the stored limit is used up, refused or not.
    before = stored(media_root)
    assert_too_many(contribute(name="Harbour levels third part"))
    assert_too_many(contribute(name="x"))
    assert stored(media_root) == before


def test_attempts_are_limited_per_address_even_when_refused(limits_on, media_root):
    limits_on.PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP = "3/h"
    for _ in range(3):
        assert contribute(name="x").status_code == 200
    assert_too_many(contribute(name="Harbour levels at last"))
    assert stored(media_root)[0] == 0
    assert contribute(ip="198.51.100.9", name="Harbour levels elsewhere").status_code == 302


def test_status_page_posts_are_limited_per_link(limits_on, curator):
    limits_on.PORTAL_RATE_STATUS_POSTS_PER_LINK = "1/h"
    submission, token = changes_requested(curator)
    with committed():
        first = Client().post(f"/status/{token}/reply/", {"text": "Licence added."})
    assert first.status_code == 302
    events, sent = submission.events.count(), len(mail.outbox)
    with committed():
        again = Client(REMOTE_ADDR="192.0.2.9").post(f"/status/{token}/reply/", {"text": "And again."})
        withdraw = Client().post(f"/status/{token}/withdraw/", {"reason": "Changed my mind", "confirm": "on"})
    assert_too_many(again)
    assert_too_many(withdraw)
    submission.refresh_from_db()
    assert (
        submission.state == Submission.State.CHANGES_REQUESTED
    )  # a reply keeps it (issue 11); no withdrawal
    assert (submission.events.count(), len(mail.outbox)) == (events, sent)


def test_sign_in_requests_are_limited_per_address_and_per_email(limits_on, eager_celery):
    submit(email="someone@example.org")
    mail.outbox.clear()
    limits_on.PORTAL_RATE_SIGN_IN_PER_EMAIL = "1/h"
    limits_on.PORTAL_RATE_SIGN_IN_PER_IP = "2/h"
    with committed():
        assert (
            Client(REMOTE_ADDR="192.0.2.1")
            .post("/my-submissions/", {"email": "someone@example.org"})
            .status_code
            == 200
        )
    assert len(mail.outbox) == 1
    with committed():
        by_email = Client(REMOTE_ADDR="192.0.2.2").post("/my-submissions/", {"email": "SOMEONE@example.org"})
        other = Client(REMOTE_ADDR="192.0.2.1").post("/my-submissions/", {"email": "other@example.org"})
        by_ip = Client(REMOTE_ADDR="192.0.2.1").post("/my-submissions/", {"email": "third@example.org"})
    assert_too_many(by_email)
    assert other.status_code == 200
    assert_too_many(by_ip)
    assert len(mail.outbox) == 1


def test_limits_switched_off_count_nothing(settings, media_root):
    settings.RATELIMIT_ENABLE = False
    settings.PORTAL_RATE_CONTRIBUTE_PER_IP = "1/h"
    for n in range(3):
        assert (
            contribute(name=f"Harbour levels {n}", contact_email=f"b{n}@harbour.example").status_code == 302
        )


def test_admin_sign_in_is_locked_after_failures(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="carla", password="right-horse-battery", is_staff=True)
    client = Client(REMOTE_ADDR="198.51.100.50")
    for _ in range(2):
        response = client.post("/admin/login/", {"username": "carla", "password": "wrong"})
    assert response.status_code in (200, 429)
    locked = client.post("/admin/login/", {"username": "carla", "password": "right-horse-battery"})
    assert locked.status_code == 429
    assert "Please try again in 15 minutes" in locked.content.decode()
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "_auth_user_id" not in client.session
    # The same user from another address still signs in.
    other = Client(REMOTE_ADDR="198.51.100.51")
    assert (
        other.post("/admin/login/", {"username": "carla", "password": "right-horse-battery"}).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.10"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged entry on the left is ignored
        (2, "203.0.113.9, 198.51.100.1", "203.0.113.9"),
        (1, "not-an-address", "unknown"),
    ],
)
def test_client_address_trusts_only_the_operators_proxies(settings, hops, forwarded, expected):
    settings.PORTAL_TRUSTED_PROXY_COUNT = hops
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimits.client_ip(request) == expected


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_cache_down_the_form_still_accepts_and_pages_render(limits_on, media_root):
    limits_on.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/9",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    limits_on.PORTAL_RATE_CONTRIBUTE_PER_IP = "1/h"
    for n in range(2):
        response = contribute(name=f"Harbour levels {n}", contact_email=f"c{n}@harbour.example")
        assert response.status_code == 302
    assert Submission.objects.count() == 2
    assert Client().get("/datasets/").status_code == 200
