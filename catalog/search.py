"""Search, facets and sorting of the public catalog: the one interface the catalog page and the API share.

`parse_query()` turns request parameters into a `CatalogQuery` (capped, validated), `search()` returns the
matching published datasets in order, and `facet_counts()` the counts per facet value, in a fixed number of
queries whatever the number of datasets or values. Without search text, on PostgreSQL, the counts are exact
and come from the facet bitmaps of migration 0010, reading no dataset row; with text each count reads a
bounded number of rows (COUNT_CAP): past it totals are shown as "more than 1,000" and facet counts are those
of the first COUNT_CAP matches found. Pages stop after COUNT_CAP results either way. On PostgreSQL, text
search uses the stored, GIN-indexed `search_vector` (kept by a trigger, see migration 0002) with
`websearch_to_tsquery` and `SearchRank`, facet filters the GIN-indexed `facet_keys`, and a newest-first page
of a facet selection the facet keys' posting lists (migration 0011, `FacetMatches`); on other databases
it falls back to `icontains` and the facet columns. All user input reaches the database as query
parameters, never as SQL text. This module reads only; it must not write.
"""

import collections
import dataclasses
import hashlib
import json
import re
import time

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from catalog.labels import domain_label, language_label, modality_label
from catalog.models import CATALOG_STAMP_KEY, LOCAL_STAMP, Dataset, FacetBitmap
from submissions.carddata import language_codes, license_ids, license_info
from submissions.models import Domain, Modality

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

# The labels here are English, as the API gives them; a page shows them through gettext.
SORTS = {
    "relevance": gettext_noop("Relevance"),
    "newest": gettext_noop("Newest"),
    "downloads": gettext_noop("Most downloaded"),
    "likes": gettext_noop("Most liked"),
}
_SORT_ORDER = {
    "newest": ("-published_at", "-id"),
    "downloads": ("-downloads", "-id"),
    "likes": ("-likes", "-id"),
}

HOSTING = {"hosted": gettext_noop("Hosted on the Hub"), "linked": gettext_noop("Linked to the source")}
NO_LICENCE = gettext_noop("No licence given")

