"""Refuse a query string that no page can use, before any code reads it: one 400 page in every mode.

Two kinds. More than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters: Django raises `TooManyFieldsSent` wherever
`request.GET` is first read (a view, a throttle, a cache key); outside DEBUG that became Django's bare 400,
and with DEBUG on the debug page read `request.GET` again to show it and failed with the same error, a 500.
A NUL character (%00) in a name or a value: PostgreSQL refuses it in any text it is given, so a parameter
that reaches a query as it is (the admin's list filters do) was a 500. Reading the parameters here, once,
before any view, answers a 400 page that says what to do, whatever DEBUG says.
"""

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop

from portal import i18n

API_PREFIX = "/api/"
TOO_MANY_PARAMETERS = gettext_noop(
    "The address holds more than %(limit)s parameters, more than any page here reads. "
    "Remove the repeated ones and try again."
)
HOLDS_NUL = gettext_noop(
    "The address holds a NUL character (%00), which no page here reads. Remove it and try again."
)


class QueryStringMiddleware:
    """Answer 400 with a message for a query string with too many parameters or a NUL character."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            holds_nul = any(
                "\x00" in name or "\x00" in "".join(values) for name, values in request.GET.lists()
            )
        except TooManyFieldsSent:
            limit = i18n.number(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
            return self.refuse(request, i18n.message(TOO_MANY_PARAMETERS, limit=limit))
        if holds_nul:
            return self.refuse(request, i18n.message(HOLDS_NUL))
        return self.get_response(request)

    @staticmethod
    def refuse(request, message):
        """The 400 answer to a stored message (`portal.i18n`): the page in the reader's language, or JSON in
        English on the API (it speaks JSON, errors included)."""
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse({"detail": i18n.english(message)}, status=400)
        return render(request, "400.html", {"message": i18n.translated(message)}, status=400)
