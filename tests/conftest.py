"""Fixtures shared by the whole suite.

Each test gets its own media folder, so "nothing was stored" can be asserted by listing it, and runs
Celery tasks eagerly in-process (worker tests start real worker processes and send to them explicitly).
"""

import pytest
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from portal.celery import app as celery_app

pytest_plugins = [
    "tests.fixtures_sources",
    "tests.fixtures_repositories",
    "tests.fixtures_datacite",
    "tests.production",
]

# Generated input (hypothesis, schemathesis): few examples, the same ones on every run (CI must not be
# flaky), no example database written into the worktree; the tests' fixtures are set up once per test.
hypothesis_settings.register_profile(
    "portal",
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
hypothesis_settings.load_profile("portal")

HUB_ORGANIZATION = "dataset-portal"


@pytest.fixture(autouse=True)
def fresh_catalog_stamp():
    """Forget this process's copy of the catalog stamp, which outlives a test's cache."""
    from catalog.models import LOCAL_STAMP

    LOCAL_STAMP.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Point file storage at a fresh folder for this test."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture(autouse=True)
def inspect_work_dir(settings, tmp_path):
    """Give the data check's scratch folders a fresh parent, so a test can see that none is left."""
    folder = tmp_path / "inspect"
    settings.INSPECT_WORK_DIR = folder
    return folder


@pytest.fixture(autouse=True)
def eager_celery():
    """Run tasks in-process; worker tests send their own messages to real workers (tests/worker.py)."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """Leave the default language active after each test.

    A request in French activates French in its thread (LocaleMiddleware), and nothing switches it back:
    the next test in the process would read stored messages and errors in French.
    """
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def portal_settings(settings):
    """Settings every test relies on, whatever the environment says."""
    settings.PORTAL_BASE_URL = "http://testserver"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_CURATORS_EMAIL = "curators@portal.test"
    settings.PORTAL_FETCH_TIMEOUT = 3
    # Each test process its own cache (the default file cache is shared by every process on the machine);
    # rate limits and sign-in lockouts are switched on by the tests of them.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def seed_data_in_transactional_tests(request):
    """Put the data migrations' rows back for tests that run on a flushed (transactional) database.

    Transactional tests flush every table afterwards; serialized rollback restores them only in some
    orders, so these tests re-create the seeded domains, terms and Curators group themselves.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    ensure_seed_data()


def ensure_seed_data():
    """Run the data migrations' seeding functions again (each is idempotent)."""
    import importlib

    from django.apps import apps

    for module, function in [
        ("submissions.migrations.0002_seed_domains_and_terms", "seed"),
        ("submissions.migrations.0003_curators_group", "create_group"),
        ("catalog.migrations.0003_curators_view_catalog", "grant"),
        ("catalog.migrations.0008_curators_view_after_publication", "grant"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def curator():
    """A member of the Curators group, "alice"."""
    from tests.factories import make_curator_user

    return make_curator_user("alice")


@pytest.fixture
def other_curator():
    """A second curator, "bob"."""
    from tests.factories import make_curator_user

    return make_curator_user("bob")


@pytest.fixture
def devhub(tmp_path, settings):
    """The project's Hub-compatible server on 127.0.0.1, with the portal configured to publish to it."""
    from devhub.server import DevHub

    with DevHub(data_dir=tmp_path / "hub", organizations=(HUB_ORGANIZATION,)) as server:
        settings.HF_ENDPOINT = server.url
        settings.HF_TOKEN = "test-token"
        settings.HUB_ORGANIZATION = HUB_ORGANIZATION
        settings.MIRROR_WORK_DIR = tmp_path / "work"
        settings.MIRROR_BACKOFF_BASE = 0
        settings.MIRROR_MAX_BACKOFF = 0
        # Let eager tasks follow their own retries instead of raising Retry into the test.
        propagates = celery_app.conf.task_eager_propagates
        celery_app.conf.task_eager_propagates = False
        yield server
        celery_app.conf.task_eager_propagates = propagates


@pytest.fixture
def queued_mirrors(monkeypatch):
    """Record the mirror jobs handed to the broker, for tests of the review workflow that stop at approval."""
    from catalog import publishing

    queued = []
    monkeypatch.setattr(publishing, "enqueue", queued.append)
    return queued


def stored_files(root):
    """Return the relative paths of every file under a media root."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
