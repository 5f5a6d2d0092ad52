"""Pytest fixture for the DataCite double (devhub/datacite.py), loaded by tests/conftest.py.

`datacite` starts a DataCiteDouble on 127.0.0.1 and points the portal's DATACITE_* settings at it, with the
test prefix 10.5072; the portal's real client (catalog/datacite.py) then talks to it over HTTP.
"""

import pytest

from devhub.datacite import DataCiteDouble

PREFIX = "10.5072"


@pytest.fixture
def datacite(settings):
    """Yield a running DataCiteDouble that the portal is configured to register DOIs with."""
    with DataCiteDouble(repository_id="TEST.PORTAL", password="test-password", prefixes=(PREFIX,)) as double:
        settings.DATACITE_API_URL = double.url
        settings.DATACITE_REPOSITORY_ID = double.repository_id
        settings.DATACITE_PASSWORD = double.password
        settings.DATACITE_PREFIX = PREFIX
        settings.DATACITE_PUBLISHER = "Example University Library"
        settings.DATACITE_TIMEOUT = 5
        yield double
