"""A card update run by real Celery worker processes: delivered twice at once, it commits once."""

import pytest
from huggingface_hub import HfApi

from catalog import card_update, tasks
from catalog.models import CardUpdate, Dataset
from portal.celery import app as celery_app
from submissions import services
from submissions.models import CorrectionRequest
from tests.factories import committed, make_curator_user, published
from tests.worker import Broker, Worker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def workers():
    started = []
    yield started
    for worker in started:
        worker.stop()


def test_update_delivered_twice_to_two_workers_commits_once(
    devhub, workers, tmp_path, media_root, monkeypatch
):
    curator = make_curator_user("alice")
    submission, _ = published(curator)  # published in-process; only the card update goes to the workers
    dataset = Dataset.objects.get(submission=submission)
    monkeypatch.setattr(card_update.queues, "enqueue", lambda *args: None)
    with committed():
        correction = services.request_correction(
            submission,
            proposal={
                "name": dataset.name,
                "domain": "Legal",
                "modalities": dataset.modality_list,
                "license": dataset.license,
                "languages": dataset.languages,
                "tags": [],
            },
        )
    with committed():
        services.accept_correction(correction, by=curator)
    update = CardUpdate.objects.get(correction=correction)

    broker = Broker(tmp_path)
    env = worker_env(
        broker=broker, devhub=devhub, source_server=None, tmp_path=tmp_path, media_root=media_root
    )
    for number, beat in enumerate((True, False)):
        workers.append(Worker(env=env, log_path=tmp_path / f"worker-{number}.log", beat=beat))
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        broker.send(tasks.update_card, update.pk)
        broker.send(tasks.update_card, update.pk)
    finally:
        celery_app.conf.task_always_eager = eager

    def settled():
        state = CorrectionRequest.objects.get(pk=correction.pk).state
        return state in (CorrectionRequest.State.PUBLISHED, CorrectionRequest.State.FAILED) and state

    try:
        state = wait_for(settled, timeout=90, message="the card update")
    except AssertionError:
        raise AssertionError("\n".join(worker.output()[-3000:] for worker in workers)) from None
    assert state == CorrectionRequest.State.PUBLISHED
    commits = HfApi(endpoint=devhub.url, token="test-token").list_repo_commits(
        dataset.repo_id, repo_type="dataset"
    )
    assert [commit.title for commit in commits].count(card_update.commit_message(update)) == 1
    dataset.refresh_from_db()
    assert "domain:legal" in dataset.card and dataset.domain == "Legal"
