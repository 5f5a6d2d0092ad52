"""The contribution form: every rule, every bad input, the receipt, the e-mail and double POSTs."""

import re
import uuid

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from submissions.models import CardRevision, Domain, Event, Submission
from tests.conftest import stored_files
from tests.factories import GOOD_CARD, committed, status_token_from, submit

pytestmark = pytest.mark.django_db

URL = "/contribute/"


def card_file(content=GOOD_CARD, name="README.md"):
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    return SimpleUploadedFile(name, data, content_type="text/markdown")


def form_data(**overrides):
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Harbour water levels 2001-2025",
        "location": "https://data.harbour.example/levels.csv",
        "hosting_wanted": "on",
        "card": card_file(),
        "modalities": ["text"],
        "domain": str(Domain.objects.get(name="Marine").pk),
        "suggested_domain": "",
        "contact_email": "data@harbour.example",
        "accept_terms": "on",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def post(client, **overrides):
    with committed():
        return client.post(URL, form_data(**overrides))


def assert_refused(response, field, message, media_root):
    """The form came back with `message` beside `field`, kept the typed values, and stored nothing."""
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert any(message in error for error in form.errors[field]), form.errors[field]
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert f'href="#id_{field}' in html
    assert Submission.objects.count() == 0
    assert CardRevision.objects.count() == 0
    assert Event.objects.count() == 0
    assert stored_files(media_root) == []
    assert mail.outbox == []


def test_form_shows_every_field_terms_and_card_guide(client):
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for field in (
        "name",
        "location",
        "hosting_wanted",
        "card",
        "modalities",
        "domain",
        "suggested_domain",
        "contact_email",
        "accept_terms",
    ):
        assert f'name="{field}"' in html, field
    assert re.search(r'name="hosting_wanted"[^>]*checked', html)
    assert "non-exclusive, worldwide, royalty-free, perpetual licence" in html
    assert "Community Data License Agreement" in html
    assert "https://huggingface.co/docs/hub/datasets-cards" in html
    assert "Science and industrial" in html  # domains grouped
    assert "bootstrap.min.css" in html and "cdn" not in html.lower()


def test_valid_submission_creates_everything_and_shows_receipt(client, media_root):
    response = post(client)
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("submissions:receipt", args=[submission.reference])
    assert re.fullmatch(r"DP-\d{4}-\d{6}", submission.reference)
    assert submission.state == Submission.State.AWAITING_CONFIRMATION
    assert submission.hosting_wanted is True
    assert submission.modality_list == ["text"]
    assert submission.terms_version.version == "1.0"
    assert submission.terms_accepted_at is not None
    revision = submission.revisions.get()
    assert revision.number == 1
    assert revision.metadata["license"] == "cc-by-4.0"
    assert revision.read_text() == GOOD_CARD
    assert len(stored_files(media_root)) == 1
    event = submission.events.get()
    assert event.to_state == Submission.State.AWAITING_CONFIRMATION and event.public
    receipt = client.get(response["Location"])
    assert submission.reference in receipt.content.decode()
    assert "What happens next" in receipt.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["data@harbour.example"]
    assert submission.reference in mail.outbox[0].subject


