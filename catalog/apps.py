from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Published datasets, mirroring to the Hub and usage figures."""

    name = "catalog"
    verbose_name = "Catalog"
