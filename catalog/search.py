"""Search, facets and sorting of the public catalog: the one interface the catalog page and the API share.

`parse_query()` turns request parameters into a `CatalogQuery` (capped, validated), `search()` returns the
matching published datasets in order, and `facet_counts()` the counts per facet value, in a fixed number of
queries whatever the number of datasets or values, each reading a bounded number of rows (COUNT_CAP): past
it totals are shown as "1,000+", facet counts are those of the first COUNT_CAP matches found and pages stop. On PostgreSQL, text search uses the stored, GIN-indexed
`search_vector` (kept by a trigger, see migration 0002) with `websearch_to_tsquery` and `SearchRank`; on other
databases it falls back to `icontains` on the same fields. All user input reaches the database as query
parameters, never as SQL text. This module reads only; it must not write.
"""

import collections
import dataclasses
import hashlib
import json
import re
import time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from catalog.models import CATALOG_STAMP_KEY, LOCAL_STAMP, Dataset
from submissions.carddata import language_codes, license_ids, license_info
from submissions.models import Modality

MAX_QUERY_CHARS = 200
MAX_VALUES_PER_FACET = 10
MAX_FACET_VALUE_CHARS = 100
MAX_FALLBACK_WORDS = 8
FACET_LIMIT = 30  # values shown per facet, most frequent first
# Matches counted exactly and browsable page by page; past it the page says "1,000+" and asks to narrow
# the search (a visitor does not read past page 50 of a list; a crawler uses the sitemap).
COUNT_CAP = 1000
SEARCH_CONFIG = "english"  # must match the trigger of migration 0002
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

SORTS = {
    "relevance": "Relevance",
    "newest": "Newest",
    "downloads": "Most downloaded",
    "likes": "Most liked",
}
_SORT_ORDER = {
    "newest": ("-published_at", "-id"),
    "downloads": ("-downloads", "-id"),
    "likes": ("-likes", "-id"),
}

HOSTING = {"hosted": "Hosted on the Hub", "linked": "Linked to the source"}

# Request parameter -> label, in display order.
FACETS = {
    "domain": "Domain",
    "modality": "Modality",
    "license": "Licence",
    "hosting": "Hosting",
    "language": "Language",
}


class BadQuery(ValueError):
    """A search parameter cannot be used; the message says what to send instead."""


