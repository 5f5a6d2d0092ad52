"""Automatic checks: when they run, what they store per revision, the SSRF-safe location check, duplicates.

Locations a contributor could never type in the form (the form refuses them) are created through
`services.submit` directly: the check must block them on its own.
"""

import pytest
from django.test import Client

from catalog.models import Dataset
from portal import safefetch
from submissions import cards, checks, services
from submissions.models import CheckResult, Submission
from tests.factories import (
    GOOD_CARD,
    card_bytes,
    changes_requested,
    committed,
    confirmed,
    make_curator_user,
    submit,
)
from tests.sources import SourceServer

pytestmark = pytest.mark.django_db

State = Submission.State


def result(submission, kind, number=None):
    revision = submission.revisions.get(number=number) if number else submission.latest_revision
    return CheckResult.objects.get(revision=revision, kind=kind)


@pytest.fixture
def no_allowed_networks(settings):
    """The production default: no network is exempt from the SSRF block."""
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []


# -- when checks run ------------------------------------------------------------------------------------


def test_checks_wait_for_confirmation_then_run():
    submission, _ = submit()
    assert not CheckResult.objects.exists()
    submission.refresh_from_db()
    assert submission.check_summary == "pending"
    with committed():
        services.confirm(submission)
    assert set(CheckResult.objects.values_list("kind", flat=True)) == {
        "card",
        "location",
        "duplicate",
        "data",
    }
    submission.refresh_from_db()
    assert submission.check_summary != "pending"


def test_checks_run_again_for_each_revision_and_keep_older_results():
    curator = make_curator_user("alice")
    submission, _ = changes_requested(curator)
    first = {check.kind: check.pk for check in submission.latest_revision.checks.all()}
    raw = card_bytes(GOOD_CARD.replace("CC BY 4.0.", "CC BY 4.0, in full."))
    with committed():
        services.revise_card(
            submission,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
        )
    assert set(result(submission, kind, 2).kind for kind in first) == set(first)
    assert {check.kind: check.pk for check in submission.revisions.get(number=1).checks.all()} == first
    assert CheckResult.objects.count() == 8


def test_checks_never_change_the_state(no_allowed_networks, listener):
    submission, _ = confirmed(location=listener.url("/data.csv"))
    assert result(submission, "location").outcome == "fail"
    events = submission.events.count()
    checks.run_all(submission.pk)
    submission.refresh_from_db()
    assert submission.state == State.SUBMITTED
    assert submission.events.count() == events


def test_card_lint_warns_about_missing_metadata():
    submission, _ = confirmed(card="---\npretty_name: Bare\n---\n# Bare\n\nSome data.\n")
    card = result(submission, "card")
    assert card.outcome == "warn"
    assert card.details["findings"]


def test_good_card_passes_lint():
    submission, _ = confirmed()
    assert result(submission, "card").outcome == "pass"


# -- location check -------------------------------------------------------------------------------------


def test_reachable_location_passes_with_type_and_size(source_server):
    source_server.add_bytes("/levels.csv", b"t,level\n" * 4000, content_type="text/csv")
    submission, _ = confirmed(location=source_server.url("/levels.csv"))
    location = result(submission, "location")
    assert location.outcome == "pass", location.summary
    assert location.details["content_type"] == "text/csv"
    assert location.details["size"] == 32_000
    assert location.details["reachable"] is True
    assert "text/csv" in location.summary and "31.2\xa0KB" in location.summary


def test_missing_file_fails_as_unreachable(source_server):
    submission, _ = confirmed(location=source_server.url("/gone.csv"))
    location = result(submission, "location")
    assert location.outcome == "fail"
    assert "404" in location.summary


def test_location_without_size_warns_when_hosting_is_wanted(source_server):
    source_server.add_bytes("/stream", b"x" * 100, declared_size=None, head_allowed=False, ranges=False)
    submission, _ = confirmed(location=source_server.url("/stream"))
    location = result(submission, "location")
    assert location.outcome == "warn" and "does not say how large" in location.summary


BLOCKED_LOCATIONS = [
    ("loopback", lambda port: f"https://127.0.0.1:{port}/data.csv", "loopback"),
    ("localhost", lambda port: f"https://localhost:{port}/data.csv", "localhost"),
    ("ipv6-loopback", lambda port: f"https://[::1]:{port}/data.csv", "loopback"),
    ("decimal", lambda port: f"https://2130706433:{port}/data.csv", "unusual way of writing the IP address"),
    ("mapped", lambda port: f"https://[::ffff:127.0.0.1]:{port}/data.csv", "loopback"),
]


@pytest.mark.parametrize(
    ("url", "words"), [case[1:] for case in BLOCKED_LOCATIONS], ids=[c[0] for c in BLOCKED_LOCATIONS]
)
def test_private_location_is_blocked_without_a_connection(no_allowed_networks, make_listener, url, words):
    v4 = make_listener("127.0.0.1")
    v6 = make_listener("::1")
    # Each URL aims at a listening socket of its address family, so a connection would be counted.
    location = url(v4.port) if "[::1]" not in url(0) else url(v6.port)
    submission, _ = confirmed(location=location)
    check = result(submission, "location")
    assert check.outcome == "fail"
    assert check.summary.startswith("Blocked:") and words in check.summary, check.summary
    assert check.details["blocked"] is True
    assert v4.connections == 0 and v6.connections == 0


def test_cloud_metadata_address_is_blocked(no_allowed_networks):
    submission, _ = confirmed(location="https://169.254.169.254/latest/meta-data/")
    check = result(submission, "location")
    assert check.details["blocked"] is True and "link-local" in check.summary


