"""Public catalog pages: home, catalog list with search and facets, dataset page, and a health check.

Views are thin: `catalog.search` does the searching and counting (the JSON API uses the same module); the
dataset page's derived values (card body, citation, JSON-LD) come from the small functions below, which only
read the row. User Markdown is rendered by `portal.markdown` alone. No view here writes to the database.
"""

import hashlib
import json
import mimetypes

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_safe

from catalog import citation, croissant, dcat, hub, paging, search, selectors, usage
from catalog.models import Dataset, DoiRegistration
from portal.usage_chart import usage_chart
from submissions import cards
from submissions.carddata import license_info
from submissions.models import fold_name

PAGE_SIZE = 20
HOME_NEWEST = 6
JSONLD_DESCRIPTION_MIN = 50  # Google's dataset guidance: a description of 50 to 5000 characters
JSONLD_DESCRIPTION_MAX = 5000

# Characters that could end a <script> element or start an HTML comment inside it, as JSON escapes
# (the same set Django's `json_script` escapes).
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@require_safe
def healthz(request):
    """Answer "ok" without touching the database: for load balancers, Docker and the bench's baseline."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def home(request):
    """The home page: what the portal is, the contribute button, newest datasets and counts."""
    published = Dataset.objects.published()
    newest = published.only(*search.LIST_FIELDS).order_by("-published_at", "-id")[:HOME_NEWEST]
    return render(request, "home.html", {"newest": newest, "counts": search.catalog_totals()})


def _query_pairs(query, *, page=None, sort=None, toggle=None):
    """Return the URL parameters of `query`, optionally with a page, another sort or one facet value toggled."""
    pairs = [("q", query.text)] if query.text else []
    filters = {facet: list(values) for facet, values in query.filters}
    if toggle is not None:
        facet, value = toggle
        values = filters.setdefault(facet, [])
        if value in values:
            values.remove(value)
        else:
            values.append(value)
    for facet in search.FACETS:
        pairs += [(facet, value) for value in sorted(filters.get(facet, []))]
    chosen_sort = query.sort if sort is None else sort
    if chosen_sort:
        pairs.append(("sort", chosen_sort))
    if page and page > 1:
        pairs.append(("page", page))
    return pairs


def _page_number(raw, *, last, more):
    """Return (page number, notice): a page that names none shows the nearest one, with the reason."""
    try:
        return paging.page_number(raw, pages=last, capped_at=search.COUNT_CAP if more else None), None
    except paging.BadPage as exc:
        shown = gettext("Showing the first page.") if exc.nearest == 1 else gettext("Showing the last page.")
        return exc.nearest, f"{exc.localized()} {shown}"


@require_safe
def dataset_list(request):
    """The catalog: search box, facets with counts, sort, pagination; the URL holds the whole query.

    For a visitor without cookies (no session, no pending message, no language chosen with the switcher:
    crawlers, shared links) the page is the same for every reader of a language, so its HTML is cached per
    URL and language (the one Accept-Language chose) for CATALOG_FACET_CACHE_SECONDS, keyed also by
    `search.catalog_stamp()`: any saved or published dataset changes the key, so changes show at once.
    Rendering the template costs far more than the queries; this is what makes the page cheap.
    """
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    key = None
    if seconds > 0 and not request.COOKIES:
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        key = f"catalog:list-page:{get_language()}:{path}:{search.catalog_stamp()}"
        html = cache.get(key)
        if html is not None:
            return HttpResponse(html)
    response = _render_list(request)
    if key is not None:
        cache.set(key, response.content, seconds)
    return response


def _render_list(request):
    query, notices = search.parse_query(request.GET)
    counts = search.facet_counts(query)
    facets = counts.facets
    paginator = Paginator(search.search(query, counts=counts), PAGE_SIZE, allow_empty_first_page=True)
    paginator.count = counts.browsable  # counted with the facets already: no second COUNT query
    number, notice = _page_number(request.GET.get("page"), last=paginator.num_pages, more=counts.more)
    if notice:
        notices.append(notice)
    page = paginator.page(number)
    base = reverse("catalog:list")

    def link(**kwargs):
        pairs = _query_pairs(query, **kwargs)
        return f"{base}?{urlencode(pairs)}" if pairs else base

    facet_groups = [
        {
            "name": facet,
            "label": gettext(label),
            "values": [
                {
                    "value": v,
                    "label": search.value_label(facet, v.value),
                    "link": link(toggle=(facet, v.value)),
                }
                for v in facets[facet]
            ],
        }
        for facet, label in search.FACETS.items()
    ]
    removable = [
        {
            "facet": gettext(search.FACETS[facet]),
            "value": value,
            "label": search.value_label(facet, value),
            "link": link(toggle=(facet, value)),
        }
        for facet, values in query.filters
        for value in values
    ]
    context = {
        "query": query,
        "page": page,
        "counts": counts,
        "cap": search.COUNT_CAP,
        "notices": notices,
        "facet_groups": facet_groups,
        "removable": removable,
        "sorts": {value: gettext(label) for value, label in search.SORTS.items()},
        "current_sort": query.effective_sort,
        "hidden_filters": [(f, v) for f, values in query.filters for v in values],
        "previous_link": link(page=page.previous_page_number()) if page.has_previous() else None,
        "next_link": link(page=page.next_page_number()) if page.has_next() else None,
        "clear_text_link": f"{base}?{urlencode(_query_pairs(_without_text(query)))}",
    }
    return render(request, "catalog/list.html", context)


def _without_text(query):
    return search.CatalogQuery(text="", filters=query.filters, sort=query.sort)


def card_body(card, *, title=None):
    """Return the Markdown body of a card, without its YAML header nor a first heading that repeats `title`."""
    body = cards.card_body(card or "")
    if title:
        lines = body.lstrip("\n").split("\n", 1)
        first = lines[0].strip()
        if first.startswith("# ") and fold_name(first[2:]) == fold_name(title):
            body = lines[1] if len(lines) > 1 else ""
    return body


# The BibTeX entry of the dataset page (also imported from here by older callers).
bibtex = citation.bibtex


def _description(dataset):
    text = " ".join((dataset.summary or "").split())
    if len(text) < JSONLD_DESCRIPTION_MIN:
        extra = f"{dataset.name}: a {dataset.domain} dataset published on the Hugging Face Hub by {settings.PORTAL_NAME}."
        text = f"{text} {extra}".strip()
    return text[:JSONLD_DESCRIPTION_MAX]


def _creator(dataset):
    people = [
        {
            "@type": "Person",
            "name": person.name,
            **(
                {
                    "sameAs": person.orcid_url,
                    "identifier": {"@type": "PropertyValue", "propertyID": "ORCID", "value": person.orcid},
                }
                if person.orcid
                else {}
            ),
        }
        for person in selectors.people_of(dataset)
    ]
    return (people[0] if len(people) == 1 else people) if people else None


def jsonld(dataset):
    """Return the schema.org `Dataset` description of a dataset, as a dict (Google's dataset guidance)."""
    page_url = settings.PORTAL_BASE_URL + dataset.get_absolute_url()
    hub_url = hub.dataset_url(dataset.repo_id)
    publisher = {"@type": "Organization", "name": settings.PORTAL_NAME, "url": settings.PORTAL_BASE_URL + "/"}
    data = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": dataset.name,
        "description": _description(dataset),
        "url": page_url,
        "sameAs": hub_url,
        # The DOI first, as its https://doi.org/ address (Google's dataset guidance); the Hub repository too.
        "identifier": [f"https://doi.org/{dataset.doi}", dataset.repo_id] if dataset.doi else dataset.repo_id,
        "keywords": selectors.keywords_of(dataset),
        "creator": _creator(dataset) or publisher,
        "publisher": publisher,
        "isAccessibleForFree": True,
        "inLanguage": list(dataset.languages),
        "dateModified": dataset.updated_at.isoformat() if dataset.updated_at else None,
        "datePublished": dataset.published_at.isoformat() if dataset.published_at else None,
        "distribution": [
            {
                "@type": "DataDownload",
                "name": entry.get("path", ""),
                "contentUrl": f"{hub_url}/resolve/main/{entry.get('path', '')}",
                "encodingFormat": mimetypes.guess_type(entry.get("path", ""))[0]
                or "application/octet-stream",
                "contentSize": f"{entry.get('size', 0)} B",
            }
            for entry in dataset.manifest
            if isinstance(entry, dict)
        ],
        "variableMeasured": [
            {
                "@type": "PropertyValue",
                "name": column["name"],
                **({"description": column["type"]} if column.get("type") else {}),
            }
            for column in dataset.columns
            if isinstance(column, dict) and column.get("name")
        ],
    }
    info = license_info(dataset.license) if dataset.license else None
    if info:
        data["license"] = info["url"]
    if not dataset.hosted:
        data["isBasedOn"] = dataset.source_url
    return {key: value for key, value in data.items() if value not in (None, [], "")}


