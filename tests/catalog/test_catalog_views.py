"""Catalog pages: list with bad input, dataset page content and card safety, home, sitemap, feed, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import search
from submissions.carddata import license_info
from tests.catalog.catalog_rows import many_published, parse_html, published

LIST = "/datasets/"


@pytest.fixture(autouse=True)
def no_facet_cache(settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 0


def text_of(response):
    return response.content.decode()


@pytest.mark.django_db
def test_list_shows_published_datasets_with_facets(client):
    published(name="Harbour levels", domain="Marine")
    published(name="Draft", published_at=None)
    response = client.get(LIST)
    assert response.status_code == 200
    page = text_of(response)
    assert "Harbour levels" in page
    assert "Draft" not in page
    assert 'Marine</a> <span class="text-muted">(1)</span>' in page


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["abc", "", "-3", "0", "1e9", "99999999999999999999999"])
def test_bad_page_number_shows_a_page(client, page):
    published(name="Harbour levels")
    response = client.get(f"{LIST}?page={page}")
    assert response.status_code == 200
    assert "Harbour levels" in text_of(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "notice"),
    [
        ("abc", "The page must be a whole number from 1, not “abc”. Showing the first page."),
        ("1.5", "The page must be a whole number from 1, not “1.5”. Showing the first page."),
        ("-1", "The page must be at least 1. Showing the first page."),
        ("9223372036854775807", "page 9223372036854775807 is past the last page. Showing the first page."),
    ],
)
def test_a_page_that_names_no_page_says_why_beside_the_nearest_page(client, page, notice):
    published(name="Harbour levels")
    response = client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert notice in text_of(response)


@pytest.mark.django_db
def test_page_past_the_end_shows_the_last_page_with_a_message(client):
    many_published(25)
    response = client.get(f"{LIST}?page=7")
    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert "There are only 2 pages of results" in text_of(response)


@pytest.mark.django_db
def test_past_the_count_cap_the_page_says_more_and_pages_stop(client, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    many_published(7, domain="Marine")
    response = client.get(f"{LIST}?q=measurements&page=3&domain=Marine")
    page = text_of(response)
    assert response.status_code == 200
    assert response.context["page"].paginator.num_pages == 1  # 4 browsable results, 20 per page
    assert "More than 4 datasets" in page
    assert "Counts among the first 4 matches found." in page
    assert "Only the first 4 results can be browsed" in page
    assert len(response.context["page"].object_list) == 4


@pytest.mark.django_db
def test_ten_thousand_character_query_is_cut_and_said(client):
    response = client.get(LIST, {"q": "x" * 10_000})
    assert response.status_code == 200
    assert "cut to its first 200 characters" in text_of(response)
    assert response.context["query"].text == "x" * 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "q", ["%", "_", "100%_sure", "' OR 1=1; --", "(a|b)*", "\\", "<script>x</script>", "!!&&||"]
)
def test_metacharacter_queries_never_fail(client, q):
    published(name="Harbour levels")
    response = client.get(LIST, {"q": q})
    assert response.status_code == 200
    assert "No published dataset matches" in text_of(response)
    assert "<script>x</script>" not in text_of(response)


@pytest.mark.django_db
def test_unknown_facet_value_and_sort_are_ignored_with_a_message(client):
    published(name="Harbour levels")
    response = client.get(LIST, {"modality": "smell", "sort": "price", "hosting": "cloud"})
    assert response.status_code == 200
    page = text_of(response)
    assert "Harbour levels" in page
    assert "is not a way to sort" in page
    assert "is not a known modality" in page


@pytest.mark.django_db
def test_empty_result_suggests_removing_a_filter(client):
    published(name="Harbour levels", domain="Marine", license="mit")
    response = client.get(LIST, {"domain": "Marine", "license": "cc0-1.0"})
    assert response.context["counts"].total == 0
    page = text_of(response)
    assert "No published dataset matches" in page
    assert "Try removing a filter" in page
    # The link removing the licence keeps the domain: following it finds the dataset.
    link = next(item["link"] for item in response.context["removable"] if item["value"] == "cc0-1.0")
    assert "Harbour levels" in text_of(client.get(link))


@pytest.mark.django_db
def test_a_selected_filter_reads_as_its_label_and_its_remove_link_says_so(client):
    published(name="Harbour images", modalities="images", domain="Marine", license="cc0-1.0")
    response = client.get(LIST, {"modality": "images", "domain": "Marine", "license": "cc0-1.0"})
    chips = [
        attributes
        for tag, attributes in parse_html(response.content).elements
        if tag == "a" and "badge" in attributes.get("class", "")
    ]
    assert sorted(chip["aria-label"] for chip in chips) == [
        "Remove the filter Domain: Marine",
        "Remove the filter Licence: Creative Commons Zero v1.0 Universal",
        "Remove the filter Modality: Images",
    ]
    assert "Modality: Images" in text_of(response)
    assert [dataset.name for dataset in response.context["page"].object_list] == ["Harbour images"]
    # Each chip's link removes its own filter and keeps the other.
    by_label = {chip["aria-label"]: chip["href"] for chip in chips}
    remaining = client.get(by_label["Remove the filter Modality: Images"]).context["query"].filters
    assert dict(remaining) == {"domain": ("Marine",), "license": ("cc0-1.0",)}


@pytest.mark.django_db
def test_a_listed_dataset_reads_as_names_and_an_empty_search_offers_to_drop_its_text(client):
    published(name="Harbour levels", license="cc0-1.0")
    listed = text_of(client.get(LIST))
    assert "hosted on the Hub · Creative Commons Zero v1.0 Universal" in listed
    empty = text_of(client.get(LIST, {"q": "zzxqnomatch", "page": "9"}))
    assert "Drop the search text “zzxqnomatch”" in empty and "Or drop" not in empty
    assert "There is only 1 page of results" in empty


@pytest.mark.django_db
def test_urls_keep_the_whole_query_across_pages(client):
    many_published(45, domain="Marine")
    response = client.get(LIST, {"q": "dataset", "domain": "Marine", "sort": "downloads"})
    next_link = response.context["next_link"]
    assert all(part in next_link for part in ("q=dataset", "domain=Marine", "sort=downloads", "page=2"))
    assert client.get(next_link).context["page"].number == 2


@pytest.mark.django_db
def test_unknown_slug_is_404(client):
    assert client.get(reverse("catalog:dataset", args=["no-such-dataset"])).status_code == 404


@pytest.mark.django_db
def test_unpublished_dataset_page_is_404(client):
    dataset = published(published_at=None)
    assert client.get(dataset.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_dataset_page_shows_facts_files_usage_and_how_to_load_and_cite(client, settings):
    settings.HF_ENDPOINT = "https://hub.example"
    dataset = published(
        name="Harbour levels",
        license="cc-by-4.0",
        downloads=1234,
        likes=56,
        hosted=True,
        manifest=[{"path": "levels.csv", "size": 2048, "sha256": "b" * 64}],
        card="---\nlicense: cc-by-4.0\npretty_name: Harbour levels\n---\n\n# Harbour levels\n\nTen-minute **levels**.\n",
    )
    response = client.get(dataset.get_absolute_url())
    page = text_of(response)
    html = parse_html(response.content)
    hrefs = {attrs.get("href") for tag, attrs in html.elements if tag == "a"}
    assert license_info("cc-by-4.0")["url"] in hrefs
    assert f"https://hub.example/datasets/{dataset.repo_id}" in hrefs
    assert dataset.source_url in hrefs
    assert "<strong>levels</strong>" in page
    assert "pretty_name" not in page  # the YAML header is not shown as text
    assert "b" * 64 in page and "levels.csv" in page
    assert "1,234" in page and "56" in page
    assert f"load_dataset(&quot;{dataset.repo_id}&quot;)" in page
    assert "@misc{" in page and "howpublished" in page
    assert "Hosted: the data is copied to the Hub" in page
    scripts = [attrs.get("src", "") for attrs, _ in html.scripts]
    assert any(src.endswith("catalog/copy.js") for src in scripts)


HOSTILE_CARD = """---
pretty_name: '<script>alert("pretty")</script><img src=x onerror=alert(1)>'
license: mit
---

