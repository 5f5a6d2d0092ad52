"""URL map of the portal."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from catalog import views as catalog_views
from identity import views as identity_views
from portal import health, languages

admin.site.site_header = _("Dataset Portal curation")
admin.site.site_title = _("Dataset Portal curation")

urlpatterns = [
    path("", catalog_views.home, name="home"),
    # Before the admin's own URLs: its sign-in page with the institution's button (identity/views.py).
    path("admin/login/", identity_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("identity.urls")),
    path("readyz", health.readyz, name="readyz"),
    # The language switcher posts here (Django's set_language: a cookie, then back to the same page).
    path("i18n/setlang/", languages.switch_language, name="set_language"),
    path("", include("submissions.urls")),
    path("", include("catalog.urls")),
]
