"""The local HTTPS OIDC issuer that every emulated EKS cluster points at.

One root CA (its PEM is the CA bundle clients are told to trust) signs an intermediate CA per TLS listener, which
signs that listener's leaf certificate (SANs: localhost and 127.0.0.1). A listener sends leaf + intermediate, never
the root, as public issuers do; so the last certificate a client receives is the intermediate, and the thumbprint
IAM wants is the lowercase hex SHA-1 of that intermediate's DER.

Two listeners on 127.0.0.1, each with its own chain:
  issuer  https://localhost:<port>/id/<32 HEX>           discovery document and JWKS
  jwks    https://127.0.0.1:<port2>/id/<32 HEX>/keys     started on first use, for clusters whose jwks_uri is set to
                                                         live on a second host (thumbprints are taken from the
                                                         jwks_uri host, so the two must differ)
`rotate` gives a listener a new intermediate and leaf; the root stays, so the CA bundle stays valid while the
expected thumbprint changes (drift tests).

This module knows nothing about EKS or moto: clusters.py registers issuers here.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import ssl
import threading
import uuid
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER_HOST = "localhost"
JWKS_HOST = "127.0.0.1"
BIND_ADDRESS = "127.0.0.1"


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-1 of the certificate's DER: IAM's OIDC thumbprint format."""
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eksidentity emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _issue(
    subject: str, issuer: Issued | None, ca: bool, path_length: int | None, days: int, hosts: tuple = ()
) -> Issued:
    """Issues one certificate (self-signed when `issuer` is None). P-256 keys: fast to generate, accepted by
    rustls, OpenSSL and Go alike."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else _name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        sans = [_san(h) for h in hosts]
        builder = (
            builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
    cert = builder.sign(signer_key, hashes.SHA256())
    return Issued(cert, key)


class _TlsHttpServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that wraps each accepted socket with the listener's current TLS context, so a
    rotation applies to every new connection. The handshake runs in the handler thread, not the accept loop."""

    daemon_threads = True
    tls_context: ssl.SSLContext

    def get_request(self):
        sock, addr = super().get_request()
        return self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address) -> None:
        # A client that rejects the chain (the point of some tests) aborts the handshake: not worth a traceback.
        pass


