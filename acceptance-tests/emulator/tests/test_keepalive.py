"""Connections stay open between calls, as AWS endpoints keep them for the SDK's pool, and each request's body is
consumed exactly, so the next request on the connection is read whole."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


def auth(service: str) -> str:
    # The emulator reads the service from the credential scope and does not verify signatures.
    return f"AWS4-HMAC-SHA256 Credential=AKIAEKSIDENTITYEMU01/20261130/us-east-1/{service}/aws4_request, " \
           "SignedHeaders=host, Signature=0"


def connect(emulator) -> http.client.HTTPConnection:
    u = urlsplit(emulator.endpoint)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def iam_call(conn: http.client.HTTPConnection, action: str, chunked: bool = False, **params) -> tuple[int, bytes, dict]:
    form = "&".join([f"Action={action}", "Version=2010-05-08"] + [f"{k}={v}" for k, v in params.items()])
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth("iam")}
    if chunked:
        conn.request("POST", "/", body=iter([form[:10].encode(), form[10:].encode()]), headers=headers,
                     encode_chunked=True)
    else:
        conn.request("POST", "/", body=form, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}


def test_one_connection_serves_many_calls(emulator):
    emulator.admin("DELETE", "/requests")
    conn = connect(emulator)
    status, _, headers = iam_call(conn, "ListRoles")
    assert status == 200 and headers.get("connection", "").lower() != "close", headers
    sock = conn.sock
    assert sock is not None, "the emulator closed the connection after the first answer"
    for name in ("keepalive-a", "keepalive-b"):
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        status, body, _ = iam_call(conn, "CreateRole", RoleName=name, AssumeRolePolicyDocument=doc)
        assert status == 200, body
    status, body, headers = iam_call(conn, "ListRoles")
    assert status == 200 and b"keepalive-a" in body and b"keepalive-b" in body
    assert int(headers["content-length"]) == len(body)
    assert conn.sock is sock, "a new connection was needed"
    ops = [r["operation"] for r in emulator.admin("GET", "/requests")["requests"]]
    assert ops == ["ListRoles", "CreateRole", "CreateRole", "ListRoles"], ops


def test_error_answers_and_bodiless_requests_keep_the_connection(emulator):
    conn = connect(emulator)
    conn.request("GET", "/clusters/no-such-cluster", headers={"Authorization": auth("eks")})
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 404, body
    sock = conn.sock
    assert sock is not None
    status, _, _ = iam_call(conn, "ListRoles")
    assert status == 200 and conn.sock is sock


def test_chunked_request_bodies_are_read_to_the_end(emulator):
    conn = connect(emulator)
    status, body, _ = iam_call(conn, "GetRole", chunked=True, RoleName="absent-role")
    assert status == 404 and b"NoSuchEntity" in body, body
    sock = conn.sock
    status, _, _ = iam_call(conn, "ListRoles")
    assert status == 200 and conn.sock is sock
