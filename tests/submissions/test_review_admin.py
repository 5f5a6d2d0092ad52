"""The curators' review queue and review page, driven through the admin with Django's test client."""

import datetime
import html
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import MirrorJob
from submissions import services
from submissions.models import Domain, Event, Submission, TermsVersion, fold_name
from tests.factories import (
    GOOD_CARD,
    OFFLINE_OVERRIDE,
    UserFactory,
    card_bytes,
    changes_requested,
    committed,
    confirmed,
    in_review,
    status_token_from,
    submit,
)

pytestmark = pytest.mark.django_db

State = Submission.State
QUEUE = "/admin/submissions/submission/"
CHECKLIST_TICKS = {
    "licence_compatible": "on",
    "no_personal_data": "on",
    "provenance_stated": "on",
    "card_usable": "on",
    # The factories' locations are unreachable offline: approving them overrides the failing checks.
    "concerns_override": OFFLINE_OVERRIDE,
}
ACTION_NAMES = [
    "claim",
    "assign",
    "message",
    "request-changes",
    "approve",
    "reject",
    "retry-mirror",
    "rerun-checks",
]


# -- HTML, read structurally ----------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    """One element of a parsed page."""

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, dict(attrs), parent, [], []

    def iter(self):
        """Yield this element and every element below it."""
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag=None, **attrs):
        """Return the elements below with this tag and attribute values (class matches one class)."""
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if all(
                value in (node.attrs.get("class") or "").split()
                if name == "class_"
                else node.attrs.get(name) == value
                for name, value in attrs.items()
            ):
                found.append(node)
        return found

    def find(self, tag=None, **attrs):
        """Return the first element below that matches, failing the test if there is none."""
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    @property
    def text(self):
        """Return the text of this element and its descendants, whitespace collapsed."""
        pieces = []

        def walk(node):
            for part in node.parts:
                pieces.append(part if isinstance(part, str) else "")
                if not isinstance(part, str):
                    walk(part)

        walk(self)
        return " ".join("".join(pieces).split())


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.current.parts.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.current.parts.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


def parse_html(content):
    """Return the root Node of an HTML page (bytes or str)."""
    builder = _TreeBuilder()
    builder.feed(content.decode() if isinstance(content, bytes) else content)
    builder.close()
    return builder.root


def page_text(response):
    """Return a response's HTML with entities decoded, for plain-text messages."""
    return html.unescape(response.content.decode())


# -- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(curator):
    client = Client()
    client.force_login(curator)
    return client


def review_url(submission):
    return f"{QUEUE}{submission.pk}/change/"


def action_url(submission, name):
    return f"{QUEUE}{submission.pk}/{name}/"


def snapshot(submission):
    """What a refused action must leave unchanged."""
    submission.refresh_from_db()
    return (
        submission.state,
        submission.assignee_id,
        submission.state_changed_at,
        submission.review_checklist,
        submission.events.count(),
        MirrorJob.objects.count(),
    )


def queue_refs(response):
    return [row.reference for row in response.context["cl"].result_list]


# -- access ---------------------------------------------------------------------------------------------


def test_curators_group_has_exactly_the_review_permissions():
    group = Group.objects.get(name="Curators")
    granted = {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }
    assert granted == {
        "submissions.review_submission",
        "submissions.view_submission",
        "submissions.change_submission",
        "submissions.view_cardrevision",
        "submissions.view_event",
        "submissions.view_checkresult",
        "submissions.view_domain",
        "submissions.add_domain",
        "submissions.change_domain",
        "submissions.view_termsversion",
        "catalog.view_dataset",
        "catalog.view_mirrorjob",
        "submissions.view_correctionrequest",
        "catalog.view_cardupdate",
    }


def test_makecurator_command_adds_a_user_to_the_group():
    from django.core.management import call_command

    user = UserFactory(username="carol")
    call_command("makecurator", "carol")
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name="Curators").exists()


