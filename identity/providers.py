"""The two OpenID Connect apps the portal offers, built from the settings (ORCID_*, OIDC_*) at each request.

allauth reads its apps from here (identity.adapters.SocialAccountAdapter.list_apps), never from the database,
so the environment is the one place where an operator configures sign-in, and tests can point it elsewhere.
"""

import dataclasses

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.urls import reverse

from portal.identity import INSTITUTION_PROVIDER, ORCID_PROVIDER


def social_apps():
    """Return the configured apps (unsaved `SocialApp`s): ORCID when ORCID_CLIENT_ID is set, the institution's
    provider when OIDC_ISSUER and OIDC_CLIENT_ID are."""
    apps = []
    if settings.ORCID_CLIENT_ID:
        apps.append(
            SocialApp(
                provider="openid_connect",
                provider_id=ORCID_PROVIDER,
                name="ORCID",
                client_id=settings.ORCID_CLIENT_ID,
                secret=settings.ORCID_CLIENT_SECRET,
                settings={
                    "server_url": settings.ORCID_BASE_URL,
                    # ORCID's OpenID Connect knows the `openid` scope only; the iD is the `sub` claim.
                    "scope": ["openid"],
                    "oauth_pkce_enabled": True,
                    "fetch_userinfo": True,
                    # ORCID never vouches for an address here: an account is never found by e-mail.
                    "email_authentication": False,
                },
            )
        )
    if settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID:
        apps.append(
            SocialApp(
                provider="openid_connect",
                provider_id=INSTITUTION_PROVIDER,
                name=settings.OIDC_PROVIDER_NAME,
                client_id=settings.OIDC_CLIENT_ID,
                secret=settings.OIDC_CLIENT_SECRET,
                settings={
                    "server_url": settings.OIDC_ISSUER,
                    "scope": list(settings.OIDC_SCOPES),
                    "oauth_pkce_enabled": True,
                    "fetch_userinfo": True,
                    "email_authentication": settings.OIDC_LINK_BY_EMAIL,
                },
            )
        )
    return apps


@dataclasses.dataclass(frozen=True)
class SignInButton:
    """A "Sign in with …" button: the provider's name and the URL its form posts to."""

    provider_id: str
    name: str
    url: str


def _button(provider_id, name):
    return SignInButton(
        provider_id=provider_id,
        name=name,
        url=reverse("openid_connect_login", kwargs={"provider_id": provider_id}),
    )


def orcid_button():
    """The ORCID sign-in button, or None when ORCID is not configured."""
    return _button(ORCID_PROVIDER, "ORCID") if settings.ORCID_CLIENT_ID else None


def institution_button():
    """The institution's sign-in button, or None when no institution provider is configured."""
    if settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID:
        return _button(INSTITUTION_PROVIDER, settings.OIDC_PROVIDER_NAME)
    return None


def provider_name(provider_id):
    """The name shown for an app id ("ORCID", the institution's name)."""
    return "ORCID" if provider_id == ORCID_PROVIDER else settings.OIDC_PROVIDER_NAME
