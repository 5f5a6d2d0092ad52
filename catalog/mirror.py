"""The steps that put one approved dataset on the Hub, each safe to run again after a crash.

`run(job_id)` takes a lease on the job (so two workers never run it at once), then walks the steps from
where the job stopped: create the repository, fetch the data (hosted datasets), unpack it if the curator
asked, write the README, upload in one commit, verify the files on the Hub, mark published. When the data's
server announces its SHA-256, the fetch also uploads the file's LFS object as it arrives
(`catalog.passthrough`), checked against the digest of the bytes received; the commit then finds it stored. Progress is
saved to the database at a throttled rate. Errors that may heal raise `RetryLater`; the Celery task
turns that into a retry with backoff. Errors that will not heal stop the job as `mirror_failed` with a
readable reason and clean the work folder. Only `catalog.hub` talks to the Hub; only
`portal.safefetch` fetches the contributor's URL.
"""

import hashlib
import logging
import os
import random
import shutil
import threading
import uuid
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import archives, citation, hub, lease, passthrough, scratch
from catalog.errors import MirrorFailed, RetryLater
from catalog.models import Dataset, MirrorJob
from portal import safefetch
from submissions import cards, services
from submissions.models import Submission

logger = logging.getLogger(__name__)

Step = MirrorJob.Step
README = "README.md"
DATA_DIR = "data"
# Files under this size may be stored as plain git blobs on the Hub (larger ones always go to LFS).
SMALL_FILE_BYTES = 10 * 1024 * 1024


def backoff(attempt, *, retry_after=None):
    """Return the seconds to wait before retry number `attempt`: exponential with full jitter, or Retry-After."""
    if retry_after is not None:
        return min(float(retry_after), settings.MIRROR_MAX_BACKOFF)
    base = settings.MIRROR_BACKOFF_BASE
    cap = settings.MIRROR_MAX_BACKOFF
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempt - 1)))


# The run -----------------------------------------------------------------------------------------


def run(job_id):
    """Run (or resume) a mirror job. Returns the job's final step, or "busy" if another worker holds it."""
    owner = uuid.uuid4().hex
    if not lease.acquire(job_id, owner):
        job = MirrorJob.objects.filter(pk=job_id).first()
        return job.step if job is not None and job.step in (Step.DONE, Step.FAILED) else "busy"
    heartbeat = lease.Heartbeat(job_id, owner)
    try:
        heartbeat.start()
        job = MirrorJob.objects.select_related("dataset", "dataset__submission").get(pk=job_id)
        MirrorJob.objects.filter(pk=job.pk).update(
            attempts=job.attempts + 1, started_at=job.started_at or timezone.now()
        )
        job.attempts += 1
        try:
            submission = job.dataset.submission
            if submission is not None and submission.state == Submission.State.APPROVED:
                services.start_mirroring(submission)
            _run_steps(job, lease.Progress(job, owner, heartbeat=heartbeat))
        except MirrorFailed as exc:
            _fail(job, reason=str(exc))
            return Step.FAILED
        except RetryLater as exc:
            exc.attempts = job.attempts
            MirrorJob.objects.filter(pk=job.pk).update(last_error=str(exc)[:2000])
            raise
        except Exception as exc:
            # A bug or an unforeseen condition (disk full, ...): recorded, and retried a bounded number of
            # times like a network error, so the job can neither loop silently nor vanish.
            logger.exception("Mirror job %s hit an unexpected error.", job_id)
            reason = f"Unexpected error in step “{job.get_step_display()}”: {type(exc).__name__}: {exc}"
            MirrorJob.objects.filter(pk=job.pk).update(last_error=reason[:2000])
            raise RetryLater(reason, attempts=job.attempts) from exc
        return Step.DONE
    finally:
        heartbeat.stop()
        lease.release(job_id, owner)