# Request parameter -> label, in display order.
FACETS = {
    "domain": gettext_noop("Domain"),
    "modality": gettext_noop("Modality"),
    "license": gettext_noop("Licence"),
    "hosting": gettext_noop("Hosting"),
    "language": gettext_noop("Language"),
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
    """One value of a facet with the number of datasets it would show; `label` is English (the API's)."""

    value: str
    label: str
    count: int
    selected: bool


def known_domains():
    """Return the domains a filter may name: the curated list and every domain a published dataset has had.

    A suggested domain is published as it was typed, so the curated list alone would not do. On PostgreSQL
    the facet bitmaps hold one short row per domain ever published (no dataset row is read); elsewhere the
    published rows are read.
    """
    names = set(Domain.objects.values_list("name", flat=True))
    if _postgres():
        keys = FacetBitmap.objects.filter(key__startswith="domain:").values_list("key", flat=True)
        names.update(key.removeprefix("domain:") for key in keys)
    else:
        names.update(Dataset.objects.published().order_by().values_list("domain", flat=True).distinct())
    return frozenset(names)


def _valid_values(facet):
    """Return a facet's allowed values by their folded form ({"marine": "Marine"}): people type them in
    any case."""
    if facet == "modality":
        values = Modality.values
    elif facet == "hosting":
        values = HOSTING
    elif facet == "license":
        values = license_ids()
    elif facet == "language":
        values = language_codes()
    else:
        values = known_domains()
    return {value.casefold(): value for value in values}


def parse_query(params, *, strict=False):
    """Read a `CatalogQuery` from request parameters; return (query, notices for the visitor).

    `params` is a QueryDict (or a dict of lists). Text is stripped and cut to MAX_QUERY_CHARS. Unknown facet
    values and sorts are dropped with a notice (in the reader's language), or raise `BadQuery` when `strict`
    (the API, which speaks English).
    """
    notices = []

    def raw_list(name):
        values = params.getlist(name) if hasattr(params, "getlist") else list(params.get(name, []))
        return [str(value) for value in values]

    def getlist(name):
        # Control characters never belong in a search; NUL would even be refused by PostgreSQL.
        return [_CONTROL_CHARS.sub(" ", value) for value in raw_list(name)]

    texts = getlist("q")
    text = " ".join(texts[0].split()) if texts else ""
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rstrip()
        notices.append(
            gettext("The search text was cut to its first %(count)s characters.") % {"count": MAX_QUERY_CHARS}
        )

    filters = []
    for facet in FACETS:
        given = raw_list(facet)
        if not given:
            continue
        if strict:
            _check_strictly(facet, given)
        allowed = _valid_values(facet)
        chosen = []
        for value in getlist(facet):
            value = value.strip()
            if not value:
                continue
            known = allowed.get(value.casefold()) if len(value) <= MAX_FACET_VALUE_CHARS else None
            if known is None:
                if strict:
                    raise BadQuery(f"Unknown {facet} value {value[:40]!r}.")
                notices.append(
                    gettext("“%(value)s” is not a known %(facet)s; it was ignored.")
                    % {"value": value[:40], "facet": gettext(FACETS[facet]).lower()}
                )
                continue
            if known not in chosen:
                chosen.append(known)
        if len(chosen) > MAX_VALUES_PER_FACET:
            if strict:
                raise BadQuery(f"Choose at most {MAX_VALUES_PER_FACET} values of {facet}.")
            notices.append(
                gettext("Only the first %(count)s values of %(facet)s are used.")
                % {"count": MAX_VALUES_PER_FACET, "facet": gettext(FACETS[facet]).lower()}
            )
            chosen = chosen[:MAX_VALUES_PER_FACET]
        if chosen:
            filters.append((facet, tuple(sorted(chosen))))

    sorts = getlist("sort")
    sort = sorts[0].strip().lower() if sorts else ""
    if sort and sort not in SORTS:
        if strict:
            raise BadQuery(f"Unknown sort {sort[:40]!r}; use one of: {', '.join(SORTS)}.")
        notices.append(
            gettext("“%(sort)s” is not a way to sort; the default order is used.") % {"sort": sort[:40]}
        )
        sort = ""
    return CatalogQuery(text=text, filters=tuple(filters), sort=sort), notices


def _check_strictly(facet, values):
    """Raise BadQuery for an empty value or one holding a control character (the API refuses them)."""
    for value in values:
        if not value.strip():
            raise BadQuery(f"Give a value for {facet}, or leave the parameter out.")
        if _CONTROL_CHARS.search(value):
            raise BadQuery(f"The {facet} value {value[:40]!r} holds a control character; remove it.")


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


FACET_FIELDS = ("domain", "license", "hosted", "modalities", "languages")


def _keys(facet, values):
    """The facet keys of selected values, as stored in `Dataset.facet_keys` (migration 0010)."""
    return [f"{facet}:{value}" for value in values]


def _selection(query):
    """The query's selected facet keys as two parallel lists: (facet of each key, key)."""
    pairs = [(facet, key) for facet, values in query.filters for key in _keys(facet, values)]
    return [facet for facet, _ in pairs], [key for _, key in pairs]


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


def _search_query(text):
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)


