"""The catalog JSON API: same search as the page, 400 with a message for unusable parameters, the OpenAPI
schema (generated requests against it: test_api_generated.py)."""

import pytest
from django.core.cache import cache

from catalog import search
from tests.catalog.catalog_rows import many_published, published

API = "/api/datasets/"


@pytest.fixture(autouse=True)
def fresh_throttle_and_facets(settings):
    # The throttle and the facet cache live in the default (in-process) cache: start each test clean.
    settings.CATALOG_FACET_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_list_searches_filters_and_counts(client):
    published(name="Tide gauge records", domain="Marine", languages=["nl"])
    published(name="Glacier photographs", domain="Climate")
    published(name="Unpublished tides", published_at=None)
    body = client.get(API, {"q": "tide", "language": "nl"}).json()
    assert body["count"] == 1
    assert [row["name"] for row in body["results"]] == ["Tide gauge records"]
    assert body["results"][0]["url"].endswith("/datasets/" + body["results"][0]["slug"] + "/")
    assert {v["value"]: v["count"] for v in body["facets"]["language"]} == {"nl": 1}
    assert body["sort"] == "relevance"


@pytest.mark.django_db
def test_pagination_links_keep_the_query(client):
    many_published(5, domain="Marine")
    body = client.get(API, {"domain": "Marine", "page_size": 2, "sort": "likes"}).json()
    assert (body["count"], body["pages"], body["previous"]) == (5, 3, None)
    assert "domain=Marine" in body["next"] and "page=2" in body["next"] and "sort=likes" in body["next"]
    last = client.get(API, {"domain": "Marine", "page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None


@pytest.mark.django_db
def test_cached_answer_costs_no_query_and_a_new_dataset_shows_at_once(
    client, settings, django_assert_num_queries
):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    published(name="First harbour")
    assert client.get(API).json()["count"] == 1
    with django_assert_num_queries(0):
        assert client.get(API).json()["count"] == 1
    published(name="Second harbour")
    assert [row["name"] for row in client.get(API).json()["results"]] == ["First harbour", "Second harbour"]


@pytest.mark.django_db
def test_a_search_whose_matches_were_all_counted_says_its_counts_are_exact(client, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    many_published(2, domain="Marine")
    many_published(1, domain="Health", name="Other")
    body = client.get(API, {"q": "measurements", "domain": "Marine"}).json()
    assert (body["count"], body["more"], body["counts_sampled"], body["count_exact"]) == (
        2,
        False,
        False,
        True,
    )
    assert {v["value"]: v["count"] for v in body["facets"]["domain"]} == {"Marine": 2, "Health": 1}
    # The domain's own counts (the text alone) now pass the cap: the page's count is exact, not those.
    many_published(1, domain="Health", name="Third")
    body = client.get(API, {"q": "measurements", "domain": "Marine"}).json()
    assert (body["count"], body["more"], body["counts_sampled"], body["count_exact"]) == (
        2,
        False,
        True,
        False,
    )


@pytest.mark.django_db
def test_past_the_count_cap_the_count_is_a_lower_bound(client, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    many_published(5, domain="Marine")
    body = client.get(API, {"q": "measurements", "page_size": 2}).json()
    assert (body["count"], body["more"], body["counts_sampled"], body["pages"]) == (3, True, True, 2)
    assert body["count_exact"] is False
    assert {v["value"]: v["count"] for v in body["facets"]["domain"]} == {"Marine": 3}
    response = client.get(API, {"q": "measurements", "page_size": 2, "page": 3})
    assert response.status_code == 400
    assert "narrow the search" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "price"}, "Unknown sort"),
        ({"page": "abc"}, "page must be a whole number"),
        ({"page": "0"}, "page must be at least 1"),
        ({"page": "5"}, "past the last page"),
        ({"page": "9223372036854775807"}, "past the last page"),
        ({"page": "99999999999999999999"}, "past the last page"),
        ({"page": "1.5"}, "page must be a whole number"),
        ({"page": "-1"}, "page must be at least 1"),
        ({"page_size": "1000"}, "at most 100"),
        ({"modality": "smell"}, "Unknown modality"),
        ({"hosting": "cloud"}, "Unknown hosting"),
        ({"license": "%_"}, "Unknown license"),
        ({"domain": "Astrology"}, "Unknown domain value 'Astrology'"),
        ({"domain": ""}, "Give a value for domain, or leave the parameter out."),
        ({"modality": " "}, "Give a value for modality, or leave the parameter out."),
        ({"domain": "Mar\x00ine"}, "The address holds a NUL character (%00)"),
        ({"domain": "Mar\x1bine"}, "holds a control character; remove it."),
        ({"language": "e\x01n"}, "holds a control character; remove it."),
    ],
)
def test_unusable_parameters_answer_400_with_a_message(client, params, message):
    published()
    response = client.get(API, params)
    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.django_db
