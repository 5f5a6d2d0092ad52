"""What the portal stores and shows later (timeline sentences, card lint findings) is read in the reader's language.

A French contributor's status page shows the portal's own timeline sentences in French and a curator's typed
message as typed; an English curator's review page shows English; the stored English stays for search, logs
and rows written before the portal stored its sentences as messages (`portal.i18n`).
"""

import datetime
import html

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from submissions import services
from submissions.models import CardRevision, Event, Submission
from tests.factories import changes_requested, committed, in_review
from tests.submissions.test_reminders import age, run

pytestmark = pytest.mark.django_db

NB = "\u00a0"  # French puts a no-break space before ; : ? ! and inside « »

CARD_WITHOUT_LICENCE = """---
pretty_name: Harbour water levels
---
# Harbour water levels

## Dataset Description
Hourly water levels.

## Uses
Tide studies.

## Dataset Structure
One CSV file.

## Licensing Information
To be decided.

## Citation
Cite the harbour authority.
"""


def text_of(response):
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def status_page(token, language=None):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return text_of(Client().get(f"/status/{token}/", **headers))


def review_page(curator, submission, language=None):
    client = Client()
    client.force_login(curator)
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return text_of(client.get(f"/admin/submissions/submission/{submission.pk}/change/", **headers))


def test_status_page_in_french_shows_the_portals_sentences_in_french_and_a_curators_message_as_typed(curator):
    submission, token = changes_requested(curator, message="Please add a licence to the card's header.")

    page = status_page(token, "fr")

    assert "Envoyé par le formulaire de contribution." in page
    assert f"Adresse électronique confirmée{NB}; le jeu de données attend l’équipe de curation." in page
    assert "L’équipe de curation a commencé l’examen du jeu de données." in page
    assert "Please add a licence to the card's header." in page  # typed by a person: never translated
    assert "Submitted through the contribution form." not in page
    # What is stored for search, logs and the API stays English.
    first = submission.events.order_by("id").first()
    assert first.message == "Submitted through the contribution form."
    assert first.portal_message["msgid"] == "Submitted through the contribution form."


def test_the_same_timeline_reads_in_english_on_an_english_curators_review_page(curator):
    submission, _ = changes_requested(curator, message="Please add a licence to the card's header.")

    page = review_page(curator, submission)

    assert "Submitted through the contribution form." in page
    assert "E-mail address confirmed; the dataset is waiting for a curator." in page
    assert "Please add a licence to the card's header." in page
    assert "Envoyé par le formulaire de contribution." not in page


def test_a_sentence_with_typed_text_translates_only_the_portals_part(curator):
    submission, token = changes_requested(curator)
    with committed():
        services.revise_location(
            submission,
            location="https://data.example.org/moved/levels.csv",
            comment="The server moved; this is the new address.",
        )

    page = status_page(token, "fr")

    assert f"Emplacement des données modifié{NB}:" in page
    assert "https://data.example.org/moved/levels.csv" in page
    assert "The server moved; this is the new address." in page
    assert (
        "Le jeu de données revient dans la file de l’équipe de curation avec le nouvel emplacement." in page
    )
    event = submission.events.get(kind=Event.Kind.LOCATION_CHANGE)
    assert event.message.startswith("Changed the data location from ")
    assert event.message.endswith("\nThe server moved; this is the new address.")


def test_a_reminders_day_is_written_in_the_readers_language(curator):
    submission, token = changes_requested(curator)
    age(submission, 14)
    event = run(services.remind_contributor, submission)
    closes_on = timezone.localdate() + datetime.timedelta(days=46)
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre"]
    months += ["novembre", "décembre"]

    page = status_page(token, "fr")

    assert (
        f"d’ici le {closes_on.day} {months[closes_on.month - 1]} {closes_on.year}, la soumission sera close"
        in page
    )
    assert (
        f"by {closes_on.day} {closes_on:%B} {closes_on.year}, the submission will be closed" in event.message
    )


