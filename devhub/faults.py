"""Fault plan and request log of the development Hub, for tests of retries and idempotence.

A fault says what to do to the next N requests that match a method and a path pattern: answer a status
(503, 500, 429 with Retry-After, ...), delay the answer, or drop the connection without answering. The request
log records every Hub request (not the /_devhub/ control calls) with its method, path and the status answered,
so a test can count commits or prove that a retry happened.
This module knows nothing about sockets or storage.
"""

import re
import threading
from dataclasses import asdict, dataclass, field

FAULT_KINDS = ("status", "delay", "drop")


@dataclass
class Fault:
    """One planned misbehaviour for the next `count` matching requests."""

    kind: str
    count: int = 1
    method: str | None = None
    path: str = ".*"
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    message: str = "Service temporarily unavailable (fault injected by devhub)"
    id: int = 0
    hits: int = field(default=0)

    def matches(self, *, method: str, path: str) -> bool:
        """Tell whether a request falls under this fault and the fault has uses left."""
        if self.count <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class FaultPlan:
    """Thread-safe list of faults and the request log."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._log: list[dict] = []
        self._next_id = 1

    def add(
        self,
        *,
        kind: str,
        count: int = 1,
        method: str | None = None,
        path: str = ".*",
        status: int = 503,
        retry_after: float | None = None,
        delay: float = 0.0,
        message: str | None = None,
    ) -> dict:
        """Plan a fault and return it as a dict (with its id)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind '{kind}': use one of {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        re.compile(path)  # refuse a broken pattern now rather than on the next request
        with self._lock:
            fault = Fault(
                kind=kind,
                count=int(count),
                method=method,
                path=path,
                status=int(status),
                retry_after=retry_after,
                delay=float(delay),
                id=self._next_id,
                **({"message": message} if message else {}),
            )
            self._next_id += 1
            self._faults.append(fault)
            return asdict(fault)

    def take(self, *, method: str, path: str) -> Fault | None:
        """Return the first fault matching this request and use up one of its counts."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method=method, path=path):
                    fault.count -= 1
                    fault.hits += 1
                    return fault
            return None

    def faults(self) -> list[dict]:
        """Return the planned faults with the uses they have left."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear_faults(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._faults.clear()

    def record(self, *, method: str, path: str, query: str, status: int | None, fault: str | None) -> None:
        """Append one request to the log (status None when the connection was dropped)."""
        with self._lock:
            self._log.append(
                {"method": method, "path": path, "query": query, "status": status, "fault": fault}
            )

    def log(self) -> list[dict]:
        """Return a copy of the request log, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def clear_log(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._log.clear()
