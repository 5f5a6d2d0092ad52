"""Production settings for tests that must hold with DEBUG off, taken from `portal/settings.py` itself.

The settings module is run again with the environment of a deployment (DEBUG off, a secret key, allowed
hosts), as `manage.py check --deploy` sees it, and the values that differ from a development start are
applied to the running tests: DEBUG, the HTTPS hardening and the hosts. Requests then come as through the
TLS proxy (`X-Forwarded-Proto: https`), as in production. Kept from the tests: the database, the cache, the
media folder, and the static files storage (the manifest storage needs `collectstatic`, which
`tests/test_production_server.py` runs).
"""

import os
import runpy
from pathlib import Path
from unittest import mock

import pytest

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "portal" / "settings.py"
DEPLOYMENT_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "production-like-test-key-" + "x" * 40,
    "ALLOWED_HOSTS": "testserver,localhost,portal.example",
    "LOG_FORMAT": "plain",
}
PRODUCTION_ONLY = (
    "DEBUG",
    "ALLOWED_HOSTS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
)
# Requests as the TLS-terminating proxy forwards them.
HTTPS_HEADERS = {"HTTP_X_FORWARDED_PROTO": "https"}


def production_values():
    """Return the settings that a deployment's environment gives, by running the settings module again."""
    with mock.patch.dict(os.environ, DEPLOYMENT_ENV):
        values = runpy.run_path(str(SETTINGS_FILE))
    return {name: values[name] for name in PRODUCTION_ONLY}


MODES = ("debug", "production")


def use_mode(settings, mode):
    """Switch pytest-django's `settings` to DEBUG on ("debug") or to the production settings ("production")."""
    if mode == "production":
        for name, value in production_values().items():
            setattr(settings, name, value)
    else:
        settings.DEBUG = True


@pytest.fixture(params=MODES)
def mode(request, settings):
    """Run a test twice: with DEBUG on (a developer's start) and with the production settings."""
    use_mode(settings, request.param)
    return request.param