def test_confirmation_email_link_confirms_and_shows_status(client):
    post(client)
    message = mail.outbox[0]
    token = status_token_from(message.body)
    assert len(token) >= 22  # at least 128 bits in url-safe base64
    html_part = message.alternatives[0][0]
    assert token in html_part
    submission = Submission.objects.get()
    assert token not in str(submission.status_links.values_list("token_hash", flat=True))
    # Opening the link (as a mail scanner does) shows the page and its button, and changes nothing.
    mail.outbox.clear()
    with committed():
        response = Client().get(f"/status/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm my e-mail address</button>" in html
    assert f'action="/status/{token}/confirm/"' in html
    assert submission.name in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    submission.refresh_from_db()
    assert (submission.state, submission.confirmed_at, submission.events.count()) == (
        Submission.State.AWAITING_CONFIRMATION,
        None,
        1,
    )
    assert mail.outbox == []
    # The button confirms.
    client = Client()
    with committed():
        response = client.post(f"/status/{token}/confirm/", follow=True)
    assert response.status_code == 200
    submission.refresh_from_db()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.confirmed_at is not None
    html = response.content.decode()
    assert "your e-mail address is confirmed" in html
    assert "Submitted, waiting for a curator" in html
    assert "Confirm my e-mail address</button>" not in html
    assert [message.to for message in mail.outbox] == [["curators@portal.test"]]
    # A second press changes nothing.
    client.post(f"/status/{token}/confirm/")
    assert submission.events.filter(to_state=Submission.State.SUBMITTED).count() == 1


def test_confirming_a_wrong_link_is_the_not_found_page():
    assert Client().post("/status/not-a-real-token-at-all-000000000/confirm/").status_code == 404
    assert Client().get("/status/not-a-real-token-at-all-000000000/confirm/").status_code == 405


def test_receipt_is_only_shown_to_the_session_that_submitted(client):
    response = post(client)
    assert Client().get(response["Location"]).status_code == 404


def test_double_post_creates_one_submission(client):
    data = form_data()
    key = data["submission_key"]
    with committed():
        first = client.post(URL, data)
    with committed():
        second = client.post(URL, form_data(submission_key=key))
    assert Submission.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert len(mail.outbox) == 1


def test_forged_state_and_reference_fields_are_ignored(client):
    post(client, state="published", reference="DP-1999-000001", check_summary="pass")
    submission = Submission.objects.get()
    assert submission.state == Submission.State.AWAITING_CONFIRMATION
    assert submission.reference != "DP-1999-000001"


def test_post_without_csrf_token_is_refused(media_root):
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, form_data())
    assert response.status_code == 403
    assert Submission.objects.count() == 0
    assert stored_files(media_root) == []


def test_unchecked_hosting_means_linked(client):
    post(client, hosting_wanted=None)
    assert Submission.objects.get().hosting_wanted is False


def test_suggested_domain_instead_of_curated(client):
    post(client, domain="", suggested_domain="Cultural heritage")
    submission = Submission.objects.get()
    assert submission.domain is None
    assert submission.suggested_domain == "Cultural heritage"


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("name", {"name": ""}, "Enter the dataset's name."),
        ("name", {"name": "ab"}, "at least 3 characters"),
        ("name", {"name": "x" * 101}, "at most 100 characters"),
        ("location", {"location": ""}, "Enter the https:// address"),
        ("location", {"location": "http://data.example.org/x.csv"}, "Use an https:// address"),
        ("location", {"location": "ftp://data.example.org/x.csv"}, "Use an https:// address"),
        ("location", {"location": "file:///etc/passwd"}, "Use an https:// address"),
        ("location", {"location": "javascript:alert(1)"}, "Use an https:// address"),
        (
            "location",
            {"location": "https://user:secret@data.example.org/x"},
            "Remove the user name or password",
        ),
        ("location", {"location": "https://127.0.0.1/data.csv"}, "private or local network"),
        ("location", {"location": "https://10.1.2.3/data.csv"}, "private or local network"),
        ("location", {"location": "https://192.168.0.10/data.csv"}, "private or local network"),
        ("location", {"location": "https://169.254.169.254/latest/"}, "private or local network"),
        ("location", {"location": "https://[::1]/data.csv"}, "private or local network"),
        ("location", {"location": "https://localhost/data.csv"}, "private or local network"),
        ("location", {"location": "https://data.example.org/" + "a" * 2000}, "at most 2,000 characters"),
        ("modalities", {"modalities": None}, "Tick at least one modality."),
        ("modalities", {"modalities": ["smell"]}, "Choose among text, images, audio and video."),
        ("domain", {"domain": ""}, "Choose a domain from the list, or suggest another one"),
        ("suggested_domain", {"suggested_domain": "Cultural heritage"}, "not both"),
        ("suggested_domain", {"domain": "", "suggested_domain": "x"}, "at least 2 characters"),
        ("suggested_domain", {"domain": "", "suggested_domain": "x" * 61}, "at most 60 characters"),
        ("contact_email", {"contact_email": ""}, "Enter your e-mail address."),
        ("contact_email", {"contact_email": "not-an-address"}, "Enter an e-mail address such as"),
        ("accept_terms", {"accept_terms": None}, "accept the contribution terms"),
        ("card", {"card": None}, "Choose the dataset card file"),
    ],
)
def test_bad_input_is_refused_beside_its_field(client, media_root, field, overrides, message):
    response = post(client, **overrides)
    assert_refused(response, field, message, media_root)


def test_form_keeps_what_was_typed(client, media_root):
    response = post(client, contact_email="nope", name="My carefully typed name")
    html = response.content.decode()
    assert 'value="My carefully typed name"' in html
    assert "\nhttps://data.harbour.example/levels.csv</textarea>" in html


