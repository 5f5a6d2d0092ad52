"""Settings for Dataset Portal, read from the environment.

One module for every machine: each value comes from an environment variable with a default that runs
the portal on embedded parts (SQLite file, a filesystem broker, console e-mail). The operator's guide lists
every variable (docs/operating/configuration.md; tests/test_documentation.py keeps the list complete).
Nothing here may reach the network at import time.
"""

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured


class PortalEnv(environ.Env):
    """django-environ's reader, stricter: an empty variable means unset, and a value that does not parse
    (a word where a number or a yes/no is expected) stops the start with ImproperlyConfigured naming it."""

    STRICT_BOOLEANS = {
        "1": True,
        "true": True,
        "yes": True,
        "on": True,
        "0": False,
        "false": False,
        "no": False,
        "off": False,
    }

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        """Return the variable `var` cast to `cast`, or `default` when it is unset or empty."""
        if self.ENVIRON.get(var) == "":
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable.")
            return cast(default) if cast in (int, float) else default
        if cast is bool and var in self.ENVIRON:
            value = self.ENVIRON[var].strip().lower()
            if value not in self.STRICT_BOOLEANS:
                raise ImproperlyConfigured(f"{var} must be true or false, not {self.ENVIRON[var]!r}.")
            return self.STRICT_BOOLEANS[value]
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            kind = {int: "a whole number", float: "a number"}.get(cast, "a valid value")
            raise ImproperlyConfigured(f"{var} must be {kind}, not {self.ENVIRON.get(var)!r}.") from exc


env = PortalEnv()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "portal",
    "submissions",
    "catalog",
    "identity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the visitor's choice (the switcher's cookie), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "portal.languages.MachineReadableInEnglishMiddleware",
    # Django's CommonMiddleware, its slash redirect also for a POST with DEBUG on (portal/slashes.py).
    "portal.slashes.AppendSlashMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Below django-csp, so that its answer passes here first: the sign-in providers join `form-action`.
    "identity.middleware.SignInFormActionMiddleware",
    "portal.health.DatabaseUnavailableMiddleware",
    "portal.requestlog.RequestLogMiddleware",
    # Before any code reads request.GET: too many parameters or a NUL is one 400 page, also with DEBUG on.
    "portal.querystring.QueryStringMiddleware",
    # Last, as django-axes asks: it answers a locked-out admin sign-in before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "identity.context_processors.sign_in",
            ],
        },
    },
]

DATABASES = {
    "default": {
        **env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=0),
    }
}
# A password outside the URL is taken as it is: any character works, with no URL escaping to get wrong.
if env.str("DATABASE_PASSWORD", default=""):
    DATABASES["default"]["PASSWORD"] = env.str("DATABASE_PASSWORD")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh clone has no var/ yet; SQLite creates the file but not its folder.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web, worker) share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # A file, not memory, so that worker processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}

