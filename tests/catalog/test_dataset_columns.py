"""`Dataset.columns`: filled from the data check at approval, shown on the dataset page, in JSON-LD and the API."""

import json

import pytest

from catalog.models import Dataset
from submissions import services
from tests.catalog.catalog_rows import parse_html, published
from tests.factories import committed, in_review

pytestmark = pytest.mark.django_db

COLUMNS = [{"name": "station", "type": "VARCHAR"}, {"name": "depth_m", "type": "DOUBLE"}]


def test_approval_fills_columns_from_the_data_check(curator, source_server, queued_mirrors):
    source_server.add_bytes("/levels.csv", b"station,depth_m\n" + b"B1,2.5\n" * 20)
    submission, _ = in_review(curator, location=source_server.url("/levels.csv"))
    with committed():
        services.approve(submission, by=curator, checklist=services.ReviewChecklist.all_ticked())
    assert Dataset.objects.get(submission=submission).columns == COLUMNS


def test_dataset_page_lists_the_columns(client):
    dataset = published(columns=[*COLUMNS, {"name": "<b>bold</b>", "type": ""}])
    response = client.get(dataset.get_absolute_url())
    page = response.content.decode()
    assert '<h2 class="h4 mt-4" id="columns">Columns</h2>' in page
    assert "<td><code>depth_m</code></td><td>DOUBLE</td>" in page
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code></td><td>—</td>" in page


def test_dataset_without_columns_has_no_columns_table(client):
    dataset = published()
    assert 'id="columns"' not in client.get(dataset.get_absolute_url()).content.decode()


def test_jsonld_variable_measured(client):
    dataset = published(columns=COLUMNS)
    html = parse_html(client.get(dataset.get_absolute_url()).content)
    (body,) = [body for attrs, body in html.scripts if attrs.get("type") == "application/ld+json"]
    assert json.loads(body)["variableMeasured"] == [
        {"@type": "PropertyValue", "name": "station", "description": "VARCHAR"},
        {"@type": "PropertyValue", "name": "depth_m", "description": "DOUBLE"},
    ]


def test_json_api_has_columns(client):
    dataset = published(columns=COLUMNS)
    body = client.get(f"/api/datasets/{dataset.slug}/").json()
    assert body["columns"] == COLUMNS
