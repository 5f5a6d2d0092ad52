"""Curator rights from the institution's sign-in: the claim named by OIDC_CURATOR_CLAIM must hold OIDC_CURATOR_GROUP.

Checked at every sign-in with the institution's provider: present, the user becomes a curator (staff and the
Curators group); absent, a curator stops being one. Superusers are left as they are (the operator makes them
with `createsuperuser`). Sign-ins with ORCID never change anybody's rights.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext_lazy as _

from portal.identity import INSTITUTION_PROVIDER
from submissions.curators import is_curator, make_curator, revoke_curator

logger = logging.getLogger(__name__)


def claim_values(value):
    """Return a claim's values as strings: a list, or a space- or comma-separated string."""
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def holds_curator_group(claims):
    """Whether the claims name the curators' group (a Keycloak-style path such as /curators counts too)."""
    wanted = settings.OIDC_CURATOR_GROUP.strip("/")
    values = claim_values(claims.get(settings.OIDC_CURATOR_CLAIM))
    return any(value.strip("/") == wanted or value.rsplit("/", 1)[-1] == wanted for value in values)


def sync_curator_rights(user, claims):
    """Give or take curator rights from the claims of this sign-in; return whether the user is a curator now."""
    if user.is_superuser:
        return is_curator(user)
    if holds_curator_group(claims):
        if not is_curator(user):
            logger.info("User %s became a curator through the institution's sign-in.", user.pk)
        make_curator(user)
        return True
    if is_curator(user) or user.is_staff:
        logger.info(
            "User %s lost curator rights: the institution's sign-in no longer lists the group.", user.pk
        )
    revoke_curator(user)
    return False


def on_sign_in(sender, request, user, sociallogin=None, **kwargs):
    """allauth's `user_logged_in`: after an institution sign-in, bring the user's curator rights up to date."""
    if sociallogin is None or sociallogin.account.provider != INSTITUTION_PROVIDER:
        return
    data = sociallogin.account.extra_data if isinstance(sociallogin.account.extra_data, dict) else {}
    claims = {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}
    if not sync_curator_rights(user, claims) and request is not None:
        messages.warning(
            request,
            _(
                "You are signed in, but {provider} does not list you in the curators' group, so the review "
                "queue is closed to you. Ask your institution's administrators to add you to it."
            ).format(provider=settings.OIDC_PROVIDER_NAME),
        )
