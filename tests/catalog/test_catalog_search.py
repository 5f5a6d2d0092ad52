"""catalog.search: parsing of request parameters, full-text search (PostgreSQL or the fallback), facets, sort."""

import pytest
from django.http import QueryDict

from catalog import search
from tests.catalog.catalog_rows import published


@pytest.fixture(autouse=True)
def no_facet_cache(settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 0


def parse(query_string, **kwargs):
    return search.parse_query(QueryDict(query_string), **kwargs)


def test_control_characters_are_removed():
    query, _ = parse("q=a%00b%0Ac&domain=Mar%00ine")
    assert query.text == "a b c"
    assert query.selected == {"domain": ("Mar ine",)}


def test_long_query_is_cut_to_the_cap():
    query, notices = parse("q=" + "a" * 10_000)
    assert len(query.text) == search.MAX_QUERY_CHARS
    assert "cut" in notices[0]


def test_unknown_facet_values_are_dropped_with_a_notice():
    query, notices = parse(
        "modality=smell&hosting=maybe&license=not-a-licence&language=xx-klingon&modality=text"
    )
    assert query.selected == {"modality": ("text",)}
    assert len(notices) == 4


def test_unknown_facet_value_is_an_error_when_strict():
    with pytest.raises(search.BadQuery, match="modality"):
        parse("modality=smell", strict=True)


def test_unknown_sort_falls_back_to_default_with_notice():
    query, notices = parse("sort=name;DROP TABLE")
    assert query.sort == ""
    assert query.effective_sort == "newest"
    assert "not a way to sort" in notices[0]


def test_unknown_sort_is_an_error_when_strict():
    with pytest.raises(search.BadQuery, match="Unknown sort"):
        parse("sort=-id", strict=True)


def test_relevance_without_text_sorts_newest():
    query, _ = parse("sort=relevance")
    assert query.effective_sort == "newest"


@pytest.mark.django_db
def test_search_finds_name_tag_domain_and_card_text():
    by_name = published(name="Baltic buoy temperatures")
    by_tag = published(tags=["oceanography"])
    by_domain = published(domain="Semiconductors")
    by_card = published(
        card="---\nlicense: mit\n---\n\nThe wafers were photographed under ultraviolet light.\n"
    )
    published(name="Unrelated")
    for text, expected in [
        ("buoy", by_name),
        ("oceanography", by_tag),
        ("semiconductors", by_domain),
        ("ultraviolet", by_card),
    ]:
        query, _ = parse(f"q={text}")
        assert list(search.search(query)) == [expected], text


@pytest.mark.django_db
def test_unpublished_datasets_are_never_found():
    published(name="Hidden harbour", published_at=None)
    query, _ = parse("q=harbour")
    assert list(search.search(query)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text", ["%", "_", "%_%", "' OR 1=1 --", "a\\", ".*", "(unclosed", "[a-z]+", "foo & | ! <->", "\x00x"]
)
def test_metacharacters_match_literally_or_nothing(text):
    published(name="Plain name")
    query, _ = search.parse_query({"q": [text]})
    assert list(search.search(query)) == []
    facets, total = search.facet_counts(query)
    assert total == 0
    assert set(facets) == set(search.FACETS)


@pytest.mark.django_db
def test_facet_counts_exclude_their_own_selection():
    published(domain="Marine", modalities="text", hosted=True, license="mit", languages=["en", "fr"])
    published(domain="Marine", modalities="images,text", hosted=False, license="cc0-1.0", languages=["fr"])
    published(domain="Climate", modalities="audio", hosted=True, license="mit", languages=[])
    query, _ = parse("domain=Marine")
    facets, total = search.facet_counts(query)
    counts = {facet: {v.value: v.count for v in values} for facet, values in facets.items()}
    assert total == 2
    # The domain facet ignores its own selection, so Climate stays selectable with its count.
    assert counts["domain"] == {"Marine": 2, "Climate": 1}
    assert counts["modality"] == {"text": 2, "images": 1}
    assert counts["hosting"] == {"hosted": 1, "linked": 1}
    assert counts["license"] == {"mit": 1, "cc0-1.0": 1}
    assert counts["language"] == {"fr": 2, "en": 1}
    assert [v.value for v in facets["domain"] if v.selected] == ["Marine"]


@pytest.mark.django_db
def test_filters_combine_or_within_and_across_facets():
    a = published(domain="Marine", modalities="text", languages=["en"])
    b = published(domain="Climate", modalities="text", languages=["fr"])
    published(domain="Climate", modalities="audio", languages=["fr"])
    query, _ = parse("domain=Marine&domain=Climate&modality=text")
    assert set(search.search(query)) == {a, b}
    query, _ = parse("language=fr&modality=text")
    assert list(search.search(query)) == [b]


@pytest.mark.django_db
def test_modality_filter_matches_whole_items_only():
    both = published(modalities="images,text")
    published(modalities="audio")
    query, _ = parse("modality=images")
    assert list(search.search(query)) == [both]


@pytest.mark.django_db
def test_sorts_by_downloads_likes_and_newest():
    few = published(downloads=5, likes=50)
    many = published(downloads=500, likes=1)
    for sort, expected in [("downloads", [many, few]), ("likes", [few, many]), ("newest", [few, many])]:
        query, _ = parse(f"sort={sort}")
        assert list(search.search(query)) == expected, sort


@pytest.mark.django_db
def test_relevance_puts_name_match_first():
    in_card = published(
        name="Sea levels", card="---\nlicense: mit\n---\n\nCompare with the tide gauge series.\n", summary=""
    )
    in_name = published(name="Tide gauge records", summary="Tide gauge records of ports.")
    query, _ = parse("q=tide gauge")
    assert list(search.search(query)) == [in_name, in_card]


@pytest.mark.django_db
def test_facet_counts_are_cached_and_refreshed_by_a_change(settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    published(domain="Marine")
    query = search.CatalogQuery(text="", filters=(), sort="")
    _, first = search.facet_counts(query)
    published(domain="Marine")
    _, second = search.facet_counts(query)
    assert (first, second) == (1, 2)


@pytest.mark.django_db
def test_one_scan_facet_counts_match_the_per_facet_counts(settings):
    """On PostgreSQL the unselected facets are counted in one GROUPING SETS scan; it must agree."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("GROUPING SETS are used on PostgreSQL only")
    settings.CATALOG_FACET_CACHE_SECONDS = 0
    published(domain="Marine", license="mit", hosted=False, modalities="audio,text")
    published(domain="Legal", license="mit", modalities="images")
    published(domain="Legal", license="cc0-1.0", modalities="video,audio")
    published(domain="Climate", license="", modalities="text")
    query, _ = search.parse_query(QueryDict(""))
    shared, total = search._shared_counts(
        search._filtered(query), ["domain", "license", "hosting", "modality"]
    )
    assert total == 4
    for facet in ("domain", "license", "hosting", "modality"):
        assert shared[facet] == search._count_facet(facet, search._filtered(query)), facet
    assert shared["modality"] == {"text": 2, "images": 1, "audio": 2, "video": 1}
