"""Control characters in typed text: refused with a message in every text field of every form, nothing stored.

One-line fields (names, addresses, licence ids, e-mail addresses) take none; messages and reasons take line
breaks and tabs and no other control character.
"""

import pytest
from django import forms as django_forms
from django.core import mail
from django.test import Client

from portal.identity import SignedIn
from submissions import admin_forms, forms
from submissions.models import CardRevision, Event, Submission, TermsVersion
from submissions.textfields import EmailAddressField, MultiLineField, SingleLineField
from tests.conftest import stored_files
from tests.factories import changes_requested, committed, in_review
from tests.submissions.test_contribute import form_data

pytestmark = pytest.mark.django_db

CONTROL = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x9b"]


def text_fields():
    """Every form class of the contributor's pages and of the review page with each of its text fields."""
    from tests.catalog.catalog_rows import published as published_row

    dataset = published_row()
    instances = [
        forms.ContributionForm(terms=TermsVersion.current()),
        # Signed in with an ORCID iD, the form also asks for the names the dataset credits.
        forms.ContributionForm(
            terms=TermsVersion.current(),
            signed_in=SignedIn(
                orcid="0000-0002-1825-0097",
                given_names="Ada",
                family_names="Lovelace",
                email="ada@example.org",
                verified_emails=("ada@example.org",),
            ),
        ),
        forms.ReplyForm(),
        forms.RevisionForm(),
        forms.LocationForm(),
        forms.WithdrawForm(),
        forms.SignInForm(),
        forms.CorrectionForm(published=dataset),
        forms.CardVersionForm(),
        admin_forms.MessageForm(),
        admin_forms.RequestChangesForm(),
        admin_forms.ChangeLocationForm(),
        admin_forms.RejectForm(),
        admin_forms.ApproveForm(),
        admin_forms.AcceptCorrectionForm(),
        admin_forms.DeclineCorrectionForm(),
    ]
    return [
        (type(form).__name__, name, field)
        for form in instances
        for name, field in form.fields.items()
        if isinstance(field, django_forms.CharField) and not isinstance(field, django_forms.UUIDField)
    ]


def test_every_text_field_of_every_form_refuses_control_characters():
    fields = text_fields()
    assert len(fields) >= 25
    for form_name, name, field in fields:
        assert isinstance(field, SingleLineField | MultiLineField | EmailAddressField), (form_name, name)
        for char in CONTROL:
            with pytest.raises(django_forms.ValidationError) as refused:
                field.clean(f"abc{char}def")
            messages = refused.value.messages
            assert len(messages) == 1, (form_name, name, messages)
            assert f"U+{ord(char):04X} at character 4" in messages[0], (form_name, name, messages)


@pytest.mark.parametrize(
    ("char", "words"),
    [
        ("\n", "Write this on one line"),
        ("\r", "Write this on one line"),
        ("\u2028", "Write this on one line"),
        ("\x85", "Write this on one line"),
        ("\t", "Remove the tab"),
    ],
)
def test_one_line_fields_refuse_line_breaks_and_tabs_inside(char, words):
    with pytest.raises(django_forms.ValidationError) as refused:
        SingleLineField().clean(f"Harbour{char}levels")
    assert words in refused.value.messages[0]
    assert SingleLineField().clean(f"  Harbour levels{char}") == "Harbour levels"  # ends are stripped


def test_messages_keep_their_line_breaks_and_tabs():
    text = "First line\r\n\tindented\nthird"
    assert MultiLineField().clean(text) == text


def test_a_name_with_a_control_character_is_refused_and_nothing_is_stored(client, media_root):
    # Regression: "\x01" in a dataset name was stored and reached the e-mail subjects.
    with committed():
        response = client.post("/contribute/", form_data(name="Harbour\x01levels"))
    assert response.status_code == 200
    assert (
        "Remove the invisible control character U+0001 at character 8"
        in response.context["form"].errors["name"][0]
    )
    assert (Submission.objects.count(), CardRevision.objects.count(), Event.objects.count()) == (0, 0, 0)
    assert stored_files(media_root) == []
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("reply", {"text": "Licence added\x1b[31m"}, "text"),
        ("revise", {"comment": "new\x00card"}, "comment"),
        ("location", {"location": "https://example.org/\x7fdata.csv", "comment": "moved"}, "location"),
        ("location", {"location": "https://example.org/data.csv", "comment": "mo\x08ved"}, "comment"),
    ],
)
def test_status_page_forms_refuse_control_characters_and_store_nothing(
    curator, media_root, path, data, field
):
    submission, token = changes_requested(curator)
    before = (submission.events.count(), list(submission.revisions.values_list("number", flat=True)))
    files_before = stored_files(media_root)
    mail.outbox.clear()
    with committed():
        response = Client().post(f"/status/{token}/{path}/", data)
    assert response.status_code == 400
    assert "control character" in response.content.decode()
    submission.refresh_from_db()
    assert submission.state == Submission.State.CHANGES_REQUESTED
    assert (submission.events.count(), list(submission.revisions.values_list("number", flat=True))) == before
    assert stored_files(media_root) == files_before
    assert mail.outbox == []


def test_sign_in_form_refuses_a_control_character_with_one_message(client):
    response = client.post("/my-submissions/", {"email": "data@harbour\x01.example"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "Remove the invisible control character U+0001 at character 13: it can't be shown or sent by e-mail. "
        "If you pasted this text, type it instead."
    ]


def test_review_page_message_refuses_a_control_character(curator):
    submission, _ = in_review(curator)
    client = Client()
    client.force_login(curator)
    before = submission.events.count()
    response = client.post(
        f"/admin/submissions/submission/{submission.pk}/message/", {"text": "Hello\x01", "public": "1"}
    )
    assert response.status_code == 400
    assert "control character U+0001" in response.content.decode()
    assert submission.events.count() == before