# Hostile card

<script>alert("body")</script>

<img src="x.png" onerror="alert(2)">

<svg onload="alert(3)"><circle r="1"></circle></svg>

[click me](javascript:alert(4))

<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==">data link</a>

<iframe src="https://evil.example/"></iframe>

<a href="https://example.org/" onclick="alert(6)">external</a>

<style>body { display: none }</style>
"""


@pytest.mark.django_db
def test_hostile_card_renders_nothing_active(client):
    hostile_name = '<b onmouseover="alert(7)">Bold</b> & <script>alert(8)</script>'
    dataset = published(name=hostile_name, card=HOSTILE_CARD, summary=hostile_name)
    response = client.get(dataset.get_absolute_url())
    assert response.status_code == 200
    html = parse_html(response.content)
    tags = [tag for tag, _ in html.elements]
    assert "iframe" not in tags and "svg" not in tags and "style" not in tags
    for tag, attrs in html.elements:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src"):
            value = attrs.get(name, "").strip().lower()
            assert not value.startswith(("javascript:", "data:")), (tag, attrs)
    # Only the page's own scripts: files from /static/ and the JSON-LD data block.
    for attrs, body in html.scripts:
        if attrs.get("type") == "application/ld+json":
            continue
        assert attrs.get("src", "").startswith("/static/"), attrs
        assert body.strip() == ""
    external = [
        attrs for tag, attrs in html.elements if tag == "a" and attrs.get("href") == "https://example.org/"
    ]
    assert external and "nofollow" in external[0]["rel"] and "noopener" in external[0]["rel"]
    page = text_of(response)
    assert "&lt;b onmouseover=&quot;alert(7)&quot;&gt;Bold&lt;/b&gt;" in page
    assert 'alert("pretty")' not in page


@pytest.mark.django_db
def test_home_page_shows_counts_and_newest(client):
    published(name="Newest harbour", hosted=True, downloads=10)
    published(name="Older harbour", hosted=False, downloads=5)
    response = client.get("/")
    page = text_of(response)
    assert response.status_code == 200
    assert "Newest harbour" in page and "Older harbour" in page
    assert response.context["counts"] == {"datasets": 2, "hosted": 1, "downloads": 15}
    assert reverse("submissions:contribute") in page


@pytest.mark.django_db
def test_numbers_have_thousands_separators(client):
    # Regression: the home page said "1234567 downloads".
    dataset = published(name="Busy harbour", downloads=1_234_567, likes=12_345)
    home = " ".join(text_of(client.get("/")).split())
    assert "<strong>1,234,567</strong> downloads in all" in home
    assert "1,234,567 downloads · 12,345 likes" in home
    listing = text_of(client.get(LIST))
    assert "1,234,567 downloads" in listing
    page = text_of(client.get(dataset.get_absolute_url()))
    assert "<dd>1,234,567</dd>" in page and "<dd>12,345</dd>" in page


@pytest.mark.django_db
def test_languages_show_by_name_on_the_list_the_facets_and_the_dataset_page(client):
    # Regression: languages showed as codes ("en", "sv") where licences showed names.
    dataset = published(name="Nordic tides", languages=["en", "sv", "zz-unknown"])
    listing = text_of(client.get(LIST))
    assert "English, Swedish, zz-unknown" in listing
    assert ">Swedish</a>" in listing  # the language facet
    assert "✓ Swedish</a>" in text_of(client.get(LIST, {"language": "sv"}))
    page = text_of(client.get(dataset.get_absolute_url()))
    assert "<dt>Languages</dt><dd>English, Swedish, zz-unknown</dd>" in page
    facets = client.get("/api/datasets/").json()["facets"]["language"]
    assert {value["value"]: value["label"] for value in facets} == {
        "en": "English",
        "sv": "Swedish",
        "zz-unknown": "zz-unknown",
    }


@pytest.mark.django_db
def test_home_counts_come_from_the_shared_cache_and_follow_a_change(client, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    published(downloads=10)
    assert client.get("/").context["counts"]["datasets"] == 1
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not any("SUM(" in query["sql"].upper() for query in queries.captured_queries)
    published(downloads=5)
    assert client.get("/").context["counts"] == {"datasets": 2, "hosted": 2, "downloads": 15}


@pytest.mark.django_db
def test_sitemap_lists_published_datasets(client):
    shown = published()
    hidden = published(published_at=None)
    index = text_of(client.get("/sitemap.xml"))
    assert "sitemap-datasets.xml" in index
    body = text_of(client.get("/sitemap-datasets.xml"))
    assert shown.get_absolute_url() in body
    assert hidden.get_absolute_url() not in body


@pytest.mark.django_db
def test_atom_feed_lists_new_datasets_escaped(client):
    published(name="Feed <harbour>", summary="<script>alert(1)</script>")
    response = client.get(reverse("catalog:feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    body = text_of(response)
    assert "Feed &lt;harbour&gt;" in body
    assert "<script>" not in body


def test_health_check_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


PAGES = [
    "/datasets/",
    "/datasets/?q=dataset",
    "/datasets/?domain=Marine&modality=text&language=en&sort=likes&page=2",
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_list_pages_use_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    many_published(10, domain="Marine")
    small = [count_queries(client, url) for url in PAGES]
    many_published(190, domain="Marine")
    for url in PAGES:
        with django_assert_max_num_queries(8):
            client.get(url)
    large = [count_queries(client, url) for url in PAGES]
    assert small == large
    with django_assert_max_num_queries(2):
        client.get("/")


@pytest.mark.django_db
def test_cached_list_page_shows_a_new_dataset_at_once(client, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    published(name="First harbour")
    assert "First harbour" in text_of(client.get(LIST))
    published(name="Second harbour")
    page = text_of(client.get(LIST))
    assert "First harbour" in page and "Second harbour" in page


@pytest.mark.django_db
def test_linked_dataset_page_points_at_the_publisher_instead_of_load_dataset(client):
    dataset = published(
        name="Archive photographs", hosted=False, source_url="https://archive.example.org/photos/"
    )
    html = client.get(dataset.get_absolute_url()).content.decode()
    assert "load_dataset(" not in html
    assert 'href="https://archive.example.org/photos/"' in html


@pytest.mark.django_db
def test_card_headings_are_demoted_below_the_page_title(client):
    dataset = published(
        name="Harbour levels",
        card="---\nlicense: mit\n---\n\n# Harbour Levels\n\n# About\n\n## Uses\n\nText.\n",
    )
    html = client.get(dataset.get_absolute_url()).content.decode()
    assert html.count("<h1") == 1
    assert "<h2>About</h2>" in html and "<h3>Uses</h3>" in html
    assert "<h2>Harbour Levels</h2>" not in html  # the card's title repeats the page's h1: dropped
