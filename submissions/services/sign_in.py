"""\"My submissions\": single-use sign-in links that list every submission of an e-mail address, and the list of
a contributor signed in with ORCID or another provider (no e-mailed link needed)."""

import datetime
import secrets

from django.db import transaction
from django.utils import timezone

from submissions import emails, selectors
from submissions.models import SignInLink, StatusLink, Submission, hash_token
from submissions.services.transitions import after_commit

SIGN_IN_LINK_LIFETIME_MINUTES = 30
SIGN_IN_LINKS_PER_HOUR = 5


def request_sign_in(email, *, language=None):
    """E-mail a single-use sign-in link listing an address's submissions, if it has any, in `language` (the
    page's where it was asked for; the portal's default when None).

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
    after_commit(emails.send_sign_in_link, email=email, token=token, language=language)
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


def status_links_for_identity(*, orcid, emails, known_tokens):
    """Return ([(submission, status token or None)], tokens by reference) for a signed-in contributor.

    Lists the submissions of the verified ORCID iD and of the verified addresses `emails`. Tokens in
    `known_tokens` (reference -> token, kept in the session) that still open their submission are reused;
    the others are issued. A submission still waiting for its e-mail confirmation gets no link unless its
    address is one of `emails`: a status link's page confirms the address, which only its owner may do.
    """
    verified = {email.casefold() for email in emails}
    known = {
        reference: token
        for reference, token in (known_tokens or {}).items()
        if isinstance(token, str) and 0 < len(token) <= 128
    }
    live = set(
        StatusLink.objects.filter(token_hash__in=[hash_token(token) for token in known.values()]).values_list(
            "submission__reference", "token_hash"
        )
    )
    entries, tokens = [], {}
    with transaction.atomic():
        for submission in selectors.submissions_for_identity(orcid=orcid, emails=emails):
            if (
                submission.state == Submission.State.AWAITING_CONFIRMATION
                and submission.contact_email.casefold() not in verified
            ):
                entries.append((submission, None))
                continue
            token = known.get(submission.reference)
            if token is None or (submission.reference, hash_token(token)) not in live:
                token = StatusLink.objects.issue(submission)
            tokens[submission.reference] = token
            entries.append((submission, token))
    return entries, tokens
