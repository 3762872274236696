"""EKS add-ons through boto3: every operation's success and error paths, status transitions and overrides."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

AGENT = "eks-pod-identity-agent"


def error_code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def wait_status(eks, cluster: str, name: str, want: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        addon = eks.describe_addon(clusterName=cluster, addonName=name)["addon"]
        if addon["status"] == want or time.monotonic() > deadline:
            return addon
        time.sleep(0.05)


def test_create_is_creating_then_active_with_default_version(eks, cluster):
    versions = eks.describe_addon_versions(addonName=AGENT, kubernetesVersion="1.31")["addons"][0]
    default = [v["addonVersion"] for v in versions["addonVersions"] if v["compatibilities"][0]["defaultVersion"]]
    assert len(default) == 1

    created = eks.create_addon(clusterName="demo", addonName=AGENT, tags={"team": "platform"})["addon"]
    assert created["status"] == "CREATING"
    assert created["addonVersion"] == default[0]
    assert created["addonArn"].startswith("arn:aws:eks:us-east-1:123456789012:addon/demo/eks-pod-identity-agent/")
    assert created["tags"] == {"team": "platform"}
    assert created["health"] == {"issues": []}

    active = wait_status(eks, "demo", AGENT, "ACTIVE")
    assert active["status"] == "ACTIVE"
    assert active["createdAt"] == created["createdAt"]


def test_create_with_explicit_version_and_role(eks, cluster, role):
    versions = eks.describe_addon_versions(addonName=AGENT)["addons"][0]["addonVersions"]
    oldest = versions[-1]["addonVersion"]
    addon = eks.create_addon(clusterName="demo", addonName=AGENT, addonVersion=oldest, serviceAccountRoleArn=role)[
        "addon"
    ]
    assert addon["addonVersion"] == oldest
    assert addon["serviceAccountRoleArn"] == role


def test_create_errors(eks, cluster):
    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="nope", addonName=AGENT)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "No cluster found for name: nope." in str(e.value)

    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="demo", addonName="no-such-addon")
    assert error_code(e) == "InvalidParameterException"

    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="demo", addonName=AGENT, addonVersion="v0.0.0-eksbuild.0")
    assert error_code(e) == "InvalidParameterException"

    eks.create_addon(clusterName="demo", addonName=AGENT)
    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="demo", addonName=AGENT)
    assert error_code(e) == "ResourceInUseException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_client_request_token_makes_create_idempotent(eks, cluster):
    first = eks.create_addon(clusterName="demo", addonName=AGENT, clientRequestToken="tok-1")["addon"]
    again = eks.create_addon(clusterName="demo", addonName=AGENT, clientRequestToken="tok-1")["addon"]
    assert again["addonArn"] == first["addonArn"]
    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="demo", addonName=AGENT, clientRequestToken="tok-2")
    assert error_code(e) == "ResourceInUseException"


def test_describe_missing(eks, cluster):
    with pytest.raises(ClientError) as e:
        eks.describe_addon(clusterName="demo", addonName=AGENT)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        eks.describe_addon(clusterName="nope", addonName=AGENT)
    assert error_code(e) == "ResourceNotFoundException"


def test_update_goes_updating_then_active(eks, cluster):
    versions = [v["addonVersion"] for v in eks.describe_addon_versions(addonName=AGENT)["addons"][0]["addonVersions"]]
    eks.create_addon(clusterName="demo", addonName=AGENT, addonVersion=versions[-1])
    with pytest.raises(ClientError) as e:  # still CREATING
        eks.update_addon(clusterName="demo", addonName=AGENT, addonVersion=versions[0])
    assert error_code(e) == "ResourceInUseException"
    wait_status(eks, "demo", AGENT, "ACTIVE")

    update = eks.update_addon(
        clusterName="demo", addonName=AGENT, addonVersion=versions[0], resolveConflicts="OVERWRITE"
    )["update"]
    assert update["type"] == "AddonUpdate" and update["status"] == "InProgress"
    assert {"type": "AddonVersion", "value": versions[0]} in update["params"]
    assert eks.describe_addon(clusterName="demo", addonName=AGENT)["addon"]["status"] == "UPDATING"
    addon = wait_status(eks, "demo", AGENT, "ACTIVE")
    assert addon["addonVersion"] == versions[0]

    with pytest.raises(ClientError) as e:
        eks.update_addon(clusterName="demo", addonName=AGENT, addonVersion="v9.9.9")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        eks.update_addon(clusterName="demo", addonName="vpc-cni", addonVersion=versions[0])
    assert error_code(e) == "ResourceNotFoundException"


def test_delete_goes_deleting_then_gone(eks, cluster):
    eks.create_addon(clusterName="demo", addonName=AGENT)
    wait_status(eks, "demo", AGENT, "ACTIVE")
    deleted = eks.delete_addon(clusterName="demo", addonName=AGENT)["addon"]
    assert deleted["status"] == "DELETING"
    with pytest.raises(ClientError) as e:  # cannot re-create while DELETING
        eks.create_addon(clusterName="demo", addonName=AGENT)
    assert error_code(e) == "ResourceInUseException"
    time.sleep(0.35)
    with pytest.raises(ClientError) as e:
        eks.describe_addon(clusterName="demo", addonName=AGENT)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        eks.delete_addon(clusterName="demo", addonName=AGENT)
    assert error_code(e) == "ResourceNotFoundException"


def test_list_addons_paginates(eks, cluster):
    for name in ("vpc-cni", "coredns", "kube-proxy", AGENT):
        eks.create_addon(clusterName="demo", addonName=name)
    first = eks.list_addons(clusterName="demo", maxResults=3)
    assert first["addons"] == ["coredns", AGENT, "kube-proxy"]
    second = eks.list_addons(clusterName="demo", maxResults=3, nextToken=first["nextToken"])
    assert second["addons"] == ["vpc-cni"] and "nextToken" not in second
    paged = [
        n
        for page in eks.get_paginator("list_addons").paginate(clusterName="demo", PaginationConfig={"PageSize": 1})
        for n in page["addons"]
    ]
    assert paged == ["coredns", AGENT, "kube-proxy", "vpc-cni"]
    with pytest.raises(ClientError) as e:
        eks.list_addons(clusterName="demo", nextToken="garbage")
    assert error_code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        eks.list_addons(clusterName="nope")
    assert error_code(e) == "ResourceNotFoundException"


def test_describe_addon_versions_filters_and_pages(eks):
    everything = eks.describe_addon_versions()["addons"]
    names = [a["addonName"] for a in everything]
    assert AGENT in names and len(names) >= 2
    one = eks.describe_addon_versions(addonName=AGENT, kubernetesVersion="1.30")["addons"]
    assert [a["addonName"] for a in one] == [AGENT]
    assert all(c["clusterVersion"] == "1.30" for v in one[0]["addonVersions"] for c in v["compatibilities"])
    page = eks.describe_addon_versions(maxResults=1)
    assert len(page["addons"]) == 1 and page["nextToken"]
    assert eks.describe_addon_versions(addonName="not-an-addon")["addons"] == []


def test_degraded_override_for_a_time(emulator, eks, cluster):
    emulator.admin("PUT", f"/clusters/demo/addons/{AGENT}/status", {"status": "DEGRADED", "seconds": 0.5})
    eks.create_addon(clusterName="demo", addonName=AGENT)
    degraded = wait_status(eks, "demo", AGENT, "DEGRADED")
    assert degraded["status"] == "DEGRADED"
    assert degraded["health"]["issues"][0]["code"] == "InsufficientNumberOfReplicas"
    assert wait_status(eks, "demo", AGENT, "ACTIVE")["status"] == "ACTIVE"
    assert eks.describe_addon(clusterName="demo", addonName=AGENT)["addon"]["health"]["issues"] == []


def test_degraded_override_forever_until_cleared(emulator, eks, cluster):
    eks.create_addon(clusterName="demo", addonName=AGENT)
    wait_status(eks, "demo", AGENT, "ACTIVE")
    emulator.admin("PUT", f"/clusters/demo/addons/{AGENT}/status", {"status": "DEGRADED"})
    time.sleep(0.3)
    assert eks.describe_addon(clusterName="demo", addonName=AGENT)["addon"]["status"] == "DEGRADED"
    emulator.admin("DELETE", f"/clusters/demo/addons/{AGENT}/status")
    assert eks.describe_addon(clusterName="demo", addonName=AGENT)["addon"]["status"] == "ACTIVE"


def test_create_failed_override_with_health_issues(emulator, eks, cluster):
    issue = {
        "code": "ConfigurationConflict",
        "message": "Conflicts found",
        "resourceIds": ["daemonset/eks-pod-identity-agent"],
    }
    emulator.admin("PUT", f"/clusters/demo/addons/{AGENT}/status", {"status": "CREATE_FAILED", "issues": [issue]})
    assert eks.create_addon(clusterName="demo", addonName=AGENT)["addon"]["status"] == "CREATING"
    failed = wait_status(eks, "demo", AGENT, "CREATE_FAILED")
    assert failed["status"] == "CREATE_FAILED"
    assert failed["health"]["issues"] == [issue]
    eks.delete_addon(clusterName="demo", addonName=AGENT)  # a failed add-on can be deleted


def test_addon_tags_through_tag_api(eks, cluster):
    arn = eks.create_addon(clusterName="demo", addonName=AGENT, tags={"a": "1"})["addon"]["addonArn"]
    eks.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    eks.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert eks.describe_addon(clusterName="demo", addonName=AGENT)["addon"]["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        eks.list_tags_for_resource(resourceArn=arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000")
    assert error_code(e) == "NotFoundException"


def test_addon_delay_is_configurable(emulator, eks, cluster):
    emulator.admin("PUT", "/addon-delay", {"seconds": 1.0})
    assert emulator.admin("GET", "/addon-delay")["seconds"] == 1.0
    eks.create_addon(clusterName="demo", addonName=AGENT)
    time.sleep(0.4)
    assert eks.describe_addon(clusterName="demo", addonName=AGENT)["addon"]["status"] == "CREATING"
    assert wait_status(eks, "demo", AGENT, "ACTIVE")["status"] == "ACTIVE"


def test_deleting_the_cluster_removes_its_addons(emulator, eks, cluster):
    eks.create_addon(clusterName="demo", addonName=AGENT)
    eks.delete_cluster(name="demo")
    assert emulator.admin("GET", "/objects")["counts"]["addons"] == 0
