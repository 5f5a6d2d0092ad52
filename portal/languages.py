"""The language switcher's endpoint.

Django's `set_language` (a cookie, then back to the page named by `next`), exempt from CSRF: the switcher
sits on pages whose HTML is cached for every visitor (the catalog) and on private pages that send no
Referer, where a token or an origin check would refuse the switch. A forged switch can only change the
language a visitor reads in, which the switcher on every page changes back.
"""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

switch_language = csrf_exempt(require_POST(set_language))
