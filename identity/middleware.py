"""Content-Security-Policy for the sign-in buttons: their form posts to the portal, which redirects to the provider.

Browsers apply `form-action` to the redirects that follow a form's submission too, so the providers' origins
(ORCID_BASE_URL's and OIDC_ISSUER's) are added to it on every response; nothing else of the policy changes.
"""

from urllib.parse import urlsplit

from django.conf import settings


def provider_origins():
    """The origins of the configured providers (scheme, host and port), for `form-action`."""
    urls = []
    if settings.ORCID_CLIENT_ID:
        urls.append(settings.ORCID_BASE_URL)
    if settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID:
        urls.append(settings.OIDC_ISSUER)
    origins = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins


class SignInFormActionMiddleware:
    """Adds the providers' origins to the response's CSP `form-action` (django-csp's `_csp_update`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origins = provider_origins()
        if origins:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *origins]
            response._csp_update = update
        return response
