"""The contributor's side in French: the form, its messages, the status page, "my submissions" and every e-mail.

Pages follow the visitor's language (the browser's Accept-Language, or the switcher); e-mails follow the
language the submission was made in (`Submission.language`), whoever or whatever sends them: a French
contribution gets French mail even from a curator working in English or from a worker with no request, and
an English one stays English when the curator works in French.
"""

import datetime
import html
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from submissions import emails, services
from submissions.models import Submission
from tests.factories import GOOD_CARD, changes_requested, committed, status_token_from
from tests.submissions.test_contribute import form_data

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr"}
NBSP = "\u00a0"


def text_of(response):
    return html.unescape(response.content.decode())


def french_client():
    return Client(**FRENCH)


def contribute(client, **overrides):
    with committed():
        return client.post("/contribute/", form_data(**overrides))


def field_errors(response, field):
    form = response.context["form"]
    assert field in form.errors, form.errors
    return " ".join(str(error) for error in form.errors[field])


def html_part(message):
    (alternative,) = message.alternatives
    return alternative[0]


# -- the contribution form ------------------------------------------------------------------------------


def test_the_contribution_form_speaks_french():
    response = french_client().get("/contribute/")
    page = text_of(response)
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    for words in (
        "<h1>Proposer un jeu de données</h1>",
        "Nom du jeu de données",
        "Emplacement du jeu de données",
        "Je souhaite que vous hébergiez ce jeu de données",
        "Fiche du jeu de données (dataset card)",
        "— choisissez un domaine —",
        "Votre adresse électronique",
        "J’accepte les conditions de contribution",
        "Soumettre le jeu de données à l’examen",
        "Télécharger un modèle de fiche",
        "La suite",
    ):
        assert words in page, words
    assert "Dataset name" not in page and "What happens next" not in page


def test_the_same_form_stays_english_without_a_french_browser():
    page = text_of(Client().get("/contribute/"))
    assert "Dataset name" in page and "Nom du jeu de données" not in page


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("name", {"name": ""}, "Saisissez le nom du jeu de données."),
        ("name", {"name": "ab"}, "Le nom doit compter au moins 3 caractères (il en a 2)."),
        (
            "location",
            {"location": "http://data.harbour.example/levels.csv"},
            "Utilisez une adresse https:// (les adresses http, ftp, file et autres ne sont pas acceptées).",
        ),
        (
            "location",
            {"location": "https://data.harbour.example/a.csv\nftp://data.harbour.example/b.csv"},
            f"Ligne 2 (ftp://data.harbour.example/b.csv){NBSP}: Utilisez une adresse https://",
        ),
        (
            "location",
            {"location": "\n".join(f"https://data.harbour.example/{n}.csv" for n in range(101))},
            "Donnez au plus 100 emplacements (il y en a 101)",
        ),
        (
            "checksums",
            {"checksums": "not-a-checksum  levels.csv"},
            "La ligne de somme de contrôle 1 est illisible.",
        ),
        (
            "contact_email",
            {"contact_email": "not-an-address"},
            "Saisissez une adresse électronique comme nom@example.org.",
        ),
        (
            "card",
            {"card": SimpleUploadedFile("card.pdf", b"%PDF-1.7 ...", content_type="application/pdf")},
            "La fiche doit être un fichier .md, .markdown ou .txt.",
        ),
        (
            "card",
            {"card": SimpleUploadedFile("README.md", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)},
            "La fiche ressemble à une image PNG, pas à du texte.",
        ),
        # Django's own message, from its French catalog.
        ("card", {"card": SimpleUploadedFile("README.md", b"")}, "Le fichier soumis est vide."),
        (
            "accept_terms",
            {"accept_terms": None},
            "Cochez la case pour accepter les conditions de contribution",
        ),
    ],
    ids=[
        "required",
        "too-short",
        "http",
        "bad-line",
        "too-many-locations",
        "checksum-line",
        "email",
        "card-type",
        "card-binary",
        "django-empty-file",
        "terms",
    ],
)
def test_form_errors_are_in_french(field, overrides, message):
    response = contribute(french_client(), **overrides)
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert message.split(NBSP)[0] in text_of(response)
    assert Submission.objects.count() == 0


