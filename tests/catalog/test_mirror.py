"""Mirroring approved datasets to the project's Hub-compatible server with the real huggingface_hub client.

Tasks run eagerly in-process here (retries too, without waiting); tests/catalog/test_mirror_worker.py
runs the same task in real worker processes and kills them.
"""

import base64
import hashlib
import io
import tarfile
import unittest.mock
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction
from huggingface_hub import HfApi

from catalog import lease, mirror
from catalog.models import Dataset, MirrorBatch, MirrorJob
from submissions import services
from submissions.models import Submission
from tests.factories import OFFLINE_OVERRIDE, committed, in_review
from tests.sources import generated_sha256

pytestmark = pytest.mark.django_db

ORG = "dataset-portal"


def approve(submission, curator, *, unpack=False):
    with committed():
        return services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            unpack_archives=unpack,
            concerns_override=OFFLINE_OVERRIDE,
        )


def client(devhub):
    return HfApi(endpoint=devhub.url, token="test-token")


def content_commits(devhub, repo_id):
    commits = client(devhub).list_repo_commits(repo_id, repo_type="dataset")
    return [commit for commit in commits if commit.title != "initial commit"]


def test_hosted_dataset_is_published_once_with_verified_files(devhub, source_server, curator, settings):
    size = 3 * 1024 * 1024 + 17
    source_server.add_generated("/levels.csv", size, seed=7, content_type="text/csv")
    submission, _ = in_review(curator, location=source_server.url("/levels.csv"))
    mail.outbox.clear()
    approve(submission, curator)

    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    dataset = Dataset.objects.get(submission=submission)
    job = dataset.job
    assert job.step == MirrorJob.Step.DONE and job.attempts == 1
    assert job.bytes_fetched == job.bytes_uploaded == job.bytes_total == size
    assert dataset.published_at is not None
    assert dataset.manifest == job.manifest
    (entry,) = dataset.manifest
    # Binary bytes go to LFS (verified by their SHA-256): no git blob id is computed for them.
    assert entry == {"path": "data/levels.csv", "size": size, "sha256": generated_sha256(size, seed=7)}
    files = {
        item.path: item
        for item in client(devhub).list_repo_tree(dataset.repo_id, repo_type="dataset", recursive=True)
        if hasattr(item, "size")
    }
    assert files["data/levels.csv"].size == size
    readme_path = client(devhub).hf_hub_download(
        dataset.repo_id,
        "README.md",
        repo_type="dataset",
        cache_dir=str(settings.MIRROR_WORK_DIR.parent / "cache"),
    )
    with open(readme_path, encoding="utf-8") as handle:
        assert handle.read() == dataset.card
    assert "license: cc-by-4.0" in dataset.card
    assert "pretty_name: Harbour water levels" in dataset.card
    assert "domain:marine" in dataset.card
    assert dataset.languages == ["en"]
    assert "time-series-forecasting" in dataset.tags
    assert dataset.summary == "Water levels measured every ten minutes in three harbours since 2001."
    assert dataset.license == "cc-by-4.0"
    assert "README.md" in files
    assert len(content_commits(devhub, dataset.repo_id)) == 1
    assert content_commits(devhub, dataset.repo_id)[0].commit_id == dataset.hub_commit
    assert not (settings.MIRROR_WORK_DIR / f"job-{job.pk}").exists()
    published = [message for message in mail.outbox if "published" in message.subject]
    assert published and dataset.repo_id in published[0].body
    # Running the task again changes nothing on the Hub.
    assert mirror.run(job.pk) == MirrorJob.Step.DONE
    assert len(content_commits(devhub, dataset.repo_id)) == 1


def test_linked_dataset_publishes_a_card_pointing_at_the_source(devhub, curator):
    submission, _ = in_review(curator, hosting=False, location="https://archive.example.org/photos/")
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None
    # A linked dataset's manifest lists its files at their source (here one address, size unknown offline).
    assert dataset.manifest == [
        {"path": "photos", "url": "https://archive.example.org/photos/", "size": None, "checksums": {}}
    ]
    paths = client(devhub).list_repo_files(dataset.repo_id, repo_type="dataset")
    assert sorted(paths) == [".gitattributes", "README.md"]
    assert "source_url: https://archive.example.org/photos/" in dataset.card
    assert "hosted by its publisher at <https://archive.example.org/photos/>" in dataset.card


