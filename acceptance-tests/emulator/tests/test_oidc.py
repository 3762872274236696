"""The local HTTPS OIDC issuer: issuer format, discovery and JWKS documents, the chain served, verification with
the CA bundle, the expected thumbprint (recomputed here from the served chain), a separate jwks host, rotation."""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlparse

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from tlschain import served_chain

ISSUER_RE = re.compile(r"^https://localhost:(\d+)/id/[0-9A-F]{32}$")


def fetch_json(url: str, cafile: str) -> dict:
    ctx = ssl.create_default_context(cafile=cafile)
    with urllib.request.urlopen(url, context=ctx, timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def thumbprint_of_served_chain(url: str, cafile: str) -> tuple[str, list[x509.Certificate]]:
    """What IAM computes: SHA-1 of the last certificate the jwks_uri host sends."""
    u = urlparse(url)
    ders = served_chain(u.hostname, u.port, cafile)
    return hashlib.sha1(ders[-1]).hexdigest(), [x509.load_der_x509_certificate(d) for d in ders]


def test_cluster_created_through_eks_gets_a_local_issuer(emulator, eks, iam):
    role = iam.create_role(RoleName="cluster-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    created = eks.create_cluster(name="via-api", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1"]})[
        "cluster"
    ]
    issuer = created["identity"]["oidc"]["issuer"]
    assert ISSUER_RE.match(issuer), issuer
    assert eks.describe_cluster(name="via-api")["cluster"]["identity"]["oidc"]["issuer"] == issuer
    info = emulator.admin("GET", "/clusters/via-api/oidc")
    assert info["issuer"] == issuer
    doc = fetch_json(issuer + "/.well-known/openid-configuration", info["ca_bundle"])
    assert doc["issuer"] == issuer


def test_discovery_and_jwks_documents(emulator, cluster):
    oidc = cluster["oidc"]
    assert ISSUER_RE.match(oidc["issuer"])
    doc = fetch_json(oidc["issuer"] + "/.well-known/openid-configuration", oidc["ca_bundle"])
    assert doc["issuer"] == oidc["issuer"]
    assert doc["jwks_uri"] == oidc["issuer"] + "/keys" == oidc["jwks_uri"]
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    keys = fetch_json(doc["jwks_uri"], oidc["ca_bundle"])["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["e"] == "AQAB"
    assert len(keys[0]["n"]) > 300  # 2048-bit modulus, base64url


def test_unknown_issuer_id_is_404(emulator, cluster):
    base = cluster["oidc"]["issuer"].rsplit("/", 1)[0]
    ctx = ssl.create_default_context(cafile=cluster["oidc"]["ca_bundle"])
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/" + "0" * 32 + "/.well-known/openid-configuration", context=ctx, timeout=10)
    assert e.value.code == 404


def test_served_chain_is_leaf_then_intermediate_and_thumbprint_matches(emulator, cluster):
    oidc = cluster["oidc"]
    thumb, chain = thumbprint_of_served_chain(oidc["jwks_uri"], oidc["ca_bundle"])
    assert len(chain) == 2, "the server must send leaf + intermediate, never the root"
    leaf, intermediate = chain
    root = x509.load_pem_x509_certificate(open(oidc["ca_bundle"], "rb").read())
    assert leaf.issuer == intermediate.subject
    assert intermediate.issuer == root.subject and intermediate.subject != root.subject
    assert intermediate.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca
    sans = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    assert re.fullmatch(r"[0-9a-f]{40}", thumb)
    assert thumb == oidc["thumbprint"]


def test_chain_does_not_verify_without_the_ca_bundle(emulator, cluster):
    u = urlparse(cluster["oidc"]["issuer"])
    with pytest.raises(ssl.SSLCertVerificationError):
        served_chain(u.hostname, u.port, None)


def test_rotation_changes_the_thumbprint(emulator, cluster):
    oidc = cluster["oidc"]
    before, _ = thumbprint_of_served_chain(oidc["jwks_uri"], oidc["ca_bundle"])
    rotated = emulator.admin("POST", "/oidc/rotate", {"target": "issuer"})
    assert rotated["before"]["issuer"] == before
    after, chain = thumbprint_of_served_chain(oidc["jwks_uri"], oidc["ca_bundle"])
    assert after != before
    assert after == rotated["thumbprints"]["issuer"]
    assert emulator.admin("GET", "/clusters/demo/oidc")["thumbprint"] == after
    assert len(chain) == 2  # still verifies with the same CA bundle (handshake above succeeded)


def test_jwks_on_a_separate_host_has_its_own_chain(emulator):
    made = emulator.admin("POST", "/clusters", {"name": "split", "jwks_separate_host": True}, expect=201)
    oidc = made["oidc"]
    issuer_host = urlparse(oidc["issuer"])
    jwks_host = urlparse(oidc["jwks_uri"])
    assert (jwks_host.hostname, jwks_host.port) != (issuer_host.hostname, issuer_host.port)
    doc = fetch_json(oidc["issuer"] + "/.well-known/openid-configuration", oidc["ca_bundle"])
    assert doc["jwks_uri"] == oidc["jwks_uri"]
    assert fetch_json(doc["jwks_uri"], oidc["ca_bundle"])["keys"]

    jwks_thumb, _ = thumbprint_of_served_chain(oidc["jwks_uri"], oidc["ca_bundle"])
    issuer_thumb, _ = thumbprint_of_served_chain(oidc["issuer"], oidc["ca_bundle"])
    assert jwks_thumb != issuer_thumb
    assert oidc["thumbprint"] == oidc["jwks_host_thumbprint"] == jwks_thumb
    assert oidc["issuer_host_thumbprint"] == issuer_thumb

    emulator.admin("POST", "/oidc/rotate", {"target": "jwks"})
    rotated, _ = thumbprint_of_served_chain(oidc["jwks_uri"], oidc["ca_bundle"])
    assert rotated != jwks_thumb
    assert thumbprint_of_served_chain(oidc["issuer"], oidc["ca_bundle"])[0] == issuer_thumb

    # and back to one host, through the admin API
    single = emulator.admin("PUT", "/clusters/split/oidc", {"jwks_separate_host": False})
    assert single["jwks_uri"] == single["issuer"] + "/keys"


def test_reset_forgets_issuers(emulator, cluster):
    issuer = cluster["oidc"]["issuer"]
    emulator.admin("POST", "/reset")
    emulator.admin("GET", "/clusters/demo/oidc", expect=404)
    ctx = ssl.create_default_context(cafile=cluster["oidc"]["ca_bundle"])
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(issuer + "/.well-known/openid-configuration", context=ctx, timeout=10)
    assert e.value.code == 404
