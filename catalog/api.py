"""Read-only JSON API of the catalog: the dataset list (same search, facets, sort and paging as the page)
and one dataset, described by the OpenAPI schema drf-spectacular publishes at /api/schema/.

Searching and counting are `catalog.search`'s; this module only reads parameters, answers 400 with a message
for values it cannot use, and serialises. It is anonymous, throttled (`portal.throttles`, the anon rate) and never writes.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import hub, paging, search
from catalog.models import Dataset
from portal.throttles import AnonWindowThrottle
from submissions.carddata import license_info

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class DatasetSummarySerializer(serializers.ModelSerializer):
    """A dataset as the list shows it."""

    url = serializers.SerializerMethodField(help_text="The dataset's page in the catalog.")
    hub_url = serializers.SerializerMethodField(help_text="The dataset's repository on the Hub.")
    modalities = serializers.ListField(source="modality_list", child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())
    doi = serializers.CharField(
        help_text="The dataset's DOI, such as 10.5072/dp-2026-000042 (cite it as https://doi.org/ followed by "
        "the DOI): registered by the portal with DataCite, or its repository record's own. Empty while it "
        "has none (DataCite not configured, or the registration not done yet)."
    )

    class Meta:
        model = Dataset
        # What a list page loads (search.LIST_FIELDS) is what the API shows, plus the two addresses.
        fields = [name for name in search.LIST_FIELDS if name != "id"] + ["url", "hub_url"]

    def get_url(self, dataset) -> str:
        """Return the absolute URL of the dataset's catalog page."""
        return self.context["request"].build_absolute_uri(dataset.get_absolute_url())

    def get_hub_url(self, dataset) -> str:
        """Return the dataset's Hub page."""
        return hub.dataset_url(dataset.repo_id)


class ManifestEntrySerializer(serializers.Serializer):
    """One published file."""

    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(allow_null=True, required=False)


class ColumnSerializer(serializers.Serializer):
    """One column of the dataset's table, as found by the data check before approval."""

    name = serializers.CharField()
    type = serializers.CharField(
        help_text="The engine's type name (BIGINT, DOUBLE, VARCHAR, ...); empty when unknown."
    )


class DatasetDetailSerializer(DatasetSummarySerializer):
    """A dataset with its card, files and provenance."""

    license_url = serializers.SerializerMethodField(help_text="The licence text, when the Hub knows the id.")
    croissant_url = serializers.SerializerMethodField(help_text="Croissant 1.1 metadata (JSON-LD).")
    citation_url = serializers.SerializerMethodField(help_text="The dataset's CITATION.cff.")
    tags = serializers.ListField(child=serializers.CharField())
    manifest = ManifestEntrySerializer(many=True)
    columns = ColumnSerializer(
        many=True, help_text="The table's columns; empty when the data is not a table."
    )

    class Meta(DatasetSummarySerializer.Meta):
        fields = [
            *DatasetSummarySerializer.Meta.fields,
            "license_url",
            "source_url",
            "tags",
            "card",
            "hub_commit",
            "manifest",
            "columns",
            "usage_refreshed_at",
            "updated_at",
            "card_updated_at",
            "croissant_url",
            "citation_url",
        ]

    def get_croissant_url(self, dataset) -> str:
        """Return the absolute URL of the dataset's Croissant 1.1 JSON-LD."""
        return self.context["request"].build_absolute_uri(reverse("catalog:croissant", args=[dataset.slug]))

    def get_citation_url(self, dataset) -> str:
        """Return the absolute URL of the dataset's CITATION.cff."""
        return self.context["request"].build_absolute_uri(reverse("catalog:citation", args=[dataset.slug]))

    def get_license_url(self, dataset) -> str | None:
        """Return the URL of the licence text, or None."""
        info = license_info(dataset.license) if dataset.license else None
        return info["url"] if info else None


FacetValueSerializer = inline_serializer(
    name="FacetValue",
    fields={
        "value": serializers.CharField(),
        "label": serializers.CharField(),
        "count": serializers.IntegerField(
            help_text="Matches with this value instead of the facet's other selected values (see `counts_sampled`)."
        ),
        "selected": serializers.BooleanField(),
    },
)

DatasetPageSerializer = inline_serializer(
    name="DatasetPage",
    fields={
        "count": serializers.IntegerField(
            help_text="Matches: exact when `count_exact`, else counted up to the cap of 1,000 (see `more`)."
        ),
        "count_exact": serializers.BooleanField(
            help_text=(
                "`count` and the facet counts are exact: every match was counted (always without search "
                "text on PostgreSQL; otherwise when no count reached the cap of 1,000)."
            )
        ),
        "more": serializers.BooleanField(
            help_text="More than 1,000 datasets match; only the first 1,000 can be paged through."
        ),
        "counts_sampled": serializers.BooleanField(
            help_text="Facet counts were taken among the first 1,000 matches found, not all of them."
        ),
        "page": serializers.IntegerField(),
        "pages": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "sort": serializers.CharField(),
        "results": DatasetSummarySerializer(many=True),
        "facets": serializers.DictField(child=serializers.ListField(child=FacetValueSerializer)),
    },
)

ErrorSerializer = inline_serializer(name="Error", fields={"detail": serializers.CharField()})
TOO_MANY_REQUESTS = OpenApiResponse(
    ErrorSerializer,
    description="Too many requests from this address (API_ANON_RATE); the Retry-After header says in how many "
    "seconds to try again.",
)