def test_hub_503_then_429_is_retried_and_published_once(devhub, source_server, curator):
    # Text under 10 MiB: the Hub keeps it in git, so the data goes in the commit the faults hit.
    source_server.add_bytes(
        "/d.csv", b"station,level\n" + b"harbour,1.25\n" * 15_000, content_type="text/csv"
    )
    submission, _ = in_review(curator, location=source_server.url("/d.csv"))
    devhub.fail_next(count=3, status=503, method="POST", path=r".*/commit/.*")
    devhub.fail_next(count=1, status=429, method="POST", path=r".*/commit/.*", retry_after=0)
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None
    assert len(content_commits(devhub, dataset.repo_id)) == 1
    statuses = [entry["status"] for entry in devhub.request_log(method="POST") if "/commit/" in entry["path"]]
    assert 503 in statuses and 429 in statuses and statuses[-1] == 200
    (data,) = [
        item
        for item in client(devhub).list_repo_tree(dataset.repo_id, repo_type="dataset", recursive=True)
        if item.path == "data/d.csv"
    ]
    assert data.lfs is None and data.size == len(b"station,level\n") + 15_000 * len(b"harbour,1.25\n")


def test_an_lfs_upload_answered_503_is_sent_again_whole(devhub, source_server, curator):
    """The upload step's reader (blocks past the page cache) rewinds for the client's retry."""
    size = 3 * 1024 * 1024 + 17
    source_server.add_generated("/d.bin", size, seed=31)
    submission, _ = in_review(curator, location=source_server.url("/d.bin"))
    devhub.fail_next(count=1, status=503, method="PUT", path=r"/_lfs/upload/.*")
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None
    statuses = [
        entry["status"] for entry in devhub.request_log(method="PUT") if "/_lfs/upload/" in entry["path"]
    ]
    assert statuses == [503, 200]
    path = client(devhub).hf_hub_download(dataset.repo_id, "data/d.bin", repo_type="dataset")
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == generated_sha256(size, seed=31)


def test_existing_foreign_repo_gets_a_suffix_and_is_left_alone(devhub, curator, tmp_path):
    submission, _ = in_review(curator, name="Harbour water levels", hosting=False)
    api = client(devhub)
    api.create_repo(f"{ORG}/harbour-water-levels", repo_type="dataset")
    other = tmp_path / "other.txt"
    other.write_text("someone else's data")
    api.upload_file(
        path_or_fileobj=str(other),
        path_in_repo="other.txt",
        repo_id=f"{ORG}/harbour-water-levels",
        repo_type="dataset",
    )
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.repo_id == f"{ORG}/harbour-water-levels-2"
    assert dataset.slug == "harbour-water-levels-2"
    assert "README.md" not in api.list_repo_files(f"{ORG}/harbour-water-levels", repo_type="dataset")


def test_approval_rolled_back_enqueues_nothing(devhub, curator):
    submission, _ = in_review(curator, hosting=False)
    devhub.reset()
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
        raise RuntimeError("the request failed after approving")
    submission.refresh_from_db()
    assert submission.state == Submission.State.IN_REVIEW
    assert not MirrorJob.objects.exists()
    assert devhub.request_log() == []


