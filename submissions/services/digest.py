"""The curators' daily digest: sent once a day to each curator who wants it, and the setting to stop it.

Once a day holds with several beat or worker replicas: the digest's row (unique per curator and day) is
inserted before the e-mail is handed over, and the e-mail goes only if this call inserted it.
"""

from django.db import IntegrityError, transaction

from submissions import emails
from submissions.models import CuratorPreferences, DigestDelivery
from submissions.services.transitions import after_commit


def send_digest(curator, *, day, digest):
    """Send `curator` the digest of `day` (a `selectors.Digest`) unless it is empty or was already sent.

    Returns whether this call sent it.
    """
    if digest.is_empty or not curator.email:
        return False
    try:
        with transaction.atomic():
            DigestDelivery.objects.create(
                curator=curator, day=day, items=digest.count, covers_until=digest.until
            )
            after_commit(emails.send_digest, curator=curator, digest=digest, day=day)
    except IntegrityError:
        return False  # another run inserted today's row first, and sends the digest
    return True


def set_digest_preference(user, *, wanted):
    """Turn a curator's daily digest on or off."""
    CuratorPreferences.objects.update_or_create(user=user, defaults={"digest": bool(wanted)})
    return user
