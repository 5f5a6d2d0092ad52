"""URLs of the OpenID Connect apps, under allauth's names (`openid_connect_login`, `openid_connect_callback`).

identity/urls.py includes this module (allauth would too: the provider class lives in this package). The redirect URI to register
at a provider is PORTAL_BASE_URL + /accounts/oidc/<app>/login/callback/.
"""

from allauth.socialaccount import app_settings
from django.urls import include, path
from django.views.decorators.http import require_http_methods, require_safe

from identity.oidc import views

urlpatterns = [
    path(
        "<str:provider_id>/",
        include(
            [
                path(
                    "login/",
                    require_http_methods(["GET", "HEAD", "POST"])(views.login),
                    name="openid_connect_login",
                ),
                path("login/callback/", require_safe(views.callback), name="openid_connect_callback"),
            ]
        ),
    )
]

if app_settings.OPENID_CONNECT_URL_PREFIX:
    urlpatterns = [path(f"{app_settings.OPENID_CONNECT_URL_PREFIX}/", include(urlpatterns))]
