"""Persistent HTTP/1.1 connections on the emulator's AWS port, as AWS endpoints serve the SDK.

Werkzeug's development server ends every response with `Connection: close`, because it cannot tell where an
unread request body stops and the next request begins. Against AWS the SDK keeps a pool of open connections, so
closing each one would make every emulated call pay a TCP connect the provider never pays in production, and the
SDK's connection-reuse paths would go untested.

This handler runs one request at a time itself: it reads the whole body (Content-Length, or chunked through
werkzeug's decoder), hands the application a buffered copy, collects the whole answer and sends it with a
Content-Length. Nothing of a request is left on the socket, so the next request line is where the client put it.

This module must not know about AWS operations.
"""

from __future__ import annotations

import io
import socket
import sys
import traceback

from moto.moto_server.werkzeug_app import MotoRequestHandler

# Framing is ours to decide: the application's own values for these are dropped.
_FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}


class KeepAliveRequestHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; on a connection that stays open, Nagle's algorithm would hold the
        # body back until the client's delayed ACK (tens of milliseconds per call).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        self.environ = environ
        body = self._read_request_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        # The body is now a plain buffer of known length; a chunked marker left behind would make werkzeug's
        # request parsing (moto's) read nothing.
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)

        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            # Nothing is sent before the application returns, so a later call (with exc_info) simply replaces
            # the status and headers.
            answer["status"], answer["headers"] = status, headers
            return chunks.append

        chunks: list[bytes] = []
        try:
            result = self.server.app(environ, start_response)
            try:
                for chunk in result:
                    chunks.append(chunk)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:  # an emulator bug: answer 500 and close, keep the traceback for whoever debugs it
            traceback.print_exc(file=sys.stderr)
            answer = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
            chunks = [b"emulator error\n"]
            self.close_connection = True
        self._send(answer["status"], answer["headers"], b"".join(chunks))

    def _read_request_body(self, environ: dict) -> bytes:
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's decoder stops at the last chunk
            return environ["wsgi.input"].read()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
            self.close_connection = True  # unknown framing: do not guess where the next request starts
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: str, headers: list, payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in _FRAMING_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
