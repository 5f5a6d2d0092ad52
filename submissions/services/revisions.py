"""Storing a dataset card revision (contribution, revised card, accepted card version); never replaced."""

from django.core.files.base import ContentFile

from submissions.cards import ParsedCard
from submissions.models import CardRevision


def add_revision(submission, *, card: ParsedCard, card_raw: bytes, card_filename: str):
    """Store a parsed card as the submission's next revision."""
    return store_revision(
        submission,
        sha256=card.sha256,
        size=card.size,
        metadata=card.metadata,
        findings=[finding.to_dict() for finding in card.findings],
        card_raw=card_raw,
        card_filename=card_filename,
    )


def store_revision(submission, *, sha256, size, metadata, findings, card_raw, card_filename):
    """Store card bytes and what was read from them as the submission's next revision; return it."""
    number = (submission.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    revision = CardRevision(
        submission=submission,
        number=number,
        original_filename=card_filename[:255],
        sha256=sha256,
        size=size,
        metadata=metadata,
        findings=findings,
    )
    revision.file.save("card.md", ContentFile(card_raw), save=False)
    try:
        revision.save()
    except BaseException:
        revision.file.delete(save=False)
        raise
    return revision
