"""AWS error responses, in the wire shape each SDK parses.

EKS speaks rest-json: the SDK reads the error code from the `x-amzn-errortype` header (falling back to `code` or
`__type` in the body) and the message from `message`; the HTTP status is the one the service model gives the error
shape. IAM and STS speak the query protocol: an XML `ErrorResponse/Error/{Type,Code,Message}` document.

This module only renders errors; it must not decide which error to return.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

# HTTP status of each EKS error shape, as botocore's copy of the EKS model states it (httpStatusCode).
EKS_ERROR_STATUS = {
    "BadRequestException": 400,
    "ClientException": 400,
    "InvalidParameterException": 400,
    "InvalidRequestException": 400,
    "NotFoundException": 404,
    "ResourceInUseException": 409,
    "ResourceLimitExceededException": 400,
    "ResourceNotFoundException": 404,
    "ServerException": 500,
    "ServiceUnavailableException": 503,
    "ThrottlingException": 429,
}

QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


@dataclass
class EksError(Exception):
    """An EKS error: code (the error shape name), message, and optional extra body fields (clusterName, ...).
    `injected` names the fault kind when the error exists only because a fault was set (for the request log)."""

    code: str
    message: str
    status: int | None = None
    fields: dict = field(default_factory=dict)
    injected: str | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")
        if self.status is None:
            self.status = EKS_ERROR_STATUS.get(self.code, 400)


def request_id() -> str:
    """A fresh request id, in the UUID form AWS uses."""
    return str(uuid.uuid4())


def eks_error_response(code: str, message: str, status: int, fields: dict | None = None):
    """(status, headers, body bytes) of a rest-json EKS error."""
    body = {k: v for k, v in (fields or {}).items() if v is not None}
    body["message"] = message
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-errortype", code),
        ("x-amzn-requestid", request_id()),
    ]
    return status, headers, json.dumps(body).encode()


def query_error_response(service: str, code: str, message: str, status: int, sender: bool = True):
    """(status, headers, body bytes) of a query-protocol (IAM/STS) error."""
    namespace = QUERY_NAMESPACES.get(service, "")
    rid = request_id()
    xml = (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{'Sender' if sender else 'Receiver'}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    )
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
    return status, headers, xml.encode()


def error_response(service: str, code: str, message: str, status: int, fields: dict | None = None):
    """Renders an error for `service` in that service's protocol."""
    if service in QUERY_NAMESPACES:
        return query_error_response(service, code, message, status, sender=status < 500)
    return eks_error_response(code, message, status, fields)
