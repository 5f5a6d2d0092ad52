"""Test data built through the same services the portal uses, so every row is one the portal could make."""

import uuid

import factory
from django.contrib.auth import get_user_model

from submissions import cards, services
from submissions.curators import make_curator
from submissions.models import Domain, TermsVersion

GOOD_CARD = """---
pretty_name: Harbour water levels
license: cc-by-4.0
language:
- en
task_categories:
- time-series-forecasting
size_categories:
- 10K<n<100K
---

# Harbour water levels

## Dataset Description

Water levels measured every ten minutes in three harbours since 2001.

## Uses

Forecasting and flood research.

## Dataset Structure

CSV: timestamp, station, level_cm.

## Licensing Information

CC BY 4.0.

## Citation

Harbour Authority (2025). Harbour water levels.
"""


# Factory locations (data.example.org) are not reachable offline, so their location and data checks fail;
# approving such a submission takes the override that issue 11 asks for.
OFFLINE_OVERRIDE = "The test's location is not reachable offline."


def card_bytes(text=GOOD_CARD):
    """Return a card as uploaded bytes."""
    return text.encode("utf-8")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@portal.test")
    password = factory.django.Password("correct horse battery staple")


def make_curator_user(username="curator", **kwargs):
    """Return a user in the Curators group."""
    return make_curator(UserFactory(username=username, **kwargs))


def submit(
    *, name=None, card=GOOD_CARD, email="contributor@example.org", location=None, hosting=True, **extra
):
    """Create a submission through services.submit; return (submission, status token)."""
    from django.core import mail

    raw = card_bytes(card)
    number = uuid.uuid4().hex[:8]
    domain = extra.pop("domain", None) or Domain.objects.get(name="Marine")
    before = len(mail.outbox)
    with committed():
        submission, _ = services.submit(
            submission_key=uuid.uuid4(),
            name=name or f"Harbour water levels {number}",
            location=location or f"https://data.example.org/{number}/levels.csv",
            hosting_wanted=hosting,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
            modalities=extra.pop("modalities", ["text"]),
            domain=domain,
            suggested_domain="",
            contact_email=email,
            terms=TermsVersion.current(),
            announced_checksums=extra.pop("announced_checksums", None),
            paper=extra.pop("paper", ""),
            code_url=extra.pop("code_url", ""),
            contributor_orcid=extra.pop("contributor_orcid", ""),
            contributor_given_names=extra.pop("contributor_given_names", ""),
            contributor_family_names=extra.pop("contributor_family_names", ""),
        )
    token = None
    if len(mail.outbox) > before:
        token = status_token_from(mail.outbox[-1].body)
    return submission, token


def committed():
    """Run the on-commit callbacks (e-mails, tasks) registered inside the block when it ends."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def confirmed(**kwargs):
    """Return (submission, token) of a submission whose contributor opened the status link."""
    submission, token = submit(**kwargs)
    with committed():
        submission = services.confirm(submission)
    return submission, token


def in_review(curator, **kwargs):
    """Return (submission, token) of a submission claimed by `curator`."""
    submission, token = confirmed(**kwargs)
    with committed():
        submission = services.claim(submission, by=curator)
    return submission, token


def changes_requested(curator, message="Please add a licence.", **kwargs):
    """Return (submission, token) of a submission sent back to its contributor."""
    submission, token = in_review(curator, **kwargs)
    with committed():
        submission = services.request_changes(submission, by=curator, message=message)
    return submission, token


def status_token_from(body):
    """Return the status token from the link in an e-mail body."""
    import re

    match = re.search(r"/status/([A-Za-z0-9_\-]+)/", body)
    assert match, body
    return match.group(1)


def published(curator, **kwargs):
    """Return (submission, token) of a submission approved and published to the Hub (needs `devhub`).

    Linked by default, so nothing is fetched; the eager mirroring task publishes it during the approval.
    """
    kwargs.setdefault("hosting", False)
    kwargs.setdefault("location", f"https://archive.example.org/{uuid.uuid4().hex[:8]}/")
    submission, token = in_review(curator, **kwargs)
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    submission.refresh_from_db()
    assert submission.state == submission.State.PUBLISHED, submission.state
    return submission, token
