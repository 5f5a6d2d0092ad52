"""The public API's throttle: a counter per client address and window in the shared cache."""

import socket
import uuid

import pytest
from django.core.cache import cache
from django.test import Client

from portal import throttles
from portal.throttles import AnonWindowThrottle
from tests.catalog.catalog_rows import published

API = "/api/datasets/"


@pytest.fixture(autouse=True)
def mid_window(monkeypatch):
    """The clock stands still in the middle of a window: a test's requests never straddle two windows."""
    monkeypatch.setattr(throttles, "now", lambda: 1_800_000_030.0)


@pytest.fixture
def three_per_minute(monkeypatch, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 0
    monkeypatch.setattr(AnonWindowThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    cache.clear()
    yield
    cache.clear()


def get(address):
    return Client(REMOTE_ADDR=address).get(API)


@pytest.mark.django_db
def test_over_the_rate_an_address_gets_429_with_retry_after_and_others_do_not(three_per_minute):
    assert [get("192.0.2.1").status_code for _ in range(3)] == [200, 200, 200]
    refused = get("192.0.2.1")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 30
    assert "throttled" in refused.json()["detail"].lower()
    assert get("192.0.2.2").status_code == 200


@pytest.mark.django_db
def test_one_counter_per_window_in_the_cache(three_per_minute):
    get("192.0.2.7")
    get("192.0.2.7")
    counters = [key for key in cache._cache if "throttle:anon:192.0.2.7:" in key]  # LocMemCache's store
    assert len(counters) == 1
    assert cache.get(counters[0].split(":", 2)[2]) == 2


@pytest.mark.django_db
def test_cache_unreachable_the_api_still_answers(three_per_minute, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/9",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    assert [get("192.0.2.9").status_code for _ in range(5)] == [200] * 5


@pytest.fixture
def redis_cache(settings):
    """The production cache: Redis, with a key prefix of this test's own (nothing else is touched)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/11",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "TIMEOUT": 120,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    yield
    cache.delete_pattern("*")  # this prefix's keys only


@pytest.mark.django_db
def test_cached_answers_are_throttled_in_the_same_round_trip(monkeypatch, settings, redis_cache):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    monkeypatch.setattr(AnonWindowThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    published(name="Tide gauge records")
    first = get("192.0.2.20")
    assert first.status_code == 200 and first.json()["count"] == 1
    assert len(cache.keys("catalog:api-page:*")) == 1
    assert [get("192.0.2.20").content for _ in range(2)] == [first.content] * 2  # hits, counted
    refused = get("192.0.2.20")
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 30
    assert get("192.0.2.21").status_code == 200
    counter = next(iter(cache.keys("throttle:anon:192.0.2.20:*")))
    assert cache.get(counter) == 4 and 0 < cache.ttl(counter) <= 61


@pytest.mark.django_db
def test_cached_answers_with_the_cache_unreachable_are_served_fresh(monkeypatch, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/9",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    monkeypatch.setattr(AnonWindowThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    published(name="Tide gauge records")
    answers = [get("192.0.2.30") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.json()["count"] == 1 for a in answers)
