"""The development Hub driven by the real huggingface_hub client over real sockets on 127.0.0.1.

Uploads with LFS files run in a child process started with HF_HUB_DISABLE_XET=1 set before huggingface_hub is
imported, because that is the only way the 2.4 client leaves the Xet path (the pytest process may already have
imported huggingface_hub). The child does not set HF_ENDPOINT: HfApi(endpoint=...) alone must be enough.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from devhub.server import DevHub

ORG = "dataset-portal"
REPO = f"{ORG}/devhub-test"
TOKEN = "hf_devhub_good_token"
BAD_TOKEN = "hf_devhub_bad_token"
BIG_SIZE = 10 * 1024 * 1024 + 4096  # above the Hub's 10 MiB limit for plain git files

UPLOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from huggingface_hub import HfApi, constants
    endpoint, token, repo_id, folder = sys.argv[1:5]
    assert constants.HF_HUB_DISABLE_XET, "HF_HUB_DISABLE_XET must be set before import"
    api = HfApi(endpoint=endpoint, token=token)
    first = api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=False)
    second = api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=False)
    info = api.upload_folder(
        repo_id=repo_id, repo_type="dataset", folder_path=folder, commit_message="Add data"
    )
    print(json.dumps({"oid": info.oid, "urls": [str(first), str(second)]}))
    """
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_upload(*, hub: DevHub, repo_id: str, folder: Path, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-c", UPLOAD_SCRIPT, hub.url, TOKEN, repo_id, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _control(hub: DevHub, route: str, payload: dict | None = None, *, method: str = "POST"):
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{hub.url}/_devhub/{route}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    server = DevHub(data_dir=tmp_path_factory.mktemp("devhub-data"), bad_tokens=(BAD_TOKEN,)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("devhub-src")
    (folder / "README.md").write_text(
        "---\nlicense: mit\nlanguage:\n- en\npretty_name: Test\n---\n# Test data\n"
    )
    (folder / "data").mkdir()
    (folder / "data" / "rows.csv").write_text("a,b\n1,2\n")
    (folder / "data" / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    return folder


@pytest.fixture(scope="module")
def uploaded(hub, local_folder, tmp_path_factory) -> dict:
    hub.reset()
    result = _run_upload(hub=hub, repo_id=REPO, folder=local_folder, home=tmp_path_factory.mktemp("hf-home"))
    result["log"] = hub.request_log()
    return result


@pytest.fixture
def api(hub) -> HfApi:
    hub.reset()
    return HfApi(endpoint=hub.url, token=TOKEN)


def test_whoami_reports_user_and_organisation(api, hub):
    me = api.whoami()
    assert me["name"] == hub.user
    assert ORG in [org["name"] for org in me["orgs"]]


def test_whoami_with_bad_token_raises_401(hub):
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=hub.url, token=BAD_TOKEN).whoami()
    assert caught.value.response.status_code == 401


def test_token_marked_bad_through_control_api_is_refused(hub):
    _control(hub, "bad-tokens", {"token": "hf_revoked"})
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=hub.url, token="hf_revoked").whoami()
    assert caught.value.response.status_code == 401


def test_create_repo_twice_with_exist_ok_returns_same_url(uploaded, hub):
    first, second = uploaded["urls"]
    assert first == second == f"{hub.url}/datasets/{REPO}"


def test_create_existing_repo_without_exist_ok_raises_409(api, uploaded):
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo(REPO, repo_type="dataset", exist_ok=False)
    assert caught.value.response.status_code == 409


def test_create_repo_outside_own_namespaces_is_forbidden(api):
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo("someone-else/data", repo_type="dataset")
    assert caught.value.response.status_code == 403


def test_upload_folder_sends_lfs_and_regular_files_in_one_commit(uploaded):
    calls = [(e["method"], e["path"]) for e in uploaded["log"]]
    commits = [e for e in uploaded["log"] if e["method"] == "POST" and "/commit/" in e["path"]]
    lfs_puts = [e for e in uploaded["log"] if e["method"] == "PUT" and e["path"].startswith("/_lfs/upload/")]
    assert len(commits) == 1, calls
    assert commits[0]["status"] == 200
    assert len(lfs_puts) == 1, calls
    assert not any("xet" in e["path"] for e in uploaded["log"])


def test_list_repo_commits_counts_initial_and_upload_commit(api, uploaded):
    commits = api.list_repo_commits(REPO, repo_type="dataset")
    assert [c.title for c in commits] == ["Add data", "initial commit"]
    assert commits[0].commit_id == uploaded["oid"]
    assert len(uploaded["oid"]) == 40


def test_tree_matches_local_sha256_and_size(api, uploaded, local_folder):
    entries = {e.path: e for e in api.list_repo_tree(REPO, repo_type="dataset", recursive=True)}
    big = entries["data/big.bin"]
    assert big.size == BIG_SIZE
    assert big.lfs is not None
    assert big.lfs.sha256 == _sha256(local_folder / "data" / "big.bin")
    rows = entries["data/rows.csv"]
    assert rows.lfs is None
    assert rows.size == (local_folder / "data" / "rows.csv").stat().st_size
    assert "data" in entries  # the folder itself, as the Hub lists it
    files = api.list_repo_files(REPO, repo_type="dataset")
    assert sorted(files) == [".gitattributes", "README.md", "data/big.bin", "data/rows.csv"]


def test_download_returns_the_uploaded_bytes(api, uploaded, local_folder, tmp_path):
    for name in ("data/big.bin", "data/rows.csv"):
        path = api.hf_hub_download(REPO, name, repo_type="dataset", cache_dir=tmp_path)
        assert _sha256(Path(path)) == _sha256(local_folder / name)


def test_dataset_info_with_files_metadata(api, uploaded, local_folder):
    info = api.dataset_info(REPO, files_metadata=True)
    assert info.sha == uploaded["oid"]
    assert info.card_data.license == "mit"
    assert "license:mit" in info.tags
    assert info.last_modified is not None
    siblings = {s.rfilename: s for s in info.siblings}
    assert siblings["data/big.bin"].lfs.sha256 == _sha256(local_folder / "data" / "big.bin")
    assert siblings["data/big.bin"].size == BIG_SIZE
    assert siblings["README.md"].lfs is None
    assert api.repo_exists(REPO, repo_type="dataset")
    assert not api.repo_exists(f"{ORG}/never-created", repo_type="dataset")


def test_list_datasets_reports_counts_set_through_control_api(api, hub, uploaded):
    _control(hub, "counts", {"repo_id": REPO, "downloads": 1234, "likes": 56})
    listed = {d.id: d for d in api.list_datasets(author=ORG)}
    assert listed[REPO].downloads == 1234
    assert listed[REPO].likes == 56
    assert all(d.author == ORG for d in listed.values())


def test_unchanged_commit_is_skipped_by_the_client(api, hub, uploaded, local_folder):
    operation = CommitOperationAdd(
        path_in_repo="data/rows.csv", path_or_fileobj=local_folder / "data" / "rows.csv"
    )
    info = api.create_commit(REPO, repo_type="dataset", operations=[operation], commit_message="Same again")
    assert info.oid == uploaded["oid"]
    assert hub.request_log(method="POST", path="/commit/") == []


def test_503_burst_then_client_backoff_succeeds(api, hub, uploaded):
    _control(
        hub, "faults", {"kind": "status", "status": 503, "count": 2, "method": "POST", "path": "/preupload/"}
    )
    operation = CommitOperationAdd(
        path_in_repo="notes/retry.txt", path_or_fileobj=b"written after two 503s\n"
    )
    info = api.create_commit(REPO, repo_type="dataset", operations=[operation], commit_message="After 503s")
    statuses = [e["status"] for e in _control(hub, "log", method="GET") if "/preupload/" in e["path"]]
    assert statuses == [503, 503, 200]
    assert api.list_repo_commits(REPO, repo_type="dataset")[0].commit_id == info.oid


def test_429_carries_retry_after_and_the_client_honours_it(api, hub, uploaded):
    hub.fail_next(status=429, retry_after=7, method="GET", path=f"^/api/datasets/{REPO}$")
    with pytest.raises(HfHubHTTPError) as caught:
        api.dataset_info(REPO)
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    # Paginated listings go through the client's backoff, which waits Retry-After (+1 s) and tries again.
    hub.fail_next(status=429, retry_after=0, method="GET", path="/tree/")
    assert "README.md" in api.list_repo_files(REPO, repo_type="dataset")
    assert [e["status"] for e in hub.request_log(path="/tree/")] == [429, 200]


def test_dropped_connection_raises_a_network_error(api, hub, uploaded):
    hub.drop_next(method="GET", path=f"^/api/datasets/{REPO}$")
    with pytest.raises(httpx2.TransportError):
        api.dataset_info(REPO)
    assert api.dataset_info(REPO).id == REPO
    assert [e["status"] for e in hub.request_log(path=f"^/api/datasets/{REPO}$")] == [None, 200]


def test_delayed_answer_beyond_client_timeout_raises_timeout(api, hub, uploaded):
    hub.delay_next(seconds=1.5, method="GET", path=f"^/api/datasets/{REPO}$")
    with pytest.raises(httpx2.TimeoutException):
        api.dataset_info(REPO, timeout=0.3)


def test_stale_parent_commit_is_refused(api, uploaded):
    operation = CommitOperationAdd(path_in_repo="notes/stale.txt", path_or_fileobj=b"stale\n")
    parent = api.list_repo_commits(REPO, repo_type="dataset")[-1].commit_id  # the initial commit
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(
            REPO, repo_type="dataset", operations=[operation], commit_message="Stale", parent_commit=parent
        )
    assert caught.value.response.status_code == 412


def test_private_repo_is_hidden_from_anonymous_clients(api, hub):
    api.create_repo(f"{ORG}/private-data", repo_type="dataset", private=True)
    assert api.repo_exists(f"{ORG}/private-data", repo_type="dataset")
    anonymous = HfApi(endpoint=hub.url, token=False)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.dataset_info(f"{ORG}/private-data")
    assert f"{ORG}/private-data" not in [d.id for d in anonymous.list_datasets(author=ORG)]


def test_delete_repo_removes_it(api):
    api.create_repo(f"{ORG}/to-delete", repo_type="dataset")
    api.delete_repo(f"{ORG}/to-delete", repo_type="dataset")
    assert not api.repo_exists(f"{ORG}/to-delete", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(f"{ORG}/to-delete", repo_type="dataset")


def test_restarted_server_keeps_repos_and_files(tmp_path):
    data_dir = tmp_path / "data"
    with DevHub(data_dir=data_dir) as first:
        api = HfApi(endpoint=first.url, token=TOKEN)
        api.create_repo(f"{ORG}/kept", repo_type="dataset")
        operation = CommitOperationAdd(path_in_repo="kept.txt", path_or_fileobj=b"still here\n")
        commit = api.create_commit(
            f"{ORG}/kept", repo_type="dataset", operations=[operation], commit_message="Keep"
        )
    with DevHub(data_dir=data_dir) as second:
        api = HfApi(endpoint=second.url, token=TOKEN)
        assert api.dataset_info(f"{ORG}/kept").sha == commit.oid
        path = api.hf_hub_download(
            f"{ORG}/kept", "kept.txt", repo_type="dataset", cache_dir=tmp_path / "cache"
        )
        assert Path(path).read_bytes() == b"still here\n"


def test_visibility_update_makes_a_private_repo_public_and_back(api, hub):
    repo_id = f"{ORG}/visibility"
    api.create_repo(repo_id, repo_type="dataset", private=True)
    anonymous = HfApi(endpoint=hub.url, token=False)
    api.update_repo_settings(repo_id, repo_type="dataset", visibility="public")
    assert anonymous.dataset_info(repo_id).private is False
    assert repo_id in [d.id for d in anonymous.list_datasets(author=ORG)]
    api.update_repo_settings(repo_id, repo_type="dataset", private=True)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.dataset_info(repo_id)
    with pytest.raises(HfHubHTTPError) as refused:
        anonymous.update_repo_settings(repo_id, repo_type="dataset", visibility="public")
    assert refused.value.response.status_code in (401, 404)