@dataclasses.dataclass(frozen=True)
class CatalogQuery:
    """A normalised catalog search: text, selected facet values (OR within, AND across) and sort."""

    text: str = ""
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: str = ""

    @property
    def selected(self):
        """Return the selected values by facet name."""
        return dict(self.filters)

    @property
    def effective_sort(self):
        """Return the sort applied: the one asked for, else relevance with text and newest without."""
        if self.sort == "relevance" and not self.text:
            return "newest"
        return self.sort or ("relevance" if self.text else "newest")

    def without(self, facet):
        """Return this query with one facet's selection removed."""
        return dataclasses.replace(self, filters=tuple((k, v) for k, v in self.filters if k != facet))

    def cache_key(self):
        """Return a short stable key for this query (text and filters; the sort does not change counts)."""
        raw = json.dumps([self.text, self.filters], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class FacetValue:
    """One value of a facet with the number of datasets it would show."""

    value: str
    label: str
    count: int
    selected: bool


def _valid_values(facet):
    """Return the allowed values of a facet, or None when any (capped) text is allowed."""
    if facet == "modality":
        return frozenset(Modality.values)
    if facet == "hosting":
        return frozenset(HOSTING)
    if facet == "license":
        return license_ids()
    if facet == "language":
        return language_codes()
    return None


def parse_query(params, *, strict=False):
    """Read a `CatalogQuery` from request parameters; return (query, notices for the visitor).

    `params` is a QueryDict (or a dict of lists). Text is stripped and cut to MAX_QUERY_CHARS. Unknown facet
    values and sorts are dropped with a notice, or raise `BadQuery` when `strict` (the API).
    """
    notices = []

    def getlist(name):
        values = params.getlist(name) if hasattr(params, "getlist") else list(params.get(name, []))
        # Control characters never belong in a search; NUL would even be refused by PostgreSQL.
        return [_CONTROL_CHARS.sub(" ", str(value)) for value in values]

    texts = getlist("q")
    text = " ".join(texts[0].split()) if texts else ""
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rstrip()
        notices.append(f"The search text was cut to its first {MAX_QUERY_CHARS} characters.")

    filters = []
    for facet in FACETS:
        allowed = _valid_values(facet)
        chosen = []
        for value in getlist(facet):
            value = value.strip()
            if not value or value in chosen:
                continue
            if len(value) > MAX_FACET_VALUE_CHARS or (allowed is not None and value not in allowed):
                message = f"“{value[:40]}” is not a known {FACETS[facet].lower()}; it was ignored."
                if strict:
                    raise BadQuery(f"Unknown {facet} value {value[:40]!r}.")
                notices.append(message)
                continue
            chosen.append(value)
        if len(chosen) > MAX_VALUES_PER_FACET:
            if strict:
                raise BadQuery(f"Choose at most {MAX_VALUES_PER_FACET} values of {facet}.")
            notices.append(
                f"Only the first {MAX_VALUES_PER_FACET} values of {FACETS[facet].lower()} are used."
            )
            chosen = chosen[:MAX_VALUES_PER_FACET]
        if chosen:
            filters.append((facet, tuple(sorted(chosen))))

    sorts = getlist("sort")
    sort = sorts[0].strip() if sorts else ""
    if sort and sort not in SORTS:
        if strict:
            raise BadQuery(f"Unknown sort {sort[:40]!r}; use one of: {', '.join(SORTS)}.")
        notices.append(f"“{sort[:40]}” is not a way to sort; the default order is used.")
        sort = ""
    return CatalogQuery(text=text, filters=tuple(filters), sort=sort), notices


def _modality_q(value):
    # `modalities` is a comma-separated list; match whole items only.
    return (
        Q(modalities=value)
        | Q(modalities__startswith=f"{value},")
        | Q(modalities__endswith=f",{value}")
        | Q(modalities__contains=f",{value},")
    )


def _language_q(code):
    if connection.vendor == "postgresql":
        return Q(languages__contains=[code])
    # SQLite has no JSON containment: match the quoted item in the stored JSON text.
    return Q(languages__icontains=json.dumps(code))


def _facet_q(facet, values):
    if facet == "domain":
        return Q(domain__in=values)
    if facet == "license":
        return Q(license__in=values)
    if facet == "hosting":
        return (
            Q(hosted=True)
            if set(values) == {"hosted"}
            else Q(hosted=False)
            if set(values) == {"linked"}
            else Q()
        )
    q = Q()
    for value in values:
        q |= _modality_q(value) if facet == "modality" else _language_q(value)
    return q


class FacetKeys(Func):
    """A row's facet values as keys such as 'domain:Marine' (PostgreSQL function of migration 0006)."""

    function = "catalog_dataset_facet_keys"
    output_field = ArrayField(TextField())
    FIELDS = ("domain", "license", "hosted", "modalities", "languages")


def _text_q(text):
    """The icontains fallback: every word must appear in one of the searched fields."""
    q = Q()
    for word in text.split()[:MAX_FALLBACK_WORDS]:
        q &= (
            Q(name__icontains=word)
            | Q(summary__icontains=word)
            | Q(card__icontains=word)
            | Q(domain__icontains=word)
            | Q(tags__icontains=word)
        )
    return q


def _postgres():
    return connection.vendor == "postgresql"


def _filtered(query):
    """Published datasets matching the text and every selected facet, unordered."""
    datasets = Dataset.objects.published()
    if query.text:
        if _postgres():
            datasets = datasets.filter(
                search_vector=SearchQuery(query.text, search_type="websearch", config=SEARCH_CONFIG)
            )
        else:
            datasets = datasets.filter(_text_q(query.text))
    if _postgres() and query.filters:
        # Through the GIN index of migration 0006: the facets' selections intersect in the index.
        datasets = datasets.alias(facet_keys=FacetKeys(*FacetKeys.FIELDS))
        for facet, values in query.filters:
            datasets = datasets.filter(facet_keys__overlap=[f"{facet}:{value}" for value in values])
        return datasets
    for facet, values in query.filters:
        datasets = datasets.filter(_facet_q(facet, values))
    return datasets


LIST_FIELDS = (
    "id",
    "slug",
    "name",
    "repo_id",
    "hosted",
    "license",
    "domain",
    "modalities",
    "languages",
    "summary",
    "downloads",
    "likes",
    "published_at",
)


def search(query):
    """Return the published datasets matching `query`, in its order, with only the listing's columns.

    Relevance ranks the COUNT_CAP newest matches (all of them when fewer match): ranking every match of a
    common word would read every matching row, so the work would follow the table instead of the page.
    """
    datasets = _filtered(query).only(*LIST_FIELDS)
    sort = query.effective_sort
    if sort == "relevance":
        if _postgres():
            rank = SearchRank(
                F("search_vector"), SearchQuery(query.text, search_type="websearch", config=SEARCH_CONFIG)
            )
        else:
            rank = Case(
                When(name__icontains=query.text, then=Value(2)),
                When(summary__icontains=query.text, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        candidates = _filtered(query).order_by(*_SORT_ORDER["newest"]).values("id")[:COUNT_CAP]
        datasets = Dataset.objects.only(*LIST_FIELDS).filter(id__in=Subquery(candidates))
        return datasets.annotate(rank=rank).order_by("-rank", "-published_at", "-id")
    return datasets.order_by(*_SORT_ORDER[sort])


@dataclasses.dataclass(frozen=True)
class Counts:
    """What `facet_counts()` found: {facet: [FacetValue, ...]} and the number of matches.

    `more`: more than COUNT_CAP datasets match, `total` is COUNT_CAP and is shown as "1,000+".
    `sampled`: some facet counted more than COUNT_CAP matches, so its counts are those among its COUNT_CAP
    first matches found (in storage order), which the page says.
    """

    facets: dict
    total: int
    more: bool
    sampled: bool


# Each row's distinct language codes (a row whose `languages` is not a list has none).
_LANGUAGE_ITEMS = (
    ", LATERAL (SELECT DISTINCT e.value AS item FROM jsonb_array_elements_text(CASE WHEN "
    "jsonb_typeof(sample.languages) = 'array' THEN sample.languages ELSE '[]'::jsonb END) AS e(value)) AS l"
)


def _sample_counts(query):
    """Count the facet values of the first COUNT_CAP matches found: (matches seen, {facet: {value: count}}).

    Reads at most COUNT_CAP + 1 rows, in no order: sorting them would read every match first (a selection
    matching a tenth of 100,000 datasets is 10,000 rows), so the work would follow the table. "Matches seen" is
    COUNT_CAP + 1 when there are more. On PostgreSQL the counting happens in the database and only the
    counts travel; elsewhere the rows are counted here.
    """
    if not _postgres():
        rows = _filtered(query).order_by().values_list(*FacetKeys.FIELDS)[: COUNT_CAP + 1]
        return _tally_rows(list(rows))
    sample = (
        _filtered(query)
        .annotate(position=Window(RowNumber()))
        .order_by()
        .values(*FacetKeys.FIELDS, "position")[: COUNT_CAP + 1]
    )
    sample_sql, params = sample.query.get_compiler(connection=connection).as_sql()
    counted = "FROM sample{} WHERE sample.position <= %s GROUP BY 2".format
    sql = (
        f"WITH sample AS ({sample_sql}) "  # noqa: S608 (Django's own SQL; every value is a parameter)
        f"SELECT 'domain', domain, COUNT(*) {counted('')} "
        f"UNION ALL SELECT 'license', license, COUNT(*) {counted('')} "
        "UNION ALL SELECT 'hosting', CASE WHEN hosted THEN 'hosted' ELSE 'linked' END, COUNT(*) "
        f"{counted('')} "
        "UNION ALL SELECT 'modality', item, COUNT(*) "
        f"{counted(', unnest(string_to_array(sample.modalities, %s)) AS item')} "
        "UNION ALL SELECT 'language', item, COUNT(*) "
        f"{counted(_LANGUAGE_ITEMS)} "
        "UNION ALL SELECT NULL, NULL, COUNT(*) FROM sample"
    )
    tallies = {facet: {} for facet in FACETS}
    seen = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, COUNT_CAP, COUNT_CAP, COUNT_CAP, ",", COUNT_CAP, COUNT_CAP])
        for facet, value, n in cursor.fetchall():
            if facet is None:
                seen = n
            elif value:
                tallies[facet][value] = n
    return seen, {facet: _most_frequent(counts) for facet, counts in tallies.items()}


def _tally_rows(rows):
    tallies = {facet: collections.Counter() for facet in FACETS}
    for domain, license_id, hosted, modalities, languages in rows[:COUNT_CAP]:
        tallies["domain"][domain] += 1
        tallies["license"][license_id] += 1
        tallies["hosting"]["hosted" if hosted else "linked"] += 1
        tallies["modality"].update({value for value in modalities.split(",") if value})
        if isinstance(languages, list):
            tallies["language"].update({str(code) for code in languages})
    return len(rows), {facet: _most_frequent(counts) for facet, counts in tallies.items()}


def _most_frequent(counts):
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT])


