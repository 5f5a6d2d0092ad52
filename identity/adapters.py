"""django-allauth adapters: social sign-in only, apps from the settings, and a clear page for every failure.

Nobody signs up with a password here: an account is created on the first sign-in with ORCID or the
institution's provider. An ORCID sign-in whose subject is not an ORCID iD is refused. A failed sign-in shows
what happened in words (`problem` in the page's context) and logs the reason code, never a token or a claim.
"""

import logging

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.base.constants import AuthError
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from identity import providers
from identity.oidc.errors import SignInFailed
from portal.identity import ORCID_PROVIDER
from portal.orcid import is_orcid

logger = logging.getLogger(__name__)

# What a failed sign-in says, by reason; {provider} is the provider's name. Each ends the same way: nothing
# was kept and nobody is signed in.
UNAVAILABLE = _(
    "{provider} did not answer. Nothing was saved and you are not signed in: try again in a few minutes."
)
NOT_VERIFIED = _(
    "The answer from {provider} could not be verified: {detail}. Nothing was saved and you are not signed in. "
    "Start again; if it happens again, tell the portal's team."
)
PROBLEMS = {
    "unavailable": UNAVAILABLE,
    "discovery": _(
        "{provider}'s sign-in is not set up as the portal expects (its configuration document is unusable or "
        "names another issuer). Nothing was saved and you are not signed in; tell the portal's team."
    ),
    "token_refused": _(
        "{provider} did not complete the sign-in (its token service answered with an error). Nothing was saved "
        "and you are not signed in: start again, or try again in a few minutes."
    ),
    "state": _(
        "This sign-in was not started in this browser, was already used, or took too long. Nothing was saved "
        "and you are not signed in: start again."
    ),
    "denied": _("{provider} did not sign you in. Nothing was saved and you are not signed in."),
    "not_orcid": _(
        "ORCID answered with an identifier that is not an ORCID iD. Nothing was saved and you are not signed in."
    ),
}
DETAILS = {
    "no_id_token": _("it holds no ID token"),
    "malformed": _("its ID token is malformed"),
    "algorithm": _("its ID token is signed with an algorithm the portal does not accept"),
    "unknown_key": _("its ID token is signed with a key the provider does not publish"),
    "signature": _("the signature of its ID token does not match the provider's published keys"),
    "expired": _("its ID token has expired"),
    "issued_in_future": _("its ID token is dated in the future"),
    "audience": _("its ID token was issued for another application"),
    "issuer": _("its ID token was issued by another provider"),
    "nonce": _("its ID token belongs to another sign-in (the nonce does not match)"),
    "userinfo": _("its user information names another person than its ID token"),
}


def failure_reason(error, exception, extra_context):
    """Return the reason code of a failed sign-in, from what allauth hands to `on_authentication_error`."""
    if isinstance(exception, SignInFailed):
        return exception.reason
    if isinstance(exception, requests.RequestException):
        return "unavailable"
    if exception is None and "state_id" in extra_context:
        return "state"
    if error == AuthError.CANCELLED:
        return "cancelled"
    return "denied"


def describe_failure(reason, provider_name):
    """Return the sentence a failed sign-in shows, for a reason code of `failure_reason`."""
    if reason in DETAILS:
        return NOT_VERIFIED.format(provider=provider_name, detail=DETAILS[reason])
    return PROBLEMS.get(reason, PROBLEMS["denied"]).format(provider=provider_name)


class AccountAdapter(DefaultAccountAdapter):
    """No sign-up with a password; redirects after sign-in only to this portal's own paths."""

    def is_open_for_signup(self, request):
        """Local sign-up is closed: accounts come from a provider's sign-in."""
        return False

    def is_safe_url(self, url):
        """Only a local path (`/…`, not `//host` nor `/\\host`) is a safe `next`."""
        if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
            return False
        return url_has_allowed_host_and_scheme(url, allowed_hosts=None)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Apps from the settings, sign-up on the first sign-in, ORCID iDs checked, failures explained."""

    def list_apps(self, request, provider=None, client_id=None):
        """The apps of identity.providers (the database's SocialApp rows are not used)."""
        apps = providers.social_apps()
        if provider:
            apps = [app for app in apps if provider in (app.provider, app.provider_id)]
        if client_id:
            apps = [app for app in apps if app.client_id == client_id]
        return apps

    def is_open_for_signup(self, request, sociallogin):
        """A first sign-in with a configured provider creates the account."""
        return True

    def pre_social_login(self, request, sociallogin):
        """Refuse an ORCID sign-in whose subject is not an ORCID iD (a misconfigured ORCID_BASE_URL)."""
        account = sociallogin.account
        if account.provider == ORCID_PROVIDER and not is_orcid(account.uid):
            raise ImmediateHttpResponse(
                render_authentication_error(
                    request, sociallogin.provider, exception=SignInFailed("not_orcid")
                )
            )

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        """Put the failure in words into the page's context and log its reason code."""
        reason = failure_reason(error, exception, extra_context if extra_context is not None else {})
        name = providers.provider_name(getattr(provider, "sub_id", ""))
        logger.warning("Sign-in with %s failed: %s", name, reason)
        if extra_context is not None:
            extra_context["problem"] = describe_failure(reason, name)
            extra_context["provider_name"] = name
