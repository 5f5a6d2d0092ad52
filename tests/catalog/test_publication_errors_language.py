"""A failed publication explains itself in the reader's language: the contributor's status page (and its
progress JSON) in French, the curators' review page in English, the job's stored text in English."""

import html

import pytest
from django.core import mail
from django.test import Client

from catalog.models import MirrorJob
from submissions.models import Event, Submission
from tests.catalog.test_mirror import approve
from tests.catalog.test_mirror_many_files import table
from tests.factories import in_review

pytestmark = pytest.mark.django_db

NB = "\u00a0"


def test_a_wrong_checksum_is_explained_in_french_to_a_french_contributor(devhub, source_server, curator):
    source_server.add_bytes("/train.csv", table(20, 3), content_type="text/csv")
    submission, token = in_review(
        curator,
        location=source_server.url("/train.csv"),
        announced_checksums=[{"algorithm": "md5", "digest": "0" * 32, "name": "train.csv"}],
    )
    mail.outbox.clear()
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    job = MirrorJob.objects.get(dataset__submission=submission)
    assert job.public_error.startswith("The file train.csv is not the one its checksum describes: its MD5")

    french = html.unescape(Client().get(f"/status/{token}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert (
        f"Le fichier train.csv n’est pas celui que décrit sa somme de contrôle{NB}: son MD5 devrait" in french
    )
    assert f"La publication a échoué{NB}; l’équipe de curation a été prévenue." in french
    progress = Client().get(f"/status/{token}/progress.json", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert progress["public_error"].startswith("Le fichier train.csv n’est pas celui que décrit")

    english = html.unescape(Client().get(f"/status/{token}/").content.decode())
    assert "The file train.csv is not the one its checksum describes" in english

    # The curators' internal note keeps the technical reason, in their language.
    note = submission.events.filter(kind=Event.Kind.MESSAGE, public=False).latest("id")
    assert note.message.startswith("train.csv: its MD5 was announced as 00000000000000000000000000000000")
    client = Client()
    client.force_login(curator)
    review = html.unescape(
        client.get(f"/admin/submissions/submission/{submission.pk}/change/").content.decode()
    )
    assert "train.csv: its MD5 was announced as 00000000000000000000000000000000" in review
    french_review = client.get(
        f"/admin/submissions/submission/{submission.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert f"train.csv{NB}: son MD5 annoncé est 00000000000000000000000000000000" in html.unescape(
        french_review.content.decode()
    )
    (to_curators,) = [message for message in mail.outbox if message.to == ["curators@portal.test"]]
    assert "train.csv: its MD5 was announced as" in to_curators.body
