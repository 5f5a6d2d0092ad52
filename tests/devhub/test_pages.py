"""The dev Hub's human page of a dataset: what the portal's "On the Hugging Face Hub" links open offline."""

import io
import urllib.error
import urllib.request

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from devhub.server import DevHub

ORG = "dataset-portal"
CARD = (
    "---\nlicense: mit\npretty_name: Tides\n---\n# Harbour tides\n\nHourly *water levels*.\n\n"
    "<script>alert('x')</script>\n\n[bad](javascript:alert(1))\n"
)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def hub(tmp_path):
    with DevHub(data_dir=tmp_path / "hub", organizations=(ORG,)) as server:
        yield server


def test_dataset_page_renders_the_card_and_lists_the_files_once_public(hub):
    api = HfApi(endpoint=hub.url, token="test-token")
    repo_id = f"{ORG}/tides"
    api.create_repo(repo_id, repo_type="dataset", private=True)
    api.create_commit(
        repo_id,
        [
            CommitOperationAdd("README.md", io.BytesIO(CARD.encode())),
            CommitOperationAdd("data/levels.csv", io.BytesIO(b"t,level\n0,1.2\n")),
        ],
        commit_message="Publish",
        repo_type="dataset",
    )
    status, content_type, page = get(f"{hub.url}/datasets/{repo_id}")
    assert status == 404 and content_type.startswith("text/html")
    assert "no public dataset" in page and "Unknown route" not in page

    api.update_repo_settings(repo_id, repo_type="dataset", visibility="public")
    status, content_type, page = get(f"{hub.url}/datasets/{repo_id}")
    assert status == 200 and content_type.startswith("text/html")
    assert "<h1>Harbour tides</h1>" in page and "<em>water levels</em>" in page
    assert "data/levels.csv" in page and f"/datasets/{repo_id}/resolve/main/data/levels.csv" in page
    assert "<script>" not in page and 'href="javascript:' not in page
    assert "license: mit" not in page  # the YAML header is not shown as text


def test_unknown_dataset_page_is_a_readable_404(hub):
    status, content_type, page = get(f"{hub.url}/datasets/{ORG}/nothing-here")
    assert status == 404 and content_type.startswith("text/html")
    assert "nothing-here" in page
