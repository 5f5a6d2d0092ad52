"""Commit a published dataset's changed card to the Hub after a curator accepted a correction or card version.

`apply_correction` runs inside the curator's accepting transaction: it updates the catalog row at once
(name, domain, modalities, licence, languages) and creates a `CardUpdate` job that a worker runs after
commit. `run(update_id)` is idempotent: it builds the README (and CITATION.cff for hosted datasets) from the
row and the accepted card revisions, commits them in one commit whose title names the request, and
verifies the files on the Hub before it records the new card and tells the workflow. A re-run after a
crash finds its own commit by title and does not commit twice; a commit that fails verification is never
taken again. Only `catalog.hub` talks to the Hub. The same job, without a correction request and with a
`title` of its own, commits the card again once the dataset's DOI is registered (`catalog.doi`); a
correction's accepted card then also updates the DOI's metadata at DataCite.
"""

import datetime
import hashlib
import logging
import shutil

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog import citation, doi, hub, mirror
from catalog.errors import RetryLater
from catalog.models import CardUpdate, Dataset
from portal import i18n, queues
from submissions import cards, services
from submissions.models import fold_name

logger = logging.getLogger(__name__)

Step = CardUpdate.Step
README = mirror.README

# Header keys an accepted correction sets in the card (through `Dataset.card_overrides`), by field name.
CARD_KEYS = {"license": "license", "languages": "language", "tags": "tags", "name": "pretty_name"}


def apply_correction(correction):
    """Apply an accepted correction to the catalog row and queue the card's commit; call in a transaction."""
    dataset = Dataset.objects.select_for_update().get(submission=correction.submission_id)
    proposed = {field: new for field, (_old, new) in correction.changes.items()}
    if "name" in proposed:
        dataset.name = proposed["name"]
        dataset.name_key = fold_name(proposed["name"])
    if "domain" in proposed:
        dataset.domain = proposed["domain"]
    if "modalities" in proposed:
        dataset.modalities = ",".join(sorted(proposed["modalities"]))
    if "license" in proposed:
        dataset.license = proposed["license"]
    if "languages" in proposed:
        dataset.languages = proposed["languages"]
    overrides = dict(dataset.card_overrides)
    for field, key in CARD_KEYS.items():
        if field in proposed:
            overrides[key] = proposed[field]
    dataset.card_overrides = overrides
    dataset.save()
    update, created = CardUpdate.objects.get_or_create(correction=correction, defaults={"dataset": dataset})
    if not created:
        # A curator retries after a failure: start over, keeping the commits already refused.
        update.step = Step.PENDING
        update.last_error = ""
        update.finished_at = None
        update.attempts = 0
        update.save(update_fields=["step", "last_error", "finished_at", "attempts"])
    transaction.on_commit(lambda: queues.enqueue("catalog.tasks.update_card", update.pk))
    return update


def commit_message(update):
    """Return the commit title of an update; finding it on the Hub means the commit is done."""
    correction = update.correction
    if correction is None:
        return update.title  # the portal's own update (the DOI), titled when it was created
    return f"Update the card of {correction.submission.reference}: request {correction.number}"


def _git_oid(text):
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _claim(update_id):
    now = timezone.now()
    return (
        CardUpdate.objects.filter(pk=update_id)
        .exclude(step__in=[Step.DONE, Step.FAILED])
        .filter(Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lt=now))
        .update(lock_expires_at=now + datetime.timedelta(seconds=settings.MIRROR_LOCK_SECONDS))
        == 1
    )


def run(update_id):
    """Commit and verify one card update; return its final step, or "busy" if another worker holds it."""
    if not _claim(update_id):
        update = CardUpdate.objects.filter(pk=update_id).first()
        return update.step if update is not None and update.step in (Step.DONE, Step.FAILED) else "busy"
    update = CardUpdate.objects.select_related("dataset", "correction__submission").get(pk=update_id)
    update.attempts += 1
    CardUpdate.objects.filter(pk=update.pk).update(attempts=update.attempts)
    try:
        _run_steps(update)
    except hub.HubError as exc:
        CardUpdate.objects.filter(pk=update.pk).update(last_error=str(exc)[:2000])
        if exc.retryable:
            raise RetryLater(str(exc), countdown=exc.retry_after, attempts=update.attempts) from exc
        fail(update.pk, reason=str(exc))
        return Step.FAILED
    except RetryLater as exc:
        exc.attempts = update.attempts
        CardUpdate.objects.filter(pk=update.pk).update(last_error=str(exc)[:2000])
        raise
    except Exception as exc:
        # A bug or an unforeseen condition: recorded and retried a bounded number of times, like the
        # mirror job, so the request can neither loop silently nor stay "accepted" for ever.
        logger.exception("Card update %s hit an unexpected error.", update_id)
        reason = f"Unexpected error: {type(exc).__name__}: {exc}"
        CardUpdate.objects.filter(pk=update.pk).update(last_error=reason[:2000])
        raise RetryLater(reason, attempts=update.attempts) from exc
    finally:
        CardUpdate.objects.filter(pk=update.pk).update(lock_expires_at=None)
    return Step.DONE


