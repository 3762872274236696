"""EKS Pod Identity associations through boto3: every operation's success and error paths, filters, pagination,
idempotency tokens and the rules AWS enforces."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from conftest import TRUST

POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
TARGET = "arn:aws:iam::111122223333:role/cross-account-target"


def error_of(exc: pytest.ExceptionInfo) -> tuple[str, str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_create_describe_round_trip(eks, cluster, role):
    created = eks.create_pod_identity_association(
        clusterName="demo",
        namespace="apps",
        serviceAccount="api",
        roleArn=role,
        tags={"eksidentity:wiring": "demo/apps/api"},
    )["association"]
    assert re.fullmatch(r"a-[a-z0-9]{17}", created["associationId"])
    assert (
        created["associationArn"]
        == f"arn:aws:eks:us-east-1:123456789012:podidentityassociation/demo/{created['associationId']}"
    )
    assert created["roleArn"] == role
    assert created["disableSessionTags"] is False
    assert "externalId" not in created and "targetRoleArn" not in created and "ownerArn" not in created
    assert created["tags"] == {"eksidentity:wiring": "demo/apps/api"}
    assert created["createdAt"] == created["modifiedAt"]

    described = eks.describe_pod_identity_association(clusterName="demo", associationId=created["associationId"])[
        "association"
    ]
    assert described == created


def test_target_role_sets_external_id(eks, cluster, role):
    created = eks.create_pod_identity_association(
        clusterName="demo",
        namespace="apps",
        serviceAccount="api",
        roleArn=role,
        targetRoleArn=TARGET,
        disableSessionTags=True,
    )["association"]
    assert created["targetRoleArn"] == TARGET
    assert created["externalId"] == "us-east-1/123456789012/demo/apps/api"
    assert created["disableSessionTags"] is True


def test_create_errors(eks, cluster, role):
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(clusterName="nope", namespace="a", serviceAccount="b", roleArn=role)
    assert error_of(e) == ("ResourceNotFoundException", "No cluster found for name: nope.", 404)

    missing = role.replace("app-role", "not-there")
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=missing)
    assert error_of(e) == ("InvalidParameterException", "Role provided in the request does not exist", 400)

    other_account = role.replace("123456789012", "210987654321")
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(
            clusterName="demo", namespace="a", serviceAccount="b", roleArn=other_account
        )
    assert error_of(e)[1] == "Role provided in the request does not exist"

    first = eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)[
        "association"
    ]
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)
    assert error_of(e) == ("ResourceInUseException", f"Association already exists: {first['associationId']}", 409)


def test_policy_requires_disabled_session_tags(eks, cluster, role):
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(
            clusterName="demo", namespace="a", serviceAccount="b", roleArn=role, policy=POLICY
        )
    code, _, status = error_of(e)
    assert (code, status) == ("InvalidRequestException", 400)
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(
            clusterName="demo",
            namespace="a",
            serviceAccount="b",
            roleArn=role,
            policy="{not json",
            disableSessionTags=True,
        )
    assert error_of(e)[0] == "InvalidParameterException"
    ok = eks.create_pod_identity_association(
        clusterName="demo", namespace="a", serviceAccount="b", roleArn=role, policy=POLICY, disableSessionTags=True
    )["association"]
    assert ok["policy"] == POLICY


def test_client_request_token_is_idempotent(eks, cluster, role):
    kwargs = dict(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role, clientRequestToken="token-1")
    first = eks.create_pod_identity_association(**kwargs)["association"]
    again = eks.create_pod_identity_association(**kwargs)["association"]
    assert again["associationId"] == first["associationId"]
    with pytest.raises(ClientError) as e:
        eks.create_pod_identity_association(**{**kwargs, "serviceAccount": "other"})
    assert error_of(e)[0] == "InvalidRequestException"
    assert len(eks.list_pod_identity_associations(clusterName="demo")["associations"]) == 1


def test_update_rules(eks, iam, cluster, role):
    assoc = eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)[
        "association"
    ]
    aid = assoc["associationId"]
    role2 = iam.create_role(RoleName="app-role-2", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]

    updated = eks.update_pod_identity_association(
        clusterName="demo", associationId=aid, roleArn=role2, targetRoleArn=TARGET
    )["association"]
    assert updated["roleArn"] == role2
    assert updated["externalId"] == "us-east-1/123456789012/demo/a/b"
    assert updated["modifiedAt"] >= updated["createdAt"]
    assert (updated["namespace"], updated["serviceAccount"]) == ("a", "b")

    with pytest.raises(ClientError) as e:  # a policy needs disableSessionTags
        eks.update_pod_identity_association(clusterName="demo", associationId=aid, policy=POLICY)
    assert error_of(e)[0] == "InvalidRequestException"
    with_policy = eks.update_pod_identity_association(
        clusterName="demo", associationId=aid, policy=POLICY, disableSessionTags=True
    )["association"]
    assert with_policy["policy"] == POLICY
    with pytest.raises(ClientError) as e:  # re-enabling session tags while a policy is set
        eks.update_pod_identity_association(clusterName="demo", associationId=aid, disableSessionTags=False)
    assert error_of(e)[0] == "InvalidRequestException"

    cleared = eks.update_pod_identity_association(clusterName="demo", associationId=aid, targetRoleArn="", policy="")[
        "association"
    ]
    assert "targetRoleArn" not in cleared and "externalId" not in cleared and "policy" not in cleared

    with pytest.raises(ClientError) as e:
        eks.update_pod_identity_association(
            clusterName="demo", associationId=aid, roleArn=role.replace("app-role", "ghost")
        )
    assert error_of(e)[:2] == ("InvalidParameterException", "Role provided in the request does not exist")
    with pytest.raises(ClientError) as e:
        eks.update_pod_identity_association(clusterName="demo", associationId="a-00000000000000000", roleArn=role)
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_delete(eks, cluster, role):
    aid = eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)[
        "association"
    ]["associationId"]
    deleted = eks.delete_pod_identity_association(clusterName="demo", associationId=aid)["association"]
    assert deleted["associationId"] == aid
    for call in (eks.delete_pod_identity_association, eks.describe_pod_identity_association):
        with pytest.raises(ClientError) as e:
            call(clusterName="demo", associationId=aid)
        assert error_of(e)[0] == "ResourceNotFoundException"
    # the pair is free again
    eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)


def test_list_filters_and_pagination(eks, cluster, role):
    ids = []
    for ns in ("ns1", "ns2"):
        for sa in ("sa1", "sa2", "sa3"):
            ids.append(
                eks.create_pod_identity_association(clusterName="demo", namespace=ns, serviceAccount=sa, roleArn=role)[
                    "association"
                ]["associationId"]
            )
    everything = eks.list_pod_identity_associations(clusterName="demo")["associations"]
    assert [a["associationId"] for a in everything] == ids
    assert set(everything[0]) == {"clusterName", "namespace", "serviceAccount", "associationArn", "associationId"}

    ns2 = eks.list_pod_identity_associations(clusterName="demo", namespace="ns2")["associations"]
    assert [(a["namespace"], a["serviceAccount"]) for a in ns2] == [("ns2", "sa1"), ("ns2", "sa2"), ("ns2", "sa3")]
    one = eks.list_pod_identity_associations(clusterName="demo", namespace="ns1", serviceAccount="sa2")["associations"]
    assert [a["associationId"] for a in one] == [ids[1]]
    by_sa = eks.list_pod_identity_associations(clusterName="demo", serviceAccount="sa3")["associations"]
    assert [a["associationId"] for a in by_sa] == [ids[2], ids[5]]

    page1 = eks.list_pod_identity_associations(clusterName="demo", maxResults=4)
    page2 = eks.list_pod_identity_associations(clusterName="demo", maxResults=4, nextToken=page1["nextToken"])
    assert [a["associationId"] for a in page1["associations"] + page2["associations"]] == ids
    assert "nextToken" not in page2
    pages = list(
        eks.get_paginator("list_pod_identity_associations").paginate(
            clusterName="demo", PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 3

    with pytest.raises(ClientError) as e:
        eks.list_pod_identity_associations(clusterName="demo", maxResults=101)
    assert error_of(e)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        eks.list_pod_identity_associations(clusterName="nope")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_association_tags_through_tag_api(eks, cluster, role):
    arn = eks.create_pod_identity_association(
        clusterName="demo", namespace="a", serviceAccount="b", roleArn=role, tags={"x": "1"}
    )["association"]["associationArn"]
    eks.tag_resource(resourceArn=arn, tags={"y": "2"})
    eks.untag_resource(resourceArn=arn, tagKeys=["x"])
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"y": "2"}


def test_deleting_the_cluster_removes_its_associations(emulator, eks, cluster, role):
    eks.create_pod_identity_association(clusterName="demo", namespace="a", serviceAccount="b", roleArn=role)
    eks.delete_cluster(name="demo")
    assert emulator.admin("GET", "/objects")["counts"]["associations"] == 0
