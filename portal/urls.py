"""URL map of the portal."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

admin.site.site_header = "Dataset Portal curation"
admin.site.site_title = "Dataset Portal curation"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("", include("submissions.urls")),
    path("", include("catalog.urls")),
]
