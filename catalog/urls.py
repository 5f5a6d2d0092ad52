"""URLs of the public catalog: pages, sitemap, feed, health check and the JSON API with its schema."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView

from catalog import api, views
from catalog.feeds import NewDatasetsFeed
from catalog.sitemaps import SITEMAPS

app_name = "catalog"

urlpatterns = [
    path("datasets/", views.dataset_list, name="list"),
    path("datasets/feed.atom", require_safe(NewDatasetsFeed()), name="feed"),
    path("datasets/dcat.jsonld", views.dcat_catalog, name="dcat"),
    path("datasets/dcat.ttl", views.dcat_catalog_turtle, name="dcat-turtle"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset"),
    path("datasets/<slug:slug>/croissant.json", views.dataset_croissant, name="croissant"),
    path("datasets/<slug:slug>/CITATION.cff", views.dataset_citation, name="citation"),
    path(
        "sitemap.xml",
        require_safe(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "catalog:sitemap"},
        name="sitemap-index",
    ),
    path(
        "sitemap-<section>.xml", require_safe(sitemap_views.sitemap), {"sitemaps": SITEMAPS}, name="sitemap"
    ),
    path("healthz", views.healthz, name="healthz"),
    path("api/datasets/", api.DatasetListAPI.as_view(), name="api-datasets"),
    path("api/datasets/<slug:slug>/", api.DatasetDetailAPI.as_view(), name="api-dataset"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Last: what no route above takes. Only addresses ending in "/", so a missing slash is still added.
    re_path(r"^api/([\s\S]*/)?$", api.not_found, name="api-not-found"),
]