def test_job_held_by_another_worker_is_not_touched(devhub, curator):
    submission, _ = in_review(curator, hosting=False)
    with committed():
        pass
    with transaction.atomic():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    job = MirrorJob.objects.get()
    assert lease.acquire(job.pk, "other-worker")
    devhub.reset()
    assert mirror.run(job.pk) == "busy"
    assert devhub.request_log() == []
    job.refresh_from_db()
    assert job.attempts == 0


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_with_symlink():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo("data/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    return buffer.getvalue()


def test_unpacked_archive_is_published_file_by_file(devhub, source_server, curator):
    source_server.add_bytes("/set.zip", _zip([("train/a.csv", b"x,y\n1,2\n"), ("test/b.csv", b"x,y\n3,4\n")]))
    submission, _ = in_review(curator, location=source_server.url("/set.zip"))
    approve(submission, curator, unpack=True)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None
    assert sorted(entry["path"] for entry in dataset.manifest) == ["data/test/b.csv", "data/train/a.csv"]
    files = client(devhub).list_repo_files(dataset.repo_id, repo_type="dataset")
    assert "data/train/a.csv" in files and "data/test/b.csv" in files


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("404", "404 Not Found"),
        ("too-large", "limit"),
        ("redirect-private", "not allowed"),
        ("zip-slip", "was not unpacked"),
        ("tar-symlink", "was not unpacked"),
        ("zip-bomb", "was not unpacked"),
    ],
)
def test_bad_source_fails_with_reason_and_uploads_nothing(
    devhub, source_server, curator, settings, case, reason
):
    unpack = False
    if case == "404":
        source_server.add_status("/data", 404)
    elif case == "too-large":
        settings.MIRROR_MAX_BYTES = 100_000
        source_server.add_generated("/data", 300_000)
    elif case == "redirect-private":
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = [f"{source_server.host}/32"]
        source_server.add_redirect("/data", "https://127.0.0.2:9/secret")
    elif case == "zip-slip":
        unpack = True
        source_server.add_bytes("/data", _zip([("../evil.txt", b"pwned")]))
    elif case == "tar-symlink":
        unpack = True
        source_server.add_bytes("/data", _tar_with_symlink())
    elif case == "zip-bomb":
        unpack = True
        settings.MIRROR_MAX_RATIO = 100
        source_server.add_bytes("/data", _zip([("zeros.bin", b"\0" * (20 * 1024 * 1024))]))
    submission, _ = in_review(curator, location=source_server.url("/data"))
    mail.outbox.clear()
    approve(submission, curator, unpack=unpack)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    job = MirrorJob.objects.get()
    assert job.step == MirrorJob.Step.FAILED
    assert reason in job.last_error, job.last_error
    assert submission.events.filter(public=False, message__contains=reason).exists()
    # Nothing was uploaded, and the private repository is deleted: nothing of it is left on the Hub.
    assert not devhub.request_log(method="POST", path="/commit/")
    assert not client(devhub).repo_exists(job.dataset.repo_id, repo_type="dataset")
    assert not (settings.MIRROR_WORK_DIR / f"job-{job.pk}").exists()
    assert any("Publishing failed" in message.subject for message in mail.outbox)