def test_rows_written_before_stored_messages_are_shown_as_they_are(curator):
    submission, token = in_review(curator)
    Event.objects.create(
        submission=submission,
        kind=Event.Kind.MESSAGE,
        actor_kind=Event.Actor.SYSTEM,
        message="An old sentence, stored as plain English text.",
    )
    revision = submission.latest_revision
    CardRevision.objects.filter(pk=revision.pk).update(
        findings=[{"level": "warning", "code": "license-missing", "message": "An old finding, in English."}]
    )

    assert "An old sentence, stored as plain English text." in status_page(token, "fr")
    assert "An old finding, in English." in review_page(curator, submission, "fr")


def test_card_lint_findings_are_shown_in_the_readers_language(curator):
    submission, _ = in_review(curator, card=CARD_WITHOUT_LICENCE)
    (finding,) = submission.latest_revision.findings
    assert (
        finding["message"]
        == "The header has no licence. Add one from the Hub's list, e.g. 'license: cc-by-4.0'."
    )
    assert finding["text"]["msgid"] == finding["message"]

    french = review_page(curator, submission, "fr")
    english = review_page(curator, submission)

    assert (
        f"L’en-tête n’indique pas de licence. Ajoutez-en une de la liste du Hub, par exemple «{NB}license"
        in french
    )
    assert "The header has no licence." in english and "L’en-tête n’indique pas de licence." not in english


def test_a_finding_with_a_nested_message_and_a_plural_reads_in_french(curator):
    card = CARD_WITHOUT_LICENCE.replace("To be decided.", "How to cite the dataset (BibTeX or a reference).")
    card = card.replace("Hourly water levels.", "What the data is meant for, and uses it is not suited for.")
    card = card.replace("## Uses\nTide studies.\n", "")
    submission, _ = in_review(curator, card=card)

    french = review_page(curator, submission, "fr")

    assert f"La fiche n’a pas de section sur ses usages prévus (## Uses). Ajoutez-en une{NB};" in french
    assert "et 1 autre passage). Remplacez-le par ce qui décrit vraiment ce jeu de données." in french


def test_timeline_pages_make_as_many_queries_with_more_portal_sentences(curator, other_curator):
    submission, token = in_review(curator)
    client = Client()
    client.force_login(curator)
    review = f"/admin/submissions/submission/{submission.pk}/change/"

    def counts():
        with CaptureQueriesContext(connection) as status:
            assert Client().get(f"/status/{token}/", HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
        with CaptureQueriesContext(connection) as curators:
            assert client.get(review, HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
        return len(status), len(curators)

    counts()  # the first requests fill the caches (content types, permissions)
    before = counts()
    for assignee in (other_curator, curator, other_curator):
        with committed():
            services.assign(submission, to=assignee, by=curator)
            services.send_message(submission, by=curator, text="A question about the units.")
    assert Submission.objects.get(pk=submission.pk).events.count() > 8
    assert counts() == before


def test_a_refused_action_is_explained_in_the_curators_language(curator):
    submission, _ = in_review(curator)
    with translation.override("fr"), pytest.raises(services.InvalidTransition) as refused:
        services.reject(submission, by=curator, reason="   ")
    assert str(refused.value) == f"Écrivez le motif de la décision{NB}; le texte ne peut pas être vide."
    with translation.override("fr"), pytest.raises(services.InvalidTransition) as refused:
        services.send_message(submission, by=curator, text="x" * 10_001)
    assert str(refused.value) == (
        f"Raccourcissez le message à 10{NB}000 caractères au plus (le texte en compte 10{NB}001)."
    )
    with pytest.raises(services.InvalidTransition) as refused:
        services.send_message(submission, by=curator, text="x" * 10_001)
    assert str(refused.value) == "Shorten the message to at most 10,000 characters (it has 10,001)."
