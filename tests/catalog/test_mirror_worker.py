"""Mirroring in real Celery worker processes that are killed, duplicated and cut off from their broker.

Each test starts workers against the test database, a broker of its own (the CI Redis, or a private
folder where none runs), the project's dev Hub and a local https source. Whatever happens to the
workers, the dataset must end up on the Hub exactly once, with the right files.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from huggingface_hub import HfApi

from catalog import publishing, tasks
from catalog.models import Dataset, MirrorBatch, MirrorJob
from portal.celery import app as celery_app
from submissions import services
from submissions.models import Submission
from tests.factories import OFFLINE_OVERRIDE, in_review, make_curator_user
from tests.sources import generated_sha256
from tests.worker import ROOT, Broker, Worker, database_url, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ORG = "dataset-portal"
PUBLISH_TIMEOUT = 120


@pytest.fixture
def mirror_workers_env(devhub, source_server, tmp_path, media_root):
    """Return (broker, environment) for workers that mirror from the test source to the dev Hub."""
    broker = Broker(tmp_path)
    env = worker_env(
        broker=broker, devhub=devhub, source_server=source_server, tmp_path=tmp_path, media_root=media_root
    )
    return broker, env


@pytest.fixture
def workers():
    started = []
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def approved(monkeypatch):
    """Return a function that approves a submission and returns its mirror job, without enqueueing it."""
    monkeypatch.setattr(publishing, "enqueue", lambda job_id: None)
    curator = make_curator_user()

    def approve(**kwargs):
        submission, _ = in_review(curator, **kwargs)
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
        return MirrorJob.objects.get(dataset__submission=submission)

    return approve


def send(broker, job_id):
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        broker.send(tasks.mirror_dataset, job_id)
    finally:
        celery_app.conf.task_always_eager = eager


def start(workers, env, tmp_path, **options):
    worker = Worker(env=env, log_path=tmp_path / f"worker-{len(workers)}.log", **options)
    workers.append(worker)
    return worker


def job_state(job_id):
    """The job's step, with its batches' state, bytes fetched and attempts (a one-file job has one batch)."""
    state = MirrorJob.objects.filter(pk=job_id).values("step").first()
    batch = MirrorBatch.objects.filter(job_id=job_id).values("state", "bytes_fetched", "attempts").first()
    return {
        **state,
        "batch": (batch or {}).get("state"),
        **{key: (batch or {}).get(key) for key in ("bytes_fetched", "attempts")},
    }


def uploading(job_id, size):
    """Whether the job's one batch has fetched its file and is sending it (the LFS PUT the Hub holds back):
    a batch sends each file's LFS object as soon as it is fetched, before its commit."""
    state = job_state(job_id)
    return state["batch"] == MirrorBatch.State.FETCH and (state["bytes_fetched"] or 0) >= size


def assert_published_once(devhub, job_id, *, size, seed, workers):
    def done():
        state = job_state(job_id)
        return state["step"] in (MirrorJob.Step.DONE, MirrorJob.Step.FAILED) and state

    try:
        final = wait_for(done, timeout=PUBLISH_TIMEOUT, message="the job to finish")
    except AssertionError:
        logs = "\n".join(worker.output()[-3000:] for worker in workers)
        raise AssertionError(f"job {job_state(job_id)}; worker logs:\n{logs}") from None
    assert final["step"] == MirrorJob.Step.DONE, MirrorJob.objects.get(pk=job_id).last_error
    dataset = Dataset.objects.get(job__pk=job_id)
    assert dataset.submission.state == Submission.State.PUBLISHED
    api = HfApi(endpoint=devhub.url, token="test-token")
    commits = api.list_repo_commits(dataset.repo_id, repo_type="dataset")
    content = [commit for commit in commits if commit.title != "initial commit"]
    assert len(content) == 1, [commit.title for commit in commits]
    assert content[0].commit_id == dataset.hub_commit
    tree = {
        entry.path: entry
        for entry in api.list_repo_tree(dataset.repo_id, repo_type="dataset", recursive=True)
        if hasattr(entry, "lfs")
    }
    (entry,) = dataset.manifest
    remote = tree[entry["path"]]
    assert remote.size == size == entry["size"]
    assert remote.lfs.sha256 == generated_sha256(size, seed=seed) == entry["sha256"]
    creates = [item for item in devhub.request_log(method="POST") if item["path"] == "/api/repos/create"]
    assert len(creates) >= 1
    repos = {repo.id for repo in api.list_datasets(author=ORG)}
    assert repos == {dataset.repo_id}
    return MirrorBatch.objects.get(job_id=job_id)