def test_curator_retry_after_failure_publishes(devhub, source_server, curator):
    source_server.add_status("/late.csv", 404)
    submission, _ = in_review(curator, location=source_server.url("/late.csv"))
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    source_server.add_bytes("/late.csv", b"a,b\n1,2\n")
    with committed():
        services.retry_mirror(submission, by=curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    assert MirrorJob.objects.get().attempts == 2


def test_bad_token_stops_without_retrying(devhub, curator):
    devhub.add_bad_token("test-token")
    submission, _ = in_review(curator, hosting=False)
    approve(submission, curator)
    job = MirrorJob.objects.get()
    assert job.step == MirrorJob.Step.FAILED
    assert "HTTP 401" in job.last_error
    assert job.attempts == 1


def test_published_dataset_is_found_in_the_catalog(devhub, curator, client):
    submission, _ = in_review(curator, name="Harbour water levels Rotterdam", hosting=False)
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    listing = client.get("/datasets/", {"q": "harbour"}).content.decode()
    assert dataset.get_absolute_url() in listing
    page = client.get(dataset.get_absolute_url()).content.decode()
    assert dataset.repo_id in page
    assert "Water levels measured every ten minutes" in page


def test_unexpected_error_is_recorded_retried_and_ends_as_failed(
    devhub, source_server, curator, settings, tmp_path
):
    source_server.add_bytes("/x.csv", b"a\n1\n")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the work folder should be")
    settings.MIRROR_WORK_DIR = blocker
    settings.MIRROR_MAX_RETRIES = 2
    submission, _ = in_review(curator, location=source_server.url("/x.csv"))
    approve(submission, curator)
    job = MirrorJob.objects.get()
    assert job.step == MirrorJob.Step.FAILED
    (batch,) = job.batches.all()
    assert batch.attempts == 3 and batch.state == "failed"
    assert "Unexpected error" in job.last_error and "Gave up on batch 1 after 3 attempts" in job.last_error
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED


def _announced(size, seed):
    """The RFC 9530 header a source sends with the SHA-256 of a generated file."""
    digest = bytes.fromhex(generated_sha256(size, seed=seed))
    return {"Repr-Digest": "sha-256=:" + base64.b64encode(digest).decode() + ":"}


def lfs_uploads(devhub, sha256):
    return [
        entry["status"]
        for entry in devhub.request_log(method="PUT")
        if entry["path"] == f"/_lfs/upload/{sha256}"
    ]


def test_source_announcing_its_digest_is_uploaded_while_fetched_and_published_once(
    devhub, source_server, curator, settings
):
    size = 12 * 1024 * 1024 + 5  # over the size under which the Hub may keep a file in git
    sha256 = generated_sha256(size, seed=21)
    source_server.add_generated("/big.bin", size, seed=21, headers=_announced(size, seed=21))
    submission, _ = in_review(curator, location=source_server.url("/big.bin"))
    approve(submission, curator)

    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    job = MirrorJob.objects.get()
    assert job.attempts == 1
    assert job.bytes_fetched == job.bytes_uploaded == size
    assert job.dataset.manifest[0]["sha256"] == sha256
    # The object went up once, during the fetch; the commit found it stored and sent nothing again.
    assert lfs_uploads(devhub, sha256) == [200]
    batches = [
        entry for entry in devhub.request_log(method="POST") if entry["path"].endswith("/objects/batch")
    ]
    assert len(batches) == 2
    (entry,) = [
        item
        for item in client(devhub).list_repo_tree(
            job.dataset.repo_id, repo_type="dataset", path_in_repo="data"
        )
    ]
    assert entry.lfs.sha256 == sha256 and entry.size == size
    assert len(content_commits(devhub, job.dataset.repo_id)) == 1


def test_source_whose_bytes_contradict_their_digest_is_fetched_again_then_fails_publishing_nothing(
    devhub, source_server, curator, settings
):
    size = 11 * 1024 * 1024
    wrong = _announced(size, seed=99)  # the digest of other bytes
    source_server.add_generated("/lies.bin", size, seed=22, headers=wrong)
    submission, _ = in_review(curator, location=source_server.url("/lies.bin"))
    mail.outbox.clear()
    approve(submission, curator)

    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    job = MirrorJob.objects.get()
    assert job.step == MirrorJob.Step.FAILED
    (batch,) = job.batches.all()
    assert batch.attempts == 2 and batch.state == "failed"
    assert mirror.DIGEST_MISMATCH in job.last_error and "twice in a row" in job.last_error
    # Both attempts fetched from the start (no resumed, unverified bytes), and the Hub holds nothing:
    # the uploads were cut short before their last byte, nothing was committed, the repository is gone.
    fetches = [request for request in source_server.requests_for("/lies.bin") if request.method == "GET"]
    whole = [request for request in fetches if "Range" not in request.headers]
    assert len(whole) == 2, fetches
    assert all(request.headers["Range"].startswith("bytes=0-") for request in fetches if request not in whole)
    claimed = wrong["Repr-Digest"].split(":")[1]
    claimed_hex = base64.b64decode(claimed).hex()
    assert 200 not in lfs_uploads(devhub, claimed_hex)
    assert not devhub.request_log(method="POST", path="/commit/")
    assert not client(devhub).repo_exists(job.dataset.repo_id, repo_type="dataset")
    assert any("Publishing failed" in message.subject for message in mail.outbox)


def test_digest_mismatch_once_is_fetched_again_and_published_when_the_source_is_right(
    devhub, source_server, curator, settings
):
    size = 11 * 1024 * 1024
    source_server.add_generated("/fixed.bin", size, seed=23, headers=_announced(size, seed=98))
    submission, _ = in_review(curator, location=source_server.url("/fixed.bin"))
    job_seen = []

    def correct_the_source(batch_id):
        # After the first attempt, the file at the location is the one its header names.
        job_seen.append(MirrorBatch.objects.get(pk=batch_id).last_error)
        source_server.add_generated("/fixed.bin", size, seed=23, headers=_announced(size, seed=23))

    original = mirror.run_batch

    def run_batch(batch_id):
        try:
            return original(batch_id)
        except mirror.RetryLater:
            correct_the_source(batch_id)
            raise

    with unittest.mock.patch.object(mirror, "run_batch", run_batch):
        approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    assert job_seen and job_seen[0].startswith(mirror.DIGEST_MISMATCH)
    assert lfs_uploads(devhub, generated_sha256(size, seed=23)) == [200]
