"""The contributor's forms under generated input: the contribution form, the status page's forms (confirm,
reply, revised card, location, withdraw, correction, new card version) and the "my submissions" sign-in.

Each request is a valid form with some fields replaced by junk (tests/generated.py), files included; it
must never be a server error, and a refused one stores nothing and sends nothing. Run with DEBUG on and
with the production settings.
"""

import uuid

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from submissions.models import Domain
from tests.factories import GOOD_CARD, changes_requested, committed, confirmed
from tests.factories import published as published_submission
from tests.generated import junk, junk_field, junk_id, stored
from tests.production import HTTPS_HEADERS

pytestmark = pytest.mark.django_db

# Any bytes, text that is not a card, a card with junk in it, a card too large, and good cards.
card_contents = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.tuples(junk, junk).map(lambda pair: f"---\nlicense: {pair[0]}\n---\n# {pair[1]}\n".encode()),
    st.sampled_from([b"", b"\xff\xfe\x00", b"---\n&a [*a, *a]\n---\n", b"x" * 1_100_000]),
    st.just(GOOD_CARD.encode()),
)
upload = st.builds(
    lambda content, name: SimpleUploadedFile(name or "x", content, content_type="text/markdown"),
    card_contents,
    st.one_of(st.sampled_from(["README.md", "card.txt", "card.exe", "a.md" * 60]), st.text(max_size=20)),
)


def contribution(**overrides):
    """A valid contribution form, with `overrides` replacing (or, when None, removing) fields."""
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": f"Harbour water levels {uuid.uuid4().hex[:8]}",
        "location": "https://data.harbour.example/levels.csv",
        "hosting_wanted": "on",
        "card": SimpleUploadedFile("README.md", GOOD_CARD.encode(), content_type="text/markdown"),
        "modalities": ["text"],
        "domain": str(Domain.objects.get(name="Marine").pk),
        "suggested_domain": "",
        "contact_email": "data@harbour.example",
        "accept_terms": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


CONTRIBUTION_FIELDS = [
    "submission_key",
    "name",
    "location",
    "hosting_wanted",
    "modalities",
    "domain",
    "suggested_domain",
    "checksums",
    "paper",
    "code_url",
    "contact_email",
    "accept_terms",
]
contribution_junk = st.fixed_dictionaries(
    {},
    optional={
        **{name: junk_field for name in CONTRIBUTION_FIELDS},
        "card": st.one_of(upload, junk),
        "checksums_file": st.one_of(upload, junk),
    },
)


def succeeded(response):
    """Whether the page said the request was done (a success message), rather than refused."""
    return any(message.level_tag == "success" for message in response.wsgi_request._messages)


def assert_refused_or_done(response, before, media_root, *, done):
    """A server error never; a refusal stores and sends nothing."""
    assert response.status_code < 500, response.status_code
    if not done(response):
        assert stored(media_root) == before


@given(fields=contribution_junk)
def test_contribution_form_refuses_junk_without_storing_anything(mode, media_root, fields):
    client = Client(**HTTPS_HEADERS)
    before = stored(media_root)
    with committed():
        response = client.post("/contribute/", contribution(**fields))
    assert response.status_code in (200, 302), response.status_code
    assert_refused_or_done(response, before, media_root, done=lambda r: r.status_code == 302)


@pytest.fixture
def status_links(curator):
    """Status links of a submission in each state a contributor's form acts on."""
    links = {
        "unconfirmed": __import__("tests.factories", fromlist=["submit"]).submit()[1],
        "submitted": confirmed()[1],
        "changes_requested": changes_requested(curator)[1],
    }
    mail.outbox.clear()
    return links


STATUS_FORMS = {
    "confirm": [],
    "reply": ["text"],
    "revise": ["card", "comment"],
    "location": ["location", "checksums", "checksums_file", "comment"],
    "withdraw": ["confirm", "reason"],
    "correction": ["name", "domain", "modalities", "license", "languages", "tags", "message"],
    "card-version": ["card", "comment"],
}
FILE_FIELDS = {"card", "checksums_file"}


def status_form_junk(names):
    return st.fixed_dictionaries(
        {}, optional={name: st.one_of(upload, junk) if name in FILE_FIELDS else junk_field for name in names}
    )


@given(
    state=st.sampled_from(["unconfirmed", "submitted", "changes_requested", "unknown"]),
    action=st.sampled_from(sorted(STATUS_FORMS)),
    data=st.data(),
)
def test_status_page_forms_refuse_junk_without_storing_anything(
    mode, media_root, status_links, state, action, data
):
    token = status_links.get(state) or data.draw(junk.filter(lambda text: "/" not in text and text.strip()))
    fields = data.draw(status_form_junk(STATUS_FORMS[action]))
    client = Client(**HTTPS_HEADERS)
    before = stored(media_root)
    with committed():
        response = client.post(f"/status/{token}/{action}/", fields)
    assert_refused_or_done(response, before, media_root, done=succeeded)
    assert client.get(f"/status/{token}/").status_code in (200, 301, 404)


@given(
    action=st.sampled_from(["correction", "card-version", "reply", "location", "withdraw"]), data=st.data()
)
def test_published_status_page_forms_refuse_junk_without_storing_anything(
    mode, media_root, curator, devhub, action, data
):
    token = published_status_link(curator)
    fields = data.draw(status_form_junk(STATUS_FORMS[action]))
    client = Client(**HTTPS_HEADERS)
    before = stored(media_root)
    with committed():
        response = client.post(f"/status/{token}/{action}/", fields)
    assert_refused_or_done(response, before, media_root, done=succeeded)


_PUBLISHED = {}


def published_status_link(curator):
    """One published submission per test (publishing it is slow): made at the first example."""
    from submissions.models import Submission

    token = _PUBLISHED.get("token")
    if token is None or not Submission.objects.filter(state=Submission.State.PUBLISHED).exists():
        token = _PUBLISHED["token"] = published_submission(curator)[1]
        mail.outbox.clear()
    return token


@given(fields=st.fixed_dictionaries({}, optional={"email": junk_field}), token=junk_id)
def test_sign_in_refuses_junk_without_sending_anything(mode, media_root, fields, token):
    client = Client(**HTTPS_HEADERS)
    before = stored(media_root)
    with committed():
        response = client.post("/my-submissions/", fields)
    assert response.status_code == 200
    if "submissions/sign_in_sent.html" not in [template.name for template in response.templates]:
        assert stored(media_root) == before
    for method in (client.get, client.post):
        assert method(f"/my-submissions/{token}/").status_code == 404
