"""URL map of the portal."""

from django.contrib import admin
from django.urls import include, path

from catalog import views as catalog_views
from identity import views as identity_views
from portal import health

admin.site.site_header = "Dataset Portal curation"
admin.site.site_title = "Dataset Portal curation"

urlpatterns = [
    path("", catalog_views.home, name="home"),
    # Before the admin's own URLs: its sign-in page with the institution's button (identity/views.py).
    path("admin/login/", identity_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("identity.urls")),
    path("readyz", health.readyz, name="readyz"),
    path("", include("submissions.urls")),
    path("", include("catalog.urls")),
]
