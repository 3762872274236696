"""Checks raw EKS responses against botocore's copy of the EKS service model (the model the AWS SDK for Rust is
generated from): every JSON key must be a member of the operation's output shape (by its wire name), every value
of the member's type (timestamps as epoch-second numbers, enums within their values); an error must carry an
`x-amzn-errortype` that the operation models (or ThrottlingException), with that shape's HTTP status, and a JSON
body whose keys are members of the error shape.
"""

from __future__ import annotations

import json

# Errors any operation may see although not every operation lists them (the SDKs classify them by code).
SERVICE_WIDE_ERRORS = {"ThrottlingException"}


def _wire_members(shape) -> dict:
    out = {}
    for name, member in shape.members.items():
        if member.serialization.get("location") in (None, "body"):
            out[member.serialization.get("name", name)] = member
    return out


def check_value(shape, value, path: str, problems: list) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object for {shape.name}, got {type(value).__name__}")
            return
        members = _wire_members(shape)
        for key, item in value.items():
            if key not in members:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                check_value(members[key], item, f"{path}.{key}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_value(shape.member, item, f"{path}[{i}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected map, got {type(value).__name__}")
            return
        for key, item in value.items():
            check_value(shape.key, key, f"{path}<key>", problems)
            check_value(shape.value, item, f"{path}[{key}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected string, got {type(value).__name__}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}'s values")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean, got {type(value).__name__}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected integer, got {type(value).__name__}")
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{path}: expected number, got {type(value).__name__}")
    elif kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "unixTimestamp")
        if fmt == "unixTimestamp" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            problems.append(f"{path}: expected epoch-seconds number, got {value!r}")


def check_response(model, operation_model, status: int, headers: dict, body: bytes) -> list[str]:
    """Problems with one raw response (empty when it conforms)."""
    problems: list[str] = []
    op = operation_model.name
    headers = {k.lower(): v for k, v in headers.items()}
    if status >= 300:
        code = headers.get("x-amzn-errortype", "").split(":", 1)[0]
        if not code:
            return [f"{op}: error {status} without x-amzn-errortype"]
        modeled = {s.name: s for s in operation_model.error_shapes}
        if code in modeled:
            shape = modeled[code]
        elif code in SERVICE_WIDE_ERRORS:
            shape = model.shape_for(code)
        else:
            return [f"{op}: error code {code} is not modeled for this operation ({', '.join(sorted(modeled))})"]
        want = shape.metadata.get("error", {}).get("httpStatusCode")
        if want and want != status:
            problems.append(f"{op}: {code} answered with HTTP {status}, model says {want}")
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return problems + [f"{op}: error body is not JSON: {body[:200]!r}"]
        if not isinstance(doc.get("message"), str):
            problems.append(f"{op}: error body has no string message")
        check_value(shape, doc, f"{op}<{code}>", problems)
        return problems
    want_status = operation_model.http.get("responseCode", 200)
    if status != want_status:
        problems.append(f"{op}: answered HTTP {status}, model says {want_status}")
    if operation_model.output_shape is not None:
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return problems + [f"{op}: body is not JSON"]
        check_value(operation_model.output_shape, doc, op, problems)
    return problems
