"""The facet index of migrations 0010 and 0011 (PostgreSQL): bitmaps and posting lists must agree with the rows.

Every way of writing a dataset row is tried (create, save, a queryset update, bulk_update, unpublishing,
re-publishing, deleting, an id past the bitmaps' end), and after each the counts of many selections are
compared with a count of the rows themselves, and their newest-first pages with the rows in that order.
"""

import datetime
import itertools
import random

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from catalog import search
from catalog.models import Dataset, FacetBitmap, FacetPosting
from tests.catalog.catalog_rows import dataset_fields, many_published, published

API = "/api/datasets/"
LIST = "/datasets/"
DOMAINS = ["Marine", "Legal", "Climate"]
LICENSES = ["cc-by-4.0", "mit", "cc0-1.0"]
MODALITIES = ["text", "images", "audio,text", "images,video"]
LANGUAGES = ["en", "fr", "de"]


@pytest.fixture(autouse=True)
def postgresql_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("The facet bitmaps and their trigger exist on PostgreSQL only; SQLite counts the rows.")
    settings.CATALOG_FACET_CACHE_SECONDS = 0


def random_fields(rng, **overrides):
    return dataset_fields(
        domain=rng.choice(DOMAINS),
        license=rng.choice(LICENSES),
        hosted=rng.random() < 0.6,
        modalities=rng.choice(MODALITIES),
        languages=rng.sample(LANGUAGES, rng.randint(0, 2)),
        **overrides,
    )


def facet_values(dataset):
    """A dataset's facet values as catalog.search sees them: {facet: set of values}."""
    return {
        "domain": {dataset.domain},
        "license": {dataset.license},
        "hosting": {"hosted" if dataset.hosted else "linked"},
        "modality": {value for value in dataset.modalities.split(",") if value},
        "language": set(dataset.languages),
    }


def counted_from_rows(query):
    """The exact counts of `query` by reading every published row: (total, {facet: {value: count}})."""
    selected = query.selected
    rows = [facet_values(dataset) for dataset in Dataset.objects.published()]

    def matches(values, *, ignoring=None):
        return all(values[facet] & set(chosen) for facet, chosen in selected.items() if facet != ignoring)

    total = sum(1 for values in rows if matches(values))
    facets = {}
    for facet in search.FACETS:
        counts = {}
        for values in rows:
            if matches(values, ignoring=facet):
                for value in values[facet]:
                    counts[value] = counts.get(value, 0) + 1
        facets[facet] = counts
    return total, facets


def queries():
    yield search.CatalogQuery()
    for facet, values in [
        ("domain", DOMAINS),
        ("license", LICENSES),
        ("modality", ["text", "images", "audio", "video"]),
        ("language", LANGUAGES),
        ("hosting", ["hosted", "linked"]),
    ]:
        for value in values:
            yield search.parse_query(QueryDict(f"{facet}={value}"))[0]
    for query_string in [
        "domain=Marine&modality=text",
        "domain=Marine&domain=Legal&language=fr",
        "modality=images&modality=audio&license=mit&hosting=linked",
        "domain=Climate&license=cc0-1.0&language=de&language=en&modality=text",
        "domain=Nowhere",
        "domain=Nowhere&modality=text",
        "hosting=hosted&hosting=linked&domain=Legal",
    ]:
        yield search.parse_query(QueryDict(query_string))[0]


def assert_counts_match_the_rows():
    for bitmap in FacetBitmap.objects.all():
        assert bitmap.datasets == bitmap.bits.count("1"), bitmap.key
    for query in queries():
        counts = search.facet_counts(query)
        total, expected = counted_from_rows(query)
        assert counts.exact and not counts.sampled, query
        assert counts.total == total, query
        for facet, values in counts.facets.items():
            shown = {v.value: v.count for v in values if v.count}
            assert shown == expected[facet], (query, facet)


def keys_of(dataset):
    """A dataset's facet keys from its own fields, as `facet_keys` should hold them."""
    return {f"{facet}:{value}" for facet, values in facet_values(dataset).items() for value in values}


def newest_matching(query):
    """The ids of the published datasets matching `query`'s facets, newest first, from the rows' own fields."""
    chosen = query.selected
    rows = sorted(
        Dataset.objects.published(), key=lambda dataset: (dataset.published_at, dataset.id), reverse=True
    )
    return [
        dataset.id
        for dataset in rows
        if all(facet_values(dataset)[facet] & set(values) for facet, values in chosen.items())
    ]


def assert_postings_and_pages_match_the_rows():
    rows = Dataset.objects.published()
    expected = {(key, dataset.id, dataset.published_at) for dataset in rows for key in keys_of(dataset)}
    assert set(FacetPosting.objects.values_list("key", "dataset_id", "published_at")) == expected
    for query in queries():
        if not query.filters:
            continue
        newest = newest_matching(query)[: search.COUNT_CAP]
        matches = search.search(query)
        assert isinstance(matches, search.FacetMatches)
        assert [dataset.id for dataset in matches[0:1000]] == newest, query
        assert [dataset.id for dataset in matches[3:8]] == newest[3:8], query
        if newest:
            assert matches[len(newest) - 1].id == newest[-1], query