def test_curator_gets_the_queue(admin_client):
    submission, _ = confirmed()
    response = admin_client.get(QUEUE)
    assert response.status_code == 200
    assert queue_refs(response) == [submission.reference]


def test_staff_who_is_not_a_curator_is_refused_everywhere(curator):
    submission, _ = in_review(curator)
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = Client()
    client.force_login(staff)
    before = snapshot(submission)
    assert client.get(QUEUE).status_code == 403
    assert client.get(review_url(submission)).status_code == 403
    for name in ACTION_NAMES:
        data = {**CHECKLIST_TICKS, "text": "x", "public": "1", "message": "x", "reason": "x"}
        data["curator"] = str(staff.pk)
        assert client.post(action_url(submission, name), data).status_code == 403, name
    assert snapshot(submission) == before
    assert "Submissions" not in client.get("/admin/").content.decode()


def test_anonymous_is_sent_to_the_login_page(curator):
    submission, _ = in_review(curator)
    before = snapshot(submission)
    client = Client()
    for url in [QUEUE, review_url(submission), *(action_url(submission, name) for name in ACTION_NAMES)]:
        response = (
            client.post(url, CHECKLIST_TICKS) if url.endswith(("approve/", "claim/")) else client.get(url)
        )
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url
    assert snapshot(submission) == before


def test_action_urls_accept_only_post(admin_client, curator):
    submission, _ = confirmed()
    response = admin_client.get(action_url(submission, "claim"))
    assert response.status_code == 405
    assert snapshot(submission)[0] == State.SUBMITTED


@pytest.mark.parametrize("object_id", ["abc", "1.5", "-1", "0", "99999999999999999999999", "12345"])
def test_a_review_page_of_no_submission_redirects_with_a_message_as_the_admin_does(admin_client, object_id):
    # Regression: "abc" and "1.5" were a 500 (ValueError in _get_submission).
    confirmed()
    response = admin_client.get(f"{QUEUE}{object_id}/change/", follow=True)
    assert response.redirect_chain == [("/admin/", 302)]
    assert f"Submission with ID “{object_id}” doesn’t exist." in page_text(response)


@pytest.mark.parametrize("object_id", ["99999999999999999999999", "9223372036854775807", "12345"])
@pytest.mark.parametrize("name", [*ACTION_NAMES, "change-location", "accept-correction"])
def test_an_action_on_no_submission_redirects_with_a_message_and_changes_nothing(
    admin_client, curator, object_id, name
):
    submission, _ = confirmed()
    before = snapshot(submission)
    response = admin_client.post(f"{QUEUE}{object_id}/{name}/", {"text": "Hello"}, follow=True)
    assert response.redirect_chain == [("/admin/", 302)]
    assert f"Submission with ID “{object_id}” doesn’t exist." in page_text(response)
    assert snapshot(submission) == before


# -- the queue ------------------------------------------------------------------------------------------


def test_queue_shows_every_column(admin_client, curator):
    submission, _ = in_review(curator, name="Sea ice thickness", modalities=["images", "text"])
    page = parse_html(admin_client.get(QUEUE).content)
    headers = [th.text.lower() for th in page.find("table", id="result_list").find("thead").find_all("th")]
    for column in (
        "reference",
        "name",
        "domain",
        "modalities",
        "hosting",
        "state",
        "assignee",
        "waiting",
        "checks",
    ):
        assert any(column == header for header in headers), (column, headers)
    row = page.find("table", id="result_list").find("tbody").find("tr").text
    for value in (submission.reference, "Sea ice thickness", "Marine", "Images, Text", "In review", "alice"):
        assert value in row, (value, row)
    assert submission.check_summary in ("pass", "warn", "fail", "error")
    assert submission.get_check_summary_display() in row


