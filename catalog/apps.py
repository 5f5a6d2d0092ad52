from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """Published datasets, mirroring to the Hub and usage figures."""

    name = "catalog"
    verbose_name = _("Catalog")
