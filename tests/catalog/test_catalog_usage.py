"""Usage figures refreshed from the project's Hub-compatible server over real sockets (no mock)."""

import logging

import pytest
from huggingface_hub import HfApi

from catalog import usage, usage_tasks
from devhub.server import DevHub
from tests.catalog.catalog_rows import published

ORG = "dataset-portal"


@pytest.fixture
def hub(tmp_path, settings):
    server = DevHub(data_dir=tmp_path / "hub").start()
    settings.HF_ENDPOINT = server.url
    settings.HF_TOKEN = "t"
    settings.HUB_ORGANIZATION = ORG
    yield server
    server.stop()


def make_repo(hub, name, *, downloads, likes):
    repo_id = f"{ORG}/{name}"
    HfApi(endpoint=hub.url, token="t").create_repo(repo_id, repo_type="dataset")
    hub.set_counts(repo_id, downloads=downloads, likes=likes)
    return repo_id


@pytest.mark.django_db
def test_refresh_copies_figures_in_one_listing_call(hub):
    first = published(
        slug="tides", repo_id=make_repo(hub, "tides", downloads=120, likes=4), downloads=1, likes=0
    )
    second = published(
        slug="waves", repo_id=make_repo(hub, "waves", downloads=7, likes=9), downloads=0, likes=0
    )
    not_on_hub = published(slug="draft", repo_id=f"{ORG}/draft", downloads=3, likes=2)
    hub.reset()

    result = usage.refresh_usage()

    assert (result.ok, result.updated, result.listed) == (True, 2, 2)
    assert len(hub.request_log(method="GET", path=r"^/api/datasets")) == 1
    for dataset, figures in [(first, (120, 4)), (second, (7, 9)), (not_on_hub, (3, 2))]:
        dataset.refresh_from_db()
        assert (dataset.downloads, dataset.likes) == figures
    first.refresh_from_db()
    not_on_hub.refresh_from_db()
    assert first.usage_refreshed_at is not None
    assert not_on_hub.usage_refreshed_at is None


@pytest.mark.django_db
def test_hub_error_keeps_the_last_figures_and_logs(hub, caplog):
    dataset = published(
        slug="tides", repo_id=make_repo(hub, "tides", downloads=500, likes=5), downloads=40, likes=3
    )
    hub.fail_next(count=20, status=503)
    with caplog.at_level(logging.WARNING, logger="catalog.usage"):
        result = usage.refresh_usage()
    assert not result.ok and "503" in result.error
    dataset.refresh_from_db()
    assert (dataset.downloads, dataset.likes, dataset.usage_refreshed_at) == (40, 3, None)
    assert "keeping the last ones" in caplog.text


@pytest.mark.django_db
def test_refused_token_keeps_the_last_figures(hub):
    # The client retries 5xx and refused connections with backoff (the test above takes ~20 s); a refused
    # token fails at once and takes the same path.
    dataset = published(
        slug="tides", repo_id=make_repo(hub, "tides", downloads=500, likes=5), downloads=40, likes=3
    )
    hub.add_bad_token("t")
    result = usage.refresh_usage()
    assert not result.ok and "401" in result.error
    dataset.refresh_from_db()
    assert (dataset.downloads, dataset.likes) == (40, 3)


@pytest.mark.django_db
def test_task_refreshes_and_returns_the_number_updated(hub):
    dataset = published(slug="tides", repo_id=make_repo(hub, "tides", downloads=11, likes=2), downloads=0)
    assert usage_tasks.refresh_usage.delay().get() == 1
    dataset.refresh_from_db()
    assert (dataset.downloads, dataset.likes) == (11, 2)
