"""Per-key request rate limits for integration keys: a token bucket per key.

Each key may make `per_minute` requests per minute, in bursts of at most `per_minute`. In memory, per
process (like the bad-key limiter): N server processes allow N times the rate. At most `max_tracked` keys
are remembered (the least recently used are forgotten first, which only ever makes a limit more lenient).
"""

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class KeyRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_tracked: int = 10_000) -> None:
        self.clock = clock
        self.max_tracked = max_tracked
        self._buckets: OrderedDict[int, tuple[float, float]] = OrderedDict()  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key_id: int, per_minute: int) -> int:
        """Spend one request of this key: 0 if allowed, else the seconds until one is allowed again."""
        now = self.clock()
        rate = per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / rate))
            self._buckets[key_id] = (tokens - 1.0, now)
            self._buckets.move_to_end(key_id)
            while len(self._buckets) > self.max_tracked:
                self._buckets.popitem(last=False)
            return 0
