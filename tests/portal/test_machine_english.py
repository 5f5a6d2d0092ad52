"""The documents machines read stay English whatever the browser asks; the pages follow it."""

import pytest

from tests.catalog.catalog_rows import published

pytestmark = pytest.mark.django_db


def test_the_api_answers_in_english_to_a_french_browser(client):
    published(modalities="video")
    response = client.get("/api/datasets/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "Video" in response.content.decode()
    assert "Vidéo" not in response.content.decode()


def test_an_api_error_is_english_too(client):
    response = client.get("/api/datasets/?modality=nothing", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert response["Content-Language"] == "en"


def test_the_catalog_page_follows_the_browser(client):
    published(modalities="video")
    response = client.get("/datasets/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response["Content-Language"] == "fr"
    assert "Vidéo" in response.content.decode()
