"""A published dataset's DOI: its DataCite metadata, its registration, updates, and hiding it on withdrawal.

A `DoiRegistration` is created when the mirror publishes a dataset (`queue_registration`, only when
DataCite is configured and the curator did not choose to reuse the record's DOI). Its DOI is chosen once,
from the submission's reference (`choose_doi`), so the work is idempotent: `run(registration_id)` creates
the DOI (`POST`, findable at once) the first time, and a run after a lost answer looks it up (`GET`) and
updates it instead of creating another. Later runs replace its metadata (`PUT`) after an accepted correction
or card version (`request_update`) and move it to "registered" when the dataset is withdrawn (`event:
hide`). Errors that may heal (network, 429, 5xx) raise `RetryLater` and the task retries with the mirror's
backoff; a refusal that will not heal (422 with DataCite's reasons, 401/403) fails the registration with the
reason, which the review page shows and a curator can retry (`retry`). The Hub publication never waits for
any of this: the dataset is published first, and its DOI follows.

Once DataCite has made the DOI findable the first time, the dataset row gets it (`Dataset.doi`, which every
page and file reads) and the card and CITATION.cff are committed to the Hub again with it, once, through
`catalog.card_update` (a `CardUpdate` without a correction request, found again by its commit title). Only
`catalog.datacite` talks to DataCite.
"""

import datetime
import logging
import re

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from catalog import citation, croissant, datacite, hub, selectors
from catalog.errors import RetryLater
from catalog.models import CardUpdate, Dataset, DoiRegistration
from portal import queues
from submissions import services
from submissions.carddata import license_info

logger = logging.getLogger(__name__)

State = DoiRegistration.State
SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(?P<doi>10\.\S+)$", re.IGNORECASE)
ARXIV_URL = re.compile(r"^https?://arxiv\.org/(?:abs|pdf)/(?P<id>[^?#]+?)(?:\.pdf)?$", re.IGNORECASE)


# Metadata ------------------------------------------------------------------------------------------


def reference_of(dataset):
    """Return the reference a dataset's DOI is made from: its submission's, or the dataset's own number."""
    submission = dataset.submission
    return submission.reference if submission is not None else f"dp-dataset-{dataset.pk}"


def choose_doi(dataset):
    """Return the DOI a dataset gets: DATACITE_PREFIX/<its reference in lowercase> (DP-2026-000042 gives
    10.5072/dp-2026-000042). Deterministic, so that a retry finds the DOI an earlier run created."""
    return f"{settings.DATACITE_PREFIX}/{reference_of(dataset).lower()}"


def landing_page(dataset):
    """Return the DOI's `url`: the dataset's catalog page (which stays, and says so, after a withdrawal)."""
    return settings.PORTAL_BASE_URL + dataset.get_absolute_url()


def creators(dataset):
    """Return DataCite creators: the people the dataset credits, with ORCID iDs; the portal when nobody."""
    people = []
    for person in selectors.people_of(dataset):
        entry = {"name": person.name}
        if person.family_names:
            # DataCite's personal form: "Family, Given" with both parts.
            entry = {
                "name": f"{person.family_names}, {person.given_names}".strip(", "),
                "nameType": "Personal",
                "givenName": person.given_names,
                "familyName": person.family_names,
            }
        if person.orcid:
            entry["nameType"] = "Personal"
            entry["nameIdentifiers"] = [
                {
                    "nameIdentifier": person.orcid_url,
                    "nameIdentifierScheme": "ORCID",
                    "schemeUri": "https://orcid.org",
                }
            ]
        if person.affiliation:
            entry["affiliation"] = [{"name": person.affiliation}]
        people.append(entry)
    return people or [{"name": settings.PORTAL_NAME, "nameType": "Organizational"}]


