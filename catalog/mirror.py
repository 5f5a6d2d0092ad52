"""The steps that put one approved dataset on the Hub, each safe to run again after a crash.

A job has a coordinator and batches. The coordinator (`run(job_id)`, under the job's lease) creates the
repository (private), writes the README and CITATION.cff, plans the dataset's files into `MirrorBatch`es
of at most MIRROR_FILES_PER_COMMIT files, and hands each batch to the workers as a task of its own. A batch
(`run_batch(batch_id)`, under its own lease, on any mirror worker) fetches its files MIRROR_FILE_CONCURRENCY
at a time, checks every announced checksum (MD5 or SHA-256) on the bytes as they stream, unpacks archives
when the curator asked, commits them (the first batch with the card) in commits named by their titles, and
verifies its files on the Hub. When the last batch is verified the coordinator runs again: it verifies the
whole repository, makes it public and marks the dataset published. Exactly once: a commit is looked up by
its title before it is made, LFS objects the Hub holds are not sent again, and only the coordinator
publishes.

When a file's SHA-256 is announced before its bytes arrive (by its server's headers, its repository or the
contributor), its LFS object is uploaded while it downloads (`catalog.passthrough`). Errors that may heal
raise `RetryLater` (the task retries with backoff); errors that will not heal fail the job as
`mirror_failed`, with a reason for the curator and one in plain words for the contributor, delete the
private repository and clean the work folder. Only `catalog.hub` talks to the Hub; only `portal.safefetch`
fetches the contributor's URLs.
"""

import hashlib
import logging
import os
import queue
import random
import shutil
import threading
import uuid
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import PurePosixPath

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog import archives, citation, doi, hub, lease, passthrough, selectors
from catalog.errors import MirrorFailed, RetryLater
from catalog.models import Dataset, MirrorBatch, MirrorJob
from portal import i18n, queues, safefetch
from submissions import cards, manifest, services
from submissions.models import ManifestFile, Submission

logger = logging.getLogger(__name__)

Step = MirrorJob.Step
BatchState = MirrorBatch.State
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


class ContributorError(MirrorFailed):
    """A failure the contributor can mend (a wrong location, a file that is not what its checksum says);
    `public` says what happened and what to do, in plain words, without internal detail (a stored message,
    `portal.i18n.message`, shown in the contributor's language)."""

    def __init__(self, message, *, public):
        super().__init__(message)
        self.public = public


# The coordinator ---------------------------------------------------------------------------------


def run(job_id):
    """Run (or resume) a mirror job's coordinator. Returns the job's step, or "busy" if another worker holds it.

    While batches copy files it returns `copy`; the last batch to finish runs it again.
    """
    owner = uuid.uuid4().hex
    if not lease.acquire(job_id, owner):
        job = MirrorJob.objects.filter(pk=job_id).first()
        return job.step if job is not None and job.step in (Step.DONE, Step.FAILED) else "busy"
    heartbeat = lease.Heartbeat(job_id, owner)
    to_enqueue = []
    try:
        heartbeat.start()
        job = MirrorJob.objects.select_related("dataset", "dataset__submission").get(pk=job_id)
        # A run that takes the job on after its batches (step "copy") is no new attempt: the batches count theirs.
        attempts = job.attempts + (job.step != Step.COPY)
        MirrorJob.objects.filter(pk=job.pk).update(
            attempts=attempts, started_at=job.started_at or timezone.now()
        )
        job.attempts = attempts
        try:
            submission = job.dataset.submission
            if submission is not None and submission.state == Submission.State.APPROVED:
                services.start_mirroring(submission)
            to_enqueue = _run_steps(job, lease.Progress(job, owner, heartbeat=heartbeat))
        except MirrorFailed as exc:
            _fail(job, reason=exc.stored, public=getattr(exc, "public", ""))
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
        return job.step
    finally:
        heartbeat.stop()
        lease.release(job_id, owner)
        # After the lease is given back: a batch that finishes at once (eager tasks) runs the coordinator
        # again, which must find the job free.
        for batch_id in to_enqueue:
            queues.enqueue("catalog.tasks.mirror_batch", batch_id)