def test_public_name_resolving_to_private_address_is_blocked(no_allowed_networks, listener, monkeypatch):
    lookups = []

    def resolve(host, port):
        lookups.append(host)
        return {"data.example.org": ["93.184.216.34", "127.0.0.1"]}[host]

    monkeypatch.setattr(safefetch, "resolve", resolve)
    submission, _ = confirmed(location=f"https://data.example.org:{listener.port}/levels.csv")
    check = result(submission, "location")
    assert check.details["blocked"] is True and "127.0.0.1" in check.summary
    data = result(submission, "data")
    assert data.outcome == "fail" and data.summary.startswith("Blocked:") and "127.0.0.1" in data.summary
    # One lookup for the location check, one for the data check; neither connects.
    assert lookups == ["data.example.org", "data.example.org"]
    assert listener.connections == 0


def test_redirect_to_a_private_address_is_blocked_without_a_connection(
    settings, source_server, make_listener
):
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    target = make_listener("127.0.0.2")
    source_server.add_redirect("/levels.csv", target.url("/levels.csv"))
    submission, _ = confirmed(location=source_server.url("/levels.csv"))
    check = result(submission, "location")
    assert check.details["blocked"] is True
    assert f"127.0.0.2:{target.port}" in check.summary
    assert result(submission, "data").summary.startswith("Blocked: The address redirects to")
    # The location check and the data check each asked once and followed no redirect.
    assert [request.method for request in source_server.requests_for("/levels.csv")] == ["HEAD", "GET"]
    assert target.connections == 0


def test_listener_does_count_a_connection_when_the_address_is_allowed(settings, listener):
    # The control of the tests above: the same check does reach an allowed listener.
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    submission, _ = confirmed(location=listener.url("/data.csv"))
    assert result(submission, "location").details.get("blocked") is None
    assert listener.connections >= 1


# -- a check that breaks ----------------------------------------------------------------------------------


def test_check_that_raises_is_stored_as_error_and_rerun_from_the_admin(settings, monkeypatch):
    name = "data.source.test"
    broken = {"yes": True}

    def resolve(host, port):
        if broken["yes"]:
            raise RuntimeError("resolver crashed")
        return ["127.0.0.1"]

    monkeypatch.setattr(safefetch, "resolve", resolve)
    with SourceServer(names=[name]) as server:
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.PORTAL_FETCH_CA_BUNDLE = str(server.ca_path)
        server.add_bytes("/levels.csv", b"a,b\n1,2\n", content_type="text/csv")
        curator = make_curator_user("alice")
        submission, _ = confirmed(location=server.url("/levels.csv", host=name))
        check = result(submission, "location")
        assert check.outcome == "error"
        assert "RuntimeError" in check.summary
        submission.refresh_from_db()
        assert submission.check_summary == "error"

        broken["yes"] = False
        client = Client()
        client.force_login(curator)
        with committed():
            response = client.post(
                f"/admin/submissions/submission/{submission.pk}/rerun-checks/", follow=True
            )
        assert "The automatic checks will run again in a moment." in response.content.decode()
    check = result(submission, "location")
    assert check.outcome == "pass", check.summary
    assert CheckResult.objects.filter(kind="location").count() == 1
    submission.refresh_from_db()
    assert submission.check_summary in ("pass", "warn")
    assert submission.state == State.SUBMITTED


# -- duplicates -------------------------------------------------------------------------------------------


def test_same_location_spelled_differently_is_a_duplicate():
    first, _ = confirmed(location="https://Data.Example.org/harbour/levels.csv")
    second, _ = confirmed(location="https://data.example.org:443/harbour/levels.csv/")
    duplicate = result(second, "duplicate")
    assert duplicate.outcome == "fail"
    assert first.reference in duplicate.summary


def test_near_same_name_is_a_possible_duplicate():
    first, _ = confirmed(name="Harbour water levels 2001-2025")
    second, _ = confirmed(name="Harbour Water Levels, 2001–2024")
    duplicate = result(second, "duplicate")
    assert duplicate.outcome == "warn"
    assert first.reference in duplicate.summary


def test_different_dataset_is_not_a_duplicate():
    confirmed(name="Harbour water levels 2001-2025")
    other, _ = confirmed(name="Alpine glacier retreat photographs")
    assert result(other, "duplicate").outcome == "pass"


def test_published_dataset_with_the_same_location_is_a_duplicate():
    Dataset.objects.create(
        slug="harbour-levels",
        name="Harbour levels",
        name_key="harbourlevels",
        repo_id="dataset-portal/harbour-levels",
        hosted=True,
        source_url="https://data.example.org/harbour.csv",
        domain="Marine",
        modalities="text",
    )
    submission, _ = confirmed(name="Entirely new title", location="https://data.example.org/harbour.csv")
    duplicate = result(submission, "duplicate")
    assert duplicate.outcome == "fail"
    assert "dataset-portal/harbour-levels" in duplicate.summary


def test_withdrawn_submission_is_not_a_duplicate():
    first, _ = confirmed(location="https://data.example.org/same.csv")
    services.withdraw(first)
    second, _ = confirmed(location="https://data.example.org/same.csv")
    assert result(second, "duplicate").outcome == "pass"


def test_checks_lost_to_a_broker_outage_are_queued_again_by_the_sweeper():
    from datetime import timedelta

    from django.utils import timezone

    from submissions import tasks
    from submissions.models import Submission
    from tests.factories import submit

    submission, _ = submit()
    Submission.objects.filter(pk=submission.pk).update(
        state=Submission.State.SUBMITTED,
        check_summary="pending",
        updated_at=timezone.now() - timedelta(hours=1),
    )
    assert tasks.sweep_pending_checks() == 1
    submission.refresh_from_db()
    assert submission.check_summary != "pending"
    assert submission.latest_revision.checks.count() == 4
