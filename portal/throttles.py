"""The public API's throttle: requests per client address in fixed windows, counted in the shared cache.

DRF's own `AnonRateThrottle` keeps every request's time within the window in one cache entry, read and
written back whole on each request: two round trips to the cache and a list as long as the rate (600
entries at the default 600/minute). Here a request costs one atomic increment of a counter that expires
with its window, so every web replica sees the same count at a constant cost. A fixed window lets a client
make up to twice the rate across a window's boundary, which is fine for light throttling of readers. When
the cache is unreachable the counter is unknown and the request is let through (the cache fails open).
"""

import time

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from portal.ratelimits import client_ip


class AnonWindowThrottle(SimpleRateThrottle):
    """Anonymous readers: at most the `anon` rate (API_ANON_RATE) per client address and window."""

    scope = "anon"

    def get_cache_key(self, request, view):
        window = int(time.time()) // self.duration
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
        return self.duration - time.time() % self.duration