def _run_steps(job, progress):
    """Walk the coordinator's steps from where the job stopped; return the ids of batches to enqueue."""
    dataset = job.dataset
    if job.step in (Step.PENDING, Step.CREATE_REPO):
        progress.step(Step.CREATE_REPO)
        _create_repo(job, dataset)
        progress.step(Step.WRITE_CARD)
    if job.step == Step.WRITE_CARD:
        if dataset.hosted and dataset.submission is not None and not planned_files(dataset):
            raise MirrorFailed(
                i18n.message(
                    gettext_noop(
                        "The dataset has no file to copy: its location check has not listed any (or every file "
                        "is restricted at its source). Run the checks again, or correct the location, then retry."
                    )
                )
            )
        plan_batches(job)
        _write_card(job, dataset, progress)
        progress.step(Step.COPY)
    if job.step == Step.COPY:
        batches = list(job.batches.order_by("index").values_list("pk", "state", "last_error"))
        failed = [error for _pk, state, error in batches if state == BatchState.FAILED]
        if failed:
            raise MirrorFailed(failed[0] or i18n.message(gettext_noop("A batch of files failed.")))
        waiting = [pk for pk, state, _error in batches if state != BatchState.DONE]
        if waiting:
            return waiting
        progress.step(Step.VERIFY)
    if job.step == Step.VERIFY:
        _verify(job, dataset)
        _publish(job, dataset)
        progress.step(Step.DONE)
        shutil.rmtree(work_path(job), ignore_errors=True)
    return []


def work_path(job):
    """Return where the job's private work folder lives."""
    return settings.MIRROR_WORK_DIR / f"job-{job.pk}"


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
            raise MirrorFailed(
                i18n.message(
                    gettext_noop("Every name like %(repo)s is taken on the Hub; rename the dataset."),
                    repo=dataset.repo_id,
                )
            )
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


# Step 2: the plan and the card --------------------------------------------------------------------


def planned_files(dataset):
    """Return the files a dataset publishes: [{path (in the repo), url, size, checksums, unpack, split}].

    A hosted dataset's files come from its submission's manifest (restricted files are never fetched); a
    dataset without a submission (the demo catalog) has its one source file. A linked dataset has none.
    """
    if not dataset.hosted:
        return []
    submission = dataset.submission
    if submission is None:
        name = manifest.file_name_of(dataset.source_url)
        return [_planned(name, dataset.source_url, None, {}, split="", unpack=False)]
    rows = (
        ManifestFile.objects.filter(submission=submission, restricted=False)
        .exclude(source_url="")
        .order_by("position")
        .values_list("path", "source_url", "size", "checksums", "split")
    )
    return [
        _planned(path, url, size, checksums, split=split, unpack=submission.unpack_archives)
        for path, url, size, checksums, split in rows.iterator(chunk_size=2000)
    ]


def _planned(path, url, size, checksums, *, split, unpack):
    return {
        "path": f"{DATA_DIR}/{path}",
        "url": url,
        "size": size,
        "checksums": checksums or {},
        "split": split,
        "unpack": unpack,
    }


def plan_batches(job):
    """Create the job's batches from its dataset's planned files (once; a re-run keeps the plan)."""
    if job.batches.exists():
        return
    files = planned_files(job.dataset)
    per_commit = max(1, settings.MIRROR_FILES_PER_COMMIT)
    groups = [files[start : start + per_commit] for start in range(0, len(files), per_commit)] or [[]]
    MirrorBatch.objects.bulk_create(
        [
            MirrorBatch(
                job=job,
                index=index,
                files=group,
                bytes_total=sum(entry["size"] or 0 for entry in group),
            )
            for index, group in enumerate(groups)
        ]
    )


def build_readme(dataset):
    """Return the dataset's card for the Hub (`cards.HubCard`): the contributor's card, completed."""
    submission = dataset.submission
    revision = submission.latest_revision if submission is not None else None
    files = [(entry["path"], entry["split"], entry["unpack"]) for entry in planned_files(dataset)]
    return cards.build_hub_card(
        # A dataset without a submission (the demo catalog) brings its own card.
        revision.read_text() if revision is not None else (dataset.card or None),
        name=dataset.name,
        license=dataset.license,
        modalities=dataset.modality_list,
        domain=dataset.domain,
        source_url=None if dataset.hosted else dataset.source_url,
        overrides=dataset.card_overrides,
        configs=manifest.card_configs(files),
        citation=cards.CitationInfo(
            dois=tuple(dataset.source_dois),
            creators=tuple(
                {"name": person.name, "orcid": person.orcid, "affiliation": person.affiliation}
                for person in selectors.people_of(dataset)
            ),
            paper=dataset.paper,
            code_url=dataset.code_url,
            doi=dataset.doi,
            bibtex=citation.bibtex(dataset) if dataset.doi else "",
        ),
        creator=selectors.creator_of(dataset),
    )


def _write_card(job, dataset, progress):
    card = build_readme(dataset)
    store_card(dataset, card)
    files = {README: card.text}
    if dataset.hosted:
        files[citation.FILENAME] = citation.citation_cff(dataset)
    progress.save(force=True, card_files=files)


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


