"""Search, facets and sorting of the public catalog: the one interface the catalog page and the API share.

`parse_query()` turns request parameters into a `CatalogQuery` (capped, validated), `search()` returns the
matching published datasets in order, and `facet_counts()` the counts per facet value, in a fixed number of
queries whatever the number of datasets or values. On PostgreSQL, text search uses the stored, GIN-indexed
`search_vector` (kept by a trigger, see migration 0002) with `websearch_to_tsquery` and `SearchRank`; on other
databases it falls back to `icontains` on the same fields. All user input reaches the database as query
parameters, never as SQL text. This module reads only; it must not write.
"""

import dataclasses
import hashlib
import json
import re

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, Value, When

from catalog.models import CATALOG_STAMP_KEY, Dataset
from submissions.carddata import language_codes, license_ids, license_info
from submissions.models import Modality

MAX_QUERY_CHARS = 200
MAX_VALUES_PER_FACET = 10
MAX_FACET_VALUE_CHARS = 100
MAX_FALLBACK_WORDS = 8
FACET_LIMIT = 30  # values shown per facet, most frequent first
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
    """Return the published datasets matching `query`, in its order, with only the listing's columns."""
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
        return datasets.annotate(rank=rank).order_by("-rank", "-published_at", "-id")
    return datasets.order_by(*_SORT_ORDER[sort])


def _grouped(datasets, field):
    rows = datasets.values(field).annotate(n=Count("id")).order_by("-n", field)[:FACET_LIMIT]
    return {row[field]: row["n"] for row in rows}


def _language_counts(datasets):
    """Count datasets per language code in one pass over the matching rows."""
    if _postgres():
        rows_sql, params = (
            datasets.values("id", "languages").query.get_compiler(connection=connection).as_sql()
        )
        # One scan of the matching rows; each row's codes are made distinct in its own lateral subquery.
        sql = (
            f"SELECT item.value, COUNT(*) AS n FROM ({rows_sql}) d CROSS JOIN LATERAL ("  # noqa: S608
            "SELECT DISTINCT e.value FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(d.languages) = "
            "'array' THEN d.languages ELSE '[]'::jsonb END) AS e(value)) item "
            "GROUP BY item.value ORDER BY n DESC, item.value LIMIT %s"
        )
    else:
        rows_sql, params = datasets.values("id").query.get_compiler(connection=connection).as_sql()
        sql = (
            "SELECT item.value, COUNT(DISTINCT d.id) AS n FROM catalog_dataset d, "  # noqa: S608
            "json_each(CASE WHEN json_type(d.languages) = 'array' THEN d.languages ELSE '[]' END) AS item "
            f"WHERE d.id IN ({rows_sql}) GROUP BY item.value ORDER BY n DESC, item.value LIMIT %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, FACET_LIMIT])
        return {str(value): n for value, n in cursor.fetchall()}


def _shared_counts(datasets, facets):
    """Count several facets and the total over the same rows in one PostgreSQL scan (GROUPING SETS).

    Returns ({facet: {value: count}}, total) for the facets among domain, license, hosting and modality.
    """
    rows_sql, params = (
        datasets.values("domain", "license", "hosted", "modalities")
        .query.get_compiler(connection=connection)
        .as_sql()
    )
    has_modality = ["COUNT(*) FILTER (WHERE (',' || d.modalities || ',') LIKE %s)" for _ in Modality.values]
    sql = (
        "SELECT GROUPING(d.domain), GROUPING(d.license), d.domain, d.license, COUNT(*), "  # noqa: S608
        "COUNT(*) FILTER (WHERE d.hosted), COUNT(*) FILTER (WHERE NOT d.hosted), "
        + ", ".join(has_modality)
        + f" FROM ({rows_sql}) d GROUP BY GROUPING SETS ((d.domain), (d.license), ())"
    )
    modality_patterns = [f"%,{value},%" for value in Modality.values]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*modality_patterns, *params])
        rows = cursor.fetchall()
    domains, licenses, total, hosting, modality = {}, {}, 0, {}, {}
    for grouping_domain, grouping_license, domain, license_id, n, hosted, linked, *per_modality in rows:
        if grouping_domain == 0:
            domains[domain] = n
        elif grouping_license == 0:
            licenses[license_id] = n
        else:
            total = n
            hosting = {"hosted": hosted, "linked": linked}
            modality = dict(zip(Modality.values, per_modality, strict=True))

    def top(counts):
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))
        return dict(ordered[:FACET_LIMIT])

    every = {"domain": top(domains), "license": top(licenses), "hosting": hosting, "modality": modality}
    return {facet: every[facet] for facet in facets}, total


