"""The curators' daily digest: what it lists, to whom, once a day, and the setting that stops it."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions import selectors, services, tasks
from submissions.models import CorrectionRequest, CuratorPreferences, DigestDelivery, Submission
from tests.factories import UserFactory, committed, confirmed, in_review, make_curator_user

pytestmark = pytest.mark.django_db

State = Submission.State
DIGEST_SETTINGS = "/admin/submissions/submission/digest/"


def earlier(submission, days):
    """Let `days` pass for a submission: its confirmation and its state began that much earlier."""
    delta = datetime.timedelta(days=days)
    Submission.objects.filter(pk=submission.pk).update(
        confirmed_at=F("confirmed_at") - delta, state_changed_at=F("state_changed_at") - delta
    )


def send_digests():
    mail.outbox.clear()
    with committed():
        sent = tasks.send_digests()
    return sent, {message.to[0]: message for message in mail.outbox}


@pytest.fixture
def team(curator, other_curator):
    """Alice and Bob, curators with addresses; Carol, a curator without one; a staff member who is not."""
    make_curator_user("carol", email="")
    UserFactory(username="helpdesk", is_staff=True)
    return curator, other_curator


@pytest.fixture
def workload(team):
    """One of each thing a digest lists: new, overdue (Bob's), a correction request, two failed publications."""
    _alice, bob = team
    new, _ = confirmed(name="Kelp forest survey")
    overdue, _ = in_review(bob, name="Glacier retreat photographs")
    earlier(overdue, 9)
    corrected, _ = confirmed(name="Wafer defect maps")
    earlier(corrected, 30)
    Submission.objects.filter(pk=corrected.pk).update(state=State.PUBLISHED)
    CorrectionRequest.objects.create(submission=corrected, number=1, kind=CorrectionRequest.Kind.CARD)
    failed, _ = confirmed(name="Ocean buoy records")
    earlier(failed, 10)
    Submission.objects.filter(pk=failed.pk).update(state=State.MIRROR_FAILED)
    card_failed, _ = confirmed(name="Court rulings 1950-2000")
    earlier(card_failed, 40)
    Submission.objects.filter(pk=card_failed.pk).update(state=State.PUBLISHED)
    CorrectionRequest.objects.create(
        submission=card_failed, number=1, kind=CorrectionRequest.Kind.CATEGORISATION, state="failed"
    )
    return {
        "new": new,
        "overdue": overdue,
        "corrected": corrected,
        "failed": failed,
        "card_failed": card_failed,
    }


def test_digest_lists_each_kind_with_its_link(workload):
    sent, messages = send_digests()

    assert sent == 2 and sorted(messages) == ["alice@portal.test", "bob@portal.test"]
    text = messages["bob@portal.test"].body
    day = timezone.localdate()
    assert messages["bob@portal.test"].subject.startswith("Dataset Portal: the curators' digest of ")
    assert "New since your last digest: 1 submission" in text
    assert f"{workload['new'].reference} “Kelp forest survey”, submitted, waiting for a curator" in text
    assert "Waiting past the review deadline of 5 days: 1 submission" in text
    assert f"{workload['overdue'].reference} “Glacier retreat photographs”, in review since" in text
    assert "(yours)" in text and "(bob)" in messages["alice@portal.test"].body
    assert "Correction requests waiting for a decision: 1" in text
    assert "request 1 (new version of the dataset card)" in text
    assert "Failed publications:" in text
    assert f"{workload['failed'].reference} “Ocean buoy records”, failed on" in text
    assert (
        f"{workload['card_failed'].reference} “Court rulings 1950-2000”, request 1 did not reach the Hub"
        in text
    )
    for submission in workload.values():
        assert f"http://testserver/admin/submissions/submission/{submission.pk}/change/" in text
    assert "Stop or restart these e-mails: http://testserver/admin/submissions/submission/digest/" in text
    html_body = messages["bob@portal.test"].alternatives[0][0]
    assert (
        f'href="http://testserver/admin/submissions/submission/{workload["overdue"].pk}/change/"' in html_body
    )
    assert DigestDelivery.objects.filter(day=day).count() == 2
    assert DigestDelivery.objects.get(curator__username="bob").items == 5


def test_nothing_to_say_sends_nothing(team):
    published, _ = confirmed()
    Submission.objects.filter(pk=published.pk).update(state=State.PUBLISHED)
    assert send_digests() == (0, {})
    assert not DigestDelivery.objects.exists()


def test_once_a_day_and_only_what_is_new_since(workload):
    send_digests()
    assert send_digests() == (0, {})  # a second beat, or a task run twice: today's rows exist
    # The next day: yesterday's digest is a day old, and a new submission arrived since.
    DigestDelivery.objects.update(
        day=F("day") - datetime.timedelta(days=1), covers_until=F("covers_until") - datetime.timedelta(days=1)
    )
    earlier(workload["new"], 2)
    confirmed(name="Peat bog cores")
    sent, messages = send_digests()
    assert sent == 2
    text = messages["alice@portal.test"].body
    assert "Peat bog cores" in text and "Kelp forest survey" not in text
    assert "Glacier retreat photographs" in text  # still overdue: still listed
    assert DigestDelivery.objects.count() == 4


def test_a_submission_confirmed_while_a_digest_was_sent_is_in_the_next_one(team):
    send_digests()  # nothing to say yet: no row
    kelp, _ = confirmed(name="Kelp forest survey")
    earlier(kelp, 1)
    send_digests()
    # The digest's lists were read an hour before its row was written; a submission confirmed meanwhile
    # was not in them, and must be in the next one.
    DigestDelivery.objects.update(
        day=F("day") - datetime.timedelta(days=1),
        covers_until=F("covers_until") - datetime.timedelta(hours=1),
    )
    meanwhile, _ = confirmed(name="Peat bog cores")
    Submission.objects.filter(pk=meanwhile.pk).update(
        confirmed_at=DigestDelivery.objects.first().covers_until + datetime.timedelta(minutes=30)
    )
    _sent, messages = send_digests()
    text = messages["alice@portal.test"].body
    assert "Peat bog cores" in text and "Kelp forest survey" not in text


def test_curators_who_opted_out_get_none(workload, curator):
    services.set_digest_preference(curator, wanted=False)
    sent, messages = send_digests()
    assert sent == 1 and list(messages) == ["bob@portal.test"]


def test_digest_is_built_in_a_fixed_number_of_queries(workload):
    for n in range(5):
        make_curator_user(f"curator{n}")
    with CaptureQueriesContext(connection) as few:
        selectors.curator_digests()
    for n in range(30):
        confirmed(name=f"More work {n}")
    with CaptureQueriesContext(connection) as many:
        digests = selectors.curator_digests()
    assert len(digests) == 7 and len(few.captured_queries) == len(many.captured_queries) <= 7


def test_a_long_section_is_cut_and_counted(team, monkeypatch):
    monkeypatch.setattr(selectors, "DIGEST_SECTION_LIMIT", 2)
    for n in range(3):
        submission, _ = confirmed(name=f"Old survey {n}")
        earlier(submission, 8)
    digest = selectors.curator_digests()[0]
    assert (len(digest.overdue.rows), digest.overdue.total, digest.overdue.more) == (2, 3, 1)
    assert digest.new.total == 0  # confirmed 8 days ago: older than a first digest looks back
    _sent, messages = send_digests()
    text = messages["alice@portal.test"].body
    assert "Waiting past the review deadline of 5 days: 3 submissions" in text
    assert text.count("Old survey") == 2 and text.count("… and 1 more in the queue.") == 1


def test_superusers_count_as_curators_and_inactive_ones_do_not(team):
    get_user_model().objects.create_superuser(username="root", email="root@portal.test", password="x")
    make_curator_user("gone", is_active=False)
    confirmed()
    _sent, messages = send_digests()
    assert sorted(messages) == ["alice@portal.test", "bob@portal.test", "root@portal.test"]


# -- the setting ---------------------------------------------------------------------------------------------


def test_curator_turns_the_digest_off_and_on(curator):
    client = Client()
    client.force_login(curator)
    page = client.get(DIGEST_SETTINGS).content.decode()
    assert 'name="digest"' in page and "checked" in page  # on by default
    assert "It goes to alice@portal.test." in page
    response = client.post(DIGEST_SETTINGS, {}, follow=True)
    assert "The daily digest is off." in response.content.decode()
    assert CuratorPreferences.objects.get(user=curator).digest is False
    client.post(DIGEST_SETTINGS, {"digest": "on"})
    assert CuratorPreferences.objects.get(user=curator).digest is True
    assert DIGEST_SETTINGS in client.get("/admin/").content.decode()


def test_the_digest_setting_is_for_curators_only(curator):
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(DIGEST_SETTINGS).status_code == 403
    assert client.post(DIGEST_SETTINGS, {}).status_code == 403
    assert not CuratorPreferences.objects.exists()


def test_a_curator_without_an_address_is_told(curator):
    silent = make_curator_user("silent", email="")
    client = Client()
    client.force_login(silent)
    assert "Your account has no e-mail address" in client.get(DIGEST_SETTINGS).content.decode()