class TlsListener:
    """One HTTPS listener with its own intermediate CA and leaf under the shared root."""

    def __init__(self, label: str, host_in_urls: str, root: Issued, state_dir: str, handler_cls) -> None:
        self.label = label
        self.host_in_urls = host_in_urls
        self._root = root
        self._state_dir = state_dir
        self._generation = 0
        self._lock = threading.Lock()
        self.intermediate: Issued
        self.leaf: Issued
        self._server = _TlsHttpServer((BIND_ADDRESS, 0), handler_cls)
        self._server.tls_context = self._new_context()
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"oidc-{label}", daemon=True)
        self._thread.start()

    def _new_context(self) -> ssl.SSLContext:
        self._generation += 1
        tag = f"{self.label}-{self._generation}"
        self.intermediate = _issue(f"eksidentity emulator intermediate CA {tag}", self._root, True, 0, 3650)
        self.leaf = _issue(f"{ISSUER_HOST} ({tag})", self.intermediate, False, None, 825, (ISSUER_HOST, JWKS_HOST))
        tls_dir = os.path.join(self._state_dir, "tls")
        os.makedirs(tls_dir, exist_ok=True)
        chain_path = os.path.join(tls_dir, f"{tag}-chain.pem")
        key_path = os.path.join(tls_dir, f"{tag}-key.pem")
        with open(chain_path, "wb") as f:
            f.write(self.leaf.pem + self.intermediate.pem)  # leaf first, then the intermediate; no root
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(
                self.leaf.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(chain_path, key_path)
        return ctx

    @property
    def base_url(self) -> str:
        return f"https://{self.host_in_urls}:{self.port}"

    @property
    def thumbprint(self) -> str:
        """SHA-1 of the last certificate this listener sends (its intermediate)."""
        return sha1_thumbprint(self.intermediate.cert)

    def rotate(self) -> None:
        """New intermediate and leaf; new connections get the new chain."""
        with self._lock:
            self._server.tls_context = self._new_context()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class IssuerEntry:
    """One registered issuer (one per cluster)."""

    issuer_id: str
    owner: tuple  # (account, region, cluster name)
    jwks_separate: bool = False


class OidcProvider:
    """The root CA, the listeners and the registered issuers. Thread-safe."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        os.makedirs(state_dir, exist_ok=True)
        self.root = _issue("eksidentity emulator root CA", None, True, 1, 3650)
        self.ca_bundle = os.path.join(state_dir, "ca-bundle.pem")
        tmp = self.ca_bundle + ".tmp"
        with open(tmp, "wb") as f:
            f.write(self.root.pem)
        os.replace(tmp, self.ca_bundle)
        self._lock = threading.Lock()
        self._issuers: dict[str, IssuerEntry] = {}
        self._signing_key: rsa.RSAPrivateKey | None = None
        self.issuer_listener = TlsListener("issuer", ISSUER_HOST, self.root, state_dir, self._handler_class())
        self._jwks_listener: TlsListener | None = None

    # --- listeners -------------------------------------------------------------------------------------------
    def jwks_listener(self) -> TlsListener:
        """The second listener, started on first use."""
        with self._lock:
            if self._jwks_listener is None:
                self._jwks_listener = TlsListener("jwks", JWKS_HOST, self.root, self.state_dir, self._handler_class())
            return self._jwks_listener

    def rotate(self, target: str = "all") -> dict:
        """Rotates the chain of `issuer`, `jwks` or `all` listeners; returns the new thumbprints."""
        if target not in ("issuer", "jwks", "all"):
            raise ValueError("target must be issuer, jwks or all")
        if target in ("issuer", "all"):
            self.issuer_listener.rotate()
        if target in ("jwks", "all"):
            self.jwks_listener().rotate()
        return self.thumbprints()

    def thumbprints(self) -> dict:
        out = {"issuer": self.issuer_listener.thumbprint}
        if self._jwks_listener is not None:
            out["jwks"] = self._jwks_listener.thumbprint
        return out

    def stop(self) -> None:
        self.issuer_listener.stop()
        if self._jwks_listener is not None:
            self._jwks_listener.stop()

    # --- issuers ---------------------------------------------------------------------------------------------
    def register(self, owner: tuple, jwks_separate: bool = False) -> str:
        """Creates an issuer for `owner`; returns its URL."""
        issuer_id = uuid.uuid4().hex.upper()
        with self._lock:
            self._issuers[issuer_id] = IssuerEntry(issuer_id, owner, jwks_separate)
        if jwks_separate:
            self.jwks_listener()
        return self.issuer_url(issuer_id)

    def unregister_owner(self, owner: tuple) -> None:
        with self._lock:
            for key in [k for k, e in self._issuers.items() if e.owner == owner]:
                del self._issuers[key]

    def clear(self) -> None:
        with self._lock:
            self._issuers.clear()

    def issuer_url(self, issuer_id: str) -> str:
        return f"{self.issuer_listener.base_url}/id/{issuer_id}"

    def find(self, owner: tuple) -> IssuerEntry | None:
        with self._lock:
            for entry in self._issuers.values():
                if entry.owner == owner:
                    return entry
        return None

    def get(self, issuer_id: str) -> IssuerEntry | None:
        with self._lock:
            return self._issuers.get(issuer_id)

    def set_jwks_separate(self, owner: tuple, separate: bool) -> IssuerEntry | None:
        entry = self.find(owner)
        if entry is None:
            return None
        if separate:
            self.jwks_listener()
        with self._lock:
            entry.jwks_separate = separate
        return entry

    def jwks_uri(self, entry: IssuerEntry) -> str:
        base = self.jwks_listener().base_url if entry.jwks_separate else self.issuer_listener.base_url
        return f"{base}/id/{entry.issuer_id}/keys"

    def info(self, entry: IssuerEntry) -> dict:
        """What tests need: issuer, jwks_uri, the expected thumbprint (of the jwks_uri host's chain)."""
        jwks_listener = self.jwks_listener() if entry.jwks_separate else self.issuer_listener
        return {
            "issuer": self.issuer_url(entry.issuer_id),
            "issuer_id": entry.issuer_id,
            "jwks_uri": self.jwks_uri(entry),
            "jwks_separate_host": entry.jwks_separate,
            "thumbprint": jwks_listener.thumbprint,
            "issuer_host_thumbprint": self.issuer_listener.thumbprint,
            "jwks_host_thumbprint": jwks_listener.thumbprint,
            "ca_bundle": self.ca_bundle,
        }

    # --- documents -------------------------------------------------------------------------------------------
    def discovery(self, entry: IssuerEntry) -> dict:
        """The discovery document, shaped like an EKS cluster's."""
        return {
            "issuer": self.issuer_url(entry.issuer_id),
            "jwks_uri": self.jwks_uri(entry),
            "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["sub", "iss"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict:
        """The JWKS document: one RSA signing key, made on first request."""
        with self._lock:
            if self._signing_key is None:
                self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = self._signing_key.public_key()
        numbers = public.public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        kid = hashlib.sha1(der).hexdigest()
        return {
            "keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": b64(numbers.n), "e": b64(numbers.e)}]
        }

    def _handler_class(self):
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            """GET /id/<ID>/.well-known/openid-configuration and GET /id/<ID>/keys."""

            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = self.path.split("?", 1)[0].strip("/").split("/")
                entry = provider.get(parts[1]) if len(parts) >= 3 and parts[0] == "id" else None
                rest = "/".join(parts[2:])
                if entry is None or rest not in (".well-known/openid-configuration", "keys"):
                    self._send(404, {"error": "not found"})
                elif rest == "keys":
                    self._send(200, provider.jwks())
                else:
                    self._send(200, provider.discovery(entry))

            def _send(self, status: int, doc: dict) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
                pass

        return Handler