@pytest.mark.django_db
def test_counts_equal_counting_the_rows_whichever_way_rows_are_written():
    rng = random.Random(13)
    for _ in range(40):
        Dataset.objects.create(**random_fields(rng))
    draft = Dataset.objects.create(**random_fields(rng, published_at=None))
    Dataset.objects.bulk_create([Dataset(**random_fields(rng)) for _ in range(10)])
    assert_counts_match_the_rows()

    changed = Dataset.objects.published().order_by("id")[:5]
    for dataset in changed:  # a correction through save()
        dataset.domain, dataset.languages = "Legal", ["fr"]
        dataset.save()
    Dataset.objects.filter(domain="Climate", hosted=True).update(license="mit")
    batch = list(Dataset.objects.filter(domain="Marine"))
    for dataset in batch:
        dataset.modalities = "audio"
    Dataset.objects.bulk_update(batch, ["modalities"])
    Dataset.objects.filter(id=Dataset.objects.published().order_by("id").first().id).update(published_at=None)
    Dataset.objects.published().order_by("-id").first().delete()
    draft.published_at = timezone.now()  # published later
    draft.save()
    assert_postings_and_pages_match_the_rows()
    Dataset.objects.published().update(downloads=5)  # usage figures change no bitmap
    assert_counts_match_the_rows()
    assert_postings_and_pages_match_the_rows()

    oldest = Dataset.objects.published().order_by("published_at").first()
    oldest.published_at = timezone.now()  # published again: first in every list of its keys
    oldest.save()
    tied = Dataset.objects.published().order_by("id")[:3]
    Dataset.objects.filter(id__in=[dataset.id for dataset in tied]).update(published_at=oldest.published_at)
    assert_postings_and_pages_match_the_rows()
    assert search.search(search.parse_query(QueryDict(f"domain={oldest.domain}"))[0])[0].id == max(
        [oldest.id, *(dataset.id for dataset in tied if dataset.domain == oldest.domain)]
    )


@pytest.mark.django_db
def test_bitmaps_grow_together_past_their_end():
    published(domain="Marine")
    far = published(id=20_000, domain="Legal", languages=["sv"])
    lengths = set(FacetBitmap.objects.values_list("bits", flat=True).iterator())
    assert {len(bits) for bits in lengths} == {24_576}  # three steps of 8,192 bits, every key alike
    counts = search.facet_counts(search.CatalogQuery())
    assert counts.total == 2
    assert {v.value: v.count for v in counts.facets["language"]} == {"en": 1, "sv": 1}
    far.delete()
    assert search.facet_counts(search.parse_query(QueryDict("language=sv"))[0]).total == 0