# One cache for throttles, rate limits and the catalog's cached pages and stamp, shared by every process:
# by default a folder under var/ (web and worker of `make run` share it; local memory would give each process
# its own view), Redis in production (CACHE_URL=redis://redis:6379/1, its own database number).
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A Redis outage must not take the site down: reads miss, writes are dropped, rate limits fail open,
    # and a request waits at most a second for an unreachable server.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}
    )
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English and French on every page; the language follows the browser, the switcher on every page overrides
# it (a cookie), and a contributor's e-mails go out in the language of their form (Submission.language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served there by WhiteNoise.
WHITENOISE_ROOT = BASE_DIR / "webroot"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Object storage for uploaded cards (anything a second machine must read), through django-storages:
# STORAGE_URL=s3://bucket or s3://bucket/prefix, with STORAGE_ENDPOINT_URL for an S3-compatible server
# (MinIO, Ceph, a cloud's own). Keys unset: boto3's usual sources (instance role, AWS_* variables).
# Unset STORAGE_URL: files under MEDIA_ROOT on this machine.
STORAGE_URL = env.str("STORAGE_URL", default="")
STORAGE_ENDPOINT_URL = env.str("STORAGE_ENDPOINT_URL", default="")
STORAGE_REGION = env.str("STORAGE_REGION", default="")
STORAGE_ACCESS_KEY_ID = env.str("STORAGE_ACCESS_KEY_ID", default="")
STORAGE_SECRET_ACCESS_KEY = env.str("STORAGE_SECRET_ACCESS_KEY", default="")
if STORAGE_URL:
    _storage = urlsplit(STORAGE_URL)
    if _storage.scheme != "s3" or not _storage.netloc or _storage.query:
        raise ImproperlyConfigured(
            f"STORAGE_URL must be s3://bucket or s3://bucket/prefix, not {STORAGE_URL!r}."
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _storage.netloc,
            "location": _storage.path.strip("/"),
            "endpoint_url": STORAGE_ENDPOINT_URL or None,
            "region_name": STORAGE_REGION or None,
            "access_key": STORAGE_ACCESS_KEY_ID or None,
            "secret_key": STORAGE_SECRET_ACCESS_KEY or None,
            # Private objects, never overwritten; links to them (none are published) would expire.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

# Uploads: cards are small; anything larger is refused before it reaches a view.
PORTAL_CARD_MAX_BYTES = env.int("PORTAL_CARD_MAX_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024 + PORTAL_CARD_MAX_BYTES
)
FILE_UPLOAD_MAX_MEMORY_SIZE = PORTAL_CARD_MAX_BYTES + 1024
# Without anchors the JSON grows linearly with the YAML, so twice the card limit only stops a surprise; real
# headers with many configs' `dataset_info` run to hundreds of KiB, which the Hub accepts.
PORTAL_CARD_MAX_METADATA_BYTES = env.int("PORTAL_CARD_MAX_METADATA_BYTES", default=2 * 1024 * 1024)
PORTAL_URL_MAX_LENGTH = 2000
# A dataset's locations: at most this many lines (files, repository records, DOIs) on the form, and at most
# MAX_FILES_PER_DATASET files once the records are resolved.
MAX_LOCATIONS = env.int("MAX_LOCATIONS", default=100)
MAX_FILES_PER_DATASET = env.int("MAX_FILES_PER_DATASET", default=10_000)
PORTAL_REPLY_MAX_CHARS = 10_000

# Absolute address of the portal, used in e-mailed links.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
PORTAL_NAME = env.str("PORTAL_NAME", default="Dataset Portal")

# E-mail
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="portal.console_mail.OneLineEmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Dataset Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_CURATORS_EMAIL = env.str("PORTAL_CURATORS_EMAIL", default="curators@localhost")
# The offline demo's data source (set by `manage.py runportal` when it starts one): the form then says
# where a newcomer's own files are served from. Empty: no such hint.
PORTAL_DEMO_DATA_URL = env.str("PORTAL_DEMO_DATA_URL", default="")
PORTAL_DEMO_DATA_DIR = VAR_DIR / "demo-data"

# Outbound fetches of contributors' URLs (location check, mirroring). Networks listed here are exempt
# from the SSRF block (tests and the offline demo use a server on 127.0.0.1); the default allows none.
PORTAL_FETCH_ALLOWED_NETWORKS = env.list("PORTAL_FETCH_ALLOWED_NETWORKS", default=[])
PORTAL_FETCH_CA_BUNDLE = env.str("PORTAL_FETCH_CA_BUNDLE", default="")
PORTAL_FETCH_TIMEOUT = env.float("PORTAL_FETCH_TIMEOUT", default=10)
# The whole wait for a response's headers (against servers that trickle them), by default 3x the read timeout.
PORTAL_FETCH_HEADERS_DEADLINE = env.float("PORTAL_FETCH_HEADERS_DEADLINE", default=3 * PORTAL_FETCH_TIMEOUT)

# Resolvers (submissions/resolvers): a location line that names a record of a research-data repository, by
# its landing page or its DOI, is read through the repository's public API (always through safefetch).
# DOIs are followed through this resolver (a DOI is appended to it) to their landing page.
DOI_RESOLVER_URL = env.str("DOI_RESOLVER_URL", default="https://doi.org/").rstrip("/") + "/"
# figshare's API (its articles live there, whichever portal shows them) and the hosts of figshare portals
# whose /articles/... pages are figshare records ("*." covers every subdomain; add an institution's own
# domain when its figshare portal has one).
FIGSHARE_API_URL = env.str("FIGSHARE_API_URL", default="https://api.figshare.com/v2").rstrip("/")
FIGSHARE_HOSTS = env.list("FIGSHARE_HOSTS", default=["figshare.com", "*.figshare.com"])
# (MAX_FILES_PER_DATASET, above: a record that lists more files is refused before anything else is fetched.)
# Largest API answer read (a record of 10,000 files takes a few MiB of JSON).
RESOLVER_MAX_JSON_BYTES = env.int("RESOLVER_MAX_JSON_BYTES", default=16 * 1024**2)
# A repository that answers 429 is asked once more after its Retry-After, when that is at most this many
# seconds; otherwise the resolution fails at once as retryable.
RESOLVER_MAX_RETRY_AFTER = env.float("RESOLVER_MAX_RETRY_AFTER", default=10)

# Celery. With no broker configured, a filesystem broker under var/ needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than the longest mirroring step, so an unacknowledged task is not handed out twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600)
    }