def jsonld_script_body(data):
    """Return JSON for a <script type="application/ld+json"> element, escaped so it cannot end the element."""
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES))  # noqa: S308


@require_safe
def dataset_detail(request, slug):
    """The dataset page: card, licence, links, files, usage, how to load and cite, JSON-LD.

    A withdrawn dataset keeps a page that says so and why: its DOI still leads here (DataCite asks that a
    DOI's landing page stays), so it answers 200 with a notice, not 404 or 410, and is kept out of indexes.
    """
    dataset = get_object_or_404(
        Dataset.objects.filter(Q(published_at__isnull=False) | Q(withdrawn_at__isnull=False)).defer(
            "search_vector"
        ),
        slug=slug,
    )
    if dataset.withdrawn_at is not None:
        ours = DoiRegistration.objects.filter(dataset=dataset).exists()
        return render(request, "catalog/withdrawn.html", {"dataset": dataset, "doi_registered_here": ours})
    context = {
        "dataset": dataset,
        "card_body": card_body(dataset.card, title=dataset.name),
        "license": license_info(dataset.license) if dataset.license else None,
        "hub_url": hub.dataset_url(dataset.repo_id),
        "bibtex": bibtex(dataset),
        "apa": citation.apa(dataset),
        "load_snippet": f'from datasets import load_dataset\n\nds = load_dataset("{dataset.repo_id}")',
        "jsonld": jsonld_script_body(jsonld(dataset)),
        "usage_chart": usage_chart(usage.usage_history(dataset)),
        "citation_cff": citation.citation_cff(dataset),
        "files": dataset.manifest[:FILES_SHOWN],
        "more_files": max(0, len(dataset.manifest) - FILES_SHOWN),
    }
    return render(request, "catalog/dataset.html", context)


