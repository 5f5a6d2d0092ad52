"""A contributor signed in with ORCID: the form is prefilled, the verified iD is recorded (never typed), shown on
the status page and used by "My submissions"; contributing without an account works as before."""

import re

import pytest
from django.core import mail

from submissions.models import Event, Submission
from tests.factories import committed, status_token_from, submit
from tests.identity.conftest import CURATOR_SUB, RESEARCHER_ORCID, sign_in
from tests.submissions.test_contribute import card_file, form_data

pytestmark = pytest.mark.django_db

OTHER_ORCID = "0000-0002-1825-0097"


def contribute(client, **overrides):
    with committed():
        return client.post("/contribute/", {**form_data(**overrides), "card": card_file()})


def test_form_is_prefilled_and_says_the_id_is_credited(client, oidc):
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    page = client.get("/contribute/").content.decode()
    assert RESEARCHER_ORCID in page and "credits you as its creator" in page
    assert re.search(r'name="contributor_given_names"[^>]*value="Ada"', page)
    assert re.search(r'name="contributor_family_names"[^>]*value="Okafor"', page)


def test_email_is_prefilled_when_the_sign_in_knows_it(client, oidc):
    sign_in(client, "institution", user=CURATOR_SUB)
    page = client.get("/contribute/").content.decode()
    assert re.search(r'name="contact_email"[^>]*value="casey@institution.example"', page)
    assert "contributor_given_names" not in page  # no ORCID iD: nothing to credit


def test_signed_in_contribution_records_the_verified_orcid_id(client, oidc):
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    response = contribute(
        client,
        contributor_given_names=" Ada  Lovelace ",
        contributor_family_names="Okafor",
        contributor_orcid=OTHER_ORCID,
    )
    assert response.status_code == 302
    submission = Submission.objects.get()
    # The posted iD is ignored: only the sign-in's counts.
    assert submission.contributor_orcid == RESEARCHER_ORCID
    assert (submission.contributor_given_names, submission.contributor_family_names) == (
        "Ada Lovelace",
        "Okafor",
    )
    assert RESEARCHER_ORCID in Event.objects.get(submission=submission).message
    token = status_token_from(mail.outbox[-1].body)
    status = client.get(f"/status/{token}/").content.decode()
    assert RESEARCHER_ORCID in status and "ORCID iD verified by sign-in" in status
    assert f"https://orcid.org/{RESEARCHER_ORCID}" in status


def test_signed_in_contributor_must_give_a_name_to_credit(client, oidc, media_root):
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    response = contribute(client, contributor_given_names="  ")
    assert response.status_code == 200
    assert "Enter your given names" in response.content.decode()
    assert not Submission.objects.exists()


def test_anonymous_contribution_cannot_claim_an_orcid_id(client, oidc):
    response = contribute(client, contributor_orcid=RESEARCHER_ORCID, contributor_given_names="Mallory")
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.contributor_orcid == "" and submission.contributor_given_names == ""
    assert submission.creator is None


def test_anonymous_form_offers_orcid_sign_in_and_works_as_before(client, oidc):
    page = client.get("/contribute/").content.decode()
    assert "Sign in with ORCID" in page and "contributor_given_names" not in page
    assert contribute(client).status_code == 302
    assert len(mail.outbox) == 1 and "/status/" in mail.outbox[0].body


def test_my_submissions_lists_the_orcid_id_and_verified_address_without_an_emailed_link(client, oidc):
    submit(
        name="Tide gauges of the North Sea", contributor_orcid=RESEARCHER_ORCID, contributor_given_names="Ada"
    )
    by_email, _ = submit(name="Salinity profiles", email="casey@institution.example")
    submit(name="Someone else's data", email="someone@example.org")
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    outbox = len(mail.outbox)
    page = client.get("/my-submissions/").content.decode()
    assert "Tide gauges of the North Sea" in page and "Salinity profiles" not in page
    assert "Someone else" not in page
    assert len(mail.outbox) == outbox
    # Awaiting confirmation and an address the sign-in did not verify: no link (its page would confirm it).
    assert "Open the link in our e-mail and confirm your address there first." in page

    client.post("/accounts/logout/")
    sign_in(client, "institution", user=CURATOR_SUB)
    page = client.get("/my-submissions/").content.decode()
    assert "Salinity profiles" in page and "Tide gauges" not in page
    link = re.search(r'href="(/status/[^"]+/)"', page).group(1)
    assert client.get(link).status_code == 200
    assert client.post(f"{link}confirm/").status_code == 302
    by_email.refresh_from_db()
    assert by_email.state == Submission.State.SUBMITTED  # the verified owner of the address confirmed it


def test_my_submissions_reuses_its_status_links_within_the_session(client, oidc):
    from submissions.models import StatusLink

    with committed():
        submission, token = submit(contributor_orcid=RESEARCHER_ORCID, contributor_given_names="Ada")
    client.post(f"/status/{token}/confirm/")
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    first = client.get("/my-submissions/").content.decode()
    count = StatusLink.objects.count()
    second = client.get("/my-submissions/").content.decode()
    assert StatusLink.objects.count() == count
    assert re.findall(r'href="(/status/[^"]+/)"', first) == re.findall(r'href="(/status/[^"]+/)"', second)
    assert submission.reference in second


def test_my_submissions_without_sign_in_still_asks_for_an_address(client, oidc):
    page = client.get("/my-submissions/").content.decode()
    assert "Send me the link" in page