def related_work(url):
    """Return (identifier, DataCite identifier type) of a paper's address: a DOI, an arXiv id, or the URL."""
    match = DOI_URL.match(url)
    if match is not None:
        return match["doi"], "DOI"
    match = ARXIV_URL.match(url)
    if match is not None:
        return f"arXiv:{match['id']}", "arXiv"
    return url, "URL"


def related_identifiers(dataset):
    """Return the DOI's related identifiers: the Hub repository, the paper, the code and the source records."""
    hub_url = hub.dataset_url(dataset.repo_id)
    related = [
        # A hosted dataset's Hub repository holds the very files the DOI names: the same resource at another
        # address (IsIdenticalTo). A linked dataset's repository holds only its card, which describes the
        # data kept at its source (IsDescribedBy), so it is not identical to what the DOI names.
        {
            "relatedIdentifier": hub_url,
            "relatedIdentifierType": "URL",
            "relationType": "IsIdenticalTo",
            "resourceTypeGeneral": "Dataset",
        }
        if dataset.hosted
        else {
            "relatedIdentifier": hub_url,
            "relatedIdentifierType": "URL",
            "relationType": "IsDescribedBy",
            "resourceTypeGeneral": "Text",
        }
    ]
    if dataset.paper:
        identifier, kind = related_work(dataset.paper)
        related.append(
            {"relatedIdentifier": identifier, "relatedIdentifierType": kind, "relationType": "IsSupplementTo"}
        )
    if dataset.code_url:
        related.append(
            {
                "relatedIdentifier": dataset.code_url,
                "relatedIdentifierType": "URL",
                "relationType": "IsSupplementedBy",
                "resourceTypeGeneral": "Software",
            }
        )
    related.extend(
        {
            "relatedIdentifier": doi,
            "relatedIdentifierType": "DOI",
            "relationType": "IsDerivedFrom",
            "resourceTypeGeneral": "Dataset",
        }
        for doi in dataset.source_dois
    )
    return related


def rights(dataset):
    """Return the DOI's rightsList: the licence, with its SPDX identifier where SPDX has one."""
    if not dataset.license:
        return []
    info = license_info(dataset.license)
    entry = {"rights": info["name"] if info else dataset.license}
    if info:
        entry["rightsUri"] = info["url"]
    spdx = citation.spdx_id(dataset.license)
    if spdx:
        entry.update(
            rightsIdentifier=spdx, rightsIdentifierScheme="SPDX", schemeUri="https://spdx.org/licenses/"
        )
    return [entry]


def sizes_and_formats(dataset):
    """Return (sizes, formats) of the dataset's files: total bytes and count; their media types."""
    files = [entry for entry in dataset.manifest if isinstance(entry, dict) and entry.get("path")]
    if not files:
        return [], []
    sizes = [f"{len(files)} files" if len(files) != 1 else "1 file"]
    if all(entry.get("size") is not None for entry in files):
        sizes.insert(0, f"{sum(int(entry['size']) for entry in files)} bytes")
    formats = sorted({croissant.encoding_format(str(entry["path"])) for entry in files})
    return sizes, formats


def _in_english(label):
    with translation.override("en"):
        return label()