def test_an_unreadable_card_header_is_explained_in_french():
    card = b"---\nlicense: [mit\n---\n# T\n"
    response = contribute(french_client(), card=SimpleUploadedFile("README.md", card))
    assert f"L’en-tête YAML est invalide à la ligne 3{NBSP}:" in field_errors(response, "card")


# -- the language of a submission and of its e-mails -----------------------------------------------------


def french_submission():
    """Submit through the form in French; return (submission, status token, confirmation e-mail)."""
    response = contribute(french_client())
    assert response.status_code == 302
    submission = Submission.objects.get()
    (message,) = mail.outbox
    return submission, status_token_from(message.body), message


def test_a_french_submission_keeps_its_language_and_the_confirmation_is_french():
    submission, token, message = french_submission()
    assert submission.language == "fr"
    assert message.subject == (
        f"[{submission.reference}] Confirmez la soumission de votre jeu de données "
        f"«{NBSP}Harbour water levels 2001-2025{NBSP}»"
    )
    assert message.body.startswith("Bonjour,")
    assert f"Votre numéro de référence est {submission.reference}." in message.body
    assert f"/status/{token}/" in message.body
    assert "Confirmer mon adresse électronique" in message.body
    assert "Hello" not in message.body and "curators" not in message.body
    page = html_part(message)
    assert '<html lang="fr">' in page
    assert f"Votre numéro de référence est <strong>{submission.reference}</strong>." in page


def test_the_receipt_is_in_the_visitors_language():
    client = french_client()
    response = contribute(client)
    receipt = text_of(client.get(response["Location"]))
    assert "Merci, nous avons bien reçu votre jeu de données" in receipt
    assert "Ce que vous avez envoyé" in receipt


def test_later_mail_from_a_worker_context_is_still_french(curator):
    submission, _token, _message = french_submission()
    mail.outbox.clear()
    # No request here, and an English-speaking curator or worker: the submission's language decides.
    with translation.override("en"), committed():
        services.confirm(submission)
        services.claim(submission, by=curator)
        services.request_changes(submission, by=curator, message="Please add a licence.")
    to_contributor = [message for message in mail.outbox if message.to == [submission.contact_email]]
    (changes,) = to_contributor
    assert changes.subject == f"[{submission.reference}] L’équipe de curation demande des modifications"
    assert changes.body.startswith("Bonjour,")
    assert "Please add a licence." in changes.body
    assert "Depuis la page de suivi, envoyez une fiche révisée" in changes.body
    assert f"référence {submission.reference}" in changes.body
    assert '<html lang="fr">' in html_part(changes)
    # The curators' own mail stays in the portal's language.
    (to_curators,) = [message for message in mail.outbox if message.to == ["curators@portal.test"]]
    assert to_curators.subject == f"[{submission.reference}] New dataset: {submission.name}"
    assert "A new dataset is waiting in the review queue." in to_curators.body


def test_a_dates_month_is_in_the_submissions_language(curator):
    submission, _token, _message = french_submission()
    closes_on = timezone.now() + datetime.timedelta(days=46)
    mail.outbox.clear()
    emails.send_changes_reminder(submission, closes_on=closes_on)
    (message,) = mail.outbox
    with translation.override("fr"):
        day = date_format(timezone.localtime(closes_on), "j F Y")
    assert f"Sans réponse d’ici le {day}, la soumission sera close." in message.body
    assert message.subject == f"[{submission.reference}] L’équipe de curation attend vos modifications"


def test_an_english_submission_stays_english_when_the_curator_works_in_french(curator):
    with translation.override("fr"):
        submission, _token = changes_requested(curator, message="Please add a licence.")
    assert submission.language == "fr"  # made while French was active: the form's language is kept
    submission.language = "en"
    submission.save(update_fields=["language"])
    mail.outbox.clear()
    with translation.override("fr"), committed():
        services.send_message(submission, by=curator, text="Which licence?")
    (message,) = mail.outbox
    assert message.subject == f"[{submission.reference}] A message from the curators"
    assert message.body.startswith("Hello,")
    assert "You can answer from the status page." in message.body
    assert "Bonjour" not in message.body
    assert '<html lang="en">' in html_part(message)


def test_english_contributions_get_english_mail():
    response = contribute(Client())
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.language == "en"
    (message,) = mail.outbox
    assert message.subject == (
        f"[{submission.reference}] Confirm your dataset submission “Harbour water levels 2001-2025”"
    )
    assert message.body.startswith("Hello,")


