"""EKS operation lookup: HTTP method + path -> (operation name, path labels), from the service model.

The route table is built from botocore's copy of the EKS Smithy model (the same model the AWS SDK for Rust is
generated from), so the paths the emulator answers are the paths the SDKs send, not ones written by hand here.

This module must not hold state or handle requests.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import unquote

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding."""

    operation: str
    method: str
    template: str
    regex: re.Pattern
    literal_segments: int


class EksRoutes:
    """Matches requests to EKS operations. Thread-safe, built lazily on first use."""

    def __init__(self) -> None:
        self._routes: list[Route] | None = None
        self._lock = threading.Lock()

    def _build(self) -> list[Route]:
        import botocore.session

        model = botocore.session.get_session().get_service_model("eks")
        routes = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            template = http["requestUri"].split("?", 1)[0]
            pattern = ""
            pos = 0
            for m in _LABEL.finditer(template):
                pattern += re.escape(template[pos : m.start()])
                # An ARN label (tags) spans slashes once the path is percent-decoded; others are one segment.
                greedy = m.group(2) == "+" or m.group(1) == "resourceArn"
                pattern += f"(?P<{m.group(1)}>{'.+' if greedy else '[^/]+'})"
                pos = m.end()
            pattern += re.escape(template[pos:])
            literal = sum(1 for seg in template.strip("/").split("/") if seg and not seg.startswith("{"))
            routes.append(Route(name, http["method"], template, re.compile(f"^{pattern}/?$"), literal))
        # Most literal segments first, so /addons/supported-versions beats a label in the same position.
        routes.sort(key=lambda r: (-r.literal_segments, -len(r.template)))
        return routes

    def routes(self) -> list[Route]:
        """All routes (built on first call)."""
        with self._lock:
            if self._routes is None:
                self._routes = self._build()
            return self._routes

    def match(self, method: str, path: str) -> tuple[str | None, dict]:
        """(operation, labels) for a request, or (None, {}) when no EKS operation has that method and path.

        `path` is the raw (still percent-encoded) path; labels are returned decoded.
        """
        for route in self.routes():
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route.operation, {k: unquote(v) for k, v in m.groupdict().items()}
        return None, {}


ROUTES = EksRoutes()