def commit_message(job):
    """Return the title of a one-commit publication; its presence on the Hub marks the upload done."""
    return f"Publish {_reference(job)}: {job.dataset.name}"


def commit_title(job, *, batch_index, batches, commit_index, commits):
    """Return the title of one commit of one batch (the plain `commit_message` when there is only one)."""
    title = commit_message(job)
    if batches == 1 and commits == 1:
        return title
    part = f"part {batch_index + 1} of {batches}"
    if commits > 1:
        part += f", commit {commit_index + 1} of {commits}"
    return f"{title} ({part})"


# Batches ------------------------------------------------------------------------------------------


def run_batch(batch_id):
    """Run (or resume) one batch: fetch, commit and verify its files. Returns its state, or "busy"/"gone"."""
    owner = uuid.uuid4().hex
    if not lease.acquire(batch_id, owner, model=MirrorBatch):
        batch = MirrorBatch.objects.filter(pk=batch_id).first()
        return "gone" if batch is None else batch.state if batch.state in ("done", "failed") else "busy"
    heartbeat = lease.Heartbeat(batch_id, owner, model=MirrorBatch)
    finished_job = None
    try:
        batch = MirrorBatch.objects.filter(pk=batch_id).select_related("job__dataset__submission").first()
        if batch is None:
            return "gone"
        job = batch.job
        if job.step != Step.COPY:
            return batch.state  # the job failed (or was reset for a retry) meanwhile: nothing to do
        heartbeat.start()
        MirrorBatch.objects.filter(pk=batch.pk).update(attempts=batch.attempts + 1)
        batch.attempts += 1
        try:
            _run_batch_steps(batch, job, lease.Progress(batch, owner, heartbeat=heartbeat))
        except MirrorFailed as exc:
            MirrorBatch.objects.filter(pk=batch.pk).update(
                state=BatchState.FAILED, last_error=str(exc)[:2000], finished_at=timezone.now()
            )
            _fail(job, reason=exc.stored, public=getattr(exc, "public", ""))
            return BatchState.FAILED
        except RetryLater as exc:
            exc.attempts = batch.attempts
            MirrorBatch.objects.filter(pk=batch.pk).update(last_error=str(exc)[:2000])
            raise
        except Exception as exc:
            logger.exception("Batch %s of mirror job %s hit an unexpected error.", batch.index, job.pk)
            reason = f"Unexpected error in batch {batch.index + 1}: {type(exc).__name__}: {exc}"
            MirrorBatch.objects.filter(pk=batch.pk).update(last_error=reason[:2000])
            raise RetryLater(reason, attempts=batch.attempts) from exc
        finished_job = job.pk
        return BatchState.DONE
    finally:
        heartbeat.stop()
        lease.release(batch_id, owner, model=MirrorBatch)
        if finished_job is not None and not (
            MirrorBatch.objects.filter(job_id=finished_job).exclude(state=BatchState.DONE).exists()
        ):
            queues.enqueue("catalog.tasks.mirror_dataset", finished_job)


def _run_batch_steps(batch, job, progress):
    count = job.batches.count()
    folder = work_path(job) / f"batch-{batch.index}"
    titles = dict(_hub("commits", hub.commit_titles, job.dataset.repo_id))
    if batch.state in (BatchState.PENDING, BatchState.FETCH) and _all_committed(batch, job, count, titles):
        progress.step(BatchState.VERIFY)
    if (
        batch.state == BatchState.COMMIT
        and not _local_files_present(batch, folder)
        and not _all_committed(batch, job, count, titles)
    ):
        # Another worker fetched these files on its own disk and stopped: fetch them again here.
        progress.step(BatchState.FETCH)
    if batch.state in (BatchState.PENDING, BatchState.FETCH):
        progress.step(BatchState.FETCH)
        _fetch_batch(batch, job, progress, folder)
        progress.step(BatchState.COMMIT)
    if batch.state == BatchState.COMMIT:
        _commit_batch(batch, job, progress, folder, count, titles)
        progress.step(BatchState.VERIFY)
    if batch.state == BatchState.VERIFY:
        _verify_batch(batch, job)
        progress.save(force=True, state=BatchState.DONE, bytes_uploaded=_batch_bytes(batch))
        MirrorBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now(), last_error="")
        shutil.rmtree(folder, ignore_errors=True)


def _batch_bytes(batch):
    return sum(entry["size"] for entry in batch.results)


def _chunks(batch):
    """Return the batch's commits as lists of repo paths: its files in order, at most MIRROR_FILES_PER_COMMIT
    a commit (an unpacked archive may give a batch more files than it was planned with). The card files go
    with the first commit of the first batch, beside its data."""
    paths = [entry["path"] for entry in batch.results]
    per_commit = max(1, settings.MIRROR_FILES_PER_COMMIT)
    return [paths[start : start + per_commit] for start in range(0, len(paths), per_commit)] or [[]]


