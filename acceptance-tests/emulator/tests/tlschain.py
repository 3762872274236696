"""Reads the certificate chain a TLS server sends, independently of the emulator's own code.

Python 3.11's ssl module does not expose the peer's chain, so this drives a TLS 1.2 handshake through memory BIOs,
keeps the raw bytes the server sent, and parses the (unencrypted, in TLS 1.2) Certificate handshake message.
The handshake verifies the chain against `cafile` like any client would, so success also proves the chain is
valid for the host name.
"""

from __future__ import annotations

import socket
import ssl


def _handshake_bytes(host: str, port: int, cafile: str | None, server_hostname: str) -> bytes:
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    received = bytearray()
    with socket.create_connection((host, port), timeout=10) as sock:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    sock.sendall(pending)
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("server closed the connection during the handshake") from None
                received += data
                incoming.write(data)
        pending = outgoing.read()
        if pending:
            sock.sendall(pending)
    return bytes(received)


def _certificates(raw: bytes) -> list[bytes]:
    """DER certificates from the first Certificate (type 11) handshake message in raw TLS 1.2 records."""
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(raw):
        content_type, length = raw[pos], int.from_bytes(raw[pos + 3 : pos + 5], "big")
        if content_type == 22:  # handshake
            handshake += raw[pos + 5 : pos + 5 + length]
        elif content_type == 20:  # ChangeCipherSpec: encrypted from here on
            break
        pos += 5 + length
    hpos = 0
    while hpos + 4 <= len(handshake):
        msg_type, msg_len = handshake[hpos], int.from_bytes(handshake[hpos + 1 : hpos + 4], "big")
        body = handshake[hpos + 4 : hpos + 4 + msg_len]
        if msg_type == 11:
            total = int.from_bytes(body[0:3], "big")
            certs, cpos = [], 3
            while cpos < 3 + total:
                clen = int.from_bytes(body[cpos : cpos + 3], "big")
                certs.append(bytes(body[cpos + 3 : cpos + 3 + clen]))
                cpos += 3 + clen
            return certs
        hpos += 4 + msg_len
    raise ValueError("no Certificate message in the server's handshake")


def served_chain(host: str, port: int, cafile: str | None, server_hostname: str | None = None) -> list[bytes]:
    """The DER certificates the server sent, in order (leaf first). Raises ssl.SSLCertVerificationError when the
    chain does not verify against `cafile` (or the system store when None)."""
    return _certificates(_handshake_bytes(host, port, cafile, server_hostname or host))
