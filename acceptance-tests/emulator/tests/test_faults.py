"""Fault injection: throttling per protocol, HTTP 500, a named error on the Nth call, IAM propagation delay,
seeded rates, listing and clearing, and the injected counts in the fault list and the request log."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import TRUST


def response_of(exc: pytest.ExceptionInfo) -> tuple[str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_eks_throttling_is_throttling_exception_429(emulator, eks, cluster):
    emulator.admin("POST", "/faults", {"kind": "throttle", "service": "eks", "rate": 1.0}, expect=201)
    with pytest.raises(ClientError) as e:
        eks.list_addons(clusterName="demo")
    assert response_of(e) == ("ThrottlingException", 429)
    assert e.value.response["Error"]["Message"] == "Rate exceeded"


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_query_throttling_is_throttling_400(emulator, service):
    client = emulator.client(service)
    emulator.admin("POST", "/faults", {"kind": "throttle", "service": service}, expect=201)
    with pytest.raises(ClientError) as e:
        client.list_roles() if service == "iam" else client.get_caller_identity()
    assert response_of(e) == ("Throttling", 400)


def test_throttling_is_retried_by_the_sdk(emulator, cluster):
    """With retries on, botocore classifies the injected error as throttling and succeeds on a later attempt."""
    emulator.admin(
        "POST", "/faults", {"kind": "throttle", "service": "eks", "operation": "ListAddons", "max_count": 2}, expect=201
    )
    eks = emulator.client("eks", attempts=5)
    resp = eks.list_addons(clusterName="demo")
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    log = emulator.admin("GET", "/requests?service=eks&operation=ListAddons")
    assert [r["status"] for r in log["requests"]] == [429, 429, 200]
    assert [r["fault"] for r in log["requests"]] == ["throttle", "throttle", None]


@pytest.mark.parametrize(
    "service,code",
    [("eks", "ServerException"), ("iam", "ServiceFailure"), ("sts", "InternalFailure")],
)
def test_http_500(emulator, service, code):
    emulator.admin("POST", "/faults", {"kind": "http500", "service": service}, expect=201)
    client = emulator.client(service)
    with pytest.raises(ClientError) as e:
        {
            "eks": lambda: client.list_clusters(),
            "iam": lambda: client.list_roles(),
            "sts": lambda: client.get_caller_identity(),
        }[service]()
    assert response_of(e) == (code, 500)


def test_named_error_on_nth_call_only(emulator, eks, cluster, role):
    emulator.admin(
        "POST",
        "/faults",
        {"kind": "error", "service": "eks", "operation": "CreatePodIdentityAssociation", "nth": 2,
         "code": "ResourceLimitExceededException", "message": "limit reached (injected)"},
        expect=201,
    )  # fmt: skip
    eks.create_pod_identity_association(clusterName="demo", namespace="n", serviceAccount="s1", roleArn=role)
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(clusterName="demo", namespace="n", serviceAccount="s2", roleArn=role)
    assert response_of(e) == ("ResourceLimitExceededException", 400)
    assert e.value.response["Error"]["Message"] == "limit reached (injected)"
    eks.create_pod_identity_association(clusterName="demo", namespace="n", serviceAccount="s2", roleArn=role)
    faults = emulator.admin("GET", "/faults")
    assert faults["faults"][0]["seen"] == 3 and faults["faults"][0]["injected"] == 1


def test_named_error_every_call_after(emulator, iam):
    emulator.admin(
        "POST",
        "/faults",
        {"kind": "error", "service": "iam", "operation": "CreateRole", "nth": 2, "every_after": True,
         "code": "LimitExceeded", "message": "Cannot exceed quota for RolesPerAccount", "status": 409},
        expect=201,
    )  # fmt: skip
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=TRUST)
    for name in ("r2", "r3"):
        with pytest.raises(ClientError) as e:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        assert response_of(e) == ("LimitExceeded", 409)
    iam.get_role(RoleName="r1")  # other operations are untouched


def test_rates_are_seeded_and_reproducible(emulator, eks, cluster):
    def pattern() -> list[bool]:
        emulator.admin("DELETE", "/faults")
        emulator.admin("POST", "/faults", {"kind": "throttle", "service": "eks", "rate": 0.5, "seed": 7}, expect=201)
        out = []
        for _ in range(16):
            try:
                eks.list_clusters()
                out.append(False)
            except ClientError:
                out.append(True)
        return out

    first, second = pattern(), pattern()
    assert first == second
    assert 0 < sum(first) < 16


def test_list_remove_and_clear_faults(emulator):
    a = emulator.admin("POST", "/faults", {"kind": "throttle", "rate": 0.1}, expect=201)
    b = emulator.admin("POST", "/faults", {"kind": "http500", "service": "iam", "rate": 0.1}, expect=201)
    listed = emulator.admin("GET", "/faults")["faults"]
    assert [(f["id"], f["kind"]) for f in listed] == [(a["id"], "throttle"), (b["id"], "http500")]
    emulator.admin("DELETE", f"/faults/{a['id']}")
    assert len(emulator.admin("GET", "/faults")["faults"]) == 1
    emulator.admin("DELETE", f"/faults/{a['id']}", expect=404)
    assert emulator.admin("DELETE", "/faults")["removed"] == 1
    assert emulator.admin("GET", "/faults")["faults"] == []


def test_bad_fault_specs_are_rejected(emulator):
    for spec in ({"kind": "meteor"}, {"kind": "throttle", "rate": 2}, {"kind": "error", "operation": "X"},
                 {"kind": "error", "code": "X"}, {"kind": "throttle", "service": "s3"}):  # fmt: skip
        assert "error" in emulator.admin("POST", "/faults", spec, expect=400)


def test_iam_propagation_delay_hides_new_roles_from_eks(emulator, eks, iam, cluster):
    # A delay no machine load can outlast between the two calls; shortened below rather than slept through.
    emulator.admin("PUT", "/iam/propagation-delay", {"seconds": 600.0})
    role = iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(clusterName="demo", namespace="n", serviceAccount="s", roleArn=role)
    assert response_of(e) == ("InvalidParameterException", 400)
    assert e.value.response["Error"]["Message"] == "Role provided in the request does not exist"
    assert iam.get_role(RoleName="fresh")["Role"]["Arn"] == role  # IAM itself sees it
    emulator.admin("PUT", "/iam/propagation-delay", {"seconds": 0.001})  # the role is now older than the delay
    created = eks.create_pod_identity_association(clusterName="demo", namespace="n", serviceAccount="s", roleArn=role)
    assert created["association"]["roleArn"] == role
    assert emulator.admin("GET", "/iam/propagation-delay")["hidden"] == 1
    log = emulator.admin("GET", "/requests?operation=CreatePodIdentityAssociation")
    assert [r["fault"] for r in log["requests"]] == ["iam_propagation", None]
    assert log["injected"] == 1


def test_iam_propagation_delay_applies_to_update(emulator, eks, iam, cluster, role):
    aid = eks.create_pod_identity_association(clusterName="demo", namespace="n", serviceAccount="s", roleArn=role)[
        "association"
    ]["associationId"]
    emulator.admin("PUT", "/iam/propagation-delay", {"seconds": 30})
    fresh = iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    with pytest.raises(ClientError) as e:
        eks.update_pod_identity_association(clusterName="demo", associationId=aid, roleArn=fresh)
    assert e.value.response["Error"]["Message"] == "Role provided in the request does not exist"


def test_admin_requests_are_never_faulted(emulator):
    emulator.admin("POST", "/faults", {"kind": "http500", "rate": 1.0}, expect=201)
    assert emulator.admin("GET", "/health")["ok"] is True
