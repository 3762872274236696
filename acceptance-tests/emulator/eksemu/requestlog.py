"""The request log: one entry per AWS request the emulator answered (admin requests are not logged).

Entry: {seq, service, operation, method, path, status, time (epoch seconds, float), duration_ms, fault}, where
`fault` names the injected fault kind that produced the answer, or is null.

This module must not know about HTTP or AWS protocols; the application records what it decided.
"""

from __future__ import annotations

import threading
from collections import Counter


class RequestLog:
    """Thread-safe, append-only until cleared. Bounded to `limit` entries (oldest dropped) so a long demo or
    benchmark cannot grow memory without end; `dropped` says how many fell off."""

    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._seq = 0
        self._dropped = 0
        self._limit = limit

    def record(
        self,
        service: str,
        operation: str,
        status: int,
        started: float,
        duration_ms: float,
        method: str = "",
        path: str = "",
        fault: str | None = None,
    ) -> None:
        """Appends one entry."""
        with self._lock:
            self._seq += 1
            self._entries.append(
                {
                    "seq": self._seq,
                    "service": service,
                    "operation": operation,
                    "method": method,
                    "path": path,
                    "status": status,
                    "time": started,
                    "duration_ms": round(duration_ms, 3),
                    "fault": fault,
                }
            )
            if len(self._entries) > self._limit:
                drop = len(self._entries) - self._limit
                del self._entries[:drop]
                self._dropped += drop

    def entries(self, service: str | None = None, operation: str | None = None) -> list[dict]:
        """Entries in order, optionally only those of one service and/or operation (exact, case-insensitive)."""
        with self._lock:
            out = list(self._entries)
        if service:
            out = [e for e in out if e["service"].lower() == service.lower()]
        if operation:
            out = [e for e in out if e["operation"].lower() == operation.lower()]
        return out

    def summary(self, service: str | None = None, operation: str | None = None) -> dict:
        """The filtered entries plus counts: total, injected faults, and calls per service:operation."""
        entries = self.entries(service, operation)
        per_op = Counter(f"{e['service']}:{e['operation']}" for e in entries)
        with self._lock:
            dropped = self._dropped
        return {
            "count": len(entries),
            "injected": sum(1 for e in entries if e["fault"]),
            "by_operation": dict(sorted(per_op.items())),
            "dropped": dropped,
            "requests": entries,
        }

    def clear(self) -> int:
        """Empties the log; returns how many entries were removed."""
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
            self._dropped = 0
            return n
