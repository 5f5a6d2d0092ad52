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
        ("STORAGE_URL", "https://bucket.example", "STORAGE_URL must be s3://bucket or s3://bucket/prefix"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be json or plain, not 'xml'"),
        ("STAFF_PASSWORD_LOGIN", "false", "STAFF_PASSWORD_LOGIN=false needs the institution's sign-in"),
        ("OIDC_ISSUER", "https://login.example.org", "Set both OIDC_ISSUER and OIDC_CLIENT_ID, or neither."),
        ("CHANGES_ABANDON_DAYS", "14", "CHANGES_ABANDON_DAYS must be more than CHANGES_REMINDER_DAYS"),
        ("REVIEW_SLA_DAYS", "0", "REVIEW_SLA_DAYS and CHANGES_REMINDER_DAYS must be at least 1"),
        ("REVIEW_DIGEST_HOUR", "24", "REVIEW_DIGEST_HOUR must be an hour from 0 to 23, not 24"),
        ("CHANGES_REMINDER_DAYS", "two weeks", "CHANGES_REMINDER_DAYS must be a whole number"),
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


def test_database_password_outside_the_url_keeps_every_character():
    password = "p@ss:/w#rd%20?&=$x 'q\"\\é"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
        "DATABASE_PASSWORD": password,
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['PASSWORD'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == password


def test_default_cache_is_shared_by_processes_and_production_redis_fails_open():
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    env.pop("CACHE_URL", None)
    embedded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "FileBasedCache" in embedded.stdout, embedded.stderr
    env["CACHE_URL"] = "redis://redis:6379/1"
    redis = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "django_redis.cache.RedisCache" in redis.stdout
    assert "'IGNORE_EXCEPTIONS': True" in redis.stdout


def test_beat_sends_reminders_and_the_daily_digest_at_the_configured_hour():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "REVIEW_DIGEST_HOUR": "6"}
    env.pop("REVIEW_REMINDERS_SECONDS", None)
    code = (
        "import django; django.setup(); from django.conf import settings; s = settings.CELERY_BEAT_SCHEDULE; "
        "print(s['send-reminders']['task'], s['send-reminders']['schedule']); "
        "d = s['send-curator-digests']; print(d['task'], sorted(d['schedule'].hour), sorted(d['schedule'].minute))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "submissions.tasks.send_reminders 3600",
        "submissions.tasks.send_digests [6] [0]",
    ]
