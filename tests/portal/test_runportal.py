"""`manage.py runportal`: a copy on another port than make run's keeps its own folder, its links and its data
source; `loaddemo` serves the hosted demo files from whichever source the copy runs."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from portal.management.commands.runportal import copy_var_dir, split_addrport, url_of
from submissions.models import Submission


def test_make_runs_port_keeps_the_settings_folder():
    assert copy_var_dir(8000, {}) is None


def test_a_copy_on_another_port_gets_a_folder_of_its_own():
    assert copy_var_dir(8020, {}) == settings.BASE_DIR / "var" / "port-8020"
    assert copy_var_dir(8020, {}) != copy_var_dir(8030, {})


def test_a_folder_given_by_the_caller_wins():
    assert copy_var_dir(8020, {"PORTAL_VAR_DIR": "/srv/portal-b"}) is None
    # Empty counts as unset, as everywhere in the settings.
    assert copy_var_dir(8020, {"PORTAL_VAR_DIR": ""}) == settings.BASE_DIR / "var" / "port-8020"


@pytest.mark.parametrize(
    ("addrport", "expected"),
    [("8020", ("127.0.0.1", 8020)), ("127.0.0.1:8020", ("127.0.0.1", 8020)), ("[::1]:8020", ("::1", 8020))],
)
def test_addrport_is_read_as_runserver_reads_it(addrport, expected):
    assert split_addrport(addrport) == expected


def test_a_malformed_addrport_is_refused_with_a_message():
    with pytest.raises(CommandError, match="not an address and port"):
        split_addrport("localhost:http")


def test_links_lead_to_an_address_a_browser_on_this_machine_can_open():
    assert url_of("127.0.0.1", 8020) == "http://127.0.0.1:8020"
    assert url_of("0.0.0.0", 8020) == "http://127.0.0.1:8020"
    assert url_of("::1", 8020) == "http://[::1]:8020"


@pytest.mark.django_db
def test_loaddemo_points_the_hosted_demo_datasets_at_the_copys_source():
    # Tests run with DEBUG off, where the demo asks for --force.
    call_command("loaddemo", force=True, source_url="https://127.0.0.1:8871", stdout=io.StringIO())
    hosted = Submission.objects.filter(hosting_wanted=True, location__startswith="https://127.0.0.1")
    assert sorted(hosted.values_list("location", flat=True)) == [
        "https://127.0.0.1:8871/baltic-buoys-2010-2024.csv",
        "https://127.0.0.1:8871/coastal-litter-2023.csv",
    ]
    # The record's DOI resolves through the copy's own source (runportal sets DOI_RESOLVER_URL to it).
    assert (
        Submission.objects.get(name="Baltic harbour water quality samples 2022").location
        == "10.5072/zenodo.1001"
    )
    assert Submission.objects.count() == 7


@pytest.mark.django_db
def test_loaddemo_serves_make_runs_source_by_default():
    call_command("loaddemo", force=True, stdout=io.StringIO())
    assert Submission.objects.get(name="Coastal litter survey 2023").location == (
        "https://127.0.0.1:8801/coastal-litter-2023.csv"
    )
