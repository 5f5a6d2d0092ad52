"""Sitemap sections of the public catalog: the fixed pages and one entry per published dataset."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from catalog.models import Dataset


class CatalogPagesSitemap(Sitemap):
    """The home page and the catalog list."""

    changefreq = "daily"

    def items(self):
        """Return the URL names of the fixed pages."""
        return ["home", "catalog:list"]

    def location(self, item):
        """Return the path of a fixed page."""
        return reverse(item)


class DatasetSitemap(Sitemap):
    """Every published dataset page, with its last change; Django splits it into pages of 50,000."""

    changefreq = "weekly"

    def items(self):
        """Return published datasets with only the columns a sitemap entry needs."""
        return Dataset.objects.published().only("slug", "updated_at").order_by("id")

    def lastmod(self, dataset):
        """Return when the dataset row last changed."""
        return dataset.updated_at


SITEMAPS = {"pages": CatalogPagesSitemap, "datasets": DatasetSitemap}