def test_worker_killed_mid_download_then_new_worker_publishes_once(
    devhub, source_server, approved, workers, tmp_path, mirror_workers_env
):
    size = 3 * 1024 * 1024
    source_server.add_generated("/big.bin", size, seed=3, rate=600_000)
    job = approved(location=source_server.url("/big.bin"))
    broker, env = mirror_workers_env
    first = start(workers, env, tmp_path)
    send(broker, job.pk)
    wait_for(
        lambda: (job_state(job.pk)["bytes_fetched"] or 0) > 300_000, timeout=60, message="a partial download"
    )
    first.kill()
    start(workers, env, tmp_path)
    final = assert_published_once(devhub, job.pk, size=size, seed=3, workers=workers)
    assert final.attempts >= 2


def test_worker_killed_mid_upload_then_new_worker_publishes_once(
    devhub, source_server, approved, workers, tmp_path, mirror_workers_env
):
    size = 11 * 1024 * 1024  # over 10 MiB: an LFS upload
    source_server.add_generated("/big.bin", size, seed=4)
    job = approved(location=source_server.url("/big.bin"))
    devhub.delay_next(seconds=20, count=1, method="PUT", path="/_lfs/upload/.*")
    broker, env = mirror_workers_env
    first = start(workers, env, tmp_path)
    send(broker, job.pk)
    wait_for(lambda: uploading(job.pk, size), timeout=60, message="the upload of the fetched file")
    time.sleep(1.5)  # the LFS PUT is now held by the server
    first.kill()
    start(workers, env, tmp_path)
    final = assert_published_once(devhub, job.pk, size=size, seed=4, workers=workers)
    assert final.attempts >= 2


def test_job_stopped_on_one_machine_is_completed_by_another_with_an_empty_scratch_folder(
    devhub, source_server, approved, workers, tmp_path, mirror_workers_env
):
    size = 11 * 1024 * 1024
    source_server.add_generated("/big.bin", size, seed=5)
    job = approved(location=source_server.url("/big.bin"))
    devhub.delay_next(seconds=20, count=1, method="PUT", path="/_lfs/upload/.*")
    broker, env = mirror_workers_env
    first = start(workers, env, tmp_path)
    send(broker, job.pk)
    wait_for(lambda: uploading(job.pk, size), timeout=60, message="the upload of the fetched file")
    first.kill()
    other_machine = tmp_path / "other-machine" / "scratch"
    assert not other_machine.exists()
    start(workers, {**env, "MIRROR_WORK_DIR": str(other_machine)}, tmp_path)
    final = assert_published_once(devhub, job.pk, size=size, seed=5, workers=workers)
    assert final.attempts >= 2
    # The second machine fetched the data again into its own folder (and cleaned it up when done).
    assert other_machine.exists()
    assert not any(other_machine.iterdir())


def test_task_delivered_twice_at_once_runs_once(
    devhub, source_server, approved, workers, tmp_path, mirror_workers_env
):
    size = 2 * 1024 * 1024
    source_server.add_generated("/d.bin", size, seed=5, rate=1_000_000)
    job = approved(location=source_server.url("/d.bin"))
    # The checks before approval looked at the data too; count the mirror's downloads only.
    checked = len(source_server.requests_for("/d.bin"))
    broker, env = mirror_workers_env
    start(workers, env, tmp_path)
    start(workers, env, tmp_path, beat=False)
    send(broker, job.pk)
    send(broker, job.pk)
    final = assert_published_once(devhub, job.pk, size=size, seed=5, workers=workers)
    downloads = source_server.requests_for("/d.bin")[checked:]
    assert len([request for request in downloads if request.method == "GET"]) == 1
    logs = "".join(worker.output() for worker in workers)
    assert "'busy'" in logs or final.attempts == 1


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis(port, tmp_path):
    return subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server on PATH (CI installs it)"
)
def test_redis_restarted_during_a_job(devhub, source_server, approved, workers, tmp_path, media_root):
    port = _free_port()
    redis = _redis(port, tmp_path)
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, timeout=10, message="redis")
        size = 3 * 1024 * 1024
        source_server.add_generated("/r.bin", size, seed=6, rate=700_000)
        job = approved(location=source_server.url("/r.bin"))
        broker = Broker(tmp_path, url=f"redis://127.0.0.1:{port}/0")
        env = worker_env(
            broker=broker,
            devhub=devhub,
            source_server=source_server,
            tmp_path=tmp_path,
            media_root=media_root,
        )
        start(workers, env, tmp_path)
        send(broker, job.pk)
        wait_for(
            lambda: (job_state(job.pk)["bytes_fetched"] or 0) > 200_000, timeout=60, message="a download"
        )
        redis.kill()
        redis.wait(timeout=10)
        time.sleep(1)
        redis = _redis(port, tmp_path)
        assert_published_once(devhub, job.pk, size=size, seed=6, workers=workers)
    finally:
        redis.kill()
        redis.wait(timeout=10)