def test_filters_match_what_people_type_whatever_the_case(client):
    published(name="Tide gauge records", domain="Marine", license="cc-by-4.0", languages=["nl"])
    published(name="Glacier photographs", domain="Climate", hosted=False, modalities="images", license="mit")
    published(name="Star catalogue", domain="Astronomy", license="odbl")  # a suggested domain, as typed
    for params in (
        {"domain": "marine"},
        {"domain": "MARINE"},
        {"license": "CC-BY-4.0"},
        {"language": "NL"},
        {"modality": "Text", "hosting": "Hosted", "domain": ["marine", "Marine"]},
    ):
        body = client.get(API, params).json()
        assert [row["name"] for row in body["results"]] == ["Tide gauge records"], params
    assert client.get(API, {"domain": "astronomy"}).json()["count"] == 1
    # A curated domain without a published dataset is known: no match, no error.
    assert client.get(API, {"domain": "legal"}).json()["count"] == 0


@pytest.mark.django_db
def test_long_and_odd_queries_are_answered(client):
    published(name="Plain")
    for q in ["x" * 10_000, "%", "_", "' OR 1=1 --", "(a|b)*\\", "zq\x01zq"]:
        response = client.get(API, {"q": q})
        assert response.status_code == 200, q
        assert response.json()["count"] == 0


@pytest.mark.django_db
def test_detail_and_404(client):
    dataset = published(manifest=[{"path": "a.csv", "size": 3, "sha256": "d" * 64}], license="mit")
    body = client.get(f"{API}{dataset.slug}/").json()
    assert body["repo_id"] == dataset.repo_id
    assert body["manifest"] == [{"path": "a.csv", "size": 3, "sha256": "d" * 64}]
    assert body["license_url"]
    assert client.get(f"{API}no-such-dataset/").status_code == 404
    assert client.get(f"{API}{published(published_at=None).slug}/").status_code == 404


@pytest.mark.django_db
def test_api_is_read_only(client):
    assert client.post(API, {}).status_code == 405


@pytest.mark.django_db
def test_schema_describes_both_operations(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/datasets/", "/api/datasets/{slug}/"} <= set(schema["paths"])


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*", ""])
def test_the_api_answers_json_whatever_the_client_accepts(client, accept):
    published(name="Tide gauge records")
    for path in (API, API + "?q=tide"):
        response = client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/datasets/%C2%BC%40/", "/api/nothing/", "/api/datasets/a/b/", "/api/datasets/hv%0AP/"]
)
def test_an_address_under_the_api_that_names_nothing_is_a_json_404(client, path):
    # Regression (found by the generated requests): a slug with characters no slug has reached no route,
    # and Django's HTML 404 page answered where the schema promises JSON.
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/schema/" in response.json()["detail"]


@pytest.mark.django_db
def test_a_missing_slash_under_the_api_is_still_added(client):
    assert client.get("/api/datasets").status_code == 301


@pytest.mark.django_db
def test_the_schema_documents_the_answers_the_api_gives(client):
    schema = client.get("/api/schema/?format=json").json()
    assert set(schema["paths"]["/api/datasets/"]["get"]["responses"]) == {"200", "400", "429"}
    assert set(schema["paths"]["/api/datasets/{slug}/"]["get"]["responses"]) == {"200", "400", "404", "429"}
