"""The public API's throttle: a counter per client address and window in the shared cache."""

import socket

import pytest
from django.core.cache import cache
from django.test import Client

from portal.throttles import AnonWindowThrottle

API = "/api/datasets/"


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
    assert 0 < int(refused["Retry-After"]) <= 60
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