def _run_steps(job, progress):
    dataset = job.dataset
    if job.step in (Step.PENDING, Step.CREATE_REPO):
        progress.step(Step.CREATE_REPO)
        _create_repo(job, dataset)
        progress.step(Step.FETCH if dataset.hosted else Step.WRITE_CARD)
    workdir = work_dir(job)
    # Another worker may have run the earlier steps in its own scratch folder: rebuild what is missing here.
    resume = scratch.step_to_resume(
        job,
        workdir=workdir,
        source_file=workdir / "source" / source_filename(dataset.source_url),
        readme=workdir / README,
    )
    if resume != job.step:
        progress.step(resume)
    if job.step == Step.FETCH:
        _fetch(job, progress, workdir)
        progress.step(Step.UNPACK)
    if job.step == Step.UNPACK:
        _unpack(job, progress, workdir)
        progress.step(Step.WRITE_CARD)
    if job.step == Step.WRITE_CARD:
        _write_card(job, dataset, workdir)
        progress.step(Step.UPLOAD)
    if job.step == Step.UPLOAD:
        _upload(job, progress, dataset, workdir)
        progress.step(Step.VERIFY)
    if job.step == Step.VERIFY:
        _verify(job, dataset)
        _publish(job, dataset)
        progress.step(Step.DONE)
        shutil.rmtree(workdir, ignore_errors=True)


def work_path(job):
    """Return where the job's private work folder lives."""
    return settings.MIRROR_WORK_DIR / f"job-{job.pk}"


