"""Settings for Dataset Portal, read from the environment.

One module for every machine: each value comes from an environment variable with a default that runs
the portal on embedded parts (SQLite file, a filesystem broker, console e-mail). The README lists every
variable. Nothing here may reach the network at import time.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_str(name, default=""):
    """Return the environment variable `name`, or `default` when it is unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name, default=False):
    """Return the environment variable `name` read as a yes/no flag."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default):
    """Return the environment variable `name` read as an integer."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def env_list(name, default=()):
    """Return the environment variable `name` split on commas, blanks dropped."""
    value = os.environ.get(name, "")
    if value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "portal",
    "submissions",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh clone has no var/ yet; SQLite creates the file but not its folder.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web, worker) share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # A file, not memory, so that worker processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
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

# Uploads: cards are small; anything larger is refused before it reaches a view.
PORTAL_CARD_MAX_BYTES = env_int("PORTAL_CARD_MAX_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024 + PORTAL_CARD_MAX_BYTES)
FILE_UPLOAD_MAX_MEMORY_SIZE = PORTAL_CARD_MAX_BYTES + 1024
PORTAL_CARD_MAX_METADATA_BYTES = env_int("PORTAL_CARD_MAX_METADATA_BYTES", 2 * 1024 * 1024)
PORTAL_URL_MAX_LENGTH = 2000
PORTAL_REPLY_MAX_CHARS = 10_000

# Absolute address of the portal, used in e-mailed links.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
PORTAL_NAME = env_str("PORTAL_NAME", "Dataset Portal")

# E-mail
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Dataset Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_CURATORS_EMAIL = env_str("PORTAL_CURATORS_EMAIL", "curators@localhost")

# Outbound fetches of contributors' URLs (location check, mirroring). Networks listed here are exempt
# from the SSRF block (tests and the offline demo use a server on 127.0.0.1); the default allows none.
PORTAL_FETCH_ALLOWED_NETWORKS = env_list("PORTAL_FETCH_ALLOWED_NETWORKS")
PORTAL_FETCH_CA_BUNDLE = env_str("PORTAL_FETCH_CA_BUNDLE", "")
PORTAL_FETCH_TIMEOUT = float(env_str("PORTAL_FETCH_TIMEOUT", "10"))
PORTAL_FETCH_HEADERS_DEADLINE = float(env_str("PORTAL_FETCH_HEADERS_DEADLINE", str(3 * PORTAL_FETCH_TIMEOUT)))

# Celery. With no broker configured, a filesystem broker under var/ needs no server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
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
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# Hugging Face Hub
HF_TOKEN = env_str("HF_TOKEN", "")
HF_ENDPOINT = env_str("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
HUB_ORGANIZATION = env_str("HUB_ORGANIZATION", "dataset-portal")

# Catalog: cached pages and facet counts for visitors without cookies, keyed by a stamp of the last change.
CATALOG_FACET_CACHE_SECONDS = env_int("CATALOG_FACET_CACHE_SECONDS", 60)
CATALOG_STAMP_SECONDS = env_int("CATALOG_STAMP_SECONDS", 2)

# Mirroring
MIRROR_MAX_BYTES = env_int("MIRROR_MAX_BYTES", 50 * 1024**3)
MIRROR_MAX_FILES = env_int("MIRROR_MAX_FILES", 10_000)
MIRROR_MAX_RATIO = env_int("MIRROR_MAX_RATIO", 200)
MIRROR_WORK_DIR = Path(env_str("MIRROR_WORK_DIR", str(VAR_DIR / "mirror")))
MIRROR_MAX_RETRIES = env_int("MIRROR_MAX_RETRIES", 8)
MIRROR_BACKOFF_BASE = float(env_str("MIRROR_BACKOFF_BASE", "5"))
MIRROR_MAX_BACKOFF = float(env_str("MIRROR_MAX_BACKOFF", "600"))
MIRROR_LOCK_SECONDS = env_int("MIRROR_LOCK_SECONDS", 600)
MIRROR_STALL_SECONDS = env_int("MIRROR_STALL_SECONDS", 900)
MIRROR_PROGRESS_INTERVAL = float(env_str("MIRROR_PROGRESS_INTERVAL", "2"))
MIRROR_SWEEP_SECONDS = env_int("MIRROR_SWEEP_SECONDS", 300)
USAGE_REFRESH_SECONDS = env_int("USAGE_REFRESH_SECONDS", 6 * 3600)

# Data inspection before approval: a bounded sample of the data (start, and end where ranges work).
INSPECT_MAX_BYTES = env_int("INSPECT_MAX_BYTES", 64 * 1024**2)
INSPECT_SECONDS = env_int("INSPECT_SECONDS", 60)
INSPECT_WORK_DIR = Path(env_str("INSPECT_WORK_DIR", str(VAR_DIR / "inspect")))

CELERY_BEAT_SCHEDULE = {
    "sweep-stalled-mirrors": {
        "task": "catalog.tasks.sweep_stalled_mirrors",
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
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # Joining the browsers' HSTS preload list binds every subdomain for months: the operator's call, not a default.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Catalog JSON API (catalog/api.py, issue 6): Django REST framework and drf-spectacular. ---------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular"]
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Light throttling of anonymous readers, per client address, in the default cache.
    "DEFAULT_THROTTLE_RATES": {"anon": env_str("API_ANON_RATE", "600/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PORTAL_NAME} API",
    "DESCRIPTION": "Read-only access to the published datasets of the catalog.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
# --- end of the catalog API block. ------------------------------------------------------------------------
