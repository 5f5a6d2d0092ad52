"""The public API's throttle: requests per client address in fixed windows, counted in the shared cache.

DRF's own `AnonRateThrottle` keeps every request's time within the window in one cache entry, read and
written back whole on each request: two round trips to the cache and a list as long as the rate (600
entries at the default 600/minute). Here a request costs one atomic increment of a counter that expires
with its window, so every web replica sees the same count at a constant cost. A fixed window lets a client
make up to twice the rate across a window's boundary, which is fine for light throttling of readers. When
the cache is unreachable the counter is unknown and the request is let through (the cache fails open).
"""

import logging
import time

from django.core.cache import cache, caches
from django_redis.cache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.throttling import SimpleRateThrottle

from portal.ratelimits import client_ip

logger = logging.getLogger(__name__)


def now():
    """The current time in seconds (the windows are counted in wall-clock time, so every replica agrees)."""
    return time.time()


class AnonWindowThrottle(SimpleRateThrottle):
    """Anonymous readers: at most the `anon` rate (API_ANON_RATE) per client address and window."""

    scope = "anon"

    def get_cache_key(self, request, view):
        window = int(now()) // self.duration
        return f"throttle:{self.scope}:{client_ip(request)}:{window}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first request
            count = 1 if cache.add(key, 1, self.duration + 1) else cache.incr(key)
        if count is not None and count > self.num_requests:
            return self.throttle_failure()
        return True

    def wait(self):
        """Seconds until the current window ends."""
        return self.duration - now() % self.duration

    def allow_and_get(self, request, view, key):
        """Return (allowed, the shared cache's value of `key` or None), in one round trip to Redis.

        The same as `allow_request()` followed by `cache.get(key)`: a view whose answer is cached asks for
        both at once (the counter's increment, its expiry and the read in one pipeline). Other caches make
        the two calls.
        """
        backend = caches["default"]
        if self.rate is None or not isinstance(backend, RedisCache):
            return self.allow_request(request, view), cache.get(key)
        counter = backend.make_key(self.get_cache_key(request, view))
        try:
            pipeline = backend.client.get_client(write=True).pipeline(transaction=False)
            pipeline.incr(counter)
            pipeline.expire(counter, self.duration + 1)
            pipeline.get(backend.make_key(key))
            count, _, raw = pipeline.execute()
        except (RedisConnectionError, RedisTimeoutError) as exc:  # fail open, as the cache does
            logger.warning("The shared cache is unreachable; the request is not throttled (%s).", exc)
            return True, None
        value = None if raw is None else backend.client.decode(raw)
        return count <= self.num_requests, value
