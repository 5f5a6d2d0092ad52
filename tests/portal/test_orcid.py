"""ORCID iDs: shape and ISO 7064 MOD 11-2 check character, and where an iD is published."""

import pytest

from portal.orcid import Creator, is_orcid, orcid_url


@pytest.mark.parametrize("value", ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"])
def test_real_shaped_ids_pass(value):
    assert is_orcid(value)


@pytest.mark.parametrize(
    "value",
    [
        "0000-0002-1825-0098",
        "0000000218250097",
        "0000-0002-1825-009",
        "https://orcid.org/0000-0002-1825-0097",
        "",
        None,
        17,
    ],
)
def test_anything_else_is_not_an_id(value):
    assert not is_orcid(value)


def test_ids_are_published_at_orcid_org_and_sandbox_ids_at_the_sandbox(settings):
    settings.ORCID_BASE_URL = "http://127.0.0.1:8802/orcid"
    assert orcid_url("0000-0002-1825-0097") == "https://orcid.org/0000-0002-1825-0097"
    settings.ORCID_BASE_URL = "https://sandbox.orcid.org"
    assert orcid_url("0000-0002-1825-0097") == "https://sandbox.orcid.org/0000-0002-1825-0097"


def test_creator_name_and_address():
    creator = Creator(given_names="Ada", family_names="", orcid="0000-0002-1825-0097")
    assert creator.name == "Ada" and creator.orcid_url.endswith("/0000-0002-1825-0097")
