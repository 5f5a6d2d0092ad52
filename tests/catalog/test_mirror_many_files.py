"""A dataset of many files, from plain addresses and repository records, mirrored in batches exactly once.

The records come from the repository doubles (devhub/repositories.py) through the real resolvers and
safefetch; the Hub is the dev Hub driven by the real huggingface_hub client; tasks run eagerly.
"""

import csv
import io
import threading

import pytest
import yaml
from django.core import mail
from django.test import Client
from huggingface_hub import HfApi

from catalog import mirror
from catalog.models import Dataset, MirrorBatch, MirrorJob
from devhub.repositories import DataFile, Deposit, Person
from submissions import services
from submissions.models import ManifestFile, Submission
from tests.catalog.test_mirror import approve, content_commits
from tests.factories import committed, in_review

pytestmark = pytest.mark.django_db

ORCID = "0000-0002-1825-0097"


def table(rows, seed):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["station", "level_cm"])
    writer.writerows([f"harbour-{seed}-{n}", n * 3 % 97] for n in range(rows))
    return buffer.getvalue().encode()


def client(devhub):
    return HfApi(endpoint=devhub.url, token="test-token")


def hub_file(devhub, repo_id, path, settings):
    local = client(devhub).hf_hub_download(
        repo_id, path, repo_type="dataset", cache_dir=str(settings.MIRROR_WORK_DIR.parent / "cache")
    )
    with open(local, encoding="utf-8") as handle:
        return handle.read()


def zenodo_record(repositories, record_id="7001", **changes):
    deposit = Deposit(
        title="Harbour levels 2001-2020",
        description="<p>Levels of three harbours.</p><p>Measured every ten minutes.</p>",
        files=[
            DataFile("levels/train.csv", content=table(200, 1), media_type="text/csv"),
            DataFile("levels/test.csv", content=table(50, 2), media_type="text/csv"),
            DataFile("docs/notes.txt", content=b"How the gauges were calibrated.\n", media_type="text/plain"),
        ],
        creators=[Person("Doe, Jane", orcid=ORCID, affiliation="Harbour Authority")],
        doi=f"10.5072/zenodo.{record_id}",
        license_id="cc-by-4.0",
        keywords=["tides", "harbours"],
        **changes,
    )
    return repositories.add_invenio(record_id, deposit)


def test_a_zenodo_record_is_resolved_checked_and_published_with_its_splits(
    devhub, repositories, curator, settings
):
    record = zenodo_record(repositories)
    submission, _ = in_review(
        curator,
        location=record.landing_url,
        paper="https://arxiv.org/abs/2101.00001",
        code_url="https://example.org/code",
    )
    rows = {row.path: row for row in ManifestFile.objects.filter(submission=submission)}
    assert set(rows) == {"levels/train.csv", "levels/test.csv", "docs/notes.txt"}
    assert (rows["levels/train.csv"].split, rows["levels/test.csv"].split, rows["docs/notes.txt"].split) == (
        "train",
        "test",
        "",
    )
    train = next(file for file in record.deposit.files if file.path == "levels/train.csv")
    assert rows["levels/train.csv"].checksums == {"md5": train.md5}
    assert rows["levels/train.csv"].checksums_from == {"md5": "record"}
    revision = submission.latest_revision
    location = revision.checks.get(kind="location")
    assert location.outcome == "pass", location.summary
    assert "3 files" in location.summary and "1 record (Zenodo / InvenioRDM)" in location.summary
    data = revision.checks.get(kind="data")
    # One file per split is read: the training table first, then the test table.
    assert data.details["path"] == "levels/train.csv"
    assert [other["path"] for other in data.details["others"]][:1] == ["levels/test.csv"]

    mail.outbox.clear()
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.source_dois == ["10.5072/zenodo.7001"]
    assert dataset.creators == [{"name": "Doe, Jane", "orcid": ORCID, "affiliation": "Harbour Authority"}]
    assert dataset.paper == "https://arxiv.org/abs/2101.00001"
    files = {
        entry.path
        for entry in client(devhub).list_repo_tree(dataset.repo_id, repo_type="dataset", recursive=True)
    }
    assert {
        "data/levels/train.csv",
        "data/levels/test.csv",
        "data/docs/notes.txt",
        "README.md",
        "CITATION.cff",
    } <= files
    readme = hub_file(devhub, dataset.repo_id, "README.md", settings)
    header = yaml.safe_load(readme.split("---")[1])
    assert header["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/levels/train.csv"},
                {"split": "test", "path": "data/levels/test.csv"},
            ],
        }
    ]
    assert "arxiv:2101.00001" in header["tags"]
    assert "[doi:10.5072/zenodo.7001](https://doi.org/10.5072/zenodo.7001)" in readme
    assert f"https://orcid.org/{ORCID}" in readme and "<https://example.org/code>" in readme
    cff = yaml.safe_load(hub_file(devhub, dataset.repo_id, "CITATION.cff", settings))
    assert cff["authors"] == [
        {
            "family-names": "Doe",
            "given-names": "Jane",
            "orcid": f"https://orcid.org/{ORCID}",
            "affiliation": "Harbour Authority",
        }
    ]
    assert {
        "type": "doi",
        "value": "10.5072/zenodo.7001",
        "description": "The repository record the data comes from",
    } in cff["identifiers"]
    assert cff["repository-code"] == "https://example.org/code"
    # The SHA-256 measured while publishing is kept with each file of the manifest.
    measured = dict(ManifestFile.objects.filter(submission=submission).values_list("path", "sha256"))
    assert all(len(value) == 64 for value in measured.values())
    assert len(content_commits(devhub, dataset.repo_id)) == 1
    page = Client().get(dataset.get_absolute_url()).content.decode()
    assert "doi:10.5072/zenodo.7001" in page and ORCID in page and 'id="paper-link"' in page


