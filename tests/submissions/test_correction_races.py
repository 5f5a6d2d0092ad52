"""Races on corrections after publication, with real threads on PostgreSQL: one wins, nothing is half-applied."""

import pytest
from django.db import connection

from catalog.models import CardUpdate, Dataset
from submissions import services
from submissions.models import CorrectionRequest
from tests.factories import committed, make_curator_user, published
from tests.submissions.test_concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("Row locks (select_for_update) are only real on PostgreSQL; SQLite locks the whole file.")


def proposal(dataset, **changes):
    values = {
        "name": dataset.name,
        "domain": dataset.domain,
        "modalities": dataset.modality_list,
        "license": dataset.license,
        "languages": dataset.languages,
        "tags": [],
    }
    return {**values, **changes}


def test_two_corrections_sent_at_once_store_one(devhub):
    submission, _ = published(make_curator_user("alice"))
    dataset = Dataset.objects.get(submission=submission)
    outcomes = race(
        lambda: services.request_correction(submission, proposal=proposal(dataset, domain="Climate")),
        lambda: services.request_correction(submission, proposal=proposal(dataset, license="mit")),
    )
    assert sorted(kind for kind, _ in outcomes) == ["lost", "won"], outcomes
    assert "Your request 1" in next(detail for kind, detail in outcomes if kind == "lost")
    assert CorrectionRequest.objects.count() == 1


def test_accept_and_decline_at_once_one_decision_wins(devhub):
    alice, bob = make_curator_user("alice"), make_curator_user("bob")
    submission, _ = published(alice)
    dataset = Dataset.objects.get(submission=submission)
    with committed():
        correction = services.request_correction(submission, proposal=proposal(dataset, domain="Climate"))
    outcomes = race(
        lambda: services.accept_correction(correction, by=alice),
        lambda: services.decline_correction(correction, by=bob, reason="The data is about the sea."),
    )
    assert sorted(kind for kind, _ in outcomes) == ["lost", "won"], outcomes
    correction.refresh_from_db()
    dataset.refresh_from_db()
    if correction.decided_by == alice:
        assert correction.state in (CorrectionRequest.State.ACCEPTED, CorrectionRequest.State.PUBLISHED)
        assert dataset.domain == "Climate" and CardUpdate.objects.filter(correction=correction).exists()
    else:
        assert correction.state == CorrectionRequest.State.DECLINED
        assert dataset.domain == "Marine" and not CardUpdate.objects.exists()
