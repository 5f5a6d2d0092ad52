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
        allowed, _ = self.allow_and_get(request, view)
        return allowed

    def wait(self):
        """Seconds until the current window ends."""
        return self.duration - now() % self.duration

    def allow_and_get(self, request, view, key=None):
        """Count the request; return (allowed, the shared cache's value of `key`, or None without a key).

        A view whose answer is cached passes its key: the counter's increment, its expiry and the read go
        to Redis in one pipeline, one round trip. Other caches make the calls one by one.
        """
        if self.rate is None:
            return True, (cache.get(key) if key else None)
        count, value = self._count(self.get_cache_key(request, view), key)
        if count is not None and count > self.num_requests:
            return self.throttle_failure(), value
        return True, value

    def _count(self, counter, key):
        """Increment the window's counter (it expires with the window) and read `key`: (count, value).

        The count is None when the cache is unreachable: the request is let through, as the cache fails open.
        """
        backend = caches["default"]
        if not isinstance(backend, RedisCache):
            try:
                count = cache.incr(counter)
            except ValueError:  # the window's first request
                count = 1 if cache.add(counter, 1, self.duration + 1) else cache.incr(counter)
            return count, (cache.get(key) if key else None)
        made = backend.make_key(counter)
        try:
            pipeline = backend.client.get_client(write=True).pipeline(transaction=False)
            pipeline.incr(made)
            pipeline.expire(made, self.duration + 1)
            if key:
                pipeline.get(backend.make_key(key))
            count, _, *raw = pipeline.execute()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            logger.warning("The shared cache is unreachable; the request is not throttled (%s).", exc)
            return None, None
        value = backend.client.decode(raw[0]) if raw and raw[0] is not None else None
        return count, value
