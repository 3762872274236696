"""Holds: answers kept back after AWS has acted, so a test can crash its client at an exact point.

A hold names an operation (and optionally a service) and the `nth` matching call counted from when it was added.
That call is served normally (the role is created, the association exists), then its answer waits until the hold
is released or its `timeout` passes. Meanwhile the test sees `waiting: true` and can kill the client, which is
what a crash between "AWS did it" and "the provider learned it" looks like. Releasing sends the answer to whoever
is still listening (nobody, after a kill).

Other calls are never delayed by a hold. This module decides and waits; it must not render responses.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field


class HoldSpecError(ValueError):
    """A hold posted to the admin API is malformed."""


@dataclass
class Hold:
    """One hold. `seen` counts matching calls since it was added; `waiting` is true while an answer is held."""

    id: str
    operation: str
    service: str | None = None
    nth: int = 1
    timeout: float = 60.0
    seen: int = 0
    waiting: bool = False
    held: bool = False
    timed_out: bool = False
    released: threading.Event = field(default_factory=threading.Event, repr=False)

    def matches(self, service: str, operation: str) -> bool:
        if self.service and self.service.lower() != service.lower():
            return False
        return self.operation.lower() == operation.lower()

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "service": self.service,
            "operation": self.operation,
            "nth": self.nth,
            "timeout": self.timeout,
            "seen": self.seen,
            "held": self.held,
            "waiting": self.waiting,
            "timed_out": self.timed_out,
            "released": self.released.is_set(),
        }


class Holds:
    """The active holds. Thread-safe; the wait itself happens outside the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[str, Hold] = {}
        self._ids = itertools.count(1)

    def add(self, spec: dict) -> Hold:
        operation = spec.get("operation")
        if not operation:
            raise HoldSpecError("a hold needs an operation")
        nth = int(spec.get("nth", 1))
        if nth < 1:
            raise HoldSpecError("nth must be >= 1")
        timeout = float(spec.get("timeout", 60.0))
        if not 0 < timeout <= 600:
            raise HoldSpecError("timeout must be in (0, 600] seconds")
        service = spec.get("service")
        if service is not None and service.lower() not in ("eks", "iam", "sts"):
            raise HoldSpecError("service must be eks, iam or sts")
        with self._lock:
            hold = Hold(
                id=f"h{next(self._ids)}",
                operation=operation,
                service=service.lower() if service else None,
                nth=nth,
                timeout=timeout,
            )
            self._holds[hold.id] = hold
        return hold

    def get(self, hold_id: str) -> Hold | None:
        with self._lock:
            return self._holds.get(hold_id)

    def list(self) -> list[dict]:
        with self._lock:
            return [h.to_dict() for h in self._holds.values()]

    def release(self, hold_id: str) -> bool:
        """Lets a held answer go and removes the hold."""
        with self._lock:
            hold = self._holds.pop(hold_id, None)
        if hold is None:
            return False
        hold.released.set()
        return True

    def release_all(self) -> int:
        with self._lock:
            return self._release_all_locked()

    def reset(self) -> int:
        """Like release_all, and hold ids start again at h1 (the admin reset: a fresh emulator)."""
        with self._lock:
            n = self._release_all_locked()
            self._ids = itertools.count(1)
        return n

    def _release_all_locked(self) -> int:
        holds = list(self._holds.values())
        self._holds.clear()
        for h in holds:
            h.released.set()
        return len(holds)

    def wait_if_held(self, service: str, operation: str) -> None:
        """Called once per AWS request after it was served: blocks while a hold catches this call."""
        chosen: Hold | None = None
        with self._lock:
            for hold in self._holds.values():
                if hold.matches(service, operation):
                    hold.seen += 1
                    if hold.seen == hold.nth and chosen is None:
                        chosen = hold
            if chosen is not None:
                chosen.held = True
                chosen.waiting = True
        if chosen is None:
            return
        if not chosen.released.wait(chosen.timeout):
            chosen.timed_out = True
        chosen.waiting = False
