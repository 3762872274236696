"""Hooks on moto's EKS clusters, and lookups the EKS extensions need from moto's in-process backends.

Every cluster moto creates (through the EKS CreateCluster API or the admin API) gets a local OIDC issuer: moto's
create_cluster is wrapped so the cluster's `identity.oidc.issuer` is replaced by the emulator's issuer URL before
the response is serialised. moto's delete_cluster is wrapped so the issuer, add-ons and associations of a deleted
cluster go with it. moto's methods are called, never copied.

This module must not render HTTP responses.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Callable

from .awserrors import EksError

DEFAULT_REGION = "us-east-1"
DEFAULT_KUBERNETES_VERSION = "1.31"

_install_lock = threading.Lock()
_installed: dict = {}


def default_account() -> str:
    """The account moto uses when a request names none."""
    from moto.core import DEFAULT_ACCOUNT_ID

    return os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)


def partition_of(region: str) -> str:
    from moto.utilities.utils import get_partition

    return get_partition(region)


def eks_backend(account: str, region: str):
    from moto.eks.models import eks_backends

    return eks_backends[account][region]


def iam_backend(account: str, region: str):
    from moto.iam.models import iam_backends

    return iam_backends[account][partition_of(region)]


def find_cluster(account: str, region: str, name: str):
    """moto's cluster object, or None."""
    return eks_backend(account, region).clusters.get(name)


def require_cluster(account: str, region: str, name: str):
    """moto's cluster object, or EKS's ResourceNotFoundException (same message as AWS and moto)."""
    cluster = find_cluster(account, region, name)
    if cluster is None:
        raise EksError("ResourceNotFoundException", f"No cluster found for name: {name}.", fields={"clusterName": name})
    return cluster


class ClusterHooks:
    """Installs the create/delete wrappers once per process and forwards to the current emulator's callbacks."""

    def __init__(self, on_create: Callable, on_delete: Callable) -> None:
        self.on_create = on_create  # (account, region, cluster) -> issuer URL
        self.on_delete = on_delete  # (account, region, name) -> None

    def install(self) -> None:
        from moto.eks.models import EKSBackend

        with _install_lock:
            _installed["hooks"] = self
            if _installed.get("patched"):
                return
            original_create = EKSBackend.create_cluster
            original_delete = EKSBackend.delete_cluster

            @functools.wraps(original_create)
            def create_cluster(backend, *args, **kwargs):
                cluster = original_create(backend, *args, **kwargs)
                issuer = _installed["hooks"].on_create(backend.account_id, backend.region_name, cluster)
                cluster.identity = {"oidc": {"issuer": issuer}}
                return cluster

            @functools.wraps(original_delete)
            def delete_cluster(backend, name, *args, **kwargs):
                cluster = original_delete(backend, name, *args, **kwargs)
                _installed["hooks"].on_delete(backend.account_id, backend.region_name, name)
                return cluster

            EKSBackend.create_cluster = create_cluster
            EKSBackend.delete_cluster = delete_cluster
            _installed["patched"] = True


def create_cluster_directly(account: str, region: str, spec: dict):
    """The admin API's cluster creation: moto's create_cluster with sensible defaults (ACTIVE at once)."""
    name = spec.get("name")
    if not name:
        raise ValueError("name is required")
    partition = partition_of(region)
    role_arn = spec.get("role_arn") or f"arn:{partition}:iam::{account}:role/eksidentity-emulator-cluster"
    vpc = spec.get("resources_vpc_config") or {
        "subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        "securityGroupIds": [],
        "endpointPublicAccess": True,
        "endpointPrivateAccess": False,
    }
    return eks_backend(account, region).create_cluster(
        name=name,
        role_arn=role_arn,
        resources_vpc_config=vpc,
        version=spec.get("kubernetes_version") or DEFAULT_KUBERNETES_VERSION,
        tags=spec.get("tags") or {},
    )