def _rank(text):
    """The relevance of a row to `text`: PostgreSQL's rank of the search document, else a coarse guess."""
    if _postgres():
        return SearchRank(F("search_vector"), _search_query(text))
    return Case(
        When(name__icontains=text, then=Value(2)),
        When(summary__icontains=text, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _filtered(query):
    """Published datasets matching the text and every selected facet, unordered."""
    datasets = Dataset.objects.published()
    if query.text:
        if _postgres():
            datasets = datasets.filter(search_vector=_search_query(query.text))
        else:
            datasets = datasets.filter(_text_q(query.text))
    if _postgres():
        # Through the GIN index over the stored keys (migration 0010): selections intersect in the index.
        for facet, values in query.filters:
            datasets = datasets.filter(facet_keys__overlap=_keys(facet, values))
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
    "doi",
)


def search(query, *, counts=None):
    """Return the published datasets matching `query`, in its order, with only the listing's columns.

    A QuerySet, except for relevance (`RankedMatches`) and, on PostgreSQL, for a newest-first facet selection
    without text (`FacetMatches`), which read one slice at a time. `counts`, the query's `facet_counts()`,
    may carry the ranked ids of the candidates (PostgreSQL), found while counting.
    """
    sort = query.effective_sort
    if sort == "relevance":
        return RankedMatches(query, ranked=counts.ranked if counts is not None else None)
    if sort == "newest" and query.filters and not query.text and _postgres():
        return FacetMatches(query)
    return _filtered(query).only(*LIST_FIELDS).order_by(*_SORT_ORDER[sort])


class _Slices:
    """Matches read one slice at a time, as a paginator slices a QuerySet, up to COUNT_CAP of them."""

    ordered = True

    def _slice(self, start, stop):
        raise NotImplementedError

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1):
                raise ValueError(f"{type(self).__name__} takes slices without a step.")
            start = max(0, index.start or 0)
            stop = COUNT_CAP if index.stop is None else min(index.stop, COUNT_CAP)
            return self._slice(start, stop) if stop > start else []
        return self._slice(index, index + 1)[0]

    def __iter__(self):
        return iter(self[:COUNT_CAP])


# A selection of facet values in SQL (PostgreSQL), shared by the exact counts and the facet pages. Parameters:
# each selected key's facet, and the keys (`_selection()`). `selected`: those keys; `chosen`: per selected
# facet, the OR of its selected values' bitmaps, how many of those values have one (`found`) and how many
# datasets they hold together (`datasets`).
_SELECTION = """
WITH selected AS MATERIALIZED (
    SELECT * FROM unnest(%s::text[], %s::text[]) AS selected(facet, key)
), chosen AS MATERIALIZED (
    SELECT selected.facet, bit_or(bitmap.bits) AS bits, count(bitmap.key) AS found,
        sum(bitmap.datasets) AS datasets
    FROM selected LEFT JOIN catalog_facetbitmap AS bitmap ON bitmap.key = selected.key
    GROUP BY selected.facet
)"""

# A newest-first slice of a facet selection without text (PostgreSQL). `mask`: the selection's bitmap (the
# AND of each selected facet's OR of its values' bitmaps, NULL when a facet matches nothing), copied out
# of its stored, compressed form once (`|| B''`) rather than once per get_bit. The posting lists of the
# facet whose values hold the fewest datasets (none: nothing to walk) are walked newest first through their
# index, keeping the datasets whose bit is set, and merged. The walk reads about `stop` x (that facet's
# datasets / the selection's) index entries, at most that facet's whole lists when the selection has fewer
# than `stop` datasets: a number set by the selection's shape, not by the catalog's size. It reads no
# dataset row.
_FACET_PAGE = (
    _SELECTION  # noqa: S608 (constant SQL; every value is a parameter)
    + """, mask AS MATERIALIZED (
    SELECT CASE WHEN bool_or(found = 0) THEN NULL ELSE bit_and(bits) || B'' END AS bits FROM chosen
)
SELECT walked.dataset_id FROM (
    SELECT selected.key FROM selected
    WHERE selected.facet = (SELECT facet FROM chosen ORDER BY coalesce(datasets, 0), facet LIMIT 1)
) AS walk CROSS JOIN LATERAL (
    SELECT posting.dataset_id, posting.published_at FROM catalog_facetposting AS posting
    WHERE posting.key = walk.key AND get_bit((SELECT bits FROM mask), posting.dataset_id::integer) = 1
    ORDER BY posting.published_at DESC, posting.dataset_id DESC LIMIT %s
) AS walked
GROUP BY walked.dataset_id, walked.published_at
ORDER BY walked.published_at DESC, walked.dataset_id DESC LIMIT %s OFFSET %s
"""
)


class FacetMatches(_Slices):
    """The matches of a facet selection without text, newest first, through the posting lists (PostgreSQL).

    A slice is one query: the ids of its datasets from the posting lists and the facet bitmaps
    (`_FACET_PAGE`), then their rows. Walking the catalog newest first instead would read about
    page size x (catalog / matches) rows, which grows with the catalog for a narrow selection.
    """

    def __init__(self, query):
        self.query = query

    def _slice(self, start, stop):
        facets, keys = _selection(self.query)
        ids = RawSQL(_FACET_PAGE, (facets, keys, stop, stop - start, start))  # noqa: S611 (values are parameters)
        return list(
            Dataset.objects.published().only(*LIST_FIELDS).filter(id__in=ids).order_by(*_SORT_ORDER["newest"])
        )


