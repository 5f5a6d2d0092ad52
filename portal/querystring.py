"""Refuse a query string that Django will not read, before any code reads it: one 400 page in every mode.

Django raises `TooManyFieldsSent` (more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters) wherever `request.GET`
is first read: a view, a throttle, a cache key. Outside DEBUG that became Django's bare 400; with DEBUG on,
the debug page read `request.GET` again to show it and failed with the same error, a 500. Reading it here,
once, before any view, answers one 400 page that says what to do, whatever DEBUG says.
"""

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import JsonResponse
from django.shortcuts import render

API_PREFIX = "/api/"


class QueryStringMiddleware:
    """Answer 400 with a message for a query string with more parameters than Django reads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.GET  # noqa: B018 - parsed here so that no later reader meets the error
        except TooManyFieldsSent:
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            message = (
                f"The address holds more than {limit:,} parameters, more than any page here reads. "
                "Remove the repeated ones and try again."
            )
            if request.path_info.startswith(API_PREFIX):  # the API speaks JSON, errors included
                return JsonResponse({"detail": message}, status=400)
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)
