"""Slows down API-key guessing: too many invalid keys from one client address -> 429 for a while."""

import threading
import time
from collections import deque


class AuthFailureLimiter:
    """Counts invalid keys per client within a sliding window. In memory: one process, reset on restart."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds until this client may try again; 0 if it is not blocked."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                if not failures:
                    self._failures.pop(client, None)
                return 0
            return max(1, int(failures[0] + self.window_s - now) + 1)

    def record_failure(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(client, now).append(now)
