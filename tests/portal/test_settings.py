"""Settings are read once, from the environment; a bad value stops the start naming the variable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def start(**environment):
    """Import the settings in a fresh interpreter with `environment` added; return the completed process."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **environment}
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.MIRROR_BACKOFF_BASE)"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MIRROR_BACKOFF_BASE", "five", "MIRROR_BACKOFF_BASE must be a number, not 'five'"),
        ("MIRROR_MAX_RETRIES", "8.5", "MIRROR_MAX_RETRIES must be a whole number, not '8.5'"),
        ("DEBUG", "maybe", "DEBUG must be true or false, not 'maybe'"),
    ],
)
def test_bad_value_fails_at_start_naming_the_variable(variable, value, message):
    result = start(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_empty_variable_means_the_default():
    result = start(MIRROR_BACKOFF_BASE="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5.0"


def test_set_value_is_read():
    result = start(MIRROR_BACKOFF_BASE="0.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.5"