class RankedMatches(_Slices):
    """The matches of a text query, best first, read a slice at a time (as a paginator slices a QuerySet).

    Relevance ranks the COUNT_CAP newest matches (all of them when fewer match): ranking every match of a
    common word would read every matching row, so the work would follow the table instead of the page. The
    rank is computed while those rows are found, and only the slice's rows are read again. With `ranked`
    (the candidates' ids best first, as `facet_counts()` found them) a slice reads only its own rows.
    """

    def __init__(self, query, *, ranked=None):
        self.query = query
        self.ranked = ranked

    def _slice(self, start, stop):
        if self.ranked is not None:
            ids = self.ranked[start:stop]
            rows = Dataset.objects.published().only(*LIST_FIELDS).in_bulk(ids)  # never one unpublished since
            return [rows[pk] for pk in ids if pk in rows]
        rank = _rank(self.query.text)
        candidates = (
            _filtered(self.query)
            .annotate(rank=rank)
            .order_by(*_SORT_ORDER["newest"])
            .values("id", "rank", "published_at")[:COUNT_CAP]
        )
        sql, params = candidates.query.sql_with_params()
        # Django's own SQL for the candidates; every value, the slice's bounds too, is a parameter.
        chosen = RawSQL(  # noqa: S611
            f"SELECT candidate.id FROM ({sql}) AS candidate "  # noqa: S608
            "ORDER BY candidate.rank DESC, candidate.published_at DESC, candidate.id DESC LIMIT %s OFFSET %s",
            (*params, max(0, stop - start), start),
        )
        return list(
            Dataset.objects.only(*LIST_FIELDS)
            .filter(id__in=chosen)
            .annotate(rank=rank)
            .order_by("-rank", "-published_at", "-id")
        )


@dataclasses.dataclass(frozen=True)
class Counts:
    """What `facet_counts()` found: {facet: [FacetValue, ...]} and the number of matches.

    Without search text on PostgreSQL the counts are exact (from the facet bitmaps). Otherwise they are
    counted among the first COUNT_CAP + 1 matches found: `total` stops at COUNT_CAP and `sampled` says that
    some facet had more matches, so its counts are those among its first COUNT_CAP matches found (in storage
    order), which the page says; `exact` when none had.
    `more`: more than COUNT_CAP datasets match, so only the first COUNT_CAP can be paged through
    (`browsable`), and an inexact total is shown as "more than 1,000".
    """

    facets: dict
    total: int
    more: bool
    sampled: bool
    ranked: tuple | None = None  # with search text on PostgreSQL: the candidates' ids, best match first

    @property
    def exact(self):
        """`total` and every facet count are exact: every match was counted."""
        return not self.sampled

    @property
    def browsable(self):
        """The number of matches that can be paged through."""
        return min(self.total, COUNT_CAP)


def _by_facet(key_counts):
    """Turn (facet key, count) pairs into {facet: {value: count}}, the most frequent values of each facet."""
    tallies = {facet: {} for facet in FACETS}
    for key, n in key_counts:
        facet, _, value = (key or "").partition(":")
        if n and facet in tallies:
            tallies[facet][value] = n
    return {facet: _most_frequent(counts) for facet, counts in tallies.items()}


