"""The WSGI application in front of moto's server app.

For each request:
  1. `/_emulator/...` goes to the admin API (not logged, no faults).
  2. The service is read from the SigV4 credential scope (Authorization header or presigned query), as moto's own
     dispatcher does; unsigned STS calls are recognised by their Action. The operation is the query `Action` for
     IAM and STS, and the EKS operation whose HTTP binding (method + path, from the model) matches, for EKS.
  3. Fault rules are consulted; an injected fault is answered here in the service's protocol.
  4. EKS operations the emulator adds (add-ons, associations, tags on their ARNs) are handled here; everything else
     goes to moto unchanged.
  5. The request is logged with its status, start time and duration.
  6. A hold that catches the call keeps its answer back (the effect already happened) until released.

This module wires; it must not implement AWS operations itself.
"""

from __future__ import annotations

import io
import json
import re
import time
import traceback
from typing import Callable
from urllib.parse import parse_qs, quote

from .awserrors import EksError, eks_error_response, error_response, request_id
from .eksapi import EksRequest
from .eksmodel import ROUTES
from .faults import Faults
from .holds import Holds
from .requestlog import RequestLog

ADMIN_PREFIX = "/_emulator"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
UNSIGNED_STS_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


class RequestInfo:
    """What the application learned about one AWS request."""

    def __init__(self, environ: dict) -> None:
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "")
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(self.path)
        self.raw_path = raw.split("?", 1)[0]
        self.query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.body = _read_body(environ)
        self.access_key = ""
        self.region = "us-east-1"
        self.service = "unknown"
        self.operation = "unknown"
        self.labels: dict = {}
        self._detect(environ)

    def _detect(self, environ: dict) -> None:
        scope = environ.get("HTTP_AUTHORIZATION", "")
        m = _CREDENTIAL.search(scope)
        if not m and self.query.get("X-Amz-Credential"):
            m = _CREDENTIAL.search("Credential=" + self.query["X-Amz-Credential"][0])
        form = {}
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        action = (form.get("Action") or self.query.get("Action") or [None])[0]
        if m:
            self.access_key, _, self.region, self.service = m.group(1), m.group(2), m.group(3), m.group(4).lower()
        elif action in UNSIGNED_STS_ACTIONS:
            self.service = "sts"
        if self.service in ("iam", "sts"):
            self.operation = action or "unknown"
        elif self.service == "eks":
            op, labels = ROUTES.match(self.method, self.raw_path)
            self.operation = op or "unknown"
            self.labels = labels
        elif action:
            self.operation = action

    def json_body(self) -> dict:
        if not self.body:
            return {}
        doc = json.loads(self.body)
        if not isinstance(doc, dict):
            raise ValueError("body is not a JSON object")
        return doc


def _read_body(environ: dict) -> bytes:
    """Reads the request body and puts it back for moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = environ["wsgi.input"].read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked upload: the server ends the stream for us
        body = environ["wsgi.input"].read()
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class EmulatorApp:
    """The WSGI callable served on the emulator's port."""

    def __init__(
        self,
        moto_app: Callable,
        admin_app: Callable,
        faults: Faults,
        log: RequestLog,
        eks_handlers: dict[str, Callable[[EksRequest], tuple[int, dict]]],
        account_for: Callable[[str, dict], str],
        owns_tag_arn: Callable[[str], bool],
        holds: Holds | None = None,
    ) -> None:
        self.moto_app = moto_app
        self.admin_app = admin_app
        self.faults = faults
        self.log = log
        self.eks_handlers = eks_handlers
        self.account_for = account_for
        self.owns_tag_arn = owns_tag_arn
        self.holds = holds or Holds()

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get("PATH_INFO", "").startswith(ADMIN_PREFIX):
            return self.admin_app(environ, start_response)
        started = time.time()
        t0 = time.perf_counter()
        info = RequestInfo(environ)
        fault_kind = None
        injection = self.faults.decide(info.service, info.operation)
        if injection is not None:
            fault_kind = injection.kind
            status, headers, body = error_response(info.service, injection.code, injection.message, injection.status)
            chunks = [body]
        elif info.service == "eks" and self._is_ours(info):
            status, headers, body, fault_kind = self._serve_eks(info, environ)
            chunks = [body]
        else:
            status, headers, chunks = self._call_moto(environ)
        duration_ms = (time.perf_counter() - t0) * 1000.0
        self.log.record(info.service, info.operation, status, started, duration_ms, info.method, info.path, fault_kind)
        self.holds.wait_if_held(info.service, info.operation)
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers = list(headers) + [("Content-Length", str(sum(len(c) for c in chunks)))]
        start_response(f"{status} {_reason(status)}", headers)
        return chunks

    def _is_ours(self, info: RequestInfo) -> bool:
        if info.operation in ("TagResource", "UntagResource", "ListTagsForResource"):
            return self.owns_tag_arn(info.labels.get("resourceArn", ""))
        return info.operation in self.eks_handlers

    def _serve_eks(self, info: RequestInfo, environ: dict):
        """(status, headers, body, injected fault kind or None) of an EKS operation the emulator implements."""
        try:
            try:
                body = info.json_body()
            except ValueError:
                raise EksError("InvalidParameterException", "The request body is not a valid JSON object") from None
            req = EksRequest(
                account=self.account_for(info.access_key, environ),
                region=info.region,
                labels=info.labels,
                query=info.query,
                body=body,
            )
            status, doc = self.eks_handlers[info.operation](req)
            headers = [("Content-Type", "application/json"), ("x-amzn-requestid", request_id())]
            return status, headers, json.dumps(doc).encode(), None
        except EksError as e:
            return (*eks_error_response(e.code, e.message, e.status, e.fields), e.injected)
        except Exception as e:  # an emulator bug: answer as EKS would, keep the traceback for whoever debugs it
            traceback.print_exc()
            return (*eks_error_response("ServerException", f"emulator bug: {e!r}", 500), None)

    def _call_moto(self, environ: dict):
        captured: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return lambda data: captured.setdefault("written", []).append(data)

        result = self.moto_app(environ, capture)
        try:
            chunks = captured.get("written", []) + [c for c in result]
        finally:
            if hasattr(result, "close"):
                result.close()
        return captured["status"], captured["headers"], chunks


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