def metadata(dataset, *, publication_year, issued=None, withdrawn_at=None):
    """Return the DOI's metadata (DataCite Metadata Schema 4, as the REST API's JSON attributes).

    `issued` stands in for the publication date of a withdrawn dataset, which is no longer published."""
    sizes, formats = sizes_and_formats(dataset)
    dates = []
    issued = dataset.published_at or issued
    if issued:
        dates.append({"date": issued.date().isoformat(), "dateType": "Issued"})
    if dataset.card_updated_at:
        dates.append({"date": dataset.card_updated_at.date().isoformat(), "dateType": "Updated"})
    if withdrawn_at:
        dates.append({"date": withdrawn_at.date().isoformat(), "dateType": "Withdrawn"})
    data = {
        "url": landing_page(dataset),
        "creators": creators(dataset),
        "titles": [{"title": dataset.name}],
        "publisher": settings.DATACITE_PUBLISHER,
        "publicationYear": publication_year,
        # DataCite's metadata is English, whatever language the worker or a request has active.
        "types": {
            "resourceTypeGeneral": "Dataset",
            "resourceType": _in_english(dataset.get_modalities_display),
        },
        "subjects": [{"subject": word} for word in [dataset.domain, *dataset.modality_list] if word],
        "dates": dates,
        "language": dataset.languages[0] if len(dataset.languages) == 1 else None,
        "rightsList": rights(dataset),
        "sizes": sizes,
        "formats": formats,
        "relatedIdentifiers": related_identifiers(dataset),
        "descriptions": [{"description": dataset.summary, "descriptionType": "Abstract"}]
        if dataset.summary
        else [],
        "schemaVersion": SCHEMA_VERSION,
    }
    return {key: value for key, value in data.items() if value not in (None, [], "")}


# Queueing ------------------------------------------------------------------------------------------


def queue_registration(dataset):
    """Create the DOI registration of a dataset being published and enqueue it after commit; call in a
    transaction. Nothing when DataCite is not configured or the dataset already has a DOI (its record's)."""
    if not datacite.enabled() or dataset.doi:
        return None
    registration, _created = DoiRegistration.objects.get_or_create(
        dataset=dataset,
        defaults={
            "doi": choose_doi(dataset),
            "publication_year": (dataset.published_at or timezone.now()).year,
        },
    )
    transaction.on_commit(lambda: enqueue(registration.pk))
    return registration


def enqueue(registration_id):
    """Hand a registration to the workers; if the broker is down, the sweeper will enqueue it later."""
    queues.enqueue("catalog.tasks.register_doi", registration_id)


def _request(registration, **changes):
    """Ask for the registration to be sent to DataCite again (with `changes`); enqueue after commit."""
    DoiRegistration.objects.filter(pk=registration.pk).update(
        state=State.PENDING, attempts=0, last_error="", revision=F("revision") + 1, **changes
    )
    transaction.on_commit(lambda: enqueue(registration.pk))


def request_update(dataset):
    """Send a dataset's current metadata to DataCite (after a correction or a new card version); call in a
    transaction. Nothing without a registration."""
    registration = DoiRegistration.objects.filter(dataset=dataset).first()
    if registration is not None:
        _request(registration)
    return registration


def hide(dataset):
    """Move a withdrawn dataset's DOI to "registered" (no longer findable; it still resolves to the catalog
    page, which says why the dataset was withdrawn); call in a transaction."""
    registration = DoiRegistration.objects.filter(dataset=dataset).first()
    if registration is not None:
        _request(registration, findable=False)
    return registration


def retry(dataset):
    """A curator's retry: send the registration again (and its card's commit, if that failed). A dataset
    published before DataCite was configured gets its registration now. Returns the registration or None."""
    registration = DoiRegistration.objects.filter(dataset=dataset).first()
    if registration is None:
        if dataset.published_at is None:
            return None
        return queue_registration(dataset)
    _request(registration)
    update = registration.card_update
    if update is not None and update.step == CardUpdate.Step.FAILED:
        CardUpdate.objects.filter(pk=update.pk).update(
            step=CardUpdate.Step.PENDING, attempts=0, last_error="", finished_at=None
        )
        transaction.on_commit(lambda: queues.enqueue("catalog.tasks.update_card", update.pk))
    return registration


def pending_registrations():
    """Return ids of registrations waiting for a worker (never picked up, or left by a lost worker)."""
    now = timezone.now()
    return list(
        DoiRegistration.objects.filter(state=State.PENDING)
        .filter(Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lt=now))
        .values_list("pk", flat=True)
    )


# The worker's steps -------------------------------------------------------------------------------