@pytest.fixture
def varied(curator, other_curator):
    """Four submissions that differ in every filtered field."""
    climate = Domain.objects.get(name="Climate")
    a, _ = in_review(curator, name="Alpha tides", modalities=["text"])
    b, _ = in_review(other_curator, name="Beta glaciers", modalities=["audio"], domain=climate, hosting=False)
    c, _ = confirmed(name="Gamma reefs", modalities=["video", "audio"], email="reefs@ocean.example")
    d, _ = submit(name="Delta waves", modalities=["images"])
    Submission.objects.filter(pk=a.pk).update(check_summary="pass")
    Submission.objects.filter(pk=b.pk).update(check_summary="fail")
    Submission.objects.filter(pk=c.pk).update(check_summary="warn")
    return a, b, c, d


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=in_review", "ab"),
        ("state=awaiting_confirmation", "d"),
        ("modality=audio", "bc"),
        ("modality=images", ""),  # d is unconfirmed: not shown by default
        ("confirmation=any&modality=images", "d"),
        ("confirmation=unconfirmed", "d"),
        ("confirmation=any", "abcd"),
        ("", "abc"),
        ("hosting_wanted__exact=0", "b"),
        ("assignee=mine", "a"),
        ("assignee=unassigned", "c"),
        ("confirmation=any&assignee=unassigned", "cd"),
        ("check_summary__exact=fail", "b"),
        ("check_summary__exact=warn", "c"),
        ("open=open&assignee=others", "b"),
    ],
)
def test_queue_filters(admin_client, varied, query, expected):
    by_letter = dict(zip("abcd", varied, strict=True))
    response = admin_client.get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    assert sorted(queue_refs(response)) == sorted(by_letter[letter].reference for letter in expected)


def test_queue_filters_by_domain(admin_client, varied):
    climate = Domain.objects.get(name="Climate")
    response = admin_client.get(f"{QUEUE}?domain__id__exact={climate.pk}")
    assert queue_refs(response) == [varied[1].reference]


@pytest.mark.parametrize(
    ("term", "letter"), [("reference", "c"), ("glaciers", "b"), ("reefs@ocean.example", "c")]
)
def test_queue_search(admin_client, varied, term, letter):
    target = dict(zip("abcd", varied, strict=True))[letter]
    query = target.reference if term == "reference" else term
    response = admin_client.get(QUEUE, {"q": query})
    assert queue_refs(response) == [target.reference]


def test_queue_default_order_is_oldest_waiting_first(admin_client):
    made = [confirmed(name=f"Dataset number {n}")[0] for n in range(3)]
    now = timezone.now()
    for submission, days in zip(made, (1, 9, 5), strict=True):
        Submission.objects.filter(pk=submission.pk).update(
            state_changed_at=now - datetime.timedelta(days=days)
        )
    assert queue_refs(admin_client.get(QUEUE)) == [made[1].reference, made[2].reference, made[0].reference]


def test_state_cannot_be_changed_through_the_change_form(admin_client, curator):
    submission, _ = in_review(curator)
    before = snapshot(submission)
    response = admin_client.post(
        review_url(submission),
        {"state": "published", "assignee": "", "check_summary": "pass", "name": "Renamed"},
    )
    assert response.status_code == 200
    assert snapshot(submission) == before
    submission.refresh_from_db()
    assert submission.name != "Renamed" and submission.check_summary != "pass"
    page = parse_html(response.content)
    assert not page.find_all("select", name="state") and not page.find_all("input", name="state")


