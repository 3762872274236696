"""The request log: content per protocol, filters, counts, reset; admin calls are not logged."""

from __future__ import annotations

import time


def test_log_records_service_operation_status_time_duration(emulator, eks, iam, sts, cluster):
    emulator.admin("DELETE", "/requests")
    before = time.time()
    sts.get_caller_identity()
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    eks.describe_cluster(name="demo")
    try:
        eks.describe_addon(clusterName="demo", addonName="vpc-cni")
    except eks.exceptions.ResourceNotFoundException:
        pass
    log = emulator.admin("GET", "/requests")
    got = [(r["service"], r["operation"], r["status"]) for r in log["requests"]]
    assert got == [
        ("sts", "GetCallerIdentity", 200),
        ("iam", "CreateRole", 200),
        ("eks", "DescribeCluster", 200),
        ("eks", "DescribeAddon", 404),
    ]
    for entry in log["requests"]:
        assert before - 1 <= entry["time"] <= time.time()
        assert isinstance(entry["time"], float)
        assert entry["duration_ms"] >= 0
        assert entry["fault"] is None
    assert log["count"] == 4 and log["injected"] == 0
    assert log["by_operation"]["eks:DescribeAddon"] == 1


def test_filters_are_case_insensitive_and_combine(emulator, eks, iam, cluster):
    emulator.admin("DELETE", "/requests")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    iam.get_role(RoleName="r")
    eks.list_clusters()
    assert [r["operation"] for r in emulator.admin("GET", "/requests?service=IAM")["requests"]] == [
        "CreateRole",
        "GetRole",
    ]
    assert emulator.admin("GET", "/requests?service=iam&operation=getrole")["count"] == 1
    assert emulator.admin("GET", "/requests?operation=ListClusters")["requests"][0]["path"] == "/clusters"


def test_reset_log_and_admin_calls_not_logged(emulator, eks):
    eks.list_clusters()
    assert emulator.admin("GET", "/requests")["count"] >= 1
    removed = emulator.admin("DELETE", "/requests")["removed"]
    assert removed >= 1
    for _ in range(3):
        emulator.admin("GET", "/health")
        emulator.admin("GET", "/objects")
    assert emulator.admin("GET", "/requests")["count"] == 0


def test_unsigned_sts_call_is_attributed_to_sts(emulator):
    """AssumeRoleWithWebIdentity is sent unsigned; it is still logged as STS by its Action."""
    import urllib.error
    import urllib.request

    body = (
        b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/x"
        b"&RoleSessionName=s&WebIdentityToken=t"
    )
    req = urllib.request.Request(emulator.endpoint + "/", data=body, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except urllib.error.HTTPError:
        pass
    entries = emulator.admin("GET", "/requests")["requests"]
    assert [(e["service"], e["operation"]) for e in entries] == [("sts", "AssumeRoleWithWebIdentity")]