KILL_BETWEEN_WRITES = """
import os, sys
import django
django.setup()
from catalog import mirror
from catalog.models import MirrorJob
from submissions import services

def die(*args, **kwargs):
    os._exit(9)  # the worker is killed after the job's row was written, before the submission's

services.mark_mirror_failed = die
mirror._fail(MirrorJob.objects.select_related("dataset__submission").get(pk=int(sys.argv[1])), reason="boom")
"""


@pytest.mark.django_db(transaction=True)
def test_failing_is_one_transaction_when_the_worker_dies_between_the_writes(approved):
    job = approved()
    submission = job.dataset.submission
    services.start_mirroring(submission)
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = subprocess.run(
        [sys.executable, "-c", KILL_BETWEEN_WRITES, str(job.pk)], cwd=ROOT, env=env, capture_output=True
    )
    assert result.returncode == 9, result.stderr.decode()
    job.refresh_from_db()
    submission.refresh_from_db()
    # Neither write survived: the job is not failed, so the sweeper runs it again; the submission agrees.
    assert job.step != MirrorJob.Step.FAILED
    assert submission.state == Submission.State.MIRRORING


def test_two_machines_mirror_one_dataset_batch_by_batch_each_batch_once(
    devhub, source_server, approved, workers, tmp_path, mirror_workers_env, monkeypatch
):
    # Six files in batches of one, each slow enough that both machines are busy at once.
    size = 600_000
    names = [f"part-{n}.bin" for n in range(6)]
    for number, name in enumerate(names):
        source_server.add_generated(f"/{name}", size, seed=40 + number, rate=400_000)
    job = approved(location="\n".join(source_server.url(f"/{name}") for name in names))
    broker, env = mirror_workers_env
    machines = []
    for number in range(2):
        folder = tmp_path / f"machine-{number}"
        machines.append(folder)
        start(
            workers,
            {**env, "MIRROR_WORK_DIR": str(folder), "MIRROR_FILES_PER_COMMIT": "1"},
            tmp_path,
            beat=number == 0,
        )
    send(broker, job.pk)

    def done():
        state = job_state(job.pk)
        return state["step"] in (MirrorJob.Step.DONE, MirrorJob.Step.FAILED) and state

    final = wait_for(done, timeout=PUBLISH_TIMEOUT, message="the job to finish")
    assert final["step"] == MirrorJob.Step.DONE, MirrorJob.objects.get(pk=job.pk).last_error
    batches = list(MirrorBatch.objects.filter(job_id=job.pk).order_by("index"))
    assert len(batches) == 6 and all(batch.state == MirrorBatch.State.DONE for batch in batches)
    assert all(len(batch.commit_ids) == 1 for batch in batches)
    dataset = Dataset.objects.get(job__pk=job.pk)
    api = HfApi(endpoint=devhub.url, token="test-token")
    titles = [commit.title for commit in api.list_repo_commits(dataset.repo_id, repo_type="dataset")]
    content = [title for title in titles if title != "initial commit"]
    assert len(content) == len(set(content)) == 6, titles
    # Both machines took batches (each batch is a task any mirror worker may take).
    ran = [worker.output().count("catalog.tasks.mirror_batch[") for worker in workers]
    assert all(count > 0 for count in ran), ran
    puts = [item for item in devhub.request_log(method="PUT") if item["path"].startswith("/_lfs/upload/")]
    assert len(puts) == len({item["path"] for item in puts}) == 6  # no file uploaded twice
    assert all(item["status"] == 200 for item in puts)
