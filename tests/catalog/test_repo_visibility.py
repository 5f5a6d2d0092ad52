"""A failed or half-done mirror is never visible on the Hub: repositories are private until verified, made
public only then, and deleted when the job gives up. Checked against the dev Hub with anonymous clients."""

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from catalog.models import Dataset, MirrorJob
from submissions import services
from submissions.models import Submission
from tests.catalog.test_mirror import approve
from tests.factories import committed, in_review

pytestmark = pytest.mark.django_db

ORG = "dataset-portal"


def anonymous(devhub):
    return HfApi(endpoint=devhub.url, token=False)


def owner(devhub):
    return HfApi(endpoint=devhub.url, token="test-token")


def visible(devhub, repo_id):
    """Whether a visitor without a token can see the repository, by itself or in the organisation's list."""
    listed = repo_id in [info.id for info in anonymous(devhub).list_datasets(author=ORG)]
    try:
        anonymous(devhub).dataset_info(repo_id)
    except RepositoryNotFoundError:
        return listed
    return True


def test_published_repository_is_public(devhub, source_server, curator):
    source_server.add_bytes("/levels.csv", b"a,b\n1,2\n", content_type="text/csv")
    submission, _ = in_review(curator, location=source_server.url("/levels.csv"))
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    repo_id = Dataset.objects.get().repo_id
    assert visible(devhub, repo_id)
    created = devhub.request_log(method="POST", path="/api/repos/create")
    assert created and all(entry.get("status") == 200 for entry in created)


def test_a_half_done_mirror_stays_private_even_when_its_cleanup_fails(devhub, source_server, curator):
    """Everything is uploaded, then making it public is refused and so is deleting it: still invisible."""
    source_server.add_bytes("/levels.csv", b"a,b\n1,2\n", content_type="text/csv")
    devhub.fail_next(count=1, status=403, method="PUT", path="/settings$")
    devhub.fail_next(count=1, status=500, method="DELETE", path="/api/repos/delete")
    submission, _ = in_review(curator, location=source_server.url("/levels.csv"))
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    repo_id = Dataset.objects.get().repo_id
    files = [item.path for item in owner(devhub).list_repo_tree(repo_id, repo_type="dataset", recursive=True)]
    assert "data/levels.csv" in files and "README.md" in files  # the upload had happened
    assert not visible(devhub, repo_id)


def test_a_failed_mirror_leaves_no_repository_and_a_retry_publishes(devhub, source_server, curator):
    source_server.add_status("/late.csv", 404)
    submission, _ = in_review(curator, location=source_server.url("/late.csv"))
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    repo_id = Dataset.objects.get().repo_id
    assert not owner(devhub).repo_exists(repo_id, repo_type="dataset")
    assert not visible(devhub, repo_id)
    source_server.add_bytes("/late.csv", b"a,b\n1,2\n")
    with committed():
        services.retry_mirror(submission, by=curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.PUBLISHED
    assert visible(devhub, repo_id)


def test_a_job_that_gives_up_deletes_its_repository(devhub, source_server, curator, settings):
    settings.MIRROR_MAX_RETRIES = 1
    source_server.add_bytes("/levels.csv", b"a,b\n1,2\n", content_type="text/csv")
    # Verification can never read the tree: the job retries, then gives up after its upload.
    devhub.fail_next(count=50, status=409, method="GET", path="/tree/")
    submission, _ = in_review(curator, location=source_server.url("/levels.csv"))
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == Submission.State.MIRROR_FAILED
    job = MirrorJob.objects.get()
    assert "Gave up" in job.last_error
    assert devhub.request_log(method="POST", path="/commit/")  # it had uploaded
    assert not owner(devhub).repo_exists(job.dataset.repo_id, repo_type="dataset")
    assert not job.repo_ready
