"""The curators' side in French: the queue, the review page, the dashboard and the actions' messages.

A curator whose browser asks for French (or who chose it with the switcher's cookie) reads the whole review
workflow in French; the same pages without a language stay English (the other tests of the review admin).
"""

import datetime
import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from submissions.models import Event, Submission
from submissions.team_admin import format_duration
from tests.factories import committed, confirmed, in_review

pytestmark = pytest.mark.django_db

QUEUE = "/admin/submissions/submission/"
DASHBOARD = f"{QUEUE}dashboard/"
DIGEST = f"{QUEUE}digest/"
NBSP = "\u00a0"
FRENCH_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


@pytest.fixture
def french_client(curator):
    """A signed-in curator whose browser asks for French."""
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(curator)
    return client


def text_of(response):
    """Return a page's HTML with entities decoded and runs of white space made one space (non-breaking
    spaces, which French typography puts before a colon, stay as they are)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(response.content.decode()))


def review_url(submission):
    return f"{QUEUE}{submission.pk}/change/"


def test_review_page_in_french(french_client, curator):
    submission, _ = in_review(curator)
    response = french_client.get(review_url(submission))
    assert response.status_code == 200
    page = text_of(response)
    for text in (
        '<html lang="fr"',
        "File d’examen",
        f"responsable{NBSP}:",
        "En cours d’examen",
        "Copier les données sur le Hub",
        "Langue du contributeur",
        "Attribuer",
        "Approuver et publier",
        "Demander des modifications",
        "Écrire un message ou une note interne",
        "Vérifications automatiques",
        "Remarques sur la fiche",
        "Révisions de la fiche",
        "Historique",
        # The checklist's labels and the approval gate's concerns, worded when the page is drawn.
        "La licence est compatible avec les conditions de contribution",
        f"Approuver demande une dérogation{NBSP}:",
        f"La vérification «{NBSP}emplacement{NBSP}» échoue{NBSP}:",
        # The forms' labels.
        "Dérogation : pourquoi approuver malgré les réserves ci-dessus".replace(" :", f"{NBSP}:"),
        "Qui le voit",
    ):
        assert text in page, text
    for english in (
        "Automatic checks",
        "Approve and publish",
        "Card revisions",
        "Timeline",
        "Review checklist",
    ):
        assert english not in page, english


def test_review_page_follows_the_language_cookie(curator):
    submission, _ = in_review(curator)
    client = Client()
    client.force_login(curator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = text_of(client.get(review_url(submission)))
    assert "Vérifications automatiques" in page
    assert "Automatic checks" not in page


def test_queue_in_french(french_client, curator):
    in_review(curator)
    confirmed()
    response = french_client.get(QUEUE)
    assert response.status_code == 200
    page = text_of(response)
    for text in (
        "File d’examen",
        "Filtres rapides",
        "Les miennes (1)",
        "Non attribuées",
        "Tableau de bord",
        # Column headers, the states' badges and the filters (Django words "By …" itself).
        "Modalités",
        "Vous l’avez prise en charge",
        ">En cours d’examen<",
        ">Nouveau<",
        "Par modalité",
        "Par état",
        "Prendre en charge les soumissions sélectionnées",
        "Rejeter comme spam (sans e-mail aux expéditeurs)…",
    ):
        assert text in page, text
    assert "Claim the selected submissions" not in page


def test_actions_messages_in_french(french_client, curator):
    submission, _ = confirmed()
    response = french_client.post(f"{QUEUE}{submission.pk}/claim/", follow=True)
    assert f"Vous examinez désormais {submission.reference}." in text_of(response)

    response = french_client.post(f"{QUEUE}{submission.pk}/message/", {"text": "", "public": "1"})
    assert response.status_code == 400
    page = text_of(response)
    assert f"L’action n’a pas été effectuée{NBSP}: corrigez le formulaire ci-dessous." in page
    assert f"Écrivez le message{NBSP}; il ne peut pas être vide." in page

    response = french_client.post(
        f"{QUEUE}{submission.pk}/message/", {"text": "Une question.", "public": "0"}, follow=True
    )
    assert "Note interne ajoutée." in text_of(response)


def test_bulk_actions_messages_in_french(french_client):
    first, _ = confirmed()
    second, _ = confirmed()
    response = french_client.post(
        QUEUE, {"action": "claim_selected", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert "2 soumissions prises en charge." in text_of(response)

    third, _ = confirmed()
    with committed():
        response = french_client.post(
            QUEUE,
            {"action": "reject_as_spam", "_selected_action": [third.pk], "confirm": "yes", "reason": "Pub."},
            follow=True,
        )
    assert "1 soumission rejetée comme spam." in text_of(response)
    # The reason the curator wrote is stored as written; the page's words around it are French.
    assert Event.objects.filter(submission=third, message="Pub.").exists()


def test_spam_confirmation_page_in_french(french_client):
    submission, _ = confirmed()
    response = french_client.post(QUEUE, {"action": "reject_as_spam", "_selected_action": [submission.pk]})
    page = text_of(response)
    assert "Ceci rejette 1 soumission comme spam." in page
    assert "Oui, rejeter comme spam" in page
    assert "Spam : pas un jeu de données proposé pour le catalogue.".replace(" :", f"{NBSP}:") in page


def test_dashboard_in_french_with_french_numbers_and_weeks(french_client, curator):
    submission, _ = confirmed()
    now = timezone.now()
    # Confirmed three hours ago, answered an hour and a half later: a median of 1.5 h, "1,5 h" in French.
    Submission.objects.filter(pk=submission.pk).update(confirmed_at=now - datetime.timedelta(hours=3))
    event = Event.objects.create(
        submission=submission, kind=Event.Kind.MESSAGE, actor_kind=Event.Actor.CURATOR, actor=curator
    )
    Event.objects.filter(pk=event.pk).update(created_at=now - datetime.timedelta(hours=1, minutes=30))
    response = french_client.get(DASHBOARD)
    assert response.status_code == 200
    page = text_of(response)
    for text in (
        "Tableau de bord de la curation",
        "Soumissions en attente, par état et par ancienneté",
        "moins de 2 jours",
        "Prises en charge en cours, par curateur",
        "alice (vous)",
        "Rythme, semaine par semaine",
        "Délai médian jusqu’à la première réponse, par semaine",
        "1,5 h",
        "Semaine du",
    ):
        assert text in page, text
    pace = re.search(r'<table class="dashboard-table" id="pace-table">.*?</table>', page).group(0)
    assert any(month in pace for month in FRENCH_MONTHS), pace
    assert "Backlog by state and age" not in page


def test_durations_use_the_readers_decimal_mark():
    duration = datetime.timedelta(minutes=90)
    with translation.override("en"):
        assert format_duration(duration) == "1.5 h"
    with translation.override("fr"):
        assert format_duration(duration) == "1,5 h"
        assert format_duration(datetime.timedelta(days=3, hours=12)) == "3,5 jours"


def test_digest_page_and_its_message_in_french(french_client):
    page = text_of(french_client.get(DIGEST))
    assert "Votre récapitulatif quotidien" in page
    assert "M’envoyer le récapitulatif quotidien" in page
    response = french_client.post(DIGEST, {}, follow=True)
    assert "Le récapitulatif quotidien est désactivé." in text_of(response)


def test_admin_home_and_app_names_in_french(french_client):
    page = text_of(french_client.get("/admin/"))
    for text in ("Curation", "File d’examen", "Votre récapitulatif quotidien", "Soumissions", "Catalogue"):
        assert text in page, text


def test_review_page_shows_the_contributors_language(curator):
    submission, _ = in_review(curator)
    Submission.objects.filter(pk=submission.pk).update(language="fr")
    client = Client()
    client.force_login(curator)
    row = re.search(r'<tr id="review-language">.*?</tr>', text_of(client.get(review_url(submission)))).group(
        0
    )
    assert '<span lang="fr">Français</span>' in row
    assert "write your messages in it" in row