def test_timeline_events_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    submission, _ = submit()
    event = submission.events.get()
    assert admin_client.post(
        f"/admin/submissions/event/{event.pk}/change/", {"message": "x"}
    ).status_code in (
        200,
        403,
    )
    assert (
        admin_client.post(f"/admin/submissions/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert admin_client.get("/admin/submissions/event/add/").status_code == 403
    event.refresh_from_db()
    assert event.message == "Submitted through the contribution form."
    assert Event.objects.count() == 1


# -- actions --------------------------------------------------------------------------------------------


def test_claim(admin_client, curator):
    submission, _ = confirmed()
    response = admin_client.post(action_url(submission, "claim"), follow=True)
    assert response.redirect_chain[-1][0] == review_url(submission)
    assert f"You are now reviewing {submission.reference}." in page_text(response)
    submission.refresh_from_db()
    assert (submission.state, submission.assignee) == (State.IN_REVIEW, curator)


def test_claim_from_the_queue_as_a_bulk_action(admin_client, curator):
    first, _ = confirmed()
    second, _ = confirmed()
    response = admin_client.post(
        QUEUE, {"action": "claim_selected", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert "Claimed 2 submissions." in page_text(response)
    assert set(Submission.objects.values_list("state", flat=True)) == {State.IN_REVIEW}


def test_assign_to_another_curator(admin_client, curator, other_curator):
    submission, _ = in_review(curator)
    response = admin_client.post(action_url(submission, "assign"), {"curator": other_curator.pk}, follow=True)
    assert f"{submission.reference} is assigned to bob." in page_text(response)
    submission.refresh_from_db()
    assert submission.assignee == other_curator
    assert submission.events.latest("id").public is False


def test_assign_to_someone_who_is_not_a_curator_is_refused(admin_client, curator):
    submission, _ = in_review(curator)
    outsider = UserFactory(username="mallory", is_staff=True)
    before = snapshot(submission)
    response = admin_client.post(action_url(submission, "assign"), {"curator": outsider.pk})
    assert response.status_code == 400
    assert "Choose a curator from the list." in page_text(response)
    assert snapshot(submission) == before


def test_public_message_is_emailed_with_a_status_link(admin_client, curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        response = admin_client.post(
            action_url(submission, "message"), {"text": "Is the data CC BY?", "public": "1"}, follow=True
        )
    assert "Message sent to the contributor." in page_text(response)
    (message,) = mail.outbox
    assert message.to == ["contributor@example.org"]
    assert "Is the data CC BY?" in message.body
    status = Client().get(f"/status/{status_token_from(message.body)}/")
    assert status.status_code == 200
    assert "Is the data CC BY?" in page_text(status)


def test_internal_note_sends_nothing_and_stays_off_the_status_page(admin_client, curator):
    submission, token = in_review(curator)
    mail.outbox.clear()
    with committed():
        response = admin_client.post(
            action_url(submission, "message"),
            {"text": "Looks like a scrape, ask Dana.", "public": "0"},
            follow=True,
        )
    assert "Internal note added." in page_text(response)
    assert mail.outbox == []
    note = submission.events.latest("id")
    assert (note.public, note.message) == (False, "Looks like a scrape, ask Dana.")
    assert "ask Dana" not in Client().get(f"/status/{token}/").content.decode()


def test_empty_message_is_refused(admin_client, curator):
    submission, _ = in_review(curator)
    before = snapshot(submission)
    response = admin_client.post(action_url(submission, "message"), {"text": "", "public": "1"})
    assert response.status_code == 400
    assert "Write the message; it can't be empty." in page_text(response)
    assert snapshot(submission) == before


def test_request_changes(admin_client, curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        response = admin_client.post(
            action_url(submission, "request-changes"), {"message": "Add the licence section."}, follow=True
        )
    assert "Changes requested; the contributor has been told." in page_text(response)
    submission.refresh_from_db()
    assert submission.state == State.CHANGES_REQUESTED
    (message,) = mail.outbox
    assert "Add the licence section." in message.body and "/status/" in message.body


@pytest.mark.parametrize("message", ["", "   "])
def test_request_changes_without_a_message_is_refused(admin_client, curator, message):
    submission, _ = in_review(curator)
    before = snapshot(submission)
    mail.outbox.clear()
    response = admin_client.post(action_url(submission, "request-changes"), {"message": message})
    assert response.status_code == 400
    assert "Say what the contributor should change; the message is required." in page_text(response)
    assert snapshot(submission) == before
    assert mail.outbox == []


def test_approve_with_every_item_ticked(admin_client, curator, queued_mirrors):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        response = admin_client.post(
            action_url(submission, "approve"), {**CHECKLIST_TICKS, "note": "Fine."}, follow=True
        )
    assert "is approved; publication to the Hub has been queued." in page_text(response)
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert all(submission.review_checklist["items"].values())
    job = MirrorJob.objects.get(dataset__submission=submission)
    assert queued_mirrors == [job.pk]
    (message,) = mail.outbox
    assert "approved" in message.subject and "/status/" in message.body
    record = submission.events.filter(public=False).latest("id").message
    assert "✓ The licence is compatible" in record and "Fine." in record


def test_approve_without_checklist_or_override_is_refused(admin_client, curator, queued_mirrors):
    submission, _ = in_review(curator)
    before = snapshot(submission)
    ticks = dict(CHECKLIST_TICKS)
    del ticks["no_personal_data"]
    response = admin_client.post(action_url(submission, "approve"), ticks)
    assert response.status_code == 400
    text = page_text(response)
    assert "Tick every item of the checklist, or write why you approve anyway." in text
    assert "No personal or sensitive data" in text
    assert snapshot(submission) == before
    assert queued_mirrors == []


def test_approve_with_override_reason_is_recorded_and_shown(admin_client, curator, queued_mirrors):
    submission, _ = in_review(curator)
    response = admin_client.post(
        action_url(submission, "approve"),
        {
            "licence_compatible": "on",
            "override_reason": "Provenance confirmed by phone with the owner.",
            "concerns_override": OFFLINE_OVERRIDE,
        },
        follow=True,
    )
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert submission.review_checklist["override_reason"] == "Provenance confirmed by phone with the owner."
    assert submission.review_checklist["items"]["provenance_stated"] is False
    assert "Override: Provenance confirmed by phone with the owner." in page_text(response)


def test_reject_with_reason(admin_client, curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        admin_client.post(action_url(submission, "reject"), {"reason": "The data is not open."})
    submission.refresh_from_db()
    assert submission.state == State.REJECTED
    (message,) = mail.outbox
    assert "The data is not open." in message.body


def test_reject_without_reason_is_refused(admin_client, curator):
    submission, _ = in_review(curator)
    before = snapshot(submission)
    response = admin_client.post(action_url(submission, "reject"), {"reason": ""})
    assert response.status_code == 400
    assert "Give the reason for the decision" in page_text(response)
    assert snapshot(submission) == before


def test_retry_a_failed_mirror(admin_client, curator, queued_mirrors):
    submission, _ = in_review(curator)
    services.approve(
        submission,
        by=curator,
        checklist=services.ReviewChecklist.all_ticked(),
        concerns_override=OFFLINE_OVERRIDE,
    )
    services.mark_mirror_failed(submission, reason="The Hub answered 403.")
    page = parse_html(admin_client.get(review_url(submission)).content)
    assert page.find("section", id="actions").find_all("button", name="retry")
    with committed():
        response = admin_client.post(action_url(submission, "retry-mirror"), follow=True)
    assert f"Publication of {submission.reference} restarted." in page_text(response)
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert queued_mirrors == [MirrorJob.objects.get(dataset__submission=submission).pk]


@pytest.mark.parametrize(
    ("action", "data", "words"),
    [
        ("approve", CHECKLIST_TICKS, "can't be moved to “Approved, waiting to be published”"),
        ("reject", {"reason": "No."}, "can't be moved to “Not accepted”"),
        ("request-changes", {"message": "More."}, "can't be moved to “Changes requested”"),
        ("retry-mirror", {}, "can't be moved to “Approved, waiting to be published”"),
    ],
)
def test_illegal_transition_shows_a_message_and_changes_nothing(
    admin_client, curator, action, data, words, queued_mirrors
):
    submission, _ = in_review(curator)
    services.reject(submission, by=curator, reason="Out of scope.")
    before = snapshot(submission)
    mail.outbox.clear()
    with committed():
        response = admin_client.post(action_url(submission, action), data, follow=True)
    assert response.status_code == 200
    page = parse_html(response.content)
    errors = page.find("ul", class_="messagelist").find_all("li", class_="error")
    assert any(words in html.unescape(item.text) for item in errors), [item.text for item in errors]
    assert snapshot(submission) == before
    assert mail.outbox == [] and queued_mirrors == []


def test_claim_lost_to_another_curator_is_told(admin_client, curator, other_curator):
    submission, _ = in_review(other_curator)
    before = snapshot(submission)
    response = admin_client.post(action_url(submission, "claim"), follow=True)
    assert "is already being reviewed by bob" in page_text(response)
    assert snapshot(submission) == before


# -- the review page ------------------------------------------------------------------------------------

HOSTILE_CARD = (
    GOOD_CARD
    + """
<script>alert("script")</script>

<img src="x.png" onerror="alert('img')">

[click me](javascript:alert('link'))

[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)

<a href="javascript:alert('raw')" onclick="alert('click')">raw link</a>

<iframe src="https://evil.example/"></iframe>

**Safe bold text**
"""
)


def test_review_page_renders_the_card_sanitised(admin_client, curator):
    submission, _ = in_review(curator, card=HOSTILE_CARD)
    response = admin_client.get(review_url(submission))
    assert response.status_code == 200
    page = parse_html(response.content)
    card = page.find("article", class_="card-rendered")
    assert card.find("strong").text == "Safe bold text"
    # Card headings are demoted below the admin page's own headings (# becomes h3).
    assert card.find("h3").text == "Harbour water levels"
    assert not card.find_all("script") and not card.find_all("iframe")
    for node in page.iter():
        for name, value in node.attrs.items():
            assert not name.startswith("on"), (node.tag, name, value)
            if name in ("href", "src", "action", "formaction"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (
                    node.tag,
                    value,
                )
        if node.tag == "script":
            assert "alert" not in node.text, node.text
    assert "click me" in card.text  # the link text stays, its target does not


def test_review_page_shows_metadata_lint_checks_and_details(admin_client, curator):
    bare = "---\nlicense: mit\npretty_name: Bare\n---\n# Bare\n\nSome data.\n"
    submission, _ = in_review(curator, card=bare)
    page = parse_html(admin_client.get(review_url(submission)).content)
    metadata = {
        row.find("th").text: row.find("td").text for row in page.find("section", id="metadata").find_all("tr")
    }
    assert metadata == {"license": "mit", "pretty_name": "Bare"}
    lint = [item.text for item in page.find("section", id="lint").find_all("li")]
    assert lint and all(item.startswith("warning:") for item in lint)
    kinds = [
        row.find_all("td")[0].text for row in page.find("section", id="checks").find("tbody").find_all("tr")
    ]
    assert sorted(kinds) == ["Card lint", "Data inspection", "Duplicates", "Location"]
    assert "contributor@example.org" in page.find("table", class_="details").text


def test_review_page_shows_revisions_with_a_diff(admin_client, curator):
    from submissions import cards

    submission, _ = changes_requested(curator)
    revised = GOOD_CARD.replace("CC BY 4.0.", "CC BY 4.0, see LICENSE.txt.")
    services.revise_card(
        submission,
        card=cards.parse_card(card_bytes(revised), filename="README.md"),
        card_raw=card_bytes(revised),
        card_filename="README-v2.md",
    )
    page = parse_html(admin_client.get(review_url(submission)).content)
    revisions = page.find("section", id="revisions")
    assert [item.text.split(":")[0] for item in revisions.find("ol").find_all("li")] == [
        "Revision 1",
        "Revision 2",
    ]
    assert revisions.find("h4").text == "Changes from revision 1 to 2"
    added = [span.text for span in revisions.find_all("span", class_="diff-add")]
    removed = [span.text for span in revisions.find_all("span", class_="diff-del")]
    assert added == ["+CC BY 4.0, see LICENSE.txt."]
    assert removed == ["-CC BY 4.0."]


def test_review_page_timeline_marks_public_and_internal(admin_client, curator):
    submission, _ = in_review(curator)
    services.send_message(submission, by=curator, text="Internal: check the scraper.", public=False)
    services.send_message(submission, by=curator, text="Public: thanks!", public=True)
    page = parse_html(admin_client.get(review_url(submission)).content)
    events = page.find("ol", class_="timeline").find_all("li")
    assert len(events) == submission.events.count()
    internal = [event for event in events if "event-internal" in event.attrs["class"]]
    public = [event for event in events if "event-public" in event.attrs["class"]]
    assert [event.find("span", class_="visibility").text for event in internal] == ["internal"]
    assert "Internal: check the scraper." in internal[0].text
    assert any("Public: thanks!" in event.text for event in public)
    assert all(event.find("span", class_="visibility").text == "public" for event in public)


@pytest.mark.parametrize(
    ("make", "offered"),
    [
        ("submitted", {"claim", "rerun", "change_location", "mark_duplicate"}),
        ("in_review", {"approve", "reject", "request_changes", "rerun", "change_location", "mark_duplicate"}),
        ("rejected", {"rerun"}),
    ],
)
def test_review_page_offers_the_actions_of_the_state(admin_client, curator, make, offered):
    submission, _ = confirmed()
    if make != "submitted":
        services.claim(submission, by=curator)
    if make == "rejected":
        services.reject(submission, by=curator, reason="No.")
    page = parse_html(admin_client.get(review_url(submission)).content)
    buttons = {button.attrs.get("name") for button in page.find("section", id="actions").find_all("button")}
    buttons.discard("send_message")
    buttons.discard(None)
    assert buttons == offered


# -- performance ----------------------------------------------------------------------------------------


def seed_queue(count, *, curator):
    """Insert `count` submissions in bulk (rows only: enough for the queue page)."""
    terms = TermsVersion.current()
    domains = list(Domain.objects.all())
    now = timezone.now()
    start = Submission.objects.count()
    rows = []
    for n in range(start, start + count):
        name = f"Bulk dataset {n}"
        rows.append(
            Submission(
                reference=f"DP-2025-{n + 1:06d}",
                name=name,
                name_key=fold_name(name),
                location=f"https://data.example.org/{n}.csv",
                modalities="images,text",
                domain=domains[n % len(domains)],
                contact_email=f"person{n}@example.org",
                terms_version=terms,
                terms_accepted_at=now,
                state=State.IN_REVIEW if n % 2 else State.SUBMITTED,
                state_changed_at=now - datetime.timedelta(minutes=n),
                assignee=curator if n % 3 == 0 else None,
                check_summary="warn",
            )
        )
    Submission.objects.bulk_create(rows, batch_size=500)


QUEUE_MAX_QUERIES = 12


def test_queue_query_count_does_not_grow_with_rows(admin_client, curator, django_assert_max_num_queries):
    admin_client.get(QUEUE)  # warm the session and content types
    seed_queue(10, curator=curator)
    with CaptureQueriesContext(connection) as at_ten:
        assert admin_client.get(QUEUE).status_code == 200
    seed_queue(990, curator=curator)
    with django_assert_max_num_queries(QUEUE_MAX_QUERIES), CaptureQueriesContext(connection) as at_thousand:
        response = admin_client.get(QUEUE)
    assert response.context["cl"].result_count == 1000
    assert len(response.context["cl"].result_list) == 50
    assert len(at_ten.captured_queries) == len(at_thousand.captured_queries)