# Two queues, so that a long upload never delays a check or an e-mail: checks, e-mails, sweepers and the
# usage refresh on the default queue, mirroring on its own. Production runs a worker per queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_MIRROR_QUEUE = env.str("CELERY_MIRROR_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}.mirror")
CELERY_TASK_ROUTES = {
    "catalog.tasks.mirror_dataset": {"queue": CELERY_MIRROR_QUEUE},
    "catalog.tasks.mirror_batch": {"queue": CELERY_MIRROR_QUEUE},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker reserves one task per process at a time: a mirror may run for hours, and a task reserved behind it
# would wait that long while another worker is idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# The publisher the review workflow hands approved submissions to (the port in submissions/publishing.py).
PORTAL_PUBLISHER = "catalog.publishing.CatalogPublisher"

# Hugging Face Hub
HF_TOKEN = env.str("HF_TOKEN", default="")
HF_ENDPOINT = env.str("HF_ENDPOINT", default="https://huggingface.co").rstrip("/")
HUB_ORGANIZATION = env.str("HUB_ORGANIZATION", default="dataset-portal")

# DOIs through DataCite (catalog/datacite.py): with a repository account (its id and password) and the
# account's prefix, every published dataset gets a findable DOI <prefix>/dp.<reference in lowercase>, whose
# landing page is its catalog page. Without them nothing is registered. The default API is DataCite's test
# API (DOIs there resolve nowhere); production is https://api.datacite.org.
DATACITE_REPOSITORY_ID = env.str("DATACITE_REPOSITORY_ID", default="")
DATACITE_PASSWORD = env.str("DATACITE_PASSWORD", default="")
DATACITE_PREFIX = env.str("DATACITE_PREFIX", default="").strip().rstrip("/")
DATACITE_API_URL = env.str("DATACITE_API_URL", default="https://api.test.datacite.org").rstrip("/")
# The DOIs' publisher (DataCite's "publisher": the institution that makes the data available).
DATACITE_PUBLISHER = env.str("DATACITE_PUBLISHER", default=PORTAL_NAME)
DATACITE_TIMEOUT = env.float("DATACITE_TIMEOUT", default=20)

# Catalog: cached pages and facet counts for visitors without cookies, keyed by a stamp of the last change.
CATALOG_FACET_CACHE_SECONDS = env.int("CATALOG_FACET_CACHE_SECONDS", default=60)
CATALOG_STAMP_SECONDS = env.int("CATALOG_STAMP_SECONDS", default=2)

# Mirroring
MIRROR_MAX_BYTES = env.int("MIRROR_MAX_BYTES", default=50 * 1024**3)
MIRROR_MAX_FILES = env.int("MIRROR_MAX_FILES", default=10_000)
MIRROR_MAX_RATIO = env.int("MIRROR_MAX_RATIO", default=200)
MIRROR_WORK_DIR = Path(env.str("MIRROR_WORK_DIR", default=str(VAR_DIR / "mirror")))
# Data files in MIRROR_WORK_DIR are written and read past the page cache where its file system allows it
# (portal.directio); turn it off where each direct write is a network round trip (NFS, FUSE).
MIRROR_DIRECT_IO = env.bool("MIRROR_DIRECT_IO", default=True)
# A dataset of many files goes to the Hub in batches: each a Celery task of its own (any mirror worker may take
# it), committing at most MIRROR_FILES_PER_COMMIT files per commit, fetching MIRROR_FILE_CONCURRENCY at once.
MIRROR_FILES_PER_COMMIT = env.int("MIRROR_FILES_PER_COMMIT", default=100)
MIRROR_FILE_CONCURRENCY = env.int("MIRROR_FILE_CONCURRENCY", default=4)
MIRROR_MAX_RETRIES = env.int("MIRROR_MAX_RETRIES", default=8)
MIRROR_BACKOFF_BASE = env.float("MIRROR_BACKOFF_BASE", default=5)
MIRROR_MAX_BACKOFF = env.float("MIRROR_MAX_BACKOFF", default=600)
MIRROR_LOCK_SECONDS = env.int("MIRROR_LOCK_SECONDS", default=600)
MIRROR_STALL_SECONDS = env.int("MIRROR_STALL_SECONDS", default=900)
MIRROR_PROGRESS_INTERVAL = env.float("MIRROR_PROGRESS_INTERVAL", default=2)
MIRROR_SWEEP_SECONDS = env.int("MIRROR_SWEEP_SECONDS", default=300)
USAGE_REFRESH_SECONDS = env.int("USAGE_REFRESH_SECONDS", default=6 * 3600)

# Data inspection before approval: a bounded sample of the data (start, and end where ranges work).
INSPECT_MAX_BYTES = env.int("INSPECT_MAX_BYTES", default=64 * 1024**2)
INSPECT_SECONDS = env.int("INSPECT_SECONDS", default=60)
INSPECT_WORK_DIR = Path(env.str("INSPECT_WORK_DIR", default=str(VAR_DIR / "inspect")))

# The curation team's pace: a submission waiting for the curators (submitted or in review) longer than
# REVIEW_SLA_DAYS is overdue (its assignee gets one reminder, the digest lists it); a contributor who has not
# answered a change request in CHANGES_REMINDER_DAYS gets one reminder, and after CHANGES_ABANDON_DAYS the
# submission is closed as abandoned (the contributor may reopen it). Reminders are looked for every
# REVIEW_REMINDERS_SECONDS; the daily digest goes out at REVIEW_DIGEST_HOUR (0-23, in TIME_ZONE).
REVIEW_SLA_DAYS = env.int("REVIEW_SLA_DAYS", default=5)
CHANGES_REMINDER_DAYS = env.int("CHANGES_REMINDER_DAYS", default=14)
CHANGES_ABANDON_DAYS = env.int("CHANGES_ABANDON_DAYS", default=60)
REVIEW_REMINDERS_SECONDS = env.int("REVIEW_REMINDERS_SECONDS", default=3600)
REVIEW_DIGEST_HOUR = env.int("REVIEW_DIGEST_HOUR", default=7)
if min(REVIEW_SLA_DAYS, CHANGES_REMINDER_DAYS) < 1:
    raise ImproperlyConfigured("REVIEW_SLA_DAYS and CHANGES_REMINDER_DAYS must be at least 1.")
if CHANGES_ABANDON_DAYS <= CHANGES_REMINDER_DAYS:
    raise ImproperlyConfigured(
        "CHANGES_ABANDON_DAYS must be more than CHANGES_REMINDER_DAYS: the contributor is reminded first."
    )
if not 0 <= REVIEW_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(f"REVIEW_DIGEST_HOUR must be an hour from 0 to 23, not {REVIEW_DIGEST_HOUR}.")

CELERY_BEAT_SCHEDULE = {
    "sweep-stalled-mirrors": {
        "task": "catalog.tasks.sweep_stalled_mirrors",
        "schedule": MIRROR_SWEEP_SECONDS,
    },
    "sweep-stalled-card-updates": {
        "task": "catalog.tasks.sweep_stalled_card_updates",
        "schedule": MIRROR_SWEEP_SECONDS,
    },
    "sweep-pending-dois": {
        "task": "catalog.tasks.sweep_pending_dois",
        "schedule": MIRROR_SWEEP_SECONDS,
    },
    "sweep-pending-checks": {
        "task": "submissions.tasks.sweep_pending_checks",
        "schedule": MIRROR_SWEEP_SECONDS,
    },
    "refresh-usage": {
        "task": "catalog.usage_tasks.refresh_usage",
        "schedule": USAGE_REFRESH_SECONDS,
    },
    # Every beat replica may send these: a reminder is recorded under the submission's row lock and a
    # digest's row is unique per curator and day, so each still happens once.
    "send-reminders": {
        "task": "submissions.tasks.send_reminders",
        "schedule": REVIEW_REMINDERS_SECONDS,
    },
    "send-curator-digests": {
        "task": "submissions.tasks.send_digests",
        "schedule": crontab(hour=REVIEW_DIGEST_HOUR, minute=0),
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Joining the browsers' HSTS preload list binds every subdomain for months: the operator's call, not a default.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs: one JSON object per line (LOG_FORMAT=json, the production default) or plain text for a terminal.
# portal.requestlog writes one line per request and per task state change, with the submission's reference
# and never a private token.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The Hub client's HTTP library logs every request at INFO: thousands of lines for a dataset of many
        # files (and their cost in the worker). Their failures still reach the log as the mirror's errors.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
if LOG_FORMAT not in LOGGING["formatters"]:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")

# Error reporting: on when SENTRY_DSN is set. Personal data (addresses, cookies) is not sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

# Client addresses: behind N reverse proxies of the operator, the address is the one the outermost proxy
# added to X-Forwarded-For (0: REMOTE_ADDR, no proxy). Rate limits and admin sign-in lockouts count per address.
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", default=0)

# Rate limits of the public forms (django-ratelimit in the shared cache), as "count/period", period s, m, h
# or d. Over a limit the client gets a 429 page with the time to try again; nothing is stored or e-mailed.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
# The cache unreachable: accept the request rather than refuse every contribution (the forms' own checks hold).
RATELIMIT_FAIL_OPEN = True
PORTAL_RATE_CONTRIBUTE_PER_IP = env.str("PORTAL_RATE_CONTRIBUTE_PER_IP", default="20/h")
PORTAL_RATE_CONTRIBUTE_PER_EMAIL = env.str("PORTAL_RATE_CONTRIBUTE_PER_EMAIL", default="10/h")
# Every POST of the form, also those it refuses (the two limits above count stored submissions only).
PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP = env.str("PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP", default="60/h")
PORTAL_RATE_STATUS_POSTS_PER_LINK = env.str("PORTAL_RATE_STATUS_POSTS_PER_LINK", default="30/h")
PORTAL_RATE_SIGN_IN_PER_IP = env.str("PORTAL_RATE_SIGN_IN_PER_IP", default="20/h")
PORTAL_RATE_SIGN_IN_PER_EMAIL = env.str("PORTAL_RATE_SIGN_IN_PER_EMAIL", default="5/h")

# Admin sign-in: django-axes locks a user name from one address out after AXES_FAILURE_LIMIT failures, for
# AXES_COOLOFF_MINUTES, counted in the database that every replica shares (django-axes' cache handler needs
# an atomic cache, which the embedded file cache is not).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "portal.ratelimits.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.ratelimits.admin_sign_in_locked"
AXES_RESET_ON_SUCCESS = True
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in with OpenID Connect (identity/, django-allauth). Contributors may sign in with ORCID: their verified
# ORCID iD is recorded on what they submit and credited when it is published. Curators may sign in through the
# institution's provider: a claim (OIDC_CURATOR_CLAIM) holding OIDC_CURATOR_GROUP makes them curators, and its
# absence at a later sign-in takes that away. Each provider is offered only when its client id is set; with
# neither, sign-in is the admin's password form as before. The portal's redirect URI to register at a provider
# is PORTAL_BASE_URL + /accounts/oidc/<orcid|institution>/login/callback/.
ORCID_BASE_URL = env.str("ORCID_BASE_URL", default="https://orcid.org").rstrip("/")
ORCID_CLIENT_ID = env.str("ORCID_CLIENT_ID", default="")
ORCID_CLIENT_SECRET = env.str("ORCID_CLIENT_SECRET", default="")
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your institution")
# Space- or comma-separated; add the scope that releases the group claim if the provider needs one.
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid profile email").replace(",", " ").split()
OIDC_CURATOR_CLAIM = env.str("OIDC_CURATOR_CLAIM", default="groups")
OIDC_CURATOR_GROUP = env.str("OIDC_CURATOR_GROUP", default="curators")
# An existing account whose e-mail address the institution's provider asserts as verified is linked at its
# first sign-in (so that curators keep their history when passwords are switched off).
OIDC_LINK_BY_EMAIL = env.bool("OIDC_LINK_BY_EMAIL", default=True)
# Off in production once the institution's sign-in works: the admin then shows no password form and refuses
# password posts. Superusers can still be made with `createsuperuser`, and sign in through the provider.
STAFF_PASSWORD_LOGIN = env.bool("STAFF_PASSWORD_LOGIN", default=True)
if not STAFF_PASSWORD_LOGIN and not (OIDC_ISSUER and OIDC_CLIENT_ID):
    raise ImproperlyConfigured(
        "STAFF_PASSWORD_LOGIN=false needs the institution's sign-in (OIDC_ISSUER and OIDC_CLIENT_ID): "
        "without either, curators could not sign in at all."
    )
if (OIDC_CLIENT_ID and not OIDC_ISSUER) or (OIDC_ISSUER and not OIDC_CLIENT_ID):
    raise ImproperlyConfigured("Set both OIDC_ISSUER and OIDC_CLIENT_ID, or neither.")
OIDC_PROVIDER_TIMEOUT = env.float("OIDC_PROVIDER_TIMEOUT", default=10)

# django-allauth: social sign-in only (no local sign-up, no passwords outside the admin), accounts created on
# the first sign-in without a form; the apps come from the settings above (identity.adapters.list_apps).
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False
ACCOUNT_ADAPTER = "identity.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "identity.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
# With OIDC_LINK_BY_EMAIL, an account found by its verified address gets the sign-in linked for next time.
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = OIDC_PROVIDER_TIMEOUT
SOCIALACCOUNT_PROVIDERS = {
    # Nonce, signature and failure handling on top of allauth's OpenID Connect client (identity/oidc/).
    "openid_connect": {"provider_class": "identity.oidc.provider.PortalOpenIDConnectProvider"}
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

# Content-Security-Policy (django-csp) on every page: scripts and styles from the portal only, no inline
# code; card images may come from any https host; no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Catalog JSON API (catalog/api.py, issue 6): Django REST framework and drf-spectacular. ---------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular"]
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Light throttling of anonymous readers, per client address, in the default cache.
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("API_ANON_RATE", default="600/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PORTAL_NAME} API",
    "DESCRIPTION": "Read-only access to the published datasets of the catalog.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
# --- end of the catalog API block. ------------------------------------------------------------------------

if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
    )
