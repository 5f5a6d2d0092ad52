"""The approval gate (issue 11 item 4, issue 10): failing checks and personal data need a recorded override.

Locations are served by the local https test source, so the location and data checks really pass or fail.
"""

import re

import pytest
from django.test import Client

from catalog.models import MirrorJob
from submissions import approval, services
from submissions.models import Event, Submission
from tests.factories import committed, in_review

pytestmark = pytest.mark.django_db

State = Submission.State
CLEAN_CSV = b"station,depth\n" + b"".join(f"B{n},{n}\n".encode() for n in range(50))
PEOPLE_CSV = b"name,email\n" + b"".join(f"P{n},p{n}@example.org\n".encode() for n in range(50))
TICKS = {
    "licence_compatible": "on",
    "no_personal_data": "on",
    "provenance_stated": "on",
    "card_usable": "on",
}


@pytest.fixture
def review(curator, source_server, queued_mirrors):
    """Return a function that puts a submission whose location serves `data` (or 404s) in review."""

    def make(path, data=None):
        if data is None:
            source_server.add_status(path, 404)
        else:
            source_server.add_bytes(path, data, content_type="text/csv")
        submission, _ = in_review(curator, location=source_server.url(path))
        return submission

    return make


def approve(submission, curator, **kwargs):
    with committed():
        return services.approve(
            submission, by=curator, checklist=services.ReviewChecklist.all_ticked(), **kwargs
        )


def test_clean_data_and_reachable_location_need_no_override(review, curator):
    submission = review("/clean.csv", CLEAN_CSV)
    assert approval.gate_for(submission) == approval.ApprovalGate()
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert not submission.events.filter(kind=Event.Kind.OVERRIDE).exists()


def test_failing_location_refuses_approval_without_a_reason(review, curator, queued_mirrors):
    submission = review("/missing.csv")
    gate = approval.gate_for(submission)
    assert gate.needs_override and not gate.needs_personal_data_tick
    assert gate.concerns[0].startswith("The data inspection check fails: The data could not be fetched")
    assert gate.concerns[1].startswith("The location check fails: The server answered HTTP 404")
    with pytest.raises(services.InvalidTransition, match="Approving needs an override with a reason"):
        approve(submission, curator, concerns_override="   ")
    submission.refresh_from_db()
    assert submission.state == State.IN_REVIEW
    assert queued_mirrors == [] and not MirrorJob.objects.exists()


def test_override_with_a_reason_is_recorded_as_an_event(review, curator):
    submission = review("/missing.csv")
    approve(submission, curator, concerns_override="The owner moves the file tonight; retry tomorrow.")
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    event = submission.events.get(kind=Event.Kind.OVERRIDE)
    assert event.actor == curator and not event.public
    assert event.message.startswith("Approved despite: The data inspection check fails")
    assert event.message.endswith("Reason: The owner moves the file tonight; retry tomorrow.")


def test_personal_data_needs_the_tick_and_a_reason(review, curator):
    submission = review("/people.csv", PEOPLE_CSV)
    gate = approval.gate_for(submission)
    assert gate.personal_data == ("50 e-mail addresses in column email",)
    assert gate.concerns == ("Personal data was found: 50 e-mail addresses in column email.",)
    with pytest.raises(services.InvalidTransition, match="Approving needs an override"):
        approve(submission, curator, personal_data_reviewed=True)
    with pytest.raises(services.InvalidTransition, match="Personal data was found in the data: tick"):
        approve(submission, curator, concerns_override="Addresses of public institutions.")
    approve(
        submission,
        curator,
        concerns_override="Addresses of public institutions.",
        personal_data_reviewed=True,
    )
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    message = submission.events.get(kind=Event.Kind.OVERRIDE).message
    assert "Personal data reviewed." in message and "Reason: Addresses of public institutions." in message
    assert "@example.org" not in message


# -- the review page --------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(curator):
    client = Client()
    client.force_login(curator)
    return client


def test_review_page_shows_the_data_panel_masked_and_escaped(review, admin_client, source_server):
    rows = b"name,email,note\n" + b"".join(
        f"P{n},p{n}@example.org,<script>alert({n})</script>\n".encode() for n in range(30)
    )
    submission = review("/people.csv", rows)
    content = admin_client.get(f"/admin/submissions/submission/{submission.pk}/change/").content.decode()
    panel = content[
        content.index('<section id="data"') : content.index("</section>", content.index('<section id="data"'))
    ]
    assert "CSV, 3 columns, 30 rows; 1 column holds e-mail addresses" in panel
    assert "p***@e***.org" in panel and "@example.org" not in panel
    assert "<script>alert" not in panel and "&lt;script&gt;alert(0)&lt;/script&gt;" in panel
    assert 'id="data-schema"' in panel and 'id="data-rows"' in panel
    assert "column email" in panel and "e-mail addresses" in panel
    assert "Approving needs an override" in content
    assert "personal_data_reviewed" in content and "concerns_override" in content


def test_approve_form_refuses_without_override_and_tick(review, admin_client):
    submission = review("/people.csv", PEOPLE_CSV)
    url = f"/admin/submissions/submission/{submission.pk}/approve/"
    response = admin_client.post(url, TICKS)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Personal data was found: tick this item to approve." in text
    assert "A check fails or personal data was found: write why you approve anyway." in text
    submission.refresh_from_db()
    assert submission.state == State.IN_REVIEW
    with committed():
        response = admin_client.post(
            url,
            {**TICKS, "personal_data_reviewed": "on", "concerns_override": "Public institutions' addresses."},
            follow=True,
        )
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    timeline = response.content.decode()
    assert "Approval override" in timeline and "Reason: Public institutions&#x27; addresses." in timeline


def test_contributor_status_page_shows_the_data_check_summary_not_rows(review, curator, source_server):
    source_server.add_bytes("/people.csv", PEOPLE_CSV)
    _submission, token = in_review(curator, location=source_server.url("/people.csv"))
    text = Client().get(f"/status/{token}/").content.decode()
    assert "CSV, 2 columns, 50 rows; 1 column holds e-mail addresses" in text
    # No row: neither a masked address nor a name cell (a bare "P0" could be part of the page's random token).
    assert "p***@e***.org" not in text and "p0@example.org" not in text
    assert not re.search(r">\s*P0\s*<", text)


def test_queue_shows_the_data_check_summary(review, admin_client):
    review("/people.csv", PEOPLE_CSV)
    text = admin_client.get("/admin/submissions/submission/").content.decode()
    assert "Data: CSV, 2 columns, 50 rows; 1 column holds e-mail addresses" in text