# A dataset page lists this many files; the rest are in its Croissant metadata and on the Hub.
FILES_SHOWN = 200


def _published_or_404(slug):
    return get_object_or_404(Dataset.objects.published().defer("search_vector"), slug=slug)


@require_safe
def dataset_croissant(request, slug):
    """The dataset's Croissant 1.1 metadata (JSON-LD), at a stable URL."""
    dataset = _published_or_404(slug)
    document = croissant.croissant(
        dataset, description=_description(dataset), citation=bibtex(dataset), columns=dataset.columns
    )
    return JsonResponse(
        document, content_type="application/ld+json", json_dumps_params={"ensure_ascii": False}
    )


@require_safe
def dataset_citation(request, slug):
    """The dataset's CITATION.cff (the same file hosted repositories carry on the Hub)."""
    dataset = _published_or_404(slug)
    response = HttpResponse(citation.citation_cff(dataset), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="CITATION.cff"'
    return response


def _dcat_page(request, render):
    """Render the DCAT page that `?page=` names, or answer 400 saying why it names none (as the API does)."""
    try:
        document, _pages = dcat.catalog_page(request.GET.get("page"))
    except paging.BadPage as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return render(document)


@require_safe
def dcat_catalog(request):
    """The catalog as DCAT-AP 3 JSON-LD, paged (?page=N)."""
    return _dcat_page(
        request,
        lambda document: JsonResponse(
            document, content_type="application/ld+json", json_dumps_params={"ensure_ascii": False}
        ),
    )


@require_safe
def dcat_catalog_turtle(request):
    """The same page of the DCAT-AP 3 catalog as Turtle."""
    return _dcat_page(
        request,
        lambda document: HttpResponse(dcat.to_turtle(document), content_type="text/turtle; charset=utf-8"),
    )
