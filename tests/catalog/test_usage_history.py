"""Usage history: each refresh stores the day's figures; the chart is SVG with a text alternative."""

import datetime
import re

import pytest
from django.urls import reverse
from huggingface_hub import HfApi

from catalog import usage
from catalog.models import UsageSnapshot
from portal.usage_chart import UsagePoint, usage_chart
from tests.catalog.catalog_rows import published

pytestmark = pytest.mark.django_db

ORG = "dataset-portal"


def on_hub(devhub, name, *, downloads, likes):
    repo_id = f"{ORG}/{name}"
    HfApi(endpoint=devhub.url, token="t").create_repo(repo_id, repo_type="dataset")
    devhub.set_counts(repo_id, downloads=downloads, likes=likes)
    return repo_id


def test_each_refresh_keeps_one_snapshot_per_day(devhub):
    repo_id = on_hub(devhub, "tides", downloads=10, likes=1)
    dataset = published(slug="tides", repo_id=repo_id, downloads=0, likes=0)
    usage.refresh_usage()
    devhub.set_counts(repo_id, downloads=25, likes=2)
    usage.refresh_usage()
    (snapshot,) = UsageSnapshot.objects.filter(dataset=dataset)
    assert (snapshot.downloads, snapshot.likes) == (25, 2)
    # Yesterday's snapshot stays: the history grows by one row a day.
    UsageSnapshot.objects.filter(pk=snapshot.pk).update(day=snapshot.day - datetime.timedelta(days=1))
    usage.refresh_usage()
    assert [point.downloads for point in usage.usage_history(dataset)] == [25, 25]


def test_hub_down_stores_no_snapshot_and_keeps_the_figures(devhub):
    repo_id = on_hub(devhub, "tides", downloads=10, likes=1)
    dataset = published(slug="tides", repo_id=repo_id, downloads=3, likes=0)
    devhub.add_bad_token("test-token")
    result = usage.refresh_usage()
    assert not result.ok
    assert not UsageSnapshot.objects.exists()
    dataset.refresh_from_db()
    assert dataset.downloads == 3


def test_hub_answering_garbage_stores_nothing(devhub):
    repo_id = on_hub(devhub, "tides", downloads=10, likes=1)
    dataset = published(slug="tides", repo_id=repo_id, downloads=3, likes=0)
    # A 200 whose body is an error object instead of the list of datasets.
    devhub.fail_next(count=1, status=200, method="GET", path=r"^/api/datasets")
    result = usage.refresh_usage()
    assert not result.ok and result.error
    assert not UsageSnapshot.objects.exists()
    dataset.refresh_from_db()
    assert (dataset.downloads, dataset.usage_refreshed_at) == (3, None)


def test_chart_words_and_coordinates():
    day = datetime.date(2026, 11, 1)
    chart = usage_chart(
        [
            UsagePoint(day=day + datetime.timedelta(days=2), downloads=40, likes=3),
            UsagePoint(day=day, downloads=10, likes=3),
        ]
    )
    downloads, likes = chart.series
    assert downloads.summary == "Downloads: 40 on 3 November 2026, up 30 since 1 November 2026; highest 40."
    assert likes.summary.startswith("Likes: 3 on 3 November 2026, unchanged")
    # Oldest on the left at the bottom, newest on the right at the top.
    assert downloads.dots[0][0] == chart.plot_left and downloads.dots[-1][0] == chart.plot_right
    assert downloads.dots[-1][1] == chart.plot_top < downloads.dots[0][1]
    assert usage_chart([]) is None


def test_dataset_page_draws_the_chart_with_a_text_alternative(client):
    dataset = published(slug="tides")
    today = datetime.date.today()
    for offset, downloads in enumerate([5, 9, 30]):
        UsageSnapshot.objects.create(
            dataset=dataset,
            day=today - datetime.timedelta(days=2 - offset),
            downloads=downloads,
            likes=offset,
            taken_at=dataset.published_at,
        )
    page = client.get(reverse("catalog:dataset", args=["tides"])).content.decode()
    svg = re.search(r'<svg class="usage-svg usage-downloads".*?</svg>', page, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Downloads: 30 on" in svg and "up 25" in svg
    assert svg.count("<circle") == 3
    assert "The figures as a table" in page and "<td>30</td>" in page
    assert "<script" not in svg


def test_a_figure_that_is_not_a_count_is_skipped_for_that_dataset_only(devhub):
    good = published(slug="tides", repo_id=on_hub(devhub, "tides", downloads=10, likes=1), downloads=0)
    bad = published(slug="waves", repo_id=on_hub(devhub, "waves", downloads=0, likes=0), downloads=4)
    devhub.set_counts(bad.repo_id, downloads=-5, likes=2)
    result = usage.refresh_usage()
    assert (result.ok, result.updated, result.listed) == (True, 1, 2)
    bad.refresh_from_db()
    assert (bad.downloads, bad.usage_refreshed_at) == (4, None)
    assert list(UsageSnapshot.objects.values_list("dataset__slug", "downloads")) == [("tides", 10)]
    good.refresh_from_db()
    assert good.downloads == 10
