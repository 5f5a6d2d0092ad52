"""Read queries of the catalog used by more than one caller."""

import dataclasses

from catalog.models import Dataset, MirrorBatch, MirrorJob
from portal.orcid import Creator
from submissions.models import fold_name


def duplicate_candidates(*, excluding_submission_id=None):
    """Return (label, folded name, source URL) of every catalog dataset (but the submission's own), for the
    duplicate check."""
    datasets = Dataset.objects.all()
    if excluding_submission_id is not None:
        datasets = datasets.exclude(submission_id=excluding_submission_id)
    rows = datasets.values_list("name", "name_key", "repo_id", "source_url")
    for name, name_key, repo_id, source_url in rows.iterator(chunk_size=2000):
        yield f"dataset {repo_id} “{name}”", name_key or fold_name(name), source_url


def dataset_with_name_key(name_key):
    """Return a catalog dataset whose folded name is `name_key`, or None."""
    return Dataset.objects.filter(name_key=name_key).only("name", "repo_id").first()


def mirror_job_for(submission):
    """Return the mirror job (with its dataset) of an approved submission, or None before approval."""
    return MirrorJob.objects.select_related("dataset").filter(dataset__submission=submission).first()


def submission_reference_of_job(job_id):
    """Return the reference of the submission a mirror job publishes (for log lines), or ""."""
    rows = MirrorJob.objects.filter(pk=job_id).values_list("dataset__submission__reference", flat=True)
    return rows.first() or ""


def submission_reference_of_batch(batch_id):
    """Return the reference of the submission a mirror batch publishes (for log lines), or ""."""
    rows = MirrorBatch.objects.filter(pk=batch_id).values_list(
        "job__dataset__submission__reference", flat=True
    )
    return rows.first() or ""


def creator_of(dataset):
    """Return the person a dataset credits (`portal.orcid.Creator`: its contributor signed in with ORCID), or None."""
    if not dataset.submission_id:
        return None
    return dataset.submission.creator


def people_of(dataset):
    """Return the people a dataset credits (`portal.orcid.Creator`s): the contributor who signed in with
    ORCID first (verified), then the creators its repository records name (one person once, by iD)."""
    people = []
    contributor = creator_of(dataset)
    if contributor is not None:
        people.append(dataclasses.replace(contributor, verified=True))
    seen = {contributor.orcid} if contributor is not None else set()
    for item in dataset.creators:
        person = Creator.from_record(item)
        if not person.name or (person.orcid and person.orcid in seen):
            continue
        seen.add(person.orcid)
        people.append(person)
    return people


# The submission columns `creator_of` reads, for list queries that load them with the dataset.
CREATOR_FIELDS = (
    "submission__contributor_orcid",
    "submission__contributor_given_names",
    "submission__contributor_family_names",
)


def keywords_of(dataset):
    """Return a dataset's keywords, each once: its modalities, domain and the card's tags (without the
    portal's own marks, which say the same as the domain or name the portal)."""
    found, seen = [], set()
    for word in [*dataset.modality_list, dataset.domain, *dataset.tags]:
        if not word or word == "dataset-portal" or word.startswith(("domain:", "arxiv:")):
            continue
        if word.casefold() not in seen:
            seen.add(word.casefold())
            found.append(word)
    return found