# -- the status page ------------------------------------------------------------------------------------


def test_the_status_page_follows_the_visitor_not_the_submission(curator):
    with translation.override("en"):
        submission, token = changes_requested(curator, message="Please add a licence.")
    assert submission.language == "en"
    page = text_of(french_client().get(f"/status/{token}/"))
    assert '<html lang="fr">' in page
    for words in (
        f'Soumission <span class="reference">{submission.reference}</span>',
        f"Statut{NBSP}:",
        '<h2 class="h4" id="timeline-title">Historique</h2>',
        "Please add a licence.",  # the curator's own words are never translated
        "Envoyer une fiche révisée",
        "Fiche révisée",
        "Ce que vous avez modifié (facultatif)",
        "Indiquer de nouveaux emplacements pour les données",
        "Emplacements du jeu de données",
        "Écrire à l’équipe de curation",
        "Votre message à l’équipe de curation",
        "Envoyer le message",
        "Votre jeu de données",
        "Nom du jeu de données",
        "Retirer cette soumission…",
    ):
        assert words in page, words
    for english in ("Timeline", "Upload a revised dataset card", "Write to the curators", "Your dataset"):
        assert english not in page, english
    assert "Timeline" in text_of(Client().get(f"/status/{token}/"))


def test_a_refused_reply_is_explained_in_french(curator):
    _submission, token = changes_requested(curator)
    response = french_client().post(f"/status/{token}/reply/", {"text": "   "})
    assert response.status_code == 400
    assert f"Écrivez votre message{chr(0x202F)}; il ne peut pas être vide." in text_of(response)


def test_a_bad_new_location_is_explained_in_french(curator):
    _submission, token = changes_requested(curator)
    response = french_client().post(
        f"/status/{token}/location/", {"location": "http://elsewhere.example/levels.csv", "checksums": ""}
    )
    assert response.status_code == 400
    assert "Utilisez une adresse https://" in text_of(response)


def test_the_withdraw_page_speaks_french(curator):
    _submission, token = changes_requested(curator)
    page = text_of(french_client().get(f"/status/{token}/withdraw/"))
    assert "Retirer la soumission" in page and "Non, la garder" in page
    assert "Oui, retirer cette soumission." in page


# -- "my submissions" -----------------------------------------------------------------------------------


def test_my_submissions_follow_the_visitors_language_and_so_does_the_sign_in_mail():
    response = contribute(Client())  # an English submission
    assert response.status_code == 302
    mail.outbox.clear()
    client = french_client()
    form = text_of(client.get("/my-submissions/"))
    assert "Vous avez perdu votre lien de suivi" in form and "M’envoyer le lien" in form
    with committed():
        sent = client.post("/my-submissions/", {"email": "data@harbour.example"})
    assert "Consultez votre messagerie" in text_of(sent)
    (message,) = mail.outbox
    assert message.subject == "Vos soumissions à Dataset Portal"
    assert message.body.startswith("Bonjour,")
    token = re.search(r"/my-submissions/([A-Za-z0-9_\-]+)/", message.body).group(1)
    confirm = text_of(client.get(f"/my-submissions/{token}/"))
    assert "Afficher mes soumissions" in confirm
    listing = text_of(client.post(f"/my-submissions/{token}/"))
    assert "<h1>Mes soumissions</h1>" in listing
    assert "Harbour water levels 2001-2025" in listing
    assert "Référence" in listing and "Soumis le" in listing


def test_a_french_sign_in_form_refuses_a_bad_address_in_french():
    response = french_client().post("/my-submissions/", {"email": "not-an-address"})
    assert "Saisissez une adresse électronique comme nom@example.org." in text_of(response)


def test_the_not_found_page_of_a_private_link_speaks_french():
    response = french_client().get("/status/no-such-link-at-all-000000000000/")
    assert response.status_code == 404
    page = text_of(response)
    assert "Ce lien ne fonctionne pas" in page and "demandez un nouveau lien de connexion" in page


def test_card_upload_limit_is_said_in_french(settings):
    settings.PORTAL_CARD_MAX_BYTES = 4096
    card = SimpleUploadedFile("README.md", (GOOD_CARD + "x" * 5000).encode())
    response = contribute(french_client(), card=card)
    assert "la limite est de 4 Kio" in field_errors(response, "card")