def _count_facet(facet, datasets):
    if facet in ("domain", "license"):
        return _grouped(datasets, facet)
    if facet == "hosting":
        # Aggregate names must not shadow fields (`hosted`), hence the prefix.
        counts = datasets.aggregate(
            n_hosted=Count("id", filter=Q(hosted=True)), n_linked=Count("id", filter=Q(hosted=False))
        )
        return {"hosted": counts["n_hosted"], "linked": counts["n_linked"]}
    if facet == "modality":
        counts = datasets.aggregate(
            **{f"n_{value}": Count("id", filter=_modality_q(value)) for value in Modality.values}
        )
        return {value: counts[f"n_{value}"] for value in Modality.values}
    return _language_counts(datasets)


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

    Reading it costs three index lookups, so it is itself cached for CATALOG_STAMP_SECONDS (default 2):
    a save in this process forgets it at once (`forget_catalog_stamp`); a publication by a worker
    process shows within those seconds.
    """
    seconds = settings.CATALOG_STAMP_SECONDS
    if seconds > 0:
        cached = cache.get(CATALOG_STAMP_KEY)
        if cached is not None:
            return cached
    stamp = Dataset.objects.aggregate(Max("id"), Max("updated_at"), Max("published_at"))
    raw = "|".join(str(value) for value in stamp.values())
    value = hashlib.sha256(raw.encode()).hexdigest()[:16]
    if seconds > 0:
        cache.set(CATALOG_STAMP_KEY, value, seconds)
    return value


def forget_catalog_stamp():
    """Make the next `catalog_stamp()` read the database (called when a dataset is saved here)."""
    cache.delete(CATALOG_STAMP_KEY)


def facet_counts(query):
    """Return {facet: [FacetValue, ...]} and the total number of matches, as (facets, total).

    Each facet counts the datasets matching the query with that facet's own selection removed, so a visitor
    sees how many more results another value of it would add. One query per facet plus one for the total:
    the number never depends on the data. With CATALOG_FACET_CACHE_SECONDS > 0 the result is cached that
    long per query, keyed also by a stamp of the newest change, so an edit shows at once.
    """
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    key = None
    if seconds > 0:
        key = f"catalog:facets:{query.cache_key()}:{catalog_stamp()}"
        cached = cache.get(key)
        if cached is not None:
            return cached
    selected = query.selected
    # Facets without a selection all count over the same matching rows: on PostgreSQL one scan does them.
    shared, total = {}, None
    if _postgres():
        unselected = [
            facet for facet in ("domain", "license", "hosting", "modality") if facet not in selected
        ]
        shared, total = _shared_counts(_filtered(query), unselected)
    facets = {}
    for facet in FACETS:
        counts = shared[facet] if facet in shared else _count_facet(facet, _filtered(query.without(facet)))
        chosen = selected.get(facet, ())
        values = [
            FacetValue(value=value, label=_label(facet, value), count=n, selected=value in chosen)
            for value, n in counts.items()
            if (n or value in chosen) and value
        ]
        # A selected value stays visible (with its count 0) so it can be removed.
        values += [
            FacetValue(value=v, label=_label(facet, v), count=0, selected=True)
            for v in chosen
            if v not in counts
        ]
        facets[facet] = values
    if total is None:
        total = _filtered(query).count()
    result = (facets, total)
    if key is not None:
        cache.set(key, result, seconds)
    return result
