"""Status-page forms are protected by the private token in their URL, not by Django's CSRF cookie."""

import pytest
from django.test import Client

from submissions.models import Event
from tests.factories import committed, confirmed

pytestmark = pytest.mark.django_db


def test_reply_posted_with_origin_null_is_accepted_with_the_right_token():
    submission, token = confirmed()
    client = Client(enforce_csrf_checks=True)
    with committed():
        response = client.post(
            f"/status/{token}/reply/", {"text": "Here is the provenance."}, HTTP_ORIGIN="null"
        )
    assert response.status_code == 302
    assert response["Referrer-Policy"] == "no-referrer"
    assert submission.events.filter(kind=Event.Kind.MESSAGE, message="Here is the provenance.").exists()


@pytest.mark.parametrize("action", ["reply", "revise", "withdraw"])
def test_forged_post_without_the_token_is_a_plain_404(action):
    submission, _ = confirmed()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/status/{'A' * 43}/{action}/", {"text": "x", "confirm": "on"}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 404
    submission.refresh_from_db()
    assert submission.state == "submitted"
    assert not submission.events.filter(kind=Event.Kind.MESSAGE).exists()


def test_reply_and_revise_refuse_get():
    _, token = confirmed()
    assert Client().get(f"/status/{token}/reply/").status_code == 405
    assert Client().get(f"/status/{token}/revise/").status_code == 405
