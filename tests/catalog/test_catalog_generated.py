"""The public catalog under generated query parameters: every page answers, never with a server error.

Run with DEBUG on and with the production settings (tests/production.py). The JSON API's operations are also
generated from its schema (test_api_generated.py); here every page gets the same junk.
"""

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.catalog.catalog_rows import many_published, published
from tests.generated import junk, junk_params
from tests.production import HTTPS_HEADERS

pytestmark = pytest.mark.django_db

CATALOG_PARAMS = ["q", "domain", "modality", "license", "hosting", "language", "sort", "page", "page_size"]
PAGES = [
    "/",
    "/datasets/",
    "/api/datasets/",
    "/datasets/dcat.jsonld",
    "/datasets/dcat.ttl",
    "/datasets/feed.atom",
    "/sitemap.xml",
    "/sitemap-datasets.xml",
    "/datasets/tide-gauge/",
    "/datasets/tide-gauge/croissant.json",
    "/datasets/tide-gauge/CITATION.cff",
    "/api/datasets/tide-gauge/",
]
ANSWERS = {200, 301, 400, 404}


@pytest.fixture
def catalog(mode):
    cache.clear()
    many_published(25, domain="Marine")
    published(slug="tide-gauge", name="Tide gauge", domain="Climate", languages=["sv", "en"], license="mit")
    yield Client(**HTTPS_HEADERS)
    cache.clear()


@settings(max_examples=20)  # a dozen pages each
@given(params=junk_params(CATALOG_PARAMS))
def test_every_catalog_page_answers_any_query_parameters(catalog, params):
    for path in PAGES:
        response = catalog.get(path, params)
        assert response.status_code in ANSWERS, (path, params, response.status_code)


@given(slug=junk, params=junk_params(["format"], extra=False))
def test_dataset_addresses_answer_any_slug(catalog, slug, params):
    from urllib.parse import quote

    for template in ("/datasets/{}/", "/datasets/{}/croissant.json", "/api/datasets/{}/"):
        response = catalog.get(template.format(quote(slug, safe="")), params)
        assert response.status_code in ANSWERS, (template, slug, response.status_code)


@given(st.integers(min_value=-(10**25), max_value=10**25))
def test_any_page_number_is_a_page_or_a_400(catalog, number):
    for path in ("/datasets/", "/api/datasets/", "/datasets/dcat.jsonld"):
        response = catalog.get(path, {"page": str(number)})
        assert response.status_code in (200, 400), (path, number, response.status_code)