def _all_committed(batch, job, count, titles):
    """Whether every commit of the batch is on the Hub already (an earlier run committed, then stopped)."""
    if not batch.results and batch.files:
        return False
    chunks = _chunks(batch)
    wanted = [
        commit_title(job, batch_index=batch.index, batches=count, commit_index=number, commits=len(chunks))
        for number in range(len(chunks))
    ]
    found = {title for commit, title in titles.items() if commit not in batch.rejected_commits}
    return all(title in found for title in wanted)


def _local_files_present(batch, folder):
    return all((folder / entry["path"]).exists() for entry in batch.results)


class _Stopped(Exception):
    """A download stopped because another file of its batch failed."""


class _Counter:
    """Adds up bytes from several threads (downloads, the Hub client's upload threads) for the heartbeat."""

    def __init__(self, heartbeat, field):
        self.heartbeat = heartbeat
        self.field = field
        self.total = 0
        self.lock = threading.Lock()

    def add(self, count):
        """Count `count` more bytes."""
        with self.lock:
            self.total += count
            if self.heartbeat is not None:
                setattr(self.heartbeat, self.field, self.total)


def _fetch_batch(batch, job, progress, folder):
    """Download the batch's files (several at once), check their checksums, and unpack archives if asked.

    Each fetched file's LFS object is sent to the Hub at once, by an uploader thread that takes the files
    as they arrive (several per call), so downloads and uploads overlap; the commit then finds them stored.
    """
    if folder.exists():
        # Partial files of an earlier run stay for resuming; files no longer planned go.
        wanted = {str(folder / entry["path"]) for entry in batch.files}
        for path in folder.rglob("*"):
            if path.is_file() and str(path) not in wanted:
                path.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    fetched = _Counter(progress.heartbeat, "bytes_fetched")
    uploaded = _Counter(progress.heartbeat, "bytes_uploaded")
    stop = threading.Event()
    uploader = _Uploader(job.dataset.repo_id, on_read=uploaded.add, stop=stop)
    uploader.start()
    try:
        results = _download_all(
            batch, job, folder, fetched=fetched, uploaded=uploaded, stop=stop, uploads=uploader
        )
    finally:
        modes = uploader.finish(raise_error=not stop.is_set())
    single_archive = job.batches.count() == 1 and len(batch.files) == 1
    laid_out = []
    for entry in batch.files:
        laid_out.extend(_lay_out(job, entry, results[entry["path"]], folder, single=single_archive))
    _check_layout(laid_out, batch)
    for item in laid_out:
        # A small file the Hub keeps in git is listed with a git blob id, not a SHA-256 (an LFS file never is).
        if item["size"] < SMALL_FILE_BYTES and modes.get(item["path"]) != "lfs":
            item["git_oid"] = hub.git_blob_id(folder / item["path"])
    progress.save(
        force=True,
        results=laid_out,
        bytes_fetched=sum(result["size"] for result in results.values()),
        bytes_total=sum(result["size"] for result in results.values()),
        bytes_uploaded=uploaded.total,
    )


def _download_all(batch, job, folder, *, fetched, uploaded, stop, uploads):
    """Download every file of the batch, MIRROR_FILE_CONCURRENCY at a time; return {path: result}.

    The first failure decides: `stop` is set and the other downloads end at their next chunk (their partial
    files stay for a resumed run).
    """
    with ThreadPoolExecutor(max_workers=max(1, settings.MIRROR_FILE_CONCURRENCY)) as pool:
        futures = {
            pool.submit(
                _fetch_file,
                job,
                entry,
                folder,
                fetched=fetched,
                uploaded=uploaded,
                stop=stop,
                previous_error=batch.last_error,
                uploads=uploads,
            ): entry["path"]
            for entry in batch.files
        }
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [future for future in done if future.exception() is not None]
        if failed:
            stop.set()
            for future in futures:
                future.cancel()
            raise failed[0].exception()
        return {futures[future]: future.result() for future in futures}


