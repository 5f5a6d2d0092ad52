"""The JSON API under generated input: schemathesis derives requests for every operation of the schema the
portal serves (/api/schema/, drf-spectacular) and checks every answer against it, in the web process
itself (WSGI), with DEBUG on and with the production settings.

Checked: no server error, every status code documented, every body and content type as documented.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.catalog.catalog_rows import many_published, published

SEED = 2026
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def api_schema(db, mode):
    """The schema as the portal serves it, over a catalog of a few datasets, requests going to the portal."""
    cache.clear()
    many_published(12, domain="Marine")
    published(slug="tide-gauge", name="Tide gauge", domain="Climate", languages=["sv"], license="mit")
    # The requests run in this thread, inside the test's transaction: as Django's own test client does, the
    # start and the end of a request must not close the connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json",
            get_wsgi_application(),
            # A fixed seed: the same requests on every run and in every xdist worker (schemathesis draws a
            # random one per run otherwise, whatever the hypothesis profile says).
            config=schemathesis.Config(seed=SEED),
            headers={"X-Forwarded-Proto": "https"},
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_api_operation_answers_as_its_schema_says(case):
    case.call_and_validate(checks=CHECKS, headers={"X-Forwarded-Proto": "https"})
