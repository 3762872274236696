"""The EKS shapes the emulator serves, checked against the models the clients are generated from.

1. shapecheck.py (applied to every EKS response in this suite through the `eks` fixture) really rejects what does
   not match botocore's EKS model.
2. botocore's EKS model agrees with the AWS SDK for Rust the provider links (the version in Cargo.lock, read from
   cargo's registry sources): for every operation the emulator implements, the HTTP method and path template of the
   generated request serializer, the top-level keys its response deserializer reads, the keys read for each nested
   structure, and the error codes it recognises. Skipped, saying why, when those sources are not on disk.
"""

from __future__ import annotations

import glob
import os
import re

import botocore.session
import pytest

from shapecheck import check_response

EMULATED = [
    "CreateAddon",
    "DescribeAddon",
    "UpdateAddon",
    "DeleteAddon",
    "ListAddons",
    "DescribeAddonVersions",
    "CreatePodIdentityAssociation",
    "DescribePodIdentityAssociation",
    "UpdatePodIdentityAssociation",
    "DeletePodIdentityAssociation",
    "ListPodIdentityAssociations",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "DescribeCluster",  # served by moto with the emulator's issuer: the provider reads identity.oidc.issuer
]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def model():
    return botocore.session.get_session().get_service_model("eks")


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def test_shapecheck_rejects_wrong_keys_types_and_errors(model):
    op = model.operation_model("DescribePodIdentityAssociation")
    good = (
        b'{"association": {"associationId": "a-1", "createdAt": 1.5, "disableSessionTags": false, "tags": {"k": "v"}}}'
    )
    assert check_response(model, op, 200, {}, good) == []
    assert check_response(model, op, 200, {}, b'{"association": {"associationID": "a-1"}}')  # wrong key case
    assert check_response(model, op, 200, {}, b'{"association": {"createdAt": "2024-01-01T00:00:00Z"}}')  # ISO date
    assert check_response(model, op, 200, {}, b'{"association": {"disableSessionTags": "false"}}')  # string bool
    assert check_response(model, op, 404, {"x-amzn-errortype": "ResourceNotFoundException"}, b'{"message": "x"}') == []
    assert check_response(model, op, 400, {"x-amzn-errortype": "ResourceNotFoundException"}, b'{"message": "x"}')
    assert check_response(model, op, 409, {"x-amzn-errortype": "ResourceInUseException"}, b'{"message": "x"}')
    assert check_response(model, op, 400, {}, b'{"message": "x"}')  # no error type header
    addon = model.operation_model("DescribeAddon")
    assert check_response(model, addon, 200, {}, b'{"addon": {"status": "RUNNING"}}')  # not an AddonStatus


def rust_sdk_dir() -> str:
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    m = re.search(r'name = "aws-sdk-eks"\nversion = "([^"]+)"', lock)
    if not m:
        pytest.skip("aws-sdk-eks is not in Cargo.lock")
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = glob.glob(os.path.join(cargo_home, "registry", "src", "*", f"aws-sdk-eks-{m.group(1)}"))
    if not found:
        pytest.skip(f"aws-sdk-eks {m.group(1)} sources are not in cargo's registry (run cargo build first)")
    return found[0]


def normalise(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template)


@pytest.mark.parametrize("operation", EMULATED)
def test_rust_sdk_request_binding_matches_the_model(model, operation):
    src = open(os.path.join(rust_sdk_dir(), "src", "operation", f"{snake(operation)}.rs")).read()
    uri_base = src[src.index("fn uri_base") : src.index("fn update_http_builder")]
    path = re.search(r'write!\(\s*output,\s*"([^"]+)"', uri_base).group(1)
    method = re.search(r'builder\.method\("([A-Z]+)"\)', src).group(1)
    http = model.operation_model(operation).http
    assert (method, normalise(path)) == (http["method"], normalise(http["requestUri"]))


def rust_keys(sdk: str, shape_snake: str) -> set[str]:
    path = os.path.join(sdk, "src", "protocol_serde", f"shape_{shape_snake}.rs")
    return set(re.findall(r'^\s*"([A-Za-z]+)" =>', open(path).read(), re.M))


def body_members(shape) -> set[str]:
    return {
        m.serialization.get("name", name)
        for name, m in shape.members.items()
        if m.serialization.get("location") in (None, "body")
    }


@pytest.mark.parametrize("operation", EMULATED)
def test_rust_sdk_response_fields_and_errors_match_the_model(model, operation):
    sdk = rust_sdk_dir()
    op = model.operation_model(operation)
    read = rust_keys(sdk, snake(operation))
    codes = {k for k in read if k.endswith("Exception")}
    assert codes == {s.name for s in op.error_shapes}, "error codes the Rust SDK recognises"
    if op.output_shape is not None:
        assert read - codes == body_members(op.output_shape), "top-level response keys the Rust SDK reads"


@pytest.mark.parametrize(
    "shape",
    ["Addon", "AddonHealth", "AddonIssue", "AddonInfo", "AddonVersionInfo", "Compatibility", "Update", "UpdateParam",
     "PodIdentityAssociation", "PodIdentityAssociationSummary", "Cluster", "Identity", "OIDC"],
)  # fmt: skip
def test_rust_sdk_nested_structures_match_the_model(model, shape):
    assert rust_keys(rust_sdk_dir(), snake(shape)) == body_members(model.shape_for(shape))