class _Uploader(threading.Thread):
    """Sends fetched files' LFS objects to the Hub as they arrive, several per call, in its own thread.

    `put((path in the repo, local path, sha256))` hands a file over; `finish()` waits for the last ones and
    returns {path: upload mode}, raising the first error (a HubError turned into RetryLater or MirrorFailed)
    unless the batch is stopping anyway. Once an upload failed, the rest are dropped: the commit sends them.
    """

    GROUP = 32  # files per call at most

    def __init__(self, repo_id, *, on_read, stop):
        super().__init__(name="mirror-uploader", daemon=True)
        self.repo_id = repo_id
        self.on_read = on_read
        self.stop = stop
        self.queue = queue.Queue()
        self.modes = {}
        self.error = None

    def put(self, item):
        """Hand a fetched file over for upload."""
        self.queue.put(item)

    def run(self):
        """Upload what arrives until the end marker (None)."""
        while (item := self.queue.get()) is not None:
            group = [item]
            while len(group) < self.GROUP:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.queue.put(None)  # seen again by the loop, after this group
                    break
                group.append(more)
            if self.error is not None or self.stop.is_set():
                continue
            try:
                self.modes.update(
                    _hub("upload", hub.preupload_files, self.repo_id, group, on_read=self.on_read)
                )
            except BaseException as exc:  # raised in the batch's thread by finish()
                self.error = exc

    def finish(self, *, raise_error=True):
        """Wait for the uploads handed over; return {path: mode}, or raise the first upload error."""
        self.queue.put(None)
        self.join()
        if self.error is not None and raise_error:
            raise self.error
        return self.modes


def _fetch_file(job, entry, folder, *, fetched, uploaded, stop, previous_error, uploads=None):
    """Download one file into the batch folder; return {size, sha256, content_type, early}. Runs in a thread.

    `stop` is set when another file of the batch failed: this download then ends at its next chunk.
    """
    target = folder / entry["path"]
    target.parent.mkdir(parents=True, exist_ok=True)
    announced = {name: value.lower() for name, value in (entry.get("checksums") or {}).items() if value}
    extra = [name for name in announced if name != "sha256" and name in hashlib.algorithms_available]
    early = (
        None if entry.get("unpack") else _early_upload(job, entry, target, uploaded, announced.get("sha256"))
    )
    previous = [0]

    def report(done, total):
        if stop.is_set():
            raise _Stopped
        fetched.add(done - previous[0])
        previous[0] = done

    try:
        result = _download(
            entry["url"],
            target,
            report=report,
            early=early,
            extra_digests=extra,
            chunk_size=_chunk_size(entry.get("size")),
        )
    except BaseException:
        if early is not None:
            early.abandon()
        raise
    measured = dict(result.digests, sha256=result.sha256)
    for name, value in announced.items():
        if name in measured and measured[name] != value:
            if early is not None:
                early.abandon()
            target.unlink(missing_ok=True)
            raise _checksum_mismatch(entry, name, value, measured[name])
    was_uploaded = False
    if early is not None:
        try:
            was_uploaded = early.finish(sha256=result.sha256, size=result.size)
        except passthrough.DigestMismatch as exc:
            target.unlink(missing_ok=True)
            raise _digest_mismatch(entry, exc, previous_error=previous_error) from exc
    if not was_uploaded and not entry.get("unpack") and uploads is not None:
        uploads.put((entry["path"], target, result.sha256))
    return {
        "size": result.size,
        "sha256": result.sha256,
        "content_type": result.content_type or "",
        "early": was_uploaded,
    }


