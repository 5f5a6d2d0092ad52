""" "My submissions": the sign-in link by e-mail, the list it opens, and links that expired or were used."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from submissions.models import SignInLink
from tests.factories import committed, confirmed, make_curator_user, submit

pytestmark = pytest.mark.django_db

FORM = "/my-submissions/"


def ask_for_link(address):
    with committed():
        return Client().post(FORM, {"email": address})


def sign_in_token(message):
    match = re.search(r"/my-submissions/([A-Za-z0-9_\-]+)/", message.body)
    assert match, message.body
    return match.group(1)


def test_form_is_shown():
    response = Client().get(FORM)
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_same_answer_for_known_and_unknown_address():
    submit(email="known@example.org")
    mail.outbox.clear()
    known = ask_for_link("known@example.org")
    unknown = ask_for_link("unknown@example.org")
    assert known.status_code == unknown.status_code == 200
    normalise = lambda response, address: response.content.decode().replace(address, "ADDRESS")  # noqa: E731
    assert normalise(known, "known@example.org") == normalise(unknown, "unknown@example.org")
    assert [message.to for message in mail.outbox] == [["known@example.org"]]
    assert SignInLink.objects.count() == 1


def test_invalid_address_is_refused_with_a_message():
    response = Client().post(FORM, {"email": "not-an-address"})
    assert "Enter an e-mail address such as name@example.org." in response.content.decode()
    assert SignInLink.objects.count() == 0
    assert mail.outbox == []


def test_link_lists_every_submission_of_the_address_with_working_status_links():
    curator = make_curator_user("alice")
    first, _ = submit(name="Tide gauges north", email="me@example.org")
    second, _ = confirmed(name="Tide gauges south", email="ME@example.org")
    other, _ = submit(name="Someone else's data", email="other@example.org")
    from submissions import services

    services.claim(second, by=curator)
    mail.outbox.clear()
    ask_for_link("me@example.org")
    (message,) = mail.outbox
    assert message.alternatives and sign_in_token(message) in message.alternatives[0][0]
    url = f"/my-submissions/{sign_in_token(message)}/"
    confirm = Client().get(url)
    assert confirm.status_code == 200 and "Show my submissions" in confirm.content.decode()
    assert "Tide gauges" not in confirm.content.decode()
    response = Client().post(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tide gauges north" in html and "Tide gauges south" in html
    assert "Someone else" not in html and other.reference not in html
    assert "In review" in html and "Waiting for e-mail confirmation" in html
    links = re.findall(r'href="(/status/[A-Za-z0-9_\-]+/)"', html)
    assert len(links) == 2
    seen = set()
    for link in links:
        page = Client().get(link)
        assert page.status_code == 200
        seen.add(next(ref for ref in (first.reference, second.reference) if ref in page.content.decode()))
    assert seen == {first.reference, second.reference}


def test_used_link_is_404_without_hint():
    submit(email="me@example.org")
    mail.outbox.clear()
    ask_for_link("me@example.org")
    url = f"/my-submissions/{sign_in_token(mail.outbox[0])}/"
    assert Client().post(url).status_code == 200
    again = Client().post(url)
    assert again.status_code == 404
    assert Client().get(url).status_code == 404
    assert "used" not in again.content.decode().lower() and "expired" not in again.content.decode().lower()


def test_expired_link_is_404_without_hint():
    submit(email="me@example.org")
    mail.outbox.clear()
    ask_for_link("me@example.org")
    link = SignInLink.objects.get()
    assert abs(link.expires_at - link.created_at - datetime.timedelta(minutes=30)) < datetime.timedelta(
        seconds=5
    )
    SignInLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = Client().get(f"/my-submissions/{sign_in_token(mail.outbox[0])}/")
    assert response.status_code == 404
    assert "expired" not in response.content.decode().lower()
    link.refresh_from_db()
    assert link.used_at is None


def test_wrong_link_is_404():
    assert Client().get("/my-submissions/made-up-token-000000000000/").status_code == 404


def test_sign_in_link_is_not_spent_by_a_get():
    """Mail scanners open links: only the visitor's POST spends the link."""
    submit(email="me@example.org")
    mail.outbox.clear()
    ask_for_link("me@example.org")
    url = f"/my-submissions/{sign_in_token(mail.outbox[0])}/"
    assert Client().get(url).status_code == 200
    assert Client().get(url).status_code == 200
    assert Client(enforce_csrf_checks=True).post(url, HTTP_ORIGIN="null").status_code == 200
