"""IAM behaviour the emulator adds to moto: OIDC provider client IDs, and AWS managed policies being present."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def test_client_ids_can_be_added_and_removed(emulator):
    iam = emulator.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://issuer.example.com/id/A", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.example.com")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.example.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == [
        "sts.amazonaws.com",
        "sts.example.com",
    ]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.example.com"]


def test_client_id_on_a_missing_provider_is_not_found(emulator):
    iam = emulator.client("iam")
    with pytest.raises(ClientError) as e:
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn="arn:aws:iam::123456789012:oidc-provider/none.example.com", ClientID="x"
        )
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_aws_managed_policies_exist(emulator):
    iam = emulator.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    attached = iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
