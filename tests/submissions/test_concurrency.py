"""Races between curators, and between a curator and the contributor, with real threads on PostgreSQL.

Each thread has its own database connection, so the row lock of the service functions is what decides.
These tests commit for real (transactional tests); `serialized_rollback` restores the rows seeded by data
migrations (domains, terms, the Curators group) for the tests that run after them.
"""

import datetime
import threading

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, connections

from submissions import services
from submissions.curators import CURATORS_GROUP
from submissions.models import Domain, Event, Submission, TermsVersion
from tests.factories import OFFLINE_OVERRIDE, confirmed, make_curator_user

State = Submission.State

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("Row locks (select_for_update) are only real on PostgreSQL; SQLite locks the whole file.")


@pytest.fixture(autouse=True)
def seeded_rows():
    """Make sure the rows of the data migrations exist, whatever a previous flush left."""
    Domain.objects.get_or_create(name="Marine", defaults={"group": Domain.Group.SCIENCE})
    TermsVersion.objects.get_or_create(
        version="1.0", defaults={"text": "Contribution terms.", "published_on": datetime.date(2025, 1, 1)}
    )
    group, _ = Group.objects.get_or_create(name=CURATORS_GROUP)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="submissions", codename="review_submission")
    )


def race(*actions):
    """Run the actions at the same moment in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("won", action())
        except services.InvalidTransition as exc:
            outcomes[index] = ("lost", str(exc))
        except Exception as exc:  # any other failure must show in the test, not vanish with the thread
            outcomes[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_two_curators_approving_at_once_one_wins(queued_mirrors):
    alice = make_curator_user("alice")
    bob = make_curator_user("bob")
    submission, _ = confirmed()
    services.claim(submission, by=alice)
    services.assign(submission, to=bob, by=alice)
    checklist = services.ReviewChecklist.all_ticked()
    outcomes = race(
        lambda: services.approve(
            submission, by=alice, checklist=checklist, concerns_override=OFFLINE_OVERRIDE
        ),
        lambda: services.approve(submission, by=bob, checklist=checklist, concerns_override=OFFLINE_OVERRIDE),
    )
    assert sorted(kind for kind, _ in outcomes) == ["lost", "won"], outcomes
    (lost_message,) = [text for kind, text in outcomes if kind == "lost"]
    assert "“Approved, waiting to be published”; it can't be moved to “Approved" in lost_message
    submission.refresh_from_db()
    assert submission.state == State.APPROVED
    assert Event.objects.filter(submission=submission, to_state=State.APPROVED).count() == 1
    assert len(queued_mirrors) == 1


def test_approve_and_withdraw_at_once_one_wins(queued_mirrors):
    alice = make_curator_user("alice")
    submission, _ = confirmed()
    services.claim(submission, by=alice)
    outcomes = race(
        lambda: services.approve(
            submission,
            by=alice,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        ),
        lambda: services.withdraw(submission, reason="Changed my mind."),
    )
    assert sorted(kind for kind, _ in outcomes) == ["lost", "won"], outcomes
    submission.refresh_from_db()
    approve_won = outcomes[0][0] == "won"
    assert submission.state == (State.APPROVED if approve_won else State.WITHDRAWN)
    decided = Event.objects.filter(submission=submission, to_state__in=[State.APPROVED, State.WITHDRAWN])
    assert decided.count() == 1
    assert len(queued_mirrors) == (1 if approve_won else 0)


def test_many_curators_claiming_at_once_one_becomes_assignee():
    curators = [make_curator_user(f"curator{n}") for n in range(4)]
    submission, _ = confirmed()
    outcomes = race(*(lambda user=user: services.claim(submission, by=user) for user in curators))
    assert [kind for kind, _ in outcomes].count("won") == 1, outcomes
    assert [kind for kind, _ in outcomes].count("lost") == 3, outcomes
    submission.refresh_from_db()
    assert submission.state == State.IN_REVIEW
    assert Event.objects.filter(submission=submission, to_state=State.IN_REVIEW).count() == 1


def test_seeded_rows_are_still_there():
    # Runs last in this file: after the flushes above, the rows of the data migrations must be back.
    assert Domain.objects.filter(name="Climate").exists()
    assert TermsVersion.current() is not None
    # 10 review, 2 catalog views, and the views of correction requests and card updates
    assert Group.objects.get(name=CURATORS_GROUP).permissions.count() == 14


def test_concurrent_submissions_of_one_name_store_one(media_root):
    """Twelve contributors send the same name at once through the form: one submission, eleven clear errors."""
    import uuid

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.conftest import stored_files
    from tests.factories import GOOD_CARD

    domain = Domain.objects.get(name="Marine").pk

    def contribute(number):
        def post():
            response = Client().post(
                "/contribute/",
                {
                    "submission_key": str(uuid.uuid4()),
                    "name": "Harbour water levels, 2001–2024"
                    if number % 2
                    else "harbour WATER levels 2001 2024",
                    "location": f"https://data.harbour.example/{number}.csv",
                    "hosting_wanted": "on",
                    "card": SimpleUploadedFile("README.md", GOOD_CARD.encode(), content_type="text/markdown"),
                    "modalities": ["text"],
                    "domain": str(domain),
                    "suggested_domain": "",
                    "contact_email": f"contributor{number}@example.org",
                    "accept_terms": "on",
                },
            )
            if response.status_code == 302:
                return "stored"
            assert response.status_code == 200
            assert "A dataset with this name already exists" in response.content.decode()
            raise services.InvalidTransition("name taken")

        return post

    outcomes = race(*(contribute(number) for number in range(12)))
    assert sorted(outcome for outcome, _ in outcomes) == ["lost"] * 11 + ["won"]
    assert Submission.objects.count() == 1
    assert len(stored_files(media_root)) == 1
