"""\"My submissions\": single-use sign-in links that list every submission of an e-mail address."""

import datetime
import secrets

from django.db import transaction
from django.utils import timezone

from submissions import emails, selectors
from submissions.models import SignInLink, StatusLink, Submission, hash_token
from submissions.services.transitions import after_commit

SIGN_IN_LINK_LIFETIME_MINUTES = 30
SIGN_IN_LINKS_PER_HOUR = 5


def request_sign_in(email):
    """E-mail a single-use sign-in link listing an address's submissions, if it has any.

    The caller answers the same whether or not the address is known.
    """
    email = email.strip()
    if not Submission.objects.filter(contact_email__iexact=email).exists():
        return None
    now = timezone.now()
    recent = SignInLink.objects.filter(email__iexact=email, created_at__gt=now - datetime.timedelta(hours=1))
    if recent.count() >= SIGN_IN_LINKS_PER_HOUR:
        # Nobody can flood an inbox through this form; the page answers the same either way.
        return None
    token = secrets.token_urlsafe(32)
    link = SignInLink.objects.create(
        email=email,
        token_hash=hash_token(token),
        expires_at=now + datetime.timedelta(minutes=SIGN_IN_LINK_LIFETIME_MINUTES),
    )
    after_commit(emails.send_sign_in_link, email=email, token=token)
    return link


def use_sign_in(token):
    """Spend a sign-in link and return the list of (submission, fresh status token), or None if not valid.

    A link works once and for 30 minutes; a wrong, used or expired link returns None.
    """
    if not token or len(token) > 128:
        return None
    with transaction.atomic():
        now = timezone.now()
        spent = SignInLink.objects.filter(
            token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if spent != 1:
            return None
        link = SignInLink.objects.get(token_hash=hash_token(token))
        return [
            (submission, StatusLink.objects.issue(submission))
            for submission in selectors.submissions_for_email(link.email)
        ]
