"""The workflow's refusals in the reader's language: a service that refuses a step says why in the language of
the person who asked (the contributor's status page, the curator's review page), and in English without one.
"""

import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from submissions import categorisation, services
from submissions.models import Submission
from tests.factories import committed, confirmed, in_review

pytestmark = pytest.mark.django_db

QUEUE = "/admin/submissions/submission/"
NBSP = "\u00a0"


def text_of(response):
    """Return a page's HTML with entities decoded and runs of white space made one space (non-breaking
    spaces, which French typography puts before a colon, stay as they are)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(response.content.decode()))


def french_curator(user):
    """Return a client signed in as `user` who chose French with the language switcher (its cookie)."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


def test_status_page_refusal_in_french(curator):
    submission, token = in_review(curator)
    with committed():
        services.withdraw(submission)
    events = submission.events.count()

    response = Client(HTTP_ACCEPT_LANGUAGE="fr").post(f"/status/{token}/reply/", {"text": "Une question."})

    assert response.status_code == 400
    assert (
        f"Cette soumission est à l’état «{NBSP}retiré{NBSP}»{NBSP}; elle ne reçoit plus de messages."
        in text_of(response)
    )
    assert submission.events.count() == events


def test_status_page_refusal_in_english_without_a_language(curator):
    submission, token = in_review(curator)
    with committed():
        services.withdraw(submission)
    response = Client().post(f"/status/{token}/reply/", {"text": "A question."})
    assert response.status_code == 400
    assert "This submission is withdrawn; it no longer takes messages." in text_of(response)


def test_curator_action_refusal_in_french(curator, other_curator):
    submission, _ = in_review(other_curator)

    response = french_curator(curator).post(f"{QUEUE}{submission.pk}/claim/", follow=True)

    assert (
        f"{submission.reference} est déjà en cours d’examen par bob. Utilisez «{NBSP}Attribuer{NBSP}» pour la "
        "reprendre." in text_of(response)
    )
    submission.refresh_from_db()
    assert submission.assignee == other_curator


def test_duplicate_refusal_in_french(curator):
    submission, _ = confirmed()

    response = french_curator(curator).post(
        f"{QUEUE}{submission.pk}/mark-duplicate/", {"original": submission.reference}, follow=True
    )

    assert (
        f"Une soumission ne peut pas être son propre doublon{NBSP}; donnez la référence de l’autre."
        in text_of(response)
    )
    submission.refresh_from_db()
    assert submission.duplicate_of is None


def test_state_move_refusal_names_both_states_in_french(curator):
    submission, _ = confirmed()
    with translation.override("fr"), pytest.raises(services.InvalidTransition) as refused:
        services.retry_mirror(submission, by=curator)
    assert str(refused.value) == (
        f"{submission.reference} est à l’état «{NBSP}Soumis, en attente d’un curateur{NBSP}»{NBSP}; elle ne "
        f"peut pas passer de là à l’état «{NBSP}Approuvé, en attente de publication{NBSP}»."
    )
    submission.refresh_from_db()
    assert submission.state == Submission.State.SUBMITTED


def test_a_text_too_long_is_counted_the_readers_way(curator):
    submission, _ = in_review(curator)
    reason = "x" * (settings.PORTAL_REPLY_MAX_CHARS + 1)
    with translation.override("fr"), pytest.raises(services.InvalidTransition) as refused:
        services.reject(submission, by=curator, reason=reason)
    assert str(refused.value) == (
        f"Raccourcissez le motif de la décision à 10{NBSP}000 caractères au plus (le texte en compte "
        f"10{NBSP}001)."
    )
    with pytest.raises(services.InvalidTransition) as refused:
        services.reject(submission, by=curator, reason=reason)
    assert str(refused.value) == (
        "Shorten the reason for the decision to at most 10,000 characters (it has 10,001)."
    )


def test_a_proposed_categorisation_is_refused_in_french():
    proposal = {
        "name": "Harbour water levels",
        "domain": "",
        "modalities": ["text"],
        "license": "not-a-licence",
        "languages": [],
        "tags": ["x" * 60],
    }
    with translation.override("fr"), pytest.raises(categorisation.InvalidProposal) as refused:
        categorisation.clean_proposal(proposal, current_domain="")
    errors = refused.value.errors
    assert errors["license"] == (
        f"«{NBSP}not-a-licence{NBSP}» n’est pas un identifiant de licence connu du Hugging Face Hub{NBSP}; "
        "utilisez-en un comme cc-by-4.0 ou mit."
    )
    assert errors["tags"] == (
        "Les mots-clés comptent au plus 50 caractères (lettres, chiffres, espaces, . : + / -)."
    )