def _label(facet, value):
    if facet == "modality":
        return dict(Modality.choices).get(value, value)
    if facet == "hosting":
        return HOSTING.get(value, value)
    if facet == "license":
        info = license_info(value)
        return info["name"] if info else (value or "No licence given")
    return value


def catalog_stamp():
    """A value that changes when a dataset is added, saved or published.

    Reading it costs three index lookups, so it is itself cached for CATALOG_STAMP_SECONDS (default 2), in
    the shared cache and in this process: a save in this process forgets it at once
    (`forget_catalog_stamp`); a publication by another process shows within those seconds.
    """
    seconds = settings.CATALOG_STAMP_SECONDS
    if seconds > 0:
        if LOCAL_STAMP.get("until", 0) > time.monotonic():
            return LOCAL_STAMP["value"]
        cached = cache.get(CATALOG_STAMP_KEY)
        if cached is not None:
            LOCAL_STAMP.update(value=cached, until=time.monotonic() + seconds)
            return cached
    stamp = Dataset.objects.aggregate(Max("id"), Max("updated_at"), Max("published_at"))
    raw = "|".join(str(value) for value in stamp.values())
    value = hashlib.sha256(raw.encode()).hexdigest()[:16]
    if seconds > 0:
        cache.set(CATALOG_STAMP_KEY, value, seconds)
        LOCAL_STAMP.update(value=value, until=time.monotonic() + seconds)
    return value


