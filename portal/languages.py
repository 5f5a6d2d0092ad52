"""The language switcher's endpoint, and English for the documents machines read.

Django's `set_language` (a cookie, then back to the page named by `next`), exempt from CSRF: the switcher
sits on pages whose HTML is cached for every visitor (the catalog) and on private pages that send no
Referer, where a token or an origin check would refuse the switch. A forged switch can only change the
language a visitor reads in, which the switcher on every page changes back.
"""

import re

from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

switch_language = csrf_exempt(require_POST(set_language))


# Documents for machines: the JSON API and its schema, DCAT, Croissant, CITATION.cff. Their labels and
# messages stay English whatever the browser asks, so that scripts and harvesters read one vocabulary.
MACHINE_PATHS = re.compile(
    r"^/api/|^/datasets/(dcat\.jsonld|dcat\.ttl|[^/]+/croissant\.json|[^/]+/CITATION\.cff)$"
)


class MachineReadableInEnglishMiddleware:
    """After LocaleMiddleware: the machine-readable documents are answered in English."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not MACHINE_PATHS.match(request.path_info):
            return self.get_response(request)
        with translation.override("en"):
            request.LANGUAGE_CODE = "en"
            response = self.get_response(request)
        response.headers["Content-Language"] = "en"
        return response
