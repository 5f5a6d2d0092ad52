"""Pytest fixtures for the local https source and the connection listener (see tests/sources.py).

Load them with `pytest_plugins = ["tests.fixtures_sources"]`. They need no database.
"""

import pytest

from tests.sources import Listener, SourceServer


@pytest.fixture
def source_server(settings):
    """Yield a running SourceServer on 127.0.0.1 that the portal's fetch client is set up to trust."""
    with SourceServer() as server:
        settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        settings.PORTAL_FETCH_CA_BUNDLE = str(server.ca_path)
        yield server


@pytest.fixture
def listener():
    """Yield a Listener on 127.0.0.1 that counts connection attempts."""
    with Listener() as recorder:
        yield recorder


@pytest.fixture
def make_listener():
    """Return a factory of Listeners on a chosen loopback address (127.0.0.2...), closed after the test."""
    made = []

    def factory(host="127.0.0.1"):
        recorder = Listener(host=host)
        made.append(recorder)
        return recorder

    yield factory
    for recorder in made:
        recorder.close()
