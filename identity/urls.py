"""The sign-in URLs under /accounts/: allauth's views that the portal uses, each limited to the methods it serves.

Not included: allauth's sign-up, passwords and e-mail management (sign-in is social only), its legacy
redirects, and any provider but OpenID Connect. The sign-in page answers GET only: there is no password form.
"""

from allauth.account import views as account_views
from allauth.socialaccount import views as social_views
from django.urls import include, path
from django.views.decorators.http import require_http_methods, require_safe

get_or_post = require_http_methods(["GET", "HEAD", "POST"])

urlpatterns = [
    path("login/", require_safe(account_views.login), name="account_login"),
    path("logout/", get_or_post(account_views.logout), name="account_logout"),
    path("inactive/", require_safe(account_views.account_inactive), name="account_inactive"),
    path(
        "3rdparty/login/cancelled/",
        require_safe(social_views.login_cancelled),
        name="socialaccount_login_cancelled",
    ),
    path("3rdparty/login/error/", require_safe(social_views.login_error), name="socialaccount_login_error"),
    path("3rdparty/signup/", get_or_post(social_views.signup), name="socialaccount_signup"),
    path("3rdparty/", get_or_post(social_views.connections), name="socialaccount_connections"),
    path("", include("identity.oidc.urls")),
]
