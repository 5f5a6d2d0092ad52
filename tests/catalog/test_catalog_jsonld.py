"""schema.org Dataset JSON-LD on the dataset page: valid JSON, the keys Google's dataset guidance asks for,
and no way for a dataset's text to end the <script> element."""

import json

import pytest

from submissions.carddata import license_info
from tests.catalog.catalog_rows import parse_html, published


def jsonld_blocks(response):
    html = parse_html(response.content)
    return [body for attrs, body in html.scripts if attrs.get("type") == "application/ld+json"], html


@pytest.mark.django_db
def test_jsonld_parses_and_has_the_required_keys(client, settings):
    settings.HF_ENDPOINT = "https://hub.example"
    dataset = published(
        license="cc-by-4.0",
        tags=["tides"],
        languages=["en", "nl"],
        manifest=[{"path": "data/levels.csv", "size": 10, "sha256": "c" * 64}],
    )
    blocks, _ = jsonld_blocks(client.get(dataset.get_absolute_url()))
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@context"] == "https://schema.org/"
    assert data["@type"] == "Dataset"
    assert data["name"] == dataset.name
    assert 50 <= len(data["description"]) <= 5000
    assert data["url"] == "http://testserver" + dataset.get_absolute_url()
    assert data["sameAs"] == f"https://hub.example/datasets/{dataset.repo_id}"
    assert data["license"] == license_info("cc-by-4.0")["url"]
    assert "tides" in data["keywords"] and "Marine" in data["keywords"]
    assert data["creator"]["@type"] == "Organization"
    assert data["isAccessibleForFree"] is True
    assert data["dateModified"].startswith(str(dataset.updated_at.year))
    assert data["inLanguage"] == ["en", "nl"]
    (download,) = data["distribution"]
    assert download["@type"] == "DataDownload"
    assert (
        download["contentUrl"]
        == f"https://hub.example/datasets/{dataset.repo_id}/resolve/main/data/levels.csv"
    )
    assert download["encodingFormat"] == "text/csv"


@pytest.mark.django_db
def test_unknown_licence_is_left_out_rather_than_guessed(client):
    dataset = published(license="my-own-terms")
    blocks, _ = jsonld_blocks(client.get(dataset.get_absolute_url()))
    assert "license" not in json.loads(blocks[0])


@pytest.mark.django_db
def test_script_end_tag_in_a_name_cannot_break_out(client):
    name = '</script><script>alert("x")</script><!--'
    dataset = published(name=name, summary="</SCRIPT ><img src=x onerror=alert(1)> & more text " * 3)
    blocks, html = jsonld_blocks(client.get(dataset.get_absolute_url()))
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["name"] == name
    assert "</" not in blocks[0] and "<!--" not in blocks[0]
    # No other script element carries code: every other script is a static file.
    others = [(attrs, body) for attrs, body in html.scripts if attrs.get("type") != "application/ld+json"]
    assert all(attrs.get("src", "").startswith("/static/") and not body.strip() for attrs, body in others)
    assert not [tag for tag, attrs in html.elements if tag == "img" and "onerror" in attrs]
