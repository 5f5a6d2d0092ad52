"""Django's CommonMiddleware, with one change: an address missing its final slash is redirected for every
method, also with DEBUG on.

Django redirects `POST /contribute` to `/contribute/` only with DEBUG off; with DEBUG on it raises a
RuntimeError to warn the developer, which answers 500 to a script or a crawler. Here a request that carries
a body (POST, PUT, PATCH, DELETE) gets a 308, which keeps its method and body, in every mode; GET and HEAD
keep Django's 301.
"""

from django.http import HttpResponsePermanentRedirect
from django.middleware.common import CommonMiddleware
from django.utils.http import escape_leading_slashes

METHODS_WITH_A_BODY = ("DELETE", "POST", "PUT", "PATCH")


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    """A 308: the client repeats the same method and body at the new address."""

    status_code = 308


class AppendSlashMiddleware(CommonMiddleware):
    """CommonMiddleware whose slash redirect never raises and keeps the method of a request with a body."""

    def get_full_path_with_slash(self, request):
        """Return the request's full path with a slash appended (Django raises here with DEBUG on)."""
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))

    def process_response(self, request, response):
        """Redirect a 404 to the address with a slash where that one exists, a 308 for requests with a body."""
        if (
            response.status_code == 404
            and request.method in METHODS_WITH_A_BODY
            and self.should_redirect_with_slash(request)
        ):
            return PermanentRedirectKeepingMethod(self.get_full_path_with_slash(request))
        return super().process_response(request, response)