def _claim(registration_id):
    now = timezone.now()
    return (
        DoiRegistration.objects.filter(pk=registration_id, state=State.PENDING)
        .filter(Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lt=now))
        .update(lock_expires_at=now + datetime.timedelta(seconds=settings.MIRROR_LOCK_SECONDS))
        == 1
    )


def run(registration_id):
    """Register, update or hide one DOI at DataCite; return the registration's state ("busy" if another
    worker holds it, "gone" if it was not needed after all)."""
    if not _claim(registration_id):
        registration = DoiRegistration.objects.filter(pk=registration_id).first()
        return (
            "gone"
            if registration is None
            else "busy"
            if registration.state == State.PENDING
            else registration.state
        )
    registration = DoiRegistration.objects.select_related("dataset__submission").get(pk=registration_id)
    registration.attempts += 1
    DoiRegistration.objects.filter(pk=registration.pk).update(attempts=registration.attempts)
    try:
        return _sync(registration)
    except datacite.DataCiteError as exc:
        DoiRegistration.objects.filter(pk=registration.pk).update(last_error=str(exc)[:2000])
        if exc.retryable:
            raise RetryLater(str(exc), countdown=exc.retry_after, attempts=registration.attempts) from exc
        fail(registration.pk, reason=str(exc))
        return State.FAILED
    except RetryLater as exc:
        exc.attempts = registration.attempts
        DoiRegistration.objects.filter(pk=registration.pk).update(last_error=str(exc)[:2000])
        raise
    except Exception as exc:
        # A bug or an unforeseen condition: recorded and retried a bounded number of times, like the mirror.
        logger.exception("DOI registration %s hit an unexpected error.", registration_id)
        reason = f"Unexpected error: {type(exc).__name__}: {exc}"
        DoiRegistration.objects.filter(pk=registration.pk).update(last_error=reason[:2000])
        raise RetryLater(reason, attempts=registration.attempts) from exc
    finally:
        DoiRegistration.objects.filter(pk=registration_id).update(lock_expires_at=None)


def _event(current, *, findable):
    """Return the state event that takes a DOI from DataCite's `current` state to the one wanted, or None."""
    if findable:
        return None if current == "findable" else "publish"
    if current == "findable":
        return "hide"
    return "register" if current == "draft" else None


def _sync(registration):
    if not datacite.enabled():
        raise datacite.DataCiteError(
            "DataCite is not configured any more (DATACITE_REPOSITORY_ID, DATACITE_PASSWORD, DATACITE_PREFIX).",
            retryable=False,
        )
    revision = registration.revision
    dataset = registration.dataset
    doi = registration.doi
    attributes = metadata(
        dataset,
        publication_year=registration.publication_year,
        issued=registration.registered_at,
        withdrawn_at=None if registration.findable else dataset.withdrawn_at,
    )
    current = registration.datacite_state
    if not current:
        # DataCite has not confirmed this DOI to us yet: it exists only if an earlier creation got through.
        existing = datacite.get_doi(doi) if registration.create_sent else None
        if existing is None and not registration.findable:
            # Withdrawn before its DOI was ever registered: there is nothing to hide, and nothing to mint.
            DoiRegistration.objects.filter(pk=registration.pk).delete()
            return "gone"
        if existing is None:
            DoiRegistration.objects.filter(pk=registration.pk).update(create_sent=True)
            try:
                record = datacite.create_doi(doi, attributes, event="publish")
            except datacite.DataCiteError as exc:
                if not exc.taken:
                    raise
                existing = datacite.get_doi(doi)
                if existing is None:
                    raise
        if existing is not None:
            _check_ours(existing, dataset)
            record = datacite.update_doi(
                doi, attributes, event=_event(existing.state, findable=registration.findable)
            )
    else:
        record = datacite.update_doi(doi, attributes, event=_event(current, findable=registration.findable))
    wanted = "findable" if registration.findable else "registered"
    if record.state != wanted:
        DoiRegistration.objects.filter(pk=registration.pk).update(datacite_state=record.state)
        raise RetryLater(f"DataCite reports {doi} as {record.state or 'without a state'}, not {wanted}.")
    return _done(registration, record, revision=revision)