@pytest.mark.django_db
def test_rebuilding_gives_the_bitmaps_the_trigger_kept():
    rng = random.Random(7)
    for _ in range(25):
        Dataset.objects.create(**random_fields(rng))
    published(id=Dataset.objects.order_by("id").last().id + 9000, domain="Legal", languages=["sv"])  # a gap
    Dataset.objects.filter(id__in=Dataset.objects.order_by("id").values("id")[:3]).update(published_at=None)
    kept = {bitmap.key: bitmap.bits.rstrip("0") for bitmap in FacetBitmap.objects.all() if "1" in bitmap.bits}
    kept_postings = set(FacetPosting.objects.values_list("key", "dataset_id", "published_at"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT catalog_rebuild_facet_bitmaps()")
    rebuilt = {bitmap.key: bitmap.bits.rstrip("0") for bitmap in FacetBitmap.objects.all()}
    assert rebuilt == kept
    last = Dataset.objects.order_by("id").last().id
    assert {len(bitmap.bits) for bitmap in FacetBitmap.objects.all()} == {(last // 8192 + 1) * 8192}
    assert set(FacetPosting.objects.values_list("key", "dataset_id", "published_at")) == kept_postings
    assert all(bitmap.datasets == bitmap.bits.count("1") for bitmap in FacetBitmap.objects.all())


@pytest.mark.django_db
def test_pages_and_api_show_the_exact_total_and_browse_up_to_the_cap(client, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    many_published(7, domain="Marine")
    response = client.get(f"{LIST}?page=3&domain=Marine")
    page = response.content.decode()
    assert "7 datasets" in page and "More than" not in page
    assert "The first 4 can be browsed page by page" in page
    assert "Counts among the first" not in page
    assert response.context["page"].paginator.num_pages == 1
    assert len(response.context["page"].object_list) == 4

    body = client.get(API, {"domain": "Marine", "page_size": 2}).json()
    assert (body["count"], body["count_exact"], body["more"], body["counts_sampled"], body["pages"]) == (
        7,
        True,
        True,
        False,
        2,
    )
    assert {v["value"]: v["count"] for v in body["facets"]["domain"]} == {"Marine": 7}
    assert client.get(API, {"domain": "Marine", "page_size": 2, "page": 3}).status_code == 400


@pytest.mark.django_db
def test_counting_reads_no_dataset_row(django_assert_num_queries):
    """One query over the bitmaps, whatever is selected; it never names the datasets' table."""
    many_published(3)
    for query in itertools.islice(queries(), 0, None, 5):
        with django_assert_num_queries(1) as captured:
            search.facet_counts(query)
        assert "catalog_dataset" not in captured.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_values_that_are_not_text_make_no_key():
    """A null or empty language (written by hand or by an old row) is no facet value and breaks nothing."""
    published(languages=["en", None, ""])
    odd = published(languages=["fr"])
    Dataset.objects.filter(pk=odd.pk).update(languages=[None])
    assert set(FacetBitmap.objects.values_list("key", flat=True)) >= {"language:en", "language:fr"}
    assert not FacetBitmap.objects.filter(key__in=["language:", "language:None"]).exists()
    counts = search.facet_counts(search.CatalogQuery())
    assert counts.total == 2
    assert {v.value: v.count for v in counts.facets["language"]} == {"en": 1}
    with connection.cursor() as cursor:
        cursor.execute("SELECT catalog_rebuild_facet_bitmaps()")
    assert search.facet_counts(search.CatalogQuery(text="measurements")).total == 2


@pytest.mark.django_db
def test_a_facet_page_is_one_query_that_reads_only_its_rows(client, django_assert_num_queries):
    """The page's ids come from the posting lists and bitmaps; the only dataset rows read are the page's."""
    many_published(30, domain="Marine", modalities="images")
    newer = timezone.now() + datetime.timedelta(minutes=5)  # a walk of the newest rows would pass these first
    many_published(25, domain="Marine", modalities="audio", published_at=newer)
    query = search.parse_query(QueryDict("domain=Marine&modality=images"))[0]
    with django_assert_num_queries(1) as captured:
        page = search.search(query)[20:40]
    assert [dataset.id for dataset in page] == newest_matching(query)[20:40]
    sql = captured.captured_queries[0]["sql"]
    assert "catalog_facetposting" in sql and "catalog_facetbitmap" in sql
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a catalog too large to read whole
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0][0]["Plan"]
    read = [node for node in plan_nodes(plan) if node.get("Relation Name") == "catalog_dataset"]
    # EXPLAIN gives each node's rows per loop.
    assert (
        read
        and sum((n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n["Actual Loops"] for n in read)
        == 10
    )
    response = client.get(LIST, {"domain": "Marine", "modality": "images", "page": 2})
    assert [dataset.modalities for dataset in response.context["page"].object_list] == ["images"] * 10


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.django_db
def test_search_text_with_facets_and_newest_first_keeps_the_text(client):
    wanted = published(domain="Marine", name="Harbour tide gauges")
    published(domain="Marine", name="Glacier photographs")
    query = search.parse_query(QueryDict("q=harbour&domain=Marine&sort=newest"))[0]
    assert [dataset.id for dataset in search.search(query)] == [wanted.id]
    body = client.get(API, {"q": "harbour", "domain": "Marine", "sort": "newest"}).json()
    assert [item["slug"] for item in body["results"]] == [wanted.slug]


@pytest.mark.django_db
def test_pages_past_the_first_bitmap_step_and_after_a_bulk_load():
    """Ids past 8,192 bits, and rows written with the row triggers off, then rebuilt as docs/developing/catalog-search.md says."""
    first = published(domain="Legal", modalities="audio")
    far = published(id=first.id + 20_000, domain="Legal", modalities="audio")
    query = search.parse_query(QueryDict("domain=Legal&modality=audio"))[0]
    assert [dataset.id for dataset in search.search(query)] == newest_matching(query) == [first.id, far.id]
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # ALTER TABLE waits for no deferred check of the test's rows
        for trigger in ("catalog_dataset_facet_bitmaps", "catalog_dataset_facet_postings"):
            cursor.execute(f"ALTER TABLE catalog_dataset DISABLE TRIGGER {trigger}")
        loaded = many_published(5, domain="Legal", modalities="audio", published_at=timezone.now())
        Dataset.objects.filter(pk=first.pk).delete()
        Dataset.objects.filter(pk=far.pk).update(domain="Climate")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for trigger in ("catalog_dataset_facet_bitmaps", "catalog_dataset_facet_postings"):
            cursor.execute(f"ALTER TABLE catalog_dataset ENABLE TRIGGER {trigger}")
        cursor.execute("SELECT catalog_rebuild_facet_bitmaps()")
    assert newest_matching(query) == sorted((dataset.id for dataset in loaded), reverse=True)
    assert [dataset.id for dataset in search.search(query)] == newest_matching(query)
    assert_counts_match_the_rows()
    assert_postings_and_pages_match_the_rows()