# Exact counts from the facet bitmaps (migration 0010, all of one length), after `_SELECTION`. `masks`: per
# facet (and, as NULL, for the total) the AND of the other facets' selections, NULL when no other facet has
# one, `empty` when one of them matches nothing. A key's count is then its stored number of datasets (no
# mask), or its bitmap AND the mask; bitmaps are only read (detoasted) when a mask needs them.
_BITMAP_COUNTS = (
    _SELECTION  # noqa: S608 (constant SQL; every value is a parameter)
    + """, masks AS MATERIALIZED (
    SELECT facets.facet,
        (SELECT bool_or(found = 0) FROM chosen WHERE chosen.facet IS DISTINCT FROM facets.facet) AS empty,
        (SELECT bit_and(bits) FROM chosen WHERE chosen.facet IS DISTINCT FROM facets.facet) AS bits
    FROM unnest(%s::text[]) AS facets(facet)
)
SELECT NULL, CASE WHEN masks.empty THEN 0 WHEN masks.bits IS NULL THEN (
        SELECT sum(datasets) FROM catalog_facetbitmap WHERE starts_with(key, 'hosting:'))
    ELSE bit_count(masks.bits) END
FROM masks WHERE masks.facet IS NULL
UNION ALL
SELECT bitmap.key, CASE WHEN masks.empty THEN 0 WHEN masks.bits IS NULL THEN bitmap.datasets
    ELSE bit_count(bitmap.bits & masks.bits) END
FROM catalog_facetbitmap AS bitmap JOIN masks ON masks.facet = split_part(bitmap.key, ':', 1)
"""
)


def _bitmap_counts(query):
    """Exact facet counts and total of a query without text, from the facet bitmaps (PostgreSQL).

    One query whose work is a few bit operations per facet key, over an eighth of a byte per dataset: it
    reads no dataset row, whatever the selection matches.
    """
    facets, keys = _selection(query)
    with connection.cursor() as cursor:
        cursor.execute(_BITMAP_COUNTS, [facets, keys, [*FACETS, None]])
        rows = cursor.fetchall()
    total = next(n for key, n in rows if key is None) or 0
    return total, _by_facet((key, n) for key, n in rows if key is not None)


def _sample_counts(query):
    """Count the facet values of the first COUNT_CAP matches found: (matches seen, {facet: {value: count}}).

    Reads at most COUNT_CAP + 1 rows, in no order: sorting them would read every match first (a common
    word matches a quarter of 100,000 datasets), so the work would follow the table. "Matches seen" is
    COUNT_CAP + 1 when there are more. On PostgreSQL the rows' stored facet keys are counted in the
    database and only the counts travel; elsewhere the rows are counted here.
    """
    if not _postgres():
        rows = _filtered(query).order_by().values_list(*FACET_FIELDS)[: COUNT_CAP + 1]
        return _tally_rows(list(rows))
    rows = _rows_around(
        _filtered(query).order_by().values("facet_keys")[: COUNT_CAP + 1],
        "WITH sample AS MATERIALIZED ({inner}) "
        "SELECT 'seen', NULL, COUNT(*) FROM sample "
        "UNION ALL SELECT 'key', key, COUNT(*) FROM (SELECT unnest(facet_keys) AS key "
        "FROM (SELECT facet_keys FROM sample LIMIT %s) AS counted) AS keyed GROUP BY key",
        COUNT_CAP,
    )
    seen = next(n for kind, _, n in rows if kind == "seen")
    return seen, _by_facet((key, n) for kind, key, n in rows if kind == "key")


def _rows_around(queryset, template, *extra):
    """Run `template` with `{inner}` replaced by the queryset's own SQL; return the rows.

    The queryset's values stay query parameters, followed by `extra` for the template's own placeholders.
    """
    inner, params = queryset.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(template.format(inner=inner), [*params, *extra])
        return cursor.fetchall()


def _ranked_counts(query):
    """Count the facet values of the COUNT_CAP newest matches of a text query and rank them (PostgreSQL).

    Returns (matches seen, {facet: {value: count}}, ids best first): one scan finds the COUNT_CAP + 1
    newest matches with their rank, which both the counts and `RankedMatches` use, so the search's rows
    are read once. "Matches seen" is COUNT_CAP + 1 when there are more.
    """
    candidates = (
        _filtered(query)
        .annotate(rank=_rank(query.text))
        .order_by(*_SORT_ORDER["newest"])
        .values("id", "facet_keys", "rank", "published_at")[: COUNT_CAP + 1]
    )
    rows = _rows_around(
        candidates,
        "WITH candidate AS MATERIALIZED ({inner}), "
        "counted AS (SELECT * FROM candidate ORDER BY published_at DESC, id DESC LIMIT %s) "
        "SELECT 'seen', NULL, COUNT(*), NULL::bigint[] FROM candidate "
        "UNION ALL SELECT 'key', key, COUNT(*), NULL FROM (SELECT unnest(facet_keys) AS key FROM counted) AS keyed "
        "GROUP BY key "
        "UNION ALL SELECT 'ranked', NULL, NULL, array_agg(id ORDER BY rank DESC, published_at DESC, id DESC) "
        "FROM counted",
        COUNT_CAP,
    )
    seen = next(n for kind, _, n, _ in rows if kind == "seen")
    ranked = next(tuple(ids or ()) for kind, _, _, ids in rows if kind == "ranked")
    return seen, _by_facet((key, n) for kind, key, n, _ in rows if kind == "key"), ranked


