"""URL map of the portal."""

from django.contrib import admin
from django.urls import include, path

from catalog import views as catalog_views
from portal import health

admin.site.site_header = "Dataset Portal curation"
admin.site.site_title = "Dataset Portal curation"

urlpatterns = [
    path("", catalog_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("readyz", health.readyz, name="readyz"),
    path("", include("submissions.urls")),
    path("", include("catalog.urls")),
]