def work_dir(job):
    """Return the job's private work folder, created on demand."""
    path = work_path(job)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _hub(step_description, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except hub.HubError as exc:
        if exc.retryable:
            raise RetryLater(str(exc), countdown=exc.retry_after) from exc
        raise MirrorFailed(str(exc)) from exc


# Step 1: the repository --------------------------------------------------------------------------


def _reference(job):
    submission = job.dataset.submission
    return submission.reference if submission is not None else f"dataset-{job.dataset.pk}"


def _is_ours(job, repo_id):
    """Whether an existing repo is this job's: a commit names our reference, or we created it empty."""
    titles = _hub("commits", hub.commit_titles, repo_id)
    reference = _reference(job)
    if any(reference in title for _commit, title in titles):
        return True
    # We asked the Hub to create it, then crashed before recording it: it holds only the initial commit.
    return job.repo_requested == repo_id and len(titles) <= 1


def _create_repo(job, dataset):
    if job.repo_ready:
        return
    repo_id = dataset.repo_id
    base = dataset.slug
    number = 1
    while _hub("exists", hub.repo_exists, repo_id) and not _is_ours(job, repo_id):
        number += 1
        if number > 50:
            raise MirrorFailed(f"Every name like {dataset.repo_id} is taken on the Hub; rename the dataset.")
        slug = f"{base}-{number}"
        if Dataset.objects.filter(slug=slug).exclude(pk=dataset.pk).exists():
            continue
        repo_id = f"{settings.HUB_ORGANIZATION}/{slug}"
    if repo_id != dataset.repo_id:
        logger.info("Hub repo %s exists and is not ours; using %s.", dataset.repo_id, repo_id)
        dataset.repo_id = repo_id
        dataset.slug = repo_id.split("/", 1)[1]
        dataset.save(update_fields=["repo_id", "slug", "updated_at"])
    # Remember which name we are about to create, so that a crash right after it is not mistaken later
    # for somebody else's repository.
    MirrorJob.objects.filter(pk=job.pk).update(repo_requested=repo_id)
    job.repo_requested = repo_id
    _hub("create", hub.create_repo, repo_id)
    MirrorJob.objects.filter(pk=job.pk).update(repo_ready=True)
    job.repo_ready = True


# Step 2: the data --------------------------------------------------------------------------------


def source_filename(url):
    """Return a safe file name for the data, from the last part of its URL path."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    name = "".join(ch for ch in name if ch.isalnum() or ch in "._- ").strip(" .")
    return name[:120] or "data"


def _fetch(job, progress, workdir):
    dataset = job.dataset
    source_dir = workdir / "source"
    source_dir.mkdir(exist_ok=True)
    target = source_dir / source_filename(dataset.source_url)
    if job.source_sha256 and target.exists() and target.stat().st_size == job.bytes_fetched:
        return  # fetched by an earlier run that stopped before recording the next step
    for stale in source_dir.iterdir():
        if stale != target:
            stale.unlink()

    def report(done, total):
        progress.save(bytes_fetched=done, bytes_total=total)

    early = _early_upload(job, progress, target)
    try:
        result = _download(dataset.source_url, target, report=report, early=early)
    except BaseException:
        if early is not None:
            early.abandon()
        raise
    uploaded = False
    if early is not None:
        try:
            uploaded = early.finish(sha256=result.sha256, size=result.size)
        except passthrough.DigestMismatch as exc:
            _digest_mismatch(job, target, exc)
    progress.save(
        force=True,
        bytes_fetched=result.size,
        bytes_total=result.size,
        bytes_uploaded=result.size if uploaded else job.bytes_uploaded,
        source_sha256=result.sha256,
        source_content_type=result.content_type or "",
    )


def _download(url, target, *, report, early):
    """Download the data into `target` (resuming a partial file), feeding the early upload if there is one."""
    try:
        return safefetch.download(
            url,
            target,
            max_bytes=settings.MIRROR_MAX_BYTES,
            progress=report,
            resume=target.exists(),
            on_response=early.start if early is not None else None,
            on_written=early.written if early is not None else None,
        )
    except safefetch.FetchBlocked as exc:
        raise MirrorFailed(f"The data location is not allowed: {exc}") from exc
    except safefetch.FetchTooLarge as exc:
        raise MirrorFailed(str(exc)) from exc
    except safefetch.FetchError as exc:
        if exc.retryable:
            raise RetryLater(f"Downloading the data failed: {exc}", countdown=exc.retry_after) from exc
        raise MirrorFailed(f"Downloading the data failed: {exc}") from exc


# The start of the reason recorded for a download whose bytes contradict their announced SHA-256.
DIGEST_MISMATCH = "The data does not match the SHA-256 its server announced"


def _early_upload(job, progress, target):
    """Return an EarlyUpload of the file being fetched, or None where the file may not be published as is.

    An archive the curator asked to unpack is not published itself, so it is never sent ahead; nor is a
    small file, which the Hub may keep in git rather than in LFS.
    """
    submission = job.dataset.submission
    if submission is not None and submission.unpack_archives:
        return None
    uploaded = UploadCounter(progress.heartbeat)
    return passthrough.EarlyUpload(
        job.dataset.repo_id,
        path_in_repo=f"{DATA_DIR}/{target.name}",
        local_path=target,
        min_size=SMALL_FILE_BYTES,
        on_read=uploaded.add,
    )


def _digest_mismatch(job, target, exc):
    """Discard bytes that contradict their announced digest: fetch again from the start, once, then fail."""
    target.unlink(missing_ok=True)
    reason = f"{DIGEST_MISMATCH}: {exc} Nothing was published."
    if job.last_error.startswith(DIGEST_MISMATCH):
        raise MirrorFailed(
            f"{reason} It happened twice in a row: ask the contributor to check the file at the location "
            "(or its server's digest header), then retry."
        ) from exc
    raise RetryLater(f"{reason} The file is fetched again from its start.") from exc


def _unpack(job, progress, workdir):
    """Lay out the files to publish under data/: the unpacked archive, or the downloaded file as is."""
    data_dir = workdir / DATA_DIR
    if data_dir.exists():
        shutil.rmtree(data_dir)
    source_dir = workdir / "source"
    (source,) = list(source_dir.iterdir())
    submission = job.dataset.submission
    if submission is not None and submission.unpack_archives and archives.is_archive(source):
        try:
            extracted = archives.extract_archive(
                source,
                data_dir,
                max_total_bytes=settings.MIRROR_MAX_BYTES,
                max_files=settings.MIRROR_MAX_FILES,
                max_ratio=settings.MIRROR_MAX_RATIO,
            )
        except archives.UnsafeArchive as exc:
            raise MirrorFailed(f"The archive was not unpacked: {exc}") from exc
        manifest = [
            {"path": f"{DATA_DIR}/{item.path}", "size": item.size, "sha256": item.sha256}
            for item in extracted
        ]
        source.unlink()
    else:
        data_dir.mkdir()
        # A link, not a move: a run that dies before recording this step finds the source again.
        os.link(source, data_dir / source.name)
        manifest = [
            {"path": f"{DATA_DIR}/{source.name}", "size": job.bytes_fetched, "sha256": job.source_sha256}
        ]
    for entry in manifest:
        # Small files may be stored in git rather than LFS; then the Hub lists a git blob id, not a SHA-256.
        if entry["size"] < SMALL_FILE_BYTES:
            entry["git_oid"] = hub.git_blob_id(workdir / entry["path"])
    progress.save(force=True, manifest=manifest, bytes_total=sum(item["size"] for item in manifest))


# Step 3: the card --------------------------------------------------------------------------------


def build_readme(dataset):
    """Return the dataset's card for the Hub (`cards.HubCard`): the contributor's card, completed."""
    submission = dataset.submission
    revision = submission.latest_revision if submission is not None else None
    return cards.build_hub_card(
        # A dataset without a submission (the demo catalog) brings its own card.
        revision.read_text() if revision is not None else (dataset.card or None),
        name=dataset.name,
        license=dataset.license,
        modalities=dataset.modality_list,
        domain=dataset.domain,
        source_url=None if dataset.hosted else dataset.source_url,
        overrides=dataset.card_overrides,
    )


def _write_card(job, dataset, workdir):
    card = build_readme(dataset)
    (workdir / README).write_text(card.text, encoding="utf-8")
    store_card(dataset, card)
    if dataset.hosted:
        (workdir / citation.FILENAME).write_text(citation.citation_cff(dataset), encoding="utf-8")


def store_card(dataset, card):
    """Save a card published on the Hub (its text, header metadata and body) and what it says in the row."""
    metadata = card.metadata
    dataset.card = card.text
    dataset.license = metadata["license"] if isinstance(metadata.get("license"), str) else dataset.license
    dataset.languages = _strings(metadata.get("language") or metadata.get("languages"))[:20]
    dataset.tags = _strings(metadata.get("tags"))[:30] + [
        task
        for task in _strings(metadata.get("task_categories"))[:10]
        if task not in _strings(metadata.get("tags"))
    ]
    dataset.summary = cards.card_summary(card.body)
    dataset.save(update_fields=["card", "license", "languages", "tags", "summary", "updated_at"])


def _strings(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


# Steps 4 and 5: upload and verify ----------------------------------------------------------------


def commit_message(job):
    """Return the commit title that names the submission; its presence on the Hub marks the upload done."""
    return f"Publish {_reference(job)}: {job.dataset.name}"


def _upload(job, progress, dataset, workdir):
    message = commit_message(job)
    for commit_id, title in _hub("commits", hub.commit_titles, dataset.repo_id):
        if title == message and commit_id not in job.rejected_commits:
            # An earlier run committed, then stopped before recording it: never commit twice.
            progress.save(force=True, commit_id=commit_id, bytes_uploaded=job.bytes_total or 0)
            return
    files = {README: workdir / README}
    if (workdir / citation.FILENAME).exists():
        files[citation.FILENAME] = workdir / citation.FILENAME
    for entry in job.manifest:
        files[entry["path"]] = workdir / entry["path"]
    uploaded = UploadCounter(progress.heartbeat)
    commit_id = _hub(
        "upload",
        hub.upload_files,
        dataset.repo_id,
        files=files,
        commit_message=message,
        known_sha256={entry["path"]: entry["sha256"] for entry in job.manifest},
        on_read=uploaded.add,
    )
    if progress.heartbeat is not None:
        progress.heartbeat.bytes_uploaded = None  # the final count is saved below
    progress.save(
        force=True, commit_id=commit_id, bytes_uploaded=sum(entry["size"] for entry in job.manifest)
    )


class UploadCounter:
    """Adds up the bytes the Hub client has read for upload (from its threads) for the heartbeat to save."""

    def __init__(self, heartbeat):
        self.heartbeat = heartbeat
        self.total = 0
        self.lock = threading.Lock()

    def add(self, count):
        """Count `count` more bytes sent."""
        with self.lock:
            self.total += count
            if self.heartbeat is not None:
                self.heartbeat.bytes_uploaded = self.total


def _verify(job, dataset):
    remote = _hub("tree", hub.remote_files, dataset.repo_id)
    problems = []
    readme = remote.get(README)
    if readme is not None and readme.sha256 is None and readme.git_oid != _readme_git_oid(dataset):
        problems.append("README.md differs on the Hub")
    for entry in job.manifest:
        found = remote.get(entry["path"])
        if found is None:
            problems.append(f"{entry['path']} is missing")
        elif found.size != entry["size"]:
            problems.append(f"{entry['path']} has {found.size} bytes on the Hub, {entry['size']} here")
        elif found.sha256 is not None and found.sha256 != entry["sha256"]:
            problems.append(f"{entry['path']} has SHA-256 {found.sha256} on the Hub, {entry['sha256']} here")
        elif found.sha256 is None and found.git_oid != entry.get("git_oid", found.git_oid):
            problems.append(f"{entry['path']} differs on the Hub")
    if README not in remote:
        problems.append("README.md is missing")
    if dataset.hosted and citation.FILENAME not in remote:
        problems.append(f"{citation.FILENAME} is missing")
    if problems:
        # A partial or corrupted upload heals by uploading again; that commit is never taken as done again.
        rejected = [*job.rejected_commits, job.commit_id] if job.commit_id else job.rejected_commits
        MirrorJob.objects.filter(pk=job.pk).update(step=Step.UPLOAD, commit_id="", rejected_commits=rejected)
        raise RetryLater("Verification failed: " + "; ".join(problems[:5]))


def _readme_git_oid(dataset):
    data = dataset.card.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _publish(job, dataset):
    # Only a verified repository becomes visible; until here it was private.
    _hub("make public", hub.make_public, dataset.repo_id)
    with transaction.atomic():
        dataset.hub_commit = job.commit_id
        dataset.manifest = job.manifest
        dataset.published_at = dataset.published_at or timezone.now()
        dataset.save(update_fields=["hub_commit", "manifest", "published_at", "updated_at"])
        MirrorJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), last_error="")
        if dataset.submission is not None:
            services.mark_published(
                dataset.submission,
                hub_url=hub.dataset_url(dataset.repo_id),
                catalog_url=settings.PORTAL_BASE_URL + dataset.get_absolute_url(),
            )


def _fail(job, *, reason):
    """Stop a job as failed and its submission as "publishing failed", both or neither (one transaction)."""
    logger.warning("Mirror job %s failed: %s", job.pk, reason)
    _discard_repo(job)
    with transaction.atomic():
        MirrorJob.objects.filter(pk=job.pk).update(
            step=Step.FAILED, last_error=reason[:2000], finished_at=timezone.now()
        )
        submission = job.dataset.submission
        if submission is not None:
            services.mark_mirror_failed(submission, reason=reason)
        transaction.on_commit(lambda: shutil.rmtree(work_path(job), ignore_errors=True))


def _discard_repo(job):
    """Delete the (private) repository of a job that never published, so that no half-done repo is left.

    Only a repository this job created or recognised as its own (`repo_ready`) is deleted, never one that
    was published. If the Hub is unreachable the repository stays, private and so invisible.
    """
    if not job.repo_ready or job.dataset.published_at is not None:
        return
    try:
        hub.delete_repo(job.dataset.repo_id)
    except hub.HubError as exc:
        logger.warning("Could not delete the private repository %s: %s", job.dataset.repo_id, exc)
        return
    MirrorJob.objects.filter(pk=job.pk).update(repo_ready=False, repo_requested="")
    job.repo_ready, job.repo_requested = False, ""


def give_up(job_id, *, reason):
    """Stop a job whose retries are exhausted, as failed with the last error (unless a worker holds it)."""
    owner = uuid.uuid4().hex
    if not lease.acquire(job_id, owner):
        return False
    try:
        job = MirrorJob.objects.select_related("dataset__submission").get(pk=job_id)
        _fail(job, reason=f"Gave up after {job.attempts} attempts. {reason}")
    finally:
        lease.release(job_id, owner)
    return True