def _chunk_size(size):
    """Return the receive buffer size for a file of `size` bytes: 1 MiB, or less for a small file (a batch
    fetches several files at once, each with a few buffers), in whole 64 KiB blocks."""
    block = 64 * 1024
    if not size:
        return safefetch.DEFAULT_CHUNK_SIZE
    return max(block, min(safefetch.DEFAULT_CHUNK_SIZE, -(-size // block) * block))


def _checksum_mismatch(entry, algorithm, announced, measured):
    name = PurePosixPath(entry["path"]).relative_to(DATA_DIR)
    facts = {"name": str(name), "algorithm": algorithm.upper(), "announced": announced, "measured": measured}
    return ContributorError(
        i18n.message(
            gettext_noop(
                "%(name)s: its %(algorithm)s was announced as %(announced)s, but the bytes received have "
                "%(measured)s. Nothing was published."
            ),
            **facts,
        ),
        public=i18n.message(
            gettext_noop(
                "The file %(name)s is not the one its checksum describes: its %(algorithm)s should be "
                "%(announced)s, the file we downloaded has %(measured)s. Check the file at its location (or the "
                "checksum you gave), then give the right location or checksum below."
            ),
            **facts,
        ),
    )


def _download(url, target, *, report, early, extra_digests=(), chunk_size=safefetch.DEFAULT_CHUNK_SIZE):
    """Download `url` into `target` (resuming a partial file), feeding the early upload if there is one."""
    name = PurePosixPath(url).name
    try:
        return safefetch.download(
            url,
            target,
            max_bytes=settings.MIRROR_MAX_BYTES,
            progress=report,
            resume=target.exists(),
            on_response=early.start if early is not None else None,
            on_written=early.written if early is not None else None,
            extra_digests=extra_digests,
            chunk_size=chunk_size,
        )
    except safefetch.FetchBlocked as exc:
        raise ContributorError(
            i18n.message(gettext_noop("The data location is not allowed: %(reason)s"), reason=str(exc)),
            public=i18n.message(
                gettext_noop(
                    "We may not download %(url)s: %(reason)s Give a public https:// address of the data below."
                ),
                url=url,
                reason=str(exc),
            ),
        ) from exc
    except safefetch.FetchTooLarge as exc:
        raise ContributorError(
            str(exc),
            public=i18n.message(
                gettext_noop(
                    "The file %(name)s is larger than we can host (%(reason)s). Untick hosting, or split it."
                ),
                name=name,
                reason=str(exc),
            ),
        ) from exc
    except safefetch.FetchError as exc:
        if exc.retryable:
            raise RetryLater(f"Downloading the data failed: {exc}", countdown=exc.retry_after) from exc
        raise ContributorError(
            i18n.message(gettext_noop("Downloading the data failed: %(reason)s"), reason=str(exc)),
            public=i18n.message(
                gettext_noop(
                    "We could not download %(url)s: %(reason)s If the data has moved, give its new location below."
                ),
                url=url,
                reason=str(exc),
            ),
        ) from exc


# The start of the reason recorded for a download whose bytes contradict their announced SHA-256.
DIGEST_MISMATCH = "The data does not match the SHA-256 its server announced"


def _early_upload(job, entry, target, uploaded, known_sha256):
    """Return an EarlyUpload of a file being fetched, or None where it may not be published as is.

    An archive the curator asked to unpack is not published itself, so it is never sent ahead; nor is a
    small file, which the Hub may keep in git rather than in LFS.
    """
    return passthrough.EarlyUpload(
        job.dataset.repo_id,
        path_in_repo=entry["path"],
        local_path=target,
        min_size=SMALL_FILE_BYTES,
        on_read=uploaded.add,
        known_sha256=known_sha256,
    )


def _digest_mismatch(entry, exc, *, previous_error):
    """Bytes that contradict their server's digest: fetch again from the start, once, then fail."""
    reason = f"{DIGEST_MISMATCH}: {exc} Nothing was published."
    if previous_error.startswith(DIGEST_MISMATCH):
        return ContributorError(
            i18n.message(
                gettext_noop(
                    "%(reason)s It happened twice in a row: ask the contributor to check the file at the "
                    "location (or its server's digest header), then retry."
                ),
                reason=reason,
            ),
            public=i18n.message(
                gettext_noop(
                    "The file at %(url)s changed while we downloaded it, or its server states a checksum that "
                    "does not match it, twice in a row. Check the file, then give its location again."
                ),
                url=entry["url"],
            ),
        )
    return RetryLater(f"{reason} The file is fetched again from its start.")


def _lay_out(job, entry, result, folder, *, single):
    """Return the published files of one fetched file: itself, or its archive's members when unpacked."""
    path = folder / entry["path"]
    if entry.get("unpack") and archives.is_archive(path):
        repo_path = PurePosixPath(entry["path"])
        prefix = PurePosixPath(DATA_DIR) if single else repo_path.parent / _archive_stem(repo_path.name)
        destination = folder / prefix
        try:
            extracted = archives.extract_archive(
                path,
                folder / ".unpack" / repo_path.name,
                max_total_bytes=settings.MIRROR_MAX_BYTES,
                max_files=settings.MIRROR_MAX_FILES,
                max_ratio=settings.MIRROR_MAX_RATIO,
            )
        except archives.UnsafeArchive as exc:
            raise MirrorFailed(
                i18n.message(gettext_noop("The archive was not unpacked: %(reason)s"), reason=exc.message)
            ) from exc
        path.unlink()  # before the members move: one of them may have the archive's own name
        items = []
        for item in extracted:
            source = folder / ".unpack" / repo_path.name / item.path
            target = destination / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            items.append({"path": str(prefix / item.path), "size": item.size, "sha256": item.sha256})
        shutil.rmtree(folder / ".unpack" / repo_path.name, ignore_errors=True)
        return items
    item = {"path": entry["path"], "size": result["size"], "sha256": result["sha256"]}
    if result.get("early"):
        item["early"] = True
    return [item]


def _archive_stem(name):
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def _check_layout(items, batch):
    seen = set()
    for item in items:
        if item["path"] in seen:
            raise MirrorFailed(
                i18n.message(
                    gettext_noop(
                        "Two files of batch %(batch)s would both be %(path)s on the Hub (an archive unpacked "
                        "over another file); rename one."
                    ),
                    batch=batch.index + 1,
                    path=item["path"],
                )
            )
        seen.add(item["path"])


def _commit_batch(batch, job, progress, folder, count, titles):
    """Commit the batch's files (the card with the first batch) in commits named by their titles."""
    repo_id = job.dataset.repo_id
    chunks = _chunks(batch)
    by_path = {item["path"]: item for item in batch.results}
    uploaded = _Counter(progress.heartbeat, "bytes_uploaded")
    commit_ids = list(batch.commit_ids)
    for number, paths in enumerate(chunks):
        title = commit_title(
            job, batch_index=batch.index, batches=count, commit_index=number, commits=len(chunks)
        )
        existing = next(
            (
                commit
                for commit, found in titles.items()
                if found == title and commit not in batch.rejected_commits
            ),
            None,
        )
        if existing is not None:
            # An earlier run committed, then stopped before recording it: never commit twice.
            if existing not in commit_ids:
                commit_ids.append(existing)
            continue
        files = {path: folder / path for path in paths}
        texts = dict(job.card_files) if batch.index == 0 and number == 0 else {}
        commit_id = _hub(
            "upload",
            hub.upload_files,
            repo_id,
            files=files,
            texts=texts,
            commit_message=title,
            known_sha256={path: by_path[path]["sha256"] for path in paths},
            on_read=uploaded.add,
        )
        commit_ids.append(commit_id)
        progress.save(force=True, commit_ids=commit_ids)
    if progress.heartbeat is not None:
        progress.heartbeat.bytes_uploaded = None  # the final count is saved when the batch is verified
    progress.save(force=True, commit_ids=commit_ids)


def _verify_batch(batch, job):
    """Check the batch's files on the Hub (and the card, for the first batch) against what was fetched."""
    repo_id = job.dataset.repo_id
    paths = [item["path"] for item in batch.results]
    if batch.index == 0:
        paths += list(job.card_files)
    remote = _hub("paths", hub.paths_info, repo_id, paths) if paths else {}
    problems = _compare(batch.results, remote)
    if batch.index == 0:
        problems += _compare_texts(job.card_files, remote)
    if problems:
        # A partial or corrupted upload heals by uploading again; those commits are never taken as done again.
        rejected = [*batch.rejected_commits, *batch.commit_ids]
        MirrorBatch.objects.filter(pk=batch.pk).update(
            state=BatchState.COMMIT, commit_ids=[], rejected_commits=rejected
        )
        raise RetryLater(
            f"Verification of batch {batch.index + 1} failed: "
            + "; ".join(text for _path, text in problems[:5])
        )


def _compare(items, remote):
    """Return (path, problem) for each file that is missing or differs on the Hub."""
    problems = []
    for entry in items:
        path, found = entry["path"], remote.get(entry["path"])
        if found is None:
            problems.append((path, f"{path} is missing"))
        elif found.size != entry["size"]:
            problems.append((path, f"{path} has {found.size} bytes on the Hub, {entry['size']} here"))
        elif found.sha256 is not None and found.sha256 != entry["sha256"]:
            problems.append((path, f"{path} has SHA-256 {found.sha256} on the Hub, {entry['sha256']} here"))
        elif found.sha256 is None and found.git_oid != entry.get("git_oid", found.git_oid):
            problems.append((path, f"{path} differs on the Hub"))
    return problems


def _compare_texts(texts, remote):
    """Return (path, problem) for each card file that is missing or differs on the Hub."""
    problems = []
    for path, text in texts.items():
        found = remote.get(path)
        data = text.encode("utf-8")
        oid = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        if found is None:
            problems.append((path, f"{path} is missing"))
        elif found.sha256 is None and found.git_oid != oid:
            problems.append((path, f"{path} differs on the Hub"))
    return problems


# Step 3: the whole repository, and publication ------------------------------------------------------


def _verify(job, dataset):
    """Check every published file and the card files on the Hub, once every batch is verified."""
    remote = _hub("tree", hub.remote_files, dataset.repo_id)
    items = [item for batch in job.batches.order_by("index") for item in batch.results]
    problems = _compare(items, remote) + _compare_texts(job.card_files, remote)
    if problems:
        # Send the batches whose files are wrong back to committing; the coordinator waits for them again.
        wrong = {path for path, _text in problems}
        for batch in job.batches.all():
            if any(item["path"] in wrong for item in batch.results) or (
                batch.index == 0 and wrong & set(job.card_files)
            ):
                MirrorBatch.objects.filter(pk=batch.pk).update(
                    state=BatchState.COMMIT,
                    commit_ids=[],
                    rejected_commits=[*batch.rejected_commits, *batch.commit_ids],
                )
        MirrorJob.objects.filter(pk=job.pk).update(step=Step.COPY)
        raise RetryLater("Verification failed: " + "; ".join(text for _path, text in problems[:5]))


def _publish(job, dataset):
    # Only a verified repository becomes visible; until here it was private.
    _hub("make public", hub.make_public, dataset.repo_id)
    head = _hub("commits", hub.commit_titles, dataset.repo_id)[0][0]
    batches = list(job.batches.order_by("index"))
    published = [
        {key: item[key] for key in ("path", "size", "sha256", "git_oid") if key in item}
        for batch in batches
        for item in batch.results
    ]
    totals = job.batches.aggregate(fetched=Sum("bytes_fetched"), uploaded=Sum("bytes_uploaded"))
    with transaction.atomic():
        dataset.hub_commit = head
        if dataset.hosted:
            dataset.manifest = published
        dataset.published_at = dataset.published_at or timezone.now()
        dataset.save(update_fields=["hub_commit", "manifest", "published_at", "updated_at"])
        size = sum(item["size"] for item in published)
        MirrorJob.objects.filter(pk=job.pk).update(
            finished_at=timezone.now(),
            last_error="",
            public_error="",
            public_error_message=None,
            commit_id=head,
            manifest=published,
            bytes_fetched=totals["fetched"] or 0,
            bytes_uploaded=totals["uploaded"] or 0,
            bytes_total=size,
            source_sha256=published[0]["sha256"] if len(published) == 1 else "",
        )
        job.commit_id, job.manifest = head, published
        job.bytes_fetched, job.bytes_uploaded, job.bytes_total = (
            totals["fetched"] or 0,
            totals["uploaded"] or 0,
            size,
        )
        if dataset.submission is not None:
            manifest.record_measured(
                dataset.submission,
                {item["path"].removeprefix(f"{DATA_DIR}/"): item["sha256"] for item in published},
            )
            services.mark_published(
                dataset.submission,
                hub_url=hub.dataset_url(dataset.repo_id),
                catalog_url=settings.PORTAL_BASE_URL + dataset.get_absolute_url(),
            )
        # The DOI follows the publication and never holds it up: a DataCite outage leaves it pending.
        doi.queue_registration(dataset)


def _fail(job, *, reason, public=""):
    """Stop a job as failed and its submission as "publishing failed", both or neither (one transaction).

    `reason` (for the curators) and `public` (for the contributor) are plain text or stored messages
    (`portal.i18n.message`); the job keeps their English, and `public` also as stored, for the status page.
    """
    logger.warning("Mirror job %s failed: %s", job.pk, i18n.english(reason))
    _discard_repo(job)
    with transaction.atomic():
        MirrorJob.objects.filter(pk=job.pk).update(
            step=Step.FAILED,
            last_error=i18n.english(reason)[:2000],
            public_error=i18n.english(public)[:2000],
            public_error_message=public if i18n.is_message(public) else None,
            finished_at=timezone.now(),
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
        _fail(job, reason=gave_up_reason(reason, attempts=job.attempts))
    finally:
        lease.release(job_id, owner)
    return True


def give_up_batch(batch_id, *, reason):
    """Stop a batch whose retries are exhausted, and its job with it (unless a worker holds the batch)."""
    owner = uuid.uuid4().hex
    if not lease.acquire(batch_id, owner, model=MirrorBatch):
        return False
    try:
        batch = MirrorBatch.objects.select_related("job__dataset__submission").get(pk=batch_id)
        reason = gave_up_reason(reason, attempts=batch.attempts, batch=batch.index + 1)
        MirrorBatch.objects.filter(pk=batch.pk).update(
            state=BatchState.FAILED, last_error=i18n.english(reason)[:2000], finished_at=timezone.now()
        )
        if batch.job.step not in (Step.DONE, Step.FAILED):
            _fail(batch.job, reason=reason)
    finally:
        lease.release(batch_id, owner, model=MirrorBatch)
    return True


def gave_up_reason(reason, *, attempts, batch=None):
    """Return why work was given up after its retries (a job, one of its batches: `batch`, its number, or a
    card update), as a stored message (`portal.i18n.message`) with the last error."""
    if batch is None:
        return i18n.message_plural(
            "Gave up after %(count)s attempt. %(reason)s",
            "Gave up after %(count)s attempts. %(reason)s",
            count=attempts,
            reason=reason,
        )
    return i18n.message_plural(
        "Gave up on batch %(batch)s after %(count)s attempt. %(reason)s",
        "Gave up on batch %(batch)s after %(count)s attempts. %(reason)s",
        count=attempts,
        batch=batch,
        reason=reason,
    )
