"""Object storage: with STORAGE_URL set, the web side stores uploaded cards in an S3-compatible server and a
worker on "another machine" (no access to the web's disk) reads them from there and publishes the dataset.

The S3-compatible server is moto in server mode, started by the test on a free port; the objects are read
back with boto3, the same client django-storages uses.
"""

import socket
import subprocess
import sys
import time

import boto3
import pytest
from django.core import mail
from django.test import Client
from huggingface_hub import HfApi

from catalog.models import MirrorJob
from submissions import services
from submissions.models import Submission
from tests.catalog import test_mirror_worker as mirror_worker
from tests.factories import GOOD_CARD, committed, make_curator_user, status_token_from
from tests.submissions.test_contribute import form_data
from tests.worker import Broker, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The mirror tests' fixtures: workers stopped after the test, approval without enqueueing in-process.
workers = mirror_worker.workers
approved = mirror_worker.approved

BUCKET = "portal-media"
KEYS = {"STORAGE_ACCESS_KEY_ID": "testing", "STORAGE_SECRET_ACCESS_KEY": "testing"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_server(tmp_path):
    """An S3-compatible server (moto's server mode) with an empty bucket; yields its endpoint URL."""
    port = free_port()
    log = open(tmp_path / "moto.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "moto.log").read_text()) from None
                time.sleep(0.1)
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def s3_client(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def s3_settings(endpoint):
    """The environment of a process that stores its files in the test's bucket."""
    return {"STORAGE_URL": f"s3://{BUCKET}/media", "STORAGE_ENDPOINT_URL": endpoint, **KEYS}


def test_web_stores_cards_in_object_storage_and_another_machine_publishes_from_it(
    s3_server,
    devhub,
    source_server,
    approved,
    workers,
    tmp_path,
    media_root,
    settings,
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "location": "media",
                "endpoint_url": s3_server,
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    size = 2 * 1024 * 1024
    source_server.add_generated("/levels.bin", size, seed=9)

    # The web side: the contribution form, over HTTP.
    with committed():
        response = Client().post(
            "/contribute/", form_data(location=source_server.url("/levels.bin"), name="Harbour levels in S3")
        )
    assert response.status_code == 302
    submission = Submission.objects.get(name="Harbour levels in S3")
    keys = [item["Key"] for item in s3_client(s3_server).list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"media/{submission.latest_revision.file.name}"]
    assert not any(media_root.rglob("*")), "nothing may be written to the web machine's disk"

    token = status_token_from(mail.outbox[-1].body)
    with committed():
        Client().post(f"/status/{token}/confirm/")
    curator = make_curator_user()
    submission.refresh_from_db()
    with committed():
        services.claim(submission, by=curator)
        services.approve(submission, by=curator, checklist=services.ReviewChecklist.all_ticked())
    job = MirrorJob.objects.get(dataset__submission=submission)

    # Another machine: its own (empty) media folder and scratch folder, the same bucket.
    broker = Broker(tmp_path)
    env = worker_env(
        broker=broker,
        devhub=devhub,
        source_server=source_server,
        tmp_path=tmp_path / "machine-b",
        media_root=tmp_path / "machine-b" / "media",
        **s3_settings(s3_server),
    )
    mirror_worker.start(workers, env, tmp_path)
    mirror_worker.send(broker, job.pk)

    def finished():
        state = MirrorJob.objects.filter(pk=job.pk).values_list("step", flat=True).first()
        return state in (MirrorJob.Step.DONE, MirrorJob.Step.FAILED) and state

    try:
        step = wait_for(finished, timeout=120, message="the job to finish")
    except AssertionError:
        raise AssertionError(workers[-1].output()[-3000:]) from None
    job.refresh_from_db()
    assert step == MirrorJob.Step.DONE, job.last_error
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    readme = HfApi(endpoint=devhub.url, token="test-token").hf_hub_download(
        job.dataset.repo_id, "README.md", repo_type="dataset", local_dir=tmp_path / "check"
    )
    body = GOOD_CARD.split("---", 2)[2].strip().splitlines()[0]
    with open(readme, encoding="utf-8") as handle:
        assert body in handle.read()
    assert not (tmp_path / "machine-b" / "media").exists() or not any(
        (tmp_path / "machine-b" / "media").rglob("*")
    )
