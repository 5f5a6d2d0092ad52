"""catalog.hub against the project's Hub-compatible server, with the real huggingface_hub client."""

import hashlib
import os

import pytest

from catalog import hub

pytestmark = pytest.mark.django_db


def test_upload_reports_lfs_progress_and_tree_has_hashes(devhub, tmp_path):
    data = os.urandom(300_000)  # binary: stored in LFS
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    readme = tmp_path / "README.md"
    readme.write_text("---\nlicense: mit\n---\n# Test\n")
    hub.create_repo("dataset-portal/progress")
    seen = []
    commit = hub.upload_files(
        "dataset-portal/progress",
        files={"data/data.bin": path, "README.md": readme},
        commit_message="Publish DP-TEST",
        on_read=seen.append,
    )
    assert len(commit) == 40
    assert sum(seen) == len(data)
    files = hub.remote_files("dataset-portal/progress")
    assert files["data/data.bin"].size == len(data)
    assert files["data/data.bin"].sha256 == hashlib.sha256(data).hexdigest()
    assert files["README.md"].sha256 is None
    assert files["README.md"].git_oid == hub.git_blob_id(readme)
    assert any(title == "Publish DP-TEST" for _, title in hub.commit_titles("dataset-portal/progress"))


def test_errors_say_whether_retrying_can_help(devhub):
    devhub.fail_next(count=10, status=503, path="/api/repos/create")
    with pytest.raises(hub.HubError) as retryable:
        hub.create_repo("dataset-portal/broken")
    assert retryable.value.retryable and retryable.value.status == 503
    devhub.reset()
    devhub.add_bad_token("test-token")
    with pytest.raises(hub.HubError) as refused:
        hub.create_repo("dataset-portal/broken")
    assert not refused.value.retryable and refused.value.status == 401
    assert "HF_TOKEN" in str(refused.value)


def test_usage_listing_reads_downloads_and_likes(devhub):
    hub.create_repo("dataset-portal/counted")
    devhub.set_counts("dataset-portal/counted", downloads=42, likes=7)
    assert hub.list_usage()["dataset-portal/counted"] == (42, 7)
