"""catalog.search: parsing of request parameters, full-text search (PostgreSQL or the fallback), facets, sort."""

import datetime

import pytest
from django.http import QueryDict
from django.utils import timezone

from catalog import search
from tests.catalog.catalog_rows import published


@pytest.fixture(autouse=True)
def no_facet_cache(settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 0


def parse(query_string, **kwargs):
    return search.parse_query(QueryDict(query_string), **kwargs)


@pytest.mark.django_db
def test_control_characters_are_removed_and_unknown_domains_dropped():
    query, notices = parse("q=a%00b%0Ac&domain=Mar%00ine&domain=marine")
    assert query.text == "a b c"
    assert query.selected == {"domain": ("Marine",)}
    assert notices == ["“Mar ine” is not a known domain; it was ignored."]


@pytest.mark.django_db
def test_strict_parsing_refuses_control_characters_and_empty_values():
    with pytest.raises(search.BadQuery, match="holds a control character"):
        parse("domain=Mar%00ine", strict=True)
    with pytest.raises(search.BadQuery, match="Give a value for license"):
        parse("license=", strict=True)


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
    counts = search.facet_counts(query)
    assert (counts.total, counts.more, counts.sampled) == (0, False, False)
    assert set(counts.facets) == set(search.FACETS)


@pytest.mark.django_db
def test_facet_counts_exclude_their_own_selection():
    published(domain="Marine", modalities="text", hosted=True, license="mit", languages=["en", "fr"])
    published(domain="Marine", modalities="images,text", hosted=False, license="cc0-1.0", languages=["fr"])
    published(domain="Climate", modalities="audio", hosted=True, license="mit", languages=[])
    query, _ = parse("domain=Marine")
    result = search.facet_counts(query)
    facets = result.facets
    counts = {facet: {v.value: v.count for v in values} for facet, values in facets.items()}
    assert (result.total, result.more, result.sampled) == (2, False, False)
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
    first = search.facet_counts(query).total
    published(domain="Marine")
    second = search.facet_counts(query).total
    assert (first, second) == (1, 2)


@pytest.mark.django_db
def test_past_the_cap_totals_are_lower_bounds_and_facets_count_a_sample(monkeypatch):
    """With search text, counting stops at COUNT_CAP matches: the total says "more", the facets count a sample."""
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    published(domain="Marine", modalities="text", languages=["en", "fr"])
    published(domain="Marine", modalities="images,text", languages=["fr"])
    published(domain="Legal", modalities="audio", languages=[])
    published(domain="Climate", modalities="video", languages=["de"])
    every = {"Marine": 2, "Legal": 1, "Climate": 1}

    def counted(facets, facet):
        return {v.value: v.count for v in facets[facet]}

    counts = search.facet_counts(search.CatalogQuery(text="measurements"))
    assert (counts.total, counts.more, counts.sampled, counts.exact) == (3, True, True, False)
    # Three of the four rows were counted, whichever the database found first.
    domains = counted(counts.facets, "domain")
    assert sum(domains.values()) == 3 and all(n <= every[domain] for domain, n in domains.items())
    assert sum(counted(counts.facets, "hosting").values()) == 3

    # The total is exact under the cap; the domain facet (its own selection removed) counted a sample.
    query, _ = parse("q=measurements&domain=Climate&domain=Legal")
    counts = search.facet_counts(query)
    assert (counts.total, counts.more, counts.sampled) == (2, False, True)
    domains = counted(counts.facets, "domain")
    assert set(domains) == set(every) and sum(domains.values()) == 3
    assert all(n <= every[domain] for domain, n in domains.items())


@pytest.mark.django_db
def test_relevance_ranks_the_newest_matches_past_the_cap(monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    newest = published(name="Tide tables", published_at=timezone.now())
    other = published(
        name="Harbour", summary="tide", published_at=timezone.now() - datetime.timedelta(hours=1)
    )
    published(name="Tide gauge tide", published_at=timezone.now() - datetime.timedelta(days=1))
    query, _ = parse("q=tide")
    assert list(search.search(query)) == [newest, other]


@pytest.mark.django_db
def test_ranking_found_while_counting_gives_the_same_pages(monkeypatch):
    """The ids ranked by facet_counts (PostgreSQL) page exactly like ranking in the page's own query."""
    monkeypatch.setattr(search, "COUNT_CAP", 6)
    for number in range(9):
        published(name=f"Harbour tide {number}" if number % 3 else f"Harbour {number}", domain="Marine")
    query, _ = parse("q=harbour+tide")
    counts = search.facet_counts(query)
    with_counts = search.search(query, counts=counts)
    alone = search.search(query)
    assert [d.pk for d in with_counts] == [d.pk for d in alone]
    for start, stop in [(0, 2), (2, 5), (4, 6), (5, 20)]:
        assert [d.pk for d in with_counts[start:stop]] == [d.pk for d in alone[start:stop]]
    query, _ = parse("q=harbour")
    counts = search.facet_counts(query)
    assert (counts.total, counts.more) == (6, True)
    assert [d.pk for d in search.search(query, counts=counts)] == [d.pk for d in search.search(query)]
    assert len(list(search.search(query, counts=counts))) == 6


@pytest.mark.django_db
def test_a_dataset_unpublished_after_counting_is_not_shown():
    """Counts may be cached a moment longer than the catalog stays the same: the page re-checks publication."""
    kept = published(name="Harbour tide one")
    withdrawn = published(name="Harbour tide two")
    query, _ = parse("q=harbour")
    counts = search.facet_counts(query)
    withdrawn.published_at = None
    withdrawn.save()
    assert [d.pk for d in search.search(query, counts=counts)] == [kept.pk]
