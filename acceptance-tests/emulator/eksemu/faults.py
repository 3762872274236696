"""Fault injection rules, set through the admin API and consulted once per AWS request.

Kinds:
  throttle  the service's throttling error (EKS: ThrottlingException/429; IAM, STS: Throttling/400) at `rate`
  http500   an HTTP 500 server error (EKS: ServerException; IAM: ServiceFailure; STS: InternalFailure) at `rate`
  error     a named AWS error (code, message, status) on the `nth` matching call counted from when the rule was
            added, and with `every_after` on every matching call after it too
Every rule may be narrowed to a service and/or an operation and capped with `max_count` injections. Rates draw from
a per-rule `random.Random(seed)`, so a run with the same seed and the same calls injects the same faults.

The IAM propagation delay is kept here too: while it is N > 0 seconds, EKS association calls treat a role created
less than N seconds ago as absent. It is applied by pod_identity.py through `role_is_propagating`.

This module decides; it must not render responses (awserrors.py does).
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field

from .awserrors import EKS_ERROR_STATUS

KINDS = ("throttle", "http500", "error")

THROTTLE = {
    "eks": ("ThrottlingException", "Rate exceeded", 429),
    "iam": ("Throttling", "Rate exceeded", 400),
    "sts": ("Throttling", "Rate exceeded", 400),
}
SERVER_ERROR = {
    "eks": ("ServerException", "An internal error occurred (injected by the emulator).", 500),
    "iam": ("ServiceFailure", "An internal error occurred (injected by the emulator).", 500),
    "sts": ("InternalFailure", "An internal error occurred (injected by the emulator).", 500),
}


class FaultSpecError(ValueError):
    """A fault rule posted to the admin API is malformed."""


@dataclass
class Injection:
    """What the application must answer instead of serving the request."""

    kind: str
    fault_id: str
    code: str
    message: str
    status: int


@dataclass
class Fault:
    """One rule. `seen` counts matching calls since it was added; `injected` counts the errors it produced."""

    id: str
    kind: str
    service: str | None = None
    operation: str | None = None
    rate: float = 1.0
    nth: int = 1
    every_after: bool = False
    code: str | None = None
    message: str | None = None
    status: int | None = None
    max_count: int | None = None
    seed: int = 0
    seen: int = 0
    injected: int = 0
    rng: random.Random = field(default=None, repr=False)  # type: ignore[assignment]

    def matches(self, service: str, operation: str) -> bool:
        if self.service and self.service.lower() != service.lower():
            return False
        if self.operation and self.operation.lower() != operation.lower():
            return False
        return True

    def fires(self) -> bool:
        """Counts this call and says whether the rule injects on it."""
        self.seen += 1
        if self.max_count is not None and self.injected >= self.max_count:
            return False
        if self.kind == "error":
            return self.seen == self.nth or (self.every_after and self.seen > self.nth)
        return self.rng.random() < self.rate

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "service": self.service,
            "operation": self.operation,
            "rate": self.rate if self.kind != "error" else None,
            "nth": self.nth if self.kind == "error" else None,
            "every_after": self.every_after if self.kind == "error" else None,
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "max_count": self.max_count,
            "seed": self.seed,
            "seen": self.seen,
            "injected": self.injected,
        }


class Faults:
    """The active rules plus the IAM propagation delay. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._ids = itertools.count(1)
        self.iam_propagation_seconds = 0.0
        self.iam_propagation_hidden = 0

    def add(self, spec: dict) -> Fault:
        """Validates a rule posted to the admin API and activates it."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"kind must be one of {', '.join(KINDS)}")
        rate = float(spec.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError("rate must be between 0 and 1")
        nth = int(spec.get("nth", 1))
        if nth < 1:
            raise FaultSpecError("nth must be >= 1")
        max_count = spec.get("max_count")
        if max_count is not None and int(max_count) < 0:
            raise FaultSpecError("max_count must be >= 0")
        service = spec.get("service")
        if service is not None and service.lower() not in THROTTLE:
            raise FaultSpecError("service must be eks, iam or sts")
        if kind == "error" and not spec.get("code"):
            raise FaultSpecError("an error fault needs a code")
        if kind == "error" and not spec.get("operation"):
            raise FaultSpecError("an error fault needs an operation")
        status = spec.get("status")
        seed = int(spec.get("seed", 0))
        with self._lock:
            fault = Fault(
                id=f"f{next(self._ids)}",
                kind=kind,
                service=service.lower() if service else None,
                operation=spec.get("operation"),
                rate=rate,
                nth=nth,
                every_after=bool(spec.get("every_after", False)),
                code=spec.get("code"),
                message=spec.get("message"),
                status=int(status) if status is not None else None,
                max_count=int(max_count) if max_count is not None else None,
                seed=seed,
                rng=random.Random(seed),
            )
            self._rules.append(fault)
        return fault

    def list(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._rules]

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [f for f in self._rules if f.id != fault_id]
            return len(self._rules) != before

    def clear(self) -> int:
        """Removes every rule and the propagation delay; returns the number of rules removed."""
        with self._lock:
            n = len(self._rules)
            self._rules.clear()
            self.iam_propagation_seconds = 0.0
            self.iam_propagation_hidden = 0
            return n

    def reset(self) -> None:
        """Like clear, and rule ids start again at f1 (the admin reset: a fresh emulator)."""
        with self._lock:
            self._rules.clear()
            self._ids = itertools.count(1)
            self.iam_propagation_seconds = 0.0
            self.iam_propagation_hidden = 0

    def total_injected(self) -> int:
        with self._lock:
            return sum(f.injected for f in self._rules) + self.iam_propagation_hidden

    def decide(self, service: str, operation: str) -> Injection | None:
        """Consults every matching rule (each counts the call); the first one that fires wins."""
        with self._lock:
            chosen: Fault | None = None
            for fault in self._rules:
                if fault.matches(service, operation) and fault.fires() and chosen is None:
                    chosen = fault
            if chosen is None:
                return None
            chosen.injected += 1
            return self._injection(chosen, service)

    @staticmethod
    def _injection(fault: Fault, service: str) -> Injection:
        if fault.kind == "throttle":
            code, message, status = THROTTLE.get(service, THROTTLE["eks"])
        elif fault.kind == "http500":
            code, message, status = SERVER_ERROR.get(service, SERVER_ERROR["eks"])
        else:
            default_status = EKS_ERROR_STATUS.get(fault.code or "", 400) if service == "eks" else 400
            code, message, status = fault.code, "Injected by the emulator.", default_status
        return Injection(
            kind=fault.kind,
            fault_id=fault.id,
            code=fault.code or code,
            message=fault.message or message,
            status=fault.status or status,
        )

    def role_is_propagating(self, age_seconds: float) -> bool:
        """True when a role of this age must stay invisible to EKS; counts the hiding as an injection."""
        with self._lock:
            if self.iam_propagation_seconds > 0 and age_seconds < self.iam_propagation_seconds:
                self.iam_propagation_hidden += 1
                return True
            return False
