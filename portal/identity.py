"""Who is signed in, as the contributor's pages need it: the verified ORCID iD, the names and e-mail addresses.

Sign-in itself lives in the `identity` app (django-allauth); this module only reads what a sign-in left: the
user's linked accounts and verified addresses. An ORCID iD comes from the ORCID sign-in's `sub` claim and
from nowhere else, so a page can trust it as verified.
"""

import dataclasses

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from portal.orcid import is_orcid

# The allauth provider ids of the two OpenID Connect apps (SocialAccount.provider).
ORCID_PROVIDER = "orcid"
INSTITUTION_PROVIDER = "institution"


@dataclasses.dataclass(frozen=True)
class SignedIn:
    """What the portal knows for sure about the person signed in."""

    orcid: str
    given_names: str
    family_names: str
    email: str
    verified_emails: tuple[str, ...]


def account_claims(account):
    """Return the claims a sign-in stored for a linked account: the userinfo answer, else the ID token's."""
    data = account.extra_data if isinstance(account.extra_data, dict) else {}
    for key in ("userinfo", "id_token"):
        if isinstance(data.get(key), dict):
            return data[key]
    return data


def signed_in(user):
    """Return the `SignedIn` identity of a request's user, or None for a visitor who is not signed in."""
    if user is None or not user.is_authenticated:
        return None
    orcid, given, family = "", user.first_name, user.last_name
    account = SocialAccount.objects.filter(user=user, provider=ORCID_PROVIDER).order_by("pk").first()
    if account is not None and is_orcid(account.uid):
        orcid = account.uid
        claims = account_claims(account)
        given = _text(claims.get("given_name")) or given
        family = _text(claims.get("family_name")) or family
    verified = tuple(
        EmailAddress.objects.filter(user=user, verified=True)
        .order_by("-primary", "pk")
        .values_list("email", flat=True)
    )
    return SignedIn(
        orcid=orcid,
        given_names=given,
        family_names=family,
        email=verified[0] if verified else user.email,
        verified_emails=verified,
    )


def _text(value):
    return value.strip() if isinstance(value, str) else ""