def test_a_file_that_does_not_match_its_records_md5_fails_naming_it_and_publishes_after_the_fix(
    devhub, repositories, curator
):
    record = zenodo_record(repositories, "7002")
    submission, token = in_review(curator, location=record.landing_url)
    train = next(file for file in record.deposit.files if file.path == "levels/train.csv")
    original = train.content
    train.content = original.replace(b"harbour", b"HARBOUR")  # the file changed after its MD5 was announced
    mail.outbox.clear()
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    job = MirrorJob.objects.get(dataset__submission=submission)
    assert "levels/train.csv" in job.last_error and train.md5 in job.last_error
    assert "levels/train.csv" in job.public_error and "Check the file" in job.public_error
    assert not client(devhub).repo_exists(job.dataset.repo_id, repo_type="dataset")
    page = Client().get(f"/status/{token}/").content.decode()
    assert "Why publishing stopped" in page and "levels/train.csv" in page
    assert 'id="location"' in page  # the contributor can give other locations at once

    train.content = original  # the repository's file is right again
    with committed():
        services.retry_mirror(submission, by=curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED


def test_a_wrong_checksum_of_the_contributor_fails_the_plain_file_it_names(devhub, source_server, curator):
    source_server.add_bytes("/train.csv", table(100, 3), content_type="text/csv")
    submission, _ = in_review(
        curator,
        location=source_server.url("/train.csv"),
        announced_checksums=[{"algorithm": "md5", "digest": "0" * 32, "name": "train.csv"}],
    )
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    job = MirrorJob.objects.get(dataset__submission=submission)
    assert "train.csv: its MD5 was announced as 00000000000000000000000000000000" in job.last_error
    assert not devhub.request_log(method="POST", path="/commit/")


def test_many_files_go_in_batches_of_at_most_n_per_commit_each_verified_and_published_once(
    devhub, source_server, curator, settings
):
    settings.MIRROR_FILES_PER_COMMIT = 2
    names = [f"part-{n}.csv" for n in range(5)]
    for number, name in enumerate(names):
        source_server.add_bytes(f"/{name}", table(20 + number, number), content_type="text/csv")
    submission, _ = in_review(curator, location="\n".join(source_server.url(f"/{name}") for name in names))
    assert ManifestFile.objects.filter(submission=submission).count() == 5
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    job = MirrorJob.objects.get(dataset__submission=submission)
    batches = list(job.batches.order_by("index"))
    assert [len(batch.files) for batch in batches] == [2, 2, 1]
    assert all(batch.state == MirrorBatch.State.DONE and len(batch.commit_ids) == 1 for batch in batches)
    titles = sorted(commit.title for commit in content_commits(devhub, job.dataset.repo_id))
    reference = submission.reference
    assert titles == [f"Publish {reference}: {submission.name} (part {n} of 3)" for n in (1, 2, 3)]
    assert {entry["path"] for entry in job.dataset.manifest} == {f"data/{name}" for name in names}
    # Every step is safe to run again: no new commit, no new download.
    downloads = len(
        [r for name in names for r in source_server.requests_for(f"/{name}") if r.method == "GET"]
    )
    assert mirror.run(job.pk) == MirrorJob.Step.DONE
    for batch in batches:
        assert mirror.run_batch(batch.pk) == MirrorBatch.State.DONE
    assert len(content_commits(devhub, job.dataset.repo_id)) == 3
    assert downloads == len(
        [r for name in names for r in source_server.requests_for(f"/{name}") if r.method == "GET"]
    )


def test_a_batch_that_died_after_its_commit_finds_the_commit_instead_of_committing_again(
    devhub, source_server, curator, settings, monkeypatch
):
    settings.MIRROR_FILES_PER_COMMIT = 1
    for name in ("a.csv", "b.csv"):
        source_server.add_bytes(f"/{name}", table(30, len(name)), content_type="text/csv")
    submission, _ = in_review(
        curator, location=f"{source_server.url('/a.csv')}\n{source_server.url('/b.csv')}"
    )
    queued = []
    monkeypatch.setattr(mirror.queues, "enqueue", lambda name, *args: queued.append((name, *args)))
    approve(submission, curator)
    job = MirrorJob.objects.get(dataset__submission=submission)
    assert mirror.run(job.pk) == MirrorJob.Step.COPY
    first, second = job.batches.order_by("index")
    assert mirror.run_batch(first.pk) == MirrorBatch.State.DONE
    # The worker died after the commit, before recording it: the row still says "fetch", its folder is gone.
    MirrorBatch.objects.filter(pk=first.pk).update(state="fetch", commit_ids=[])
    fetched = len(source_server.requests_for("/a.csv"))
    assert mirror.run_batch(first.pk) == MirrorBatch.State.DONE
    assert len(source_server.requests_for("/a.csv")) == fetched  # found its commit: nothing fetched again
    assert mirror.run_batch(second.pk) == MirrorBatch.State.DONE
    assert queued[-1] == ("catalog.tasks.mirror_dataset", job.pk)  # the last batch hands the job back
    assert mirror.run(job.pk) == MirrorJob.Step.DONE
    assert len(content_commits(devhub, job.dataset.repo_id)) == 2
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED


def test_several_files_are_fetched_at_once(devhub, source_server, curator, settings):
    settings.MIRROR_FILE_CONCURRENCY = 3
    names = ("x.csv", "y.csv", "z.csv")
    for name in names:
        source_server.add_bytes(f"/{name}", table(40, len(name)), content_type="text/csv")
    submission, _ = in_review(curator, location="\n".join(source_server.url(f"/{name}") for name in names))
    # From now on each download waits until all three are in flight (a 503 otherwise).
    barrier = threading.Barrier(3, timeout=20)
    for name in names:
        source_server.add_bytes(f"/{name}", table(40, len(name)), content_type="text/csv", barrier=barrier)
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    assert not barrier.broken


def test_a_linked_record_publishes_its_card_and_lists_its_files_at_the_source(devhub, repositories, curator):
    record = zenodo_record(repositories, "7003")
    submission, _ = in_review(curator, location=f"doi:{record.doi}", hosting=False)
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None
    assert {entry["path"] for entry in dataset.manifest} == {
        "levels/train.csv",
        "levels/test.csv",
        "docs/notes.txt",
    }
    assert all(entry["checksums"].get("md5") for entry in dataset.manifest)
    paths = client(devhub).list_repo_files(dataset.repo_id, repo_type="dataset")
    assert sorted(paths) == [".gitattributes", "README.md"]
    croissant = Client().get(f"/datasets/{dataset.slug}/croissant.json").json()
    sources = [item for item in croissant["distribution"] if item["@id"].startswith("source/")]
    assert len(sources) == 3 and all(item.get("md5") for item in sources)
    assert croissant["isBasedOn"] == [f"https://doi.org/{record.doi}"]