def _tally_rows(rows):
    tallies = {facet: collections.Counter() for facet in FACETS}
    for domain, license_id, hosted, modalities, languages in rows[:COUNT_CAP]:
        tallies["domain"][domain] += 1
        tallies["license"][license_id] += 1
        tallies["hosting"]["hosted" if hosted else "linked"] += 1
        tallies["modality"].update({value for value in modalities.split(",") if value})
        if isinstance(languages, list):
            tallies["language"].update({str(code) for code in languages if code})
    return len(rows), {facet: _most_frequent(counts) for facet, counts in tallies.items()}


def _most_frequent(counts):
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT])


def value_label(facet, value):
    """Return how a facet's value reads on the page, in the reader's language ("Images" for "images").

    A licence reads as its name, which is not translated.
    """
    if facet == "modality":
        return modality_label(value)
    if facet == "hosting":
        return gettext(HOSTING[value]) if value in HOSTING else value
    if facet == "license":
        info = license_info(value)
        return info["name"] if info else (value or gettext(NO_LICENCE))
    if facet == "language":
        return language_label(value)
    if facet == "domain":
        return domain_label(value)
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
    sees how many more results another value of it would add. Without search text, on PostgreSQL, the
    counts are exact and come from the facet bitmaps (`FacetBitmap`) in one query. With text (or on
    SQLite) they are counted over at most COUNT_CAP + 1 matches per sample (one sample for the query, one
    more per selected facet), found through the indexes: past COUNT_CAP matches the total is shown as "more
    than 1,000" and the counts are those among the first COUNT_CAP matches found. Either way the number of
    queries never depends on the size of the catalog. With CATALOG_FACET_CACHE_SECONDS > 0 the result is
    cached that long per query, keyed also by a stamp of the newest change, so an edit shows at once.
    """
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    key = None
    if seconds > 0:
        key = f"catalog:facets:{query.cache_key()}:{catalog_stamp()}"
        cached = cache.get(key)
        if cached is not None:
            return cached
    if _postgres() and not query.text:
        total, counted = _bitmap_counts(query)
        result = _counts(query, counted, total=total, more=total > COUNT_CAP, sampled=False)
    else:
        result = _sampled_counts(query)
    if key is not None:
        cache.set(key, result, seconds)
    return result


def _sampled_counts(query):
    selected = query.selected
    ranked = None
    if _postgres() and query.text:
        seen, counted, ranked = _ranked_counts(query)
    else:
        seen, counted = _sample_counts(query)
    more = sampled = seen > COUNT_CAP
    for facet in selected:
        own_seen, own = _sample_counts(query.without(facet))
        sampled = sampled or own_seen > COUNT_CAP
        counted[facet] = own[facet]
    return _counts(query, counted, total=min(seen, COUNT_CAP), more=more, sampled=sampled, ranked=ranked)


def _counts(query, counted, **found):
    selected = query.selected
    facets = {}
    # Labels in English, whoever asked: the API gives them, and counts are kept in the shared cache for
    # every reader (a page translates the values itself, through `value_label`).
    with translation.override("en"):
        for facet in FACETS:
            chosen = selected.get(facet, ())
            values = [
                FacetValue(value=value, label=value_label(facet, value), count=n, selected=value in chosen)
                for value, n in counted[facet].items()
                if value
            ]
            # A selected value stays visible (with its count 0) so it can be removed.
            values += [
                FacetValue(value=v, label=value_label(facet, v), count=0, selected=True)
                for v in chosen
                if v not in counted[facet]
            ]
            facets[facet] = values
    return Counts(facets=facets, **found)