def catalog_totals():
    """Return the whole catalog's counts: {"datasets", "hosted", "downloads"}.

    They read every published row, so with CATALOG_FACET_CACHE_SECONDS > 0 they are kept in the shared
    cache, keyed by `catalog_stamp()` like the facet counts: every visitor's home page reads them from
    there, and a change shows at once.
    """
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    key = f"catalog:totals:{catalog_stamp()}" if seconds > 0 else None
    totals = cache.get(key) if key else None
    if totals is None:
        totals = Dataset.objects.published().aggregate(
            datasets=Count("id"), hosted=Count("id", filter=Q(hosted=True)), downloads=Sum("downloads")
        )
        if key:
            cache.set(key, totals, seconds)
    return totals


def forget_catalog_stamp():
    """Make the next `catalog_stamp()` read the database (called when a dataset is saved here)."""
    LOCAL_STAMP.clear()
    cache.delete(CATALOG_STAMP_KEY)


def facet_counts(query):
    """Return the facet values with their counts and the number of matches, as a `Counts`.

    Each facet counts the datasets matching the query with that facet's own selection removed, so a visitor
    sees how many more results another value of it would add. Counting reads at most COUNT_CAP + 1 rows per
    sample (one sample for the query, one more per selected facet), found through the indexes: the
    number of queries and the rows each reads never depend on the size of the catalog. Past COUNT_CAP
    matches the total is shown as "1,000+" and the counts are those among the first COUNT_CAP matches found.
    With CATALOG_FACET_CACHE_SECONDS > 0 the result is cached that long per query, keyed also by a stamp of
    the newest change, so an edit shows at once.
    """
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    key = None
    if seconds > 0:
        key = f"catalog:facets:{query.cache_key()}:{catalog_stamp()}"
        cached = cache.get(key)
        if cached is not None:
            return cached
    selected = query.selected
    seen, shared = _sample_counts(query)
    more = sampled = seen > COUNT_CAP
    facets = {}
    for facet in FACETS:
        if facet in selected:
            own_seen, own = _sample_counts(query.without(facet))
            sampled = sampled or own_seen > COUNT_CAP
            counts = own[facet]
        else:
            counts = shared[facet]
        chosen = selected.get(facet, ())
        values = [
            FacetValue(value=value, label=_label(facet, value), count=n, selected=value in chosen)
            for value, n in counts.items()
            if value
        ]
        # A selected value stays visible (with its count 0) so it can be removed.
        values += [
            FacetValue(value=v, label=_label(facet, v), count=0, selected=True)
            for v in chosen
            if v not in counts
        ]
        facets[facet] = values
    result = Counts(facets=facets, total=min(seen, COUNT_CAP), more=more, sampled=sampled)
    if key is not None:
        cache.set(key, result, seconds)
    return result