def _check_ours(existing, dataset):
    """A DOI found before we knew we had created it must point at this dataset's page (or nowhere yet)."""
    if existing.url and existing.url != landing_page(dataset):
        raise datacite.DataCiteError(
            f"The DOI {existing.doi} exists already and points at {existing.url}, not at this dataset's page: "
            "another system (or another installation of the portal) registered it. Nothing was changed.",
            retryable=False,
        )


def _done(registration, record, *, revision):
    """Record what DataCite holds now; the first time the DOI is findable, give it to the dataset and queue
    the card's commit with it. A request made while this run worked (a newer revision) runs again."""
    now = timezone.now()
    final = State.FINDABLE if registration.findable else State.REGISTERED
    with transaction.atomic():
        changed = DoiRegistration.objects.filter(pk=registration.pk, revision=revision).update(
            state=final, datacite_state=record.state, last_error="", synced_at=now
        )
        DoiRegistration.objects.filter(pk=registration.pk, registered_at__isnull=True).update(
            registered_at=now
        )
        if not changed:
            DoiRegistration.objects.filter(pk=registration.pk).update(datacite_state=record.state)
            transaction.on_commit(lambda: enqueue(registration.pk))
            return State.PENDING
        dataset = (
            Dataset.objects.select_for_update(of=("self",))
            .select_related("submission")
            .get(pk=registration.dataset_id)
        )
        if registration.findable and not dataset.doi:
            dataset.doi = registration.doi
            dataset.save(update_fields=["doi", "updated_at"])
            if dataset.submission is not None:
                services.mark_doi_registered(
                    dataset.submission, doi=dataset.doi, url=datacite.doi_url(dataset.doi)
                )
        if dataset.doi == registration.doi and dataset.published_at is not None:
            _queue_card_commit(registration, dataset)
    return final


def _queue_card_commit(registration, dataset):
    """Commit the card and CITATION.cff with the DOI to the Hub, once (the commit title finds it again)."""
    registration = DoiRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.card_update_id is not None:
        return
    update = CardUpdate.objects.create(
        dataset=dataset, title=f"Add the DOI {registration.doi} to the card of {reference_of(dataset)}"
    )
    DoiRegistration.objects.filter(pk=registration.pk).update(card_update=update)
    transaction.on_commit(lambda: queues.enqueue("catalog.tasks.update_card", update.pk))


def wait_for_sweeper(registration_id, *, reason):
    """After the task's retries: leave the registration pending (DataCite may be down for hours) with the
    last error; the sweeper enqueues it again every MIRROR_SWEEP_SECONDS."""
    DoiRegistration.objects.filter(pk=registration_id, state=State.PENDING).update(
        last_error=f"{reason} Still pending: tried again every {settings.MIRROR_SWEEP_SECONDS} s."[:2000]
    )
    logger.warning("DOI registration %s is still pending: %s", registration_id, reason)


def fail(registration_id, *, reason):
    """Stop a registration that retrying will not heal; the review page shows the reason."""
    with transaction.atomic():
        registration = (
            # Only this row: the submission is on the nullable side of an outer join, which PostgreSQL
            # refuses to lock.
            DoiRegistration.objects.select_for_update(of=("self",))
            .select_related("dataset__submission")
            .get(pk=registration_id)
        )
        if registration.state in (State.FINDABLE, State.REGISTERED, State.FAILED):
            return False
        registration.state = State.FAILED
        registration.last_error = reason[:2000]
        registration.save(update_fields=["state", "last_error"])
        submission = registration.dataset.submission
        if submission is not None:
            services.mark_doi_failed(submission, doi=registration.doi, reason=reason)
    logger.warning("DOI registration %s failed: %s", registration_id, reason)
    return True
