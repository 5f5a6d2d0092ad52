"""Committing corrected cards to the project's Hub-compatible server: idempotent, verified, retried.

Also CITATION.cff in hosted repositories. Tasks run eagerly in-process (retries too, without waiting).
"""

import datetime

import pytest
import yaml
from django.utils import timezone
from huggingface_hub import HfApi

from catalog import card_update, tasks
from catalog.models import CardUpdate, Dataset
from submissions import services
from submissions.models import CorrectionRequest
from tests.factories import committed, published

pytestmark = pytest.mark.django_db


def client(devhub):
    return HfApi(endpoint=devhub.url, token="test-token")


def hub_file(devhub, repo_id, path, tmp_path):
    local = client(devhub).hf_hub_download(repo_id, path, repo_type="dataset", cache_dir=str(tmp_path / "c"))
    with open(local, encoding="utf-8") as handle:
        return handle.read()


def update_commits(devhub, repo_id):
    commits = client(devhub).list_repo_commits(repo_id, repo_type="dataset")
    return [commit for commit in commits if commit.title.startswith("Update the card")]


def accepted_domain_change(submission, curator, domain="Climate"):
    dataset = Dataset.objects.get(submission=submission)
    with committed():
        correction = services.request_correction(
            submission,
            proposal={
                "name": dataset.name,
                "domain": domain,
                "modalities": dataset.modality_list,
                "license": dataset.license,
                "languages": dataset.languages,
                "tags": [],
            },
        )
    with committed():
        services.accept_correction(correction, by=curator)
    correction.refresh_from_db()
    return correction


def test_hub_card_shows_the_new_domain_after_one_verified_commit(devhub, curator, tmp_path):
    submission, _ = published(curator)
    correction = accepted_domain_change(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    readme = hub_file(devhub, dataset.repo_id, "README.md", tmp_path)
    assert readme == dataset.card
    assert "domain:climate" in readme and "domain:marine" not in readme
    assert len(update_commits(devhub, dataset.repo_id)) == 1
    # Running it again changes nothing on the Hub.
    assert card_update.run(correction.card_update.pk) == CardUpdate.Step.DONE
    assert len(update_commits(devhub, dataset.repo_id)) == 1


def test_a_run_that_died_after_committing_finds_its_commit(devhub, curator):
    submission, _ = published(curator)
    correction = accepted_domain_change(submission, curator)
    update = correction.card_update
    dataset = update.dataset
    # As if the worker died between the commit and recording it.
    CardUpdate.objects.filter(pk=update.pk).update(step=CardUpdate.Step.UPLOAD, commit_id="")
    assert card_update.run(update.pk) == CardUpdate.Step.DONE
    assert len(update_commits(devhub, dataset.repo_id)) == 1
    update.refresh_from_db()
    assert update.commit_id == update_commits(devhub, dataset.repo_id)[0].commit_id


def test_hub_errors_that_heal_are_retried_and_commit_once(devhub, curator):
    submission, _ = published(curator)
    devhub.fail_next(count=2, status=503, method="POST", path=r".*/commit/.*")
    correction = accepted_domain_change(submission, curator)
    assert correction.state == CorrectionRequest.State.PUBLISHED
    assert len(update_commits(devhub, correction.card_update.dataset.repo_id)) == 1
    assert correction.card_update.attempts == 3


def test_a_refused_commit_fails_the_request_for_the_curators_who_retry(devhub, curator):
    submission, _ = published(curator)
    devhub.fail_next(count=1, status=403, method="POST", path=r".*/commit/.*")
    correction = accepted_domain_change(submission, curator)
    assert correction.state == CorrectionRequest.State.FAILED
    assert "403" in correction.card_update.last_error
    # The catalog row already says what the curator accepted; the card follows on retry.
    assert Dataset.objects.get(submission=submission).domain == "Climate"
    assert submission.events.filter(public=False, message__contains="403").exists()
    with committed():
        services.retry_correction(correction, by=curator)
    correction.refresh_from_db()
    assert correction.state == CorrectionRequest.State.PUBLISHED


def test_hosted_repository_holds_a_citation_cff(devhub, source_server, curator, tmp_path):
    source_server.add_generated("/levels.csv", 5000, seed=3, content_type="text/csv")
    submission, _ = published(curator, hosting=True, location=source_server.url("/levels.csv"))
    dataset = Dataset.objects.get(submission=submission)
    cff = yaml.safe_load(hub_file(devhub, dataset.repo_id, "CITATION.cff", tmp_path))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["title"] == dataset.name and cff["license"] == "CC-BY-4.0"
    assert cff["repository"].endswith(dataset.repo_id)
    # A correction rewrites it with the card.
    accepted_domain_change(submission, curator)
    cff = yaml.safe_load(hub_file(devhub, dataset.repo_id, "CITATION.cff", tmp_path / "2"))
    assert "Climate" in cff["keywords"]


def test_sweeper_runs_an_update_that_never_reached_the_broker(devhub, curator, monkeypatch):
    submission, _ = published(curator)
    lost = []
    # The broker is down when the curator accepts: the update is saved but never queued.
    monkeypatch.setattr(card_update.queues, "enqueue", lambda *args: lost.append(args))
    correction = accepted_domain_change(submission, curator)
    # (E-mails queued through the same broker are lost too; only the card update matters here.)
    assert [args for args in lost if args[0].startswith("catalog.")] == [
        ("catalog.tasks.update_card", correction.card_update.pk)
    ]
    assert correction.state == CorrectionRequest.State.ACCEPTED
    assert tasks.sweep_stalled_card_updates() == 0  # not stalled yet
    CardUpdate.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert tasks.sweep_stalled_card_updates() == 1
    correction.refresh_from_db()
    assert correction.state == CorrectionRequest.State.PUBLISHED
    assert tasks.sweep_stalled_card_updates() == 0