def test_inactive_domain_is_refused(client, media_root):
    domain = Domain.objects.get(name="Marine")
    domain.active = False
    domain.save()
    response = post(client, domain=str(domain.pk))
    assert_refused(response, "domain", "Choose a domain from the list.", media_root)


def test_name_clash_after_folding_points_to_existing(client, media_root):
    existing, _ = submit(name="Harbour Water-Levels (2001–2025)")
    mail.outbox.clear()
    for path in list(media_root.rglob("*")):
        if path.is_file():
            path.unlink()
    response = post(client, name="harbour water levels 2001 2025")
    form = response.context["form"]
    assert existing.reference in form.errors["name"][0]
    assert Submission.objects.count() == 1


BAD_CARDS = [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
    ("---\nlicense: mit\n---\n# Caf\xe9\n".encode("latin-1"), "UTF-8"),
    (b"---\n- a\n- b\n---\n# Title\n", "mapping"),
    (b"---\nlicense: !!python/object/apply:os.system ['true']\n---\n# T\n", "tag"),
    (
        b"---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\n# T\n",
        "alias",
    ),
    (b"---\nlicense: [mit\n---\n# T\n", "line"),
]


@pytest.mark.parametrize(("content", "words"), BAD_CARDS, ids=[w for _, w in BAD_CARDS])
def test_bad_card_is_refused_with_reason(client, media_root, content, words):
    response = post(client, card=card_file(content))
    form = response.context["form"]
    assert "card" in form.errors
    assert words.lower() in form.errors["card"][0].lower(), form.errors["card"]
    assert Submission.objects.count() == 0
    assert stored_files(media_root) == []


def test_card_over_the_limit_is_refused(client, media_root, settings):
    settings.PORTAL_CARD_MAX_BYTES = 4096
    response = post(client, card=card_file(GOOD_CARD + "x" * 5000))
    assert_refused(response, "card", "the limit is 4 KiB", media_root)


def test_pdf_card_is_refused(client, media_root):
    response = post(client, card=card_file(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", name="card.pdf"))
    form = response.context["form"]
    assert ".md" in form.errors["card"][0]
    assert Submission.objects.count() == 0
    assert stored_files(media_root) == []


def raw_multipart_post(client, *, filename):
    """POST the form with a card whose file name is sent exactly as given (the test client would clean it)."""
    boundary = "BoUnDaRy"
    data = form_data(card=None)
    parts = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{item}\r\n')
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="card"; filename="{filename}"\r\n'
        f"Content-Type: text/markdown\r\n\r\n{GOOD_CARD}\r\n--{boundary}--\r\n"
    )
    body = "".join(parts).encode()
    with committed():
        return client.post(URL, body, content_type=f"multipart/form-data; boundary={boundary}")


def test_card_named_dotdot_is_refused(client, media_root):
    response = raw_multipart_post(client, filename="..")
    assert_refused(response, "card", "Choose the dataset card file", media_root)


@pytest.mark.parametrize("filename", ["../../etc/README.md", "..\\..\\README.md", "READ\x00ME.md"])
def test_card_file_name_with_path_parts_is_stored_under_our_own_name(client, media_root, filename):
    response = raw_multipart_post(client, filename=filename)
    assert response.status_code == 302
    revision = CardRevision.objects.get()
    assert "/" not in revision.original_filename and ".." not in revision.original_filename
    (stored,) = stored_files(media_root)
    assert stored.startswith(f"cards/{revision.submission.reference}/")


def test_valid_card_is_kept_after_an_unrelated_error(client, media_root):
    data = form_data(contact_email="wrong")
    with committed():
        first = client.post(URL, data)
    assert "We kept" in first.content.decode()
    assert Submission.objects.count() == 0
    fixed = form_data(submission_key=data["submission_key"], card=None)
    with committed():
        second = client.post(URL, fixed)
    assert second.status_code == 302
    assert CardRevision.objects.get().read_text() == GOOD_CARD


def test_card_warnings_are_kept_for_the_curator_not_refused(client):
    post(client, card=card_file("---\npretty_name: Bare\n---\n# Bare\n\nSome data.\n"))
    codes = {finding["code"] for finding in CardRevision.objects.get().findings}
    assert "license-missing" in codes or any("licen" in code for code in codes)
