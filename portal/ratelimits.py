"""Rate limits of the public forms and of the admin's sign-in, counted in the shared cache.

django-ratelimit counts the requests (per client address, per e-mail address, per status link) in the
default cache, so every web replica sees the same counts; django-axes counts failed admin sign-ins. Over a
limit the client gets one 429 page saying when to try again, and the view behind it never runs: nothing is
stored and no e-mail is sent. The limits are settings (PORTAL_RATE_*, AXES_*); RATELIMIT_ENABLE and
AXES_ENABLED switch them off. This module knows nothing about submissions: views name what they count.
"""

import datetime
import functools
import ipaddress

from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit.core import get_usage

EMAIL_FIELDS = ("contact_email", "email")


def client_ip(request):
    """Return the client's address: REMOTE_ADDR, or the entry a trusted proxy added to X-Forwarded-For.

    Only the last PORTAL_TRUSTED_PROXY_COUNT hops are the operator's proxies; anything to their left was
    written by the client and can be forged, so the address is the one the outermost trusted proxy saw.
    """
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.PORTAL_TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "unknown"


def client_ip_key(group, request):
    """django-ratelimit key: the client's address."""
    return client_ip(request)


def email_key(group, request):
    """django-ratelimit key: the e-mail address typed into the form, folded so that case does not evade it."""
    for field in EMAIL_FIELDS:
        value = request.POST.get(field, "").strip().casefold()
        if value:
            return value
    return None


def url_token_key(group, request):
    """django-ratelimit key: the private token in the URL (a status or sign-in link)."""
    return request.resolver_match.kwargs.get("token")


def too_many_requests(request, *, retry_after):
    """The 429 page: says when to try again, in seconds (Retry-After) and as a time of day."""
    retry_after = max(int(retry_after), 1)
    retry_at = timezone.now() + datetime.timedelta(seconds=retry_after)
    response = render(
        request,
        "429.html",
        {"retry_after": retry_after, "retry_minutes": -(-retry_after // 60), "retry_at": retry_at},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


KEY_FUNCTIONS = {"ip": client_ip_key, "email": email_key, "link": url_token_key}


def _usage(request, group, key, setting, *, increment):
    """Count (or only read) one limit's use in the shared cache; None when the cache can't say."""
    return get_usage(
        request,
        group=f"{group}:{setting}",
        key=key,
        rate=getattr(settings, setting),
        method="POST",
        increment=increment,
    )


def limit_posts(group, *, attempts=None, counted=None, **keys_to_rate_settings):
    """Limit the POSTs of a view: each keyword is a key function's short name mapped to its rate setting.

    `@limit_posts("sign-in", ip="PORTAL_RATE_SIGN_IN_PER_IP", email="PORTAL_RATE_SIGN_IN_PER_EMAIL")`
    counts every POST per client address and per typed e-mail address; the first limit exceeded answers 429.
    Every limit is counted even when an earlier one is already exceeded, so nobody learns which one it was.

    With `counted`, a test of the view's response (did the POST store something?), the keyword limits count
    only the POSTs it accepts, and a POST is refused once one of them is used up; every POST counts toward
    the `attempts` limits instead (same form: key name to rate setting), which are meant to be looser. A
    contributor correcting a refused form is then not locked out by the limit on what is stored.
    """
    limits = [(KEY_FUNCTIONS[name], setting) for name, setting in keys_to_rate_settings.items()]
    attempt_limits = [(KEY_FUNCTIONS[name], setting) for name, setting in (attempts or {}).items()]

    def decorator(view):
        @functools.wraps(view)
        def limited(request, *args, **kwargs):
            if request.method != "POST":
                return view(request, *args, **kwargs)
            wait = None
            for key, setting in attempt_limits + (limits if counted is None else []):
                if key(group, request) is None:
                    continue
                usage = _usage(request, group, key, setting, increment=True)
                if usage is not None and usage["should_limit"]:
                    wait = max(wait or 0, usage["time_left"])
            for key, setting in limits if counted is not None else []:
                if key(group, request) is None:
                    continue
                usage = _usage(request, group, key, setting, increment=False)
                # Read, not counted: the limit is used up when one more would pass it.
                if usage is not None and usage["count"] >= usage["limit"]:
                    wait = max(wait or 0, usage["time_left"])
            if wait is not None:
                return too_many_requests(request, retry_after=wait)
            response = view(request, *args, **kwargs)
            if counted is not None and counted(response):
                for key, setting in limits:
                    if key(group, request) is not None:
                        _usage(request, group, key, setting, increment=True)
            return response

        return limited

    return decorator


def admin_sign_in_locked(request, original_response, credentials):
    """django-axes' lockout answer: the same 429 page, with the cool-off time as the retry time."""
    return too_many_requests(request, retry_after=get_cool_off(request).total_seconds())