def _run_steps(update):
    dataset = update.dataset
    if update.step in (Step.PENDING, Step.UPLOAD):
        if not update.files:
            # Built once: a re-run commits the same bytes, which verification then compares.
            update.files = {README: mirror.build_readme(dataset).text}
            if dataset.hosted:
                update.files[citation.FILENAME] = citation.citation_cff(_with_card(dataset, update.files))
        update.step = Step.UPLOAD
        CardUpdate.objects.filter(pk=update.pk).update(step=update.step, files=update.files)
        update.commit_id = _commit(update, dataset)
        update.step = Step.VERIFY
        CardUpdate.objects.filter(pk=update.pk).update(step=update.step, commit_id=update.commit_id)
    if update.step == Step.VERIFY:
        _verify(update, dataset)
        _publish(update, dataset)


def _with_card(dataset, files):
    """Return the dataset as it will be once the new README is stored (for CITATION.cff's summary)."""
    preview = Dataset.objects.get(pk=dataset.pk)
    preview.summary = cards.card_summary(cards.card_body(files[README]))
    return preview


def _published_card(text):
    """Return the README committed to the Hub as a parsed card (text, header metadata, body)."""
    return cards.parse_card(text.encode("utf-8"), filename=README, max_bytes=None)


def _commit(update, dataset):
    message = commit_message(update)
    for commit_id, title in hub.commit_titles(dataset.repo_id):
        if title == message and commit_id not in update.rejected_commits:
            return commit_id  # committed by an earlier run that stopped before recording it
    workdir = settings.MIRROR_WORK_DIR / f"card-update-{update.pk}"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        files = {}
        for path, text in update.files.items():
            (workdir / path).write_text(text, encoding="utf-8")
            files[path] = workdir / path
        return hub.upload_files(dataset.repo_id, files=files, commit_message=message)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _verify(update, dataset):
    remote = hub.remote_files(dataset.repo_id)
    problems = []
    for path, text in update.files.items():
        found = remote.get(path)
        if found is None:
            problems.append(f"{path} is missing")
        elif found.git_oid != _git_oid(text):
            problems.append(f"{path} differs on the Hub")
    if problems:
        rejected = [*update.rejected_commits, update.commit_id]
        CardUpdate.objects.filter(pk=update.pk).update(
            step=Step.UPLOAD, commit_id="", rejected_commits=rejected
        )
        raise RetryLater("Verification failed: " + "; ".join(problems))


def _publish(update, dataset):
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        mirror.store_card(dataset, _published_card(update.files[README]))
        dataset.hub_commit = update.commit_id
        if update.correction is not None:
            # "Updated on": a change the curators accepted; the portal's own commit (the DOI) is none.
            dataset.card_updated_at = timezone.now()
        dataset.save(update_fields=["hub_commit", "card_updated_at", "updated_at"])
        CardUpdate.objects.filter(pk=update.pk).update(
            step=Step.DONE, finished_at=timezone.now(), last_error=""
        )
        if update.correction is not None:
            services.mark_correction_published(update.correction, hub_url=hub.dataset_url(dataset.repo_id))
            # The DOI's metadata follows what the Hub now says (title, licence, creators, files).
            doi.request_update(dataset)


def fail(update_id, *, reason):
    """Stop an update that will not succeed by retrying; the workflow tells the curators.

    `reason`: plain text, or a stored message (`portal.i18n.message`); the update keeps its English.
    """
    with transaction.atomic():
        update = (
            CardUpdate.objects.select_for_update(of=("self",)).select_related("correction").get(pk=update_id)
        )
        if update.step in (Step.DONE, Step.FAILED):
            return False
        update.step = Step.FAILED
        update.last_error = i18n.english(reason)[:2000]
        update.finished_at = timezone.now()
        update.save(update_fields=["step", "last_error", "finished_at"])
        if update.correction is not None:
            services.mark_correction_failed(update.correction, reason=reason)
        # An update of the portal's own (the DOI's card) shows as failed on the review page, with a retry.
    return True


def stalled_updates():
    """Return ids of card updates that should be running but were never picked up or were left behind."""
    now = timezone.now()
    return list(
        CardUpdate.objects.exclude(step__in=[Step.DONE, Step.FAILED])
        .filter(Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lt=now))
        .filter(created_at__lt=now - datetime.timedelta(seconds=settings.MIRROR_STALL_SECONDS))
        .values_list("pk", flat=True)
    )
