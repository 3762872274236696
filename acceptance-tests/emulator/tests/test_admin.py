"""The admin API: clusters, objects summary, reset, and its own error answers."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import TRUST


def test_create_cluster_directly(emulator, eks):
    made = emulator.admin(
        "POST", "/clusters", {"name": "direct", "kubernetes_version": "1.30", "tags": {"env": "test"}}, expect=201
    )
    assert made["status"] == "ACTIVE" and made["version"] == "1.30"
    assert made["arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/direct"
    described = eks.describe_cluster(name="direct")["cluster"]
    assert described["identity"]["oidc"]["issuer"] == made["oidc"]["issuer"]
    assert described["tags"] == {"env": "test"}
    emulator.admin("POST", "/clusters", {"name": "direct"}, expect=409)
    emulator.admin("POST", "/clusters", {}, expect=400)
    listed = emulator.admin("GET", "/clusters")["clusters"]
    assert [c["name"] for c in listed] == ["direct"]
    emulator.admin("GET", "/clusters/none/oidc", expect=404)


def test_cluster_in_another_region(emulator):
    made = emulator.admin("POST", "/clusters", {"name": "west", "region": "us-west-2"}, expect=201)
    assert made["arn"].startswith("arn:aws:eks:us-west-2:")
    west = emulator.client("eks", region="us-west-2")
    assert west.describe_cluster(name="west")["cluster"]["identity"]["oidc"]["issuer"] == made["oidc"]["issuer"]
    with pytest.raises(ClientError):
        emulator.client("eks").describe_cluster(name="west")


def test_objects_summary_lists_everything(emulator, eks, iam, cluster):
    role = iam.create_role(
        RoleName="app", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "eksidentity:wiring", "Value": "demo/a/b"}]
    )["Role"]["Arn"]
    iam.create_open_id_connect_provider(
        Url=cluster["oidc"]["issuer"],
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=[cluster["oidc"]["thumbprint"]],
        Tags=[{"Key": "eksidentity:created-by", "Value": "eksidentity"}],
    )
    eks.create_addon(clusterName="demo", addonName="eks-pod-identity-agent")
    eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)
    objects = emulator.admin("GET", "/objects")
    assert objects["counts"] == {"roles": 1, "oidc_providers": 1, "clusters": 1, "addons": 1, "associations": 1}
    assert objects["roles"][0]["arn"] == role
    assert objects["roles"][0]["tags"] == {"eksidentity:wiring": "demo/a/b"}
    assert objects["oidc_providers"][0]["tags"] == {"eksidentity:created-by": "eksidentity"}
    assert objects["oidc_providers"][0]["thumbprints"] == [cluster["oidc"]["thumbprint"]]
    assert objects["addons"][0]["name"] == "eks-pod-identity-agent"
    assert objects["associations"][0]["role_arn"] == role


def test_reset_wipes_moto_and_emulator_state(emulator, eks, iam, cluster):
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    eks.create_addon(clusterName="demo", addonName="eks-pod-identity-agent")
    emulator.admin("POST", "/faults", {"kind": "throttle", "rate": 0.0}, expect=201)
    emulator.admin("PUT", "/addon-delay", {"seconds": 3})
    emulator.admin("PUT", "/iam/propagation-delay", {"seconds": 3})
    emulator.admin("POST", "/reset")
    assert emulator.admin("GET", "/objects")["counts"] == {
        "roles": 0,
        "oidc_providers": 0,
        "clusters": 0,
        "addons": 0,
        "associations": 0,
    }
    assert emulator.admin("GET", "/faults")["faults"] == []
    assert emulator.admin("GET", "/requests")["count"] == 0
    assert emulator.admin("GET", "/addon-delay")["seconds"] == 0.2
    assert emulator.admin("GET", "/iam/propagation-delay")["seconds"] == 0
    with pytest.raises(ClientError):
        iam.get_role(RoleName="app")
    assert eks.list_clusters()["clusters"] == []


def test_admin_errors(emulator):
    assert "error" in emulator.admin("GET", "/no-such-thing", expect=404)
    assert "error" in emulator.admin("PATCH", "/faults", {}, expect=405)
    assert "error" in emulator.admin("PUT", "/clusters/x/addons/y/status", {"status": "BROKEN"}, expect=400)
    assert "error" in emulator.admin("PUT", "/addon-delay", {"seconds": -1}, expect=400)