_FACET_HELP = {
    "domain": "Domain name; repeat for several (any of them).",
    "modality": "text, images, audio or video; repeat for several.",
    "license": "A Hub licence id such as cc-by-4.0; repeat for several.",
    "hosting": "hosted (data copied to the Hub) or linked (data at its source).",
    "language": "A language code such as en; repeat for several.",
}


def _positive_int(params, name, *, default, maximum=None):
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({"detail": f"{name} must be a whole number, not {raw[:20]!r}."}) from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise ValidationError({"detail": f"{name} must be at least 1{limit}."})
    return value


class JSONOnly(BaseContentNegotiation):
    """The API speaks JSON only, whatever the client's Accept header says: nothing to negotiate."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CatalogAPIView(APIView):
    """Common settings: anonymous, read-only, JSON, throttled."""

    content_negotiation_class = JSONOnly

    authentication_classes = []
    permission_classes = []
    renderer_classes = [JSONRenderer]
    throttle_classes = [AnonWindowThrottle]
    http_method_names = ["get", "head", "options"]


class DatasetListAPI(CatalogAPIView):
    """Search the published datasets."""

    def check_throttles(self, request):
        """Throttled in `get()`, together with the cache read (other methods as usual)."""
        if request.method not in ("GET", "HEAD"):
            super().check_throttles(request)

    @extend_schema(
        operation_id="datasets_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search text (first 200 characters used)."),
            *[
                OpenApiParameter(
                    facet, OpenApiTypes.STR, many=True, explode=True, description=_FACET_HELP[facet]
                )
                for facet in search.FACETS
            ],
            OpenApiParameter(
                "sort", OpenApiTypes.STR, enum=list(search.SORTS), description="Order of results."
            ),
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1},
                description="Page number, from 1 to the last page (`pages`).",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"Results per page, 1 to {MAX_PAGE_SIZE}.",
            ),
        ],
        responses={
            200: DatasetPageSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="A parameter can't be used (an unknown or empty filter value, a page past the "
                "last one, ...); `detail` says which and why.",
            ),
            429: TOO_MANY_REQUESTS,
        },
    )
    def get(self, request):
        """Return one page of matching datasets with facet counts.

        The answer is the same for every client, so it is kept in the shared cache per URL for
        CATALOG_FACET_CACHE_SECONDS, keyed also by `search.catalog_stamp()` like the catalog page. The
        throttle is counted here, in the same round trip to the cache as the read of the answer.
        """
        seconds = settings.CATALOG_FACET_CACHE_SECONDS
        key = None
        if seconds > 0:
            url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
            key = f"catalog:api-page:{url}:{search.catalog_stamp()}"
            throttle = AnonWindowThrottle()
            allowed, content = throttle.allow_and_get(request, self, key)
            if not allowed:
                self.throttled(request, throttle.wait())
            if content is not None:
                return HttpResponse(content, content_type="application/json")
        else:
            super().check_throttles(request)
        # Rendered once, kept as the bytes sent: a hit costs no serialising.
        content = JSONRenderer().render(self._page(request))
        if key is not None:
            cache.set(key, content, seconds)
        return HttpResponse(content, content_type="application/json")

    def _page(self, request):
        try:
            query, _ = search.parse_query(request.query_params, strict=True)
        except search.BadQuery as exc:
            raise ValidationError({"detail": str(exc)}) from None
        page_size = _positive_int(
            request.query_params, "page_size", default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE
        )
        counts = search.facet_counts(query)
        pages = max(1, -(-counts.browsable // page_size))
        try:
            number = paging.page_number(
                request.query_params.get("page"),
                pages=pages,
                capped_at=search.COUNT_CAP if counts.more else None,
            )
        except paging.BadPage as exc:
            raise ValidationError({"detail": str(exc)}) from None
        start = (number - 1) * page_size
        datasets = list(search.search(query, counts=counts)[start : start + page_size])

        def page_link(target):
            if not 1 <= target <= pages or target == number:
                return None
            params = request.query_params.copy()
            params["page"] = str(target)
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        return {
            "count": counts.total,
            "count_exact": counts.exact,
            "more": counts.more,
            "counts_sampled": counts.sampled,
            "page": number,
            "pages": pages,
            "page_size": page_size,
            "next": page_link(number + 1),
            "previous": page_link(number - 1),
            "sort": query.effective_sort,
            "results": DatasetSummarySerializer(datasets, many=True, context={"request": request}).data,
            "facets": {
                facet: [
                    {"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                    for v in values
                ]
                for facet, values in counts.facets.items()
            },
        }


class DatasetDetailAPI(CatalogAPIView):
    """One published dataset."""

    @extend_schema(
        operation_id="datasets_retrieve",
        parameters=[
            OpenApiParameter(
                "slug",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^[-a-zA-Z0-9_]+$",
                description="The dataset's slug, as in its catalog address (`slug` of the list).",
            )
        ],
        responses={
            200: DatasetDetailSerializer,
            400: OpenApiResponse(ErrorSerializer, description="The address can't be read."),
            404: OpenApiResponse(ErrorSerializer, description="No published dataset has this slug."),
            429: TOO_MANY_REQUESTS,
        },
    )
    def get(self, request, slug):
        """Return a published dataset by its slug."""
        dataset = get_object_or_404(Dataset.objects.published().defer("search_vector"), slug=slug)
        return Response(DatasetDetailSerializer(dataset, context={"request": request}).data)


def not_found(request, rest=None):
    """Any other address under /api/ (a slug with characters a slug never has, a typo): the API's 404, in
    JSON like its other answers, whatever the method."""
    return JsonResponse({"detail": "No such address in the API; /api/schema/ lists them."}, status=404)
