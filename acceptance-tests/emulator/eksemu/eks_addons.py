"""EKS add-ons: CreateAddon, DescribeAddon, UpdateAddon, DeleteAddon, ListAddons, DescribeAddonVersions.

Status is derived from timestamps when read, not moved by timers: an add-on is CREATING (or UPDATING, DELETING) until
`delay` seconds after the call, then ACTIVE (or gone, after DELETING). An admin override makes an add-on report
another status once it settles, e.g. DEGRADED for N seconds or forever, CREATE_FAILED with health issues, or
DELETE_FAILED (the add-on then stays after a delete). Overrides are keyed by (account, region, cluster, add-on name)
and may be set before the add-on exists, so a test can make the provider's own CreateAddon fail.

Not emulated: `podIdentityAssociations` on add-ons (rejected with InvalidParameterException), configuration schemas,
marketplace add-ons, namespaceConfig.

Field names and paths follow the EKS model (see eksmodel.py); this module must not know about HTTP.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from . import clusters
from .awserrors import EksError
from .eksapi import EksRequest, check_tags, new_uuid, now, optional_string, paginate, partition, require_string

# What DescribeAddonVersions offers. The default version (what EKS picks when CreateAddon names none) is
# deliberately not the newest, so tests can tell "default" from "latest".
CLUSTER_VERSIONS = ["1.34", "1.33", "1.32", "1.31", "1.30", "1.29", "1.28", "1.27", "1.26", "1.25", "1.24", "1.23"]
CATALOG = {
    "eks-pod-identity-agent": {
        "type": "security",
        "versions": [
            "v1.3.10-eksbuild.1",
            "v1.3.8-eksbuild.2",
            "v1.3.5-eksbuild.2",
            "v1.3.4-eksbuild.1",
            "v1.2.0-eksbuild.1",
        ],
        "default": "v1.3.8-eksbuild.2",
    },
    "vpc-cni": {
        "type": "networking",
        "versions": ["v1.20.4-eksbuild.2", "v1.19.6-eksbuild.1", "v1.18.3-eksbuild.3"],
        "default": "v1.19.6-eksbuild.1",
    },
    "coredns": {
        "type": "networking",
        "versions": ["v1.11.4-eksbuild.14", "v1.11.3-eksbuild.2"],
        "default": "v1.11.4-eksbuild.14",
    },
    "kube-proxy": {
        "type": "networking",
        "versions": ["v1.31.10-eksbuild.8", "v1.31.3-eksbuild.2"],
        "default": "v1.31.10-eksbuild.8",
    },
}
STATUSES = ("CREATING", "ACTIVE", "CREATE_FAILED", "UPDATING", "DELETING", "DELETE_FAILED", "DEGRADED", "UPDATE_FAILED")
RESOLVE_CONFLICTS = ("OVERWRITE", "NONE", "PRESERVE")
DEFAULT_ISSUES = {
    "DEGRADED": [
        {
            "code": "InsufficientNumberOfReplicas",
            "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
            "resourceIds": [],
        }
    ],
    "CREATE_FAILED": [{"code": "InternalFailure", "message": "Add-on creation failed (emulated).", "resourceIds": []}],
    "UPDATE_FAILED": [{"code": "InternalFailure", "message": "Add-on update failed (emulated).", "resourceIds": []}],
    "DELETE_FAILED": [{"code": "InternalFailure", "message": "Add-on deletion failed (emulated).", "resourceIds": []}],
}


@dataclass
class Override:
    """An admin-set status: applies once the add-on settles, for `seconds` (None: until cleared)."""

    status: str
    issues: list
    seconds: float | None
    set_at: float


@dataclass
class Addon:
    account: str
    region: str
    cluster: str
    name: str
    arn: str
    version: str
    service_account_role_arn: str | None
    configuration_values: str | None
    tags: dict
    client_request_token: str | None
    created_at: float
    modified_at: float
    phase: str = "CREATING"  # CREATING, UPDATING, DELETING while transition_at is ahead; SETTLED after
    transition_at: float = 0.0
    update_ids: list = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return (self.account, self.region, self.cluster, self.name)


class AddonStore:
    """All add-ons of all clusters, with the operations on them. Thread-safe."""

    def __init__(self, delay_seconds: float = 0.2) -> None:
        self._lock = threading.RLock()
        self._addons: dict[tuple, Addon] = {}
        self._overrides: dict[tuple, Override] = {}
        self.delay_seconds = delay_seconds

    # --- status -------------------------------------------------------------------------------------------------
    def _override_for(self, addon: Addon, t: float) -> Override | None:
        ov = self._overrides.get(addon.key)
        if ov is None:
            return None
        if ov.seconds is not None and t >= max(ov.set_at, addon.transition_at) + ov.seconds:
            return None
        return ov

    def _settle(self, addon: Addon, t: float) -> bool:
        """Moves an add-on past an elapsed transition; returns False when it is gone."""
        if addon.phase != "SETTLED" and t >= addon.transition_at:
            if addon.phase == "DELETING":
                ov = self._override_for(addon, t)
                if ov is None or ov.status != "DELETE_FAILED":
                    del self._addons[addon.key]
                    return False
            addon.phase = "SETTLED"
        return True

    def _status(self, addon: Addon, t: float) -> tuple[str, list]:
        if addon.phase != "SETTLED":
            return addon.phase, []
        ov = self._override_for(addon, t)
        if ov is not None:
            return ov.status, ov.issues
        return "ACTIVE", []

    def _get(self, account: str, region: str, cluster: str, name: str) -> Addon | None:
        addon = self._addons.get((account, region, cluster, name))
        if addon is not None and not self._settle(addon, now()):
            return None
        return addon

    def _require(self, req: EksRequest) -> Addon:
        cluster = req.labels["name"]
        clusters.require_cluster(req.account, req.region, cluster)
        name = req.labels["addonName"]
        addon = self._get(req.account, req.region, cluster, name)
        if addon is None:
            raise EksError(
                "ResourceNotFoundException",
                f"No addon: {name} found in cluster: {cluster}",
                fields={"clusterName": cluster, "addonName": name},
            )
        return addon

    def to_json(self, addon: Addon) -> dict:
        status, issues = self._status(addon, now())
        out = {
            "addonName": addon.name,
            "clusterName": addon.cluster,
            "status": status,
            "addonVersion": addon.version,
            "health": {"issues": [dict(i) for i in issues]},
            "addonArn": addon.arn,
            "createdAt": addon.created_at,
            "modifiedAt": addon.modified_at,
            "tags": dict(addon.tags),
        }
        if addon.service_account_role_arn:
            out["serviceAccountRoleArn"] = addon.service_account_role_arn
        if addon.configuration_values:
            out["configurationValues"] = addon.configuration_values
        return out

    # --- operations ---------------------------------------------------------------------------------------------
    def create(self, req: EksRequest) -> tuple[int, dict]:
        cluster_name = req.labels["name"]
        cluster = clusters.require_cluster(req.account, req.region, cluster_name)
        body = req.body
        name = require_string(body, "addonName")
        version = optional_string(body, "addonVersion")
        role = optional_string(body, "serviceAccountRoleArn")
        config = optional_string(body, "configurationValues")
        token = optional_string(body, "clientRequestToken")
        resolve = optional_string(body, "resolveConflicts")
        tags = check_tags(body.get("tags"))
        if body.get("podIdentityAssociations"):
            raise EksError(
                "InvalidParameterException",
                "podIdentityAssociations on add-ons is not supported by the eksidentity emulator",
                fields={"clusterName": cluster_name, "addonName": name},
            )
        if resolve is not None and resolve not in RESOLVE_CONFLICTS:
            raise EksError("InvalidParameterException", f"Invalid resolveConflicts value: {resolve}")
        entry = CATALOG.get(name)
        if entry is None:
            raise EksError(
                "InvalidParameterException",
                f"Addon {name} specified is not supported",
                fields={"clusterName": cluster_name, "addonName": name},
            )
        if version is None:
            version = entry["default"]
        elif version not in entry["versions"]:
            raise EksError(
                "InvalidParameterException",
                f"Addon version specified is not supported: {version}",
                fields={"clusterName": cluster_name, "addonName": name},
            )
        if config is not None:
            try:
                json.loads(config)
            except ValueError:
                raise EksError("InvalidParameterException", "configurationValues must be valid JSON") from None
        if role is not None and not role.startswith(f"arn:{partition(req.region)}:iam::"):
            raise EksError("InvalidParameterException", f"Invalid serviceAccountRoleArn: {role}")
        with self._lock:
            existing = self._get(req.account, req.region, cluster_name, name)
            if existing is not None:
                if token and existing.client_request_token == token:
                    same = (existing.version, existing.service_account_role_arn, existing.configuration_values) == (
                        version,
                        role,
                        config,
                    )
                    if same:
                        return 200, {"addon": self.to_json(existing)}
                    raise EksError(
                        "InvalidRequestException",
                        "The client request token was already used with different parameters",
                        fields={"clusterName": cluster_name, "addonName": name},
                    )
                raise EksError(
                    "ResourceInUseException",
                    "Addon already exists.",
                    fields={"clusterName": cluster_name, "addonName": name},
                )
            t = now()
            arn = f"arn:{partition(req.region)}:eks:{req.region}:{req.account}:addon/{cluster.name}/{name}/{new_uuid()}"
            addon = Addon(
                account=req.account,
                region=req.region,
                cluster=cluster_name,
                name=name,
                arn=arn,
                version=version,
                service_account_role_arn=role,
                configuration_values=config,
                tags=tags,
                client_request_token=token,
                created_at=t,
                modified_at=t,
                phase="CREATING",
                transition_at=t + self.delay_seconds,
            )
            self._addons[addon.key] = addon
            return 200, {"addon": self.to_json(addon)}

    def describe(self, req: EksRequest) -> tuple[int, dict]:
        with self._lock:
            return 200, {"addon": self.to_json(self._require(req))}

    def update(self, req: EksRequest) -> tuple[int, dict]:
        body = req.body
        version = optional_string(body, "addonVersion")
        role = optional_string(body, "serviceAccountRoleArn")
        config = optional_string(body, "configurationValues")
        resolve = optional_string(body, "resolveConflicts")
        if resolve is not None and resolve not in RESOLVE_CONFLICTS:
            raise EksError("InvalidParameterException", f"Invalid resolveConflicts value: {resolve}")
        if body.get("podIdentityAssociations"):
            raise EksError(
                "InvalidParameterException",
                "podIdentityAssociations on add-ons is not supported by the eksidentity emulator",
            )
        with self._lock:
            addon = self._require(req)
            status, _ = self._status(addon, now())
            if addon.phase != "SETTLED":
                raise EksError(
                    "ResourceInUseException",
                    f"Addon {addon.name} is in {status} state and cannot be updated",
                    fields={"clusterName": addon.cluster, "addonName": addon.name},
                )
            if version is not None and version not in CATALOG[addon.name]["versions"]:
                raise EksError(
                    "InvalidParameterException",
                    f"Addon version specified is not supported: {version}",
                    fields={"clusterName": addon.cluster, "addonName": addon.name},
                )
            params = []
            if version is not None:
                addon.version = version
                params.append({"type": "AddonVersion", "value": version})
            if role is not None:
                addon.service_account_role_arn = role or None
                params.append({"type": "ServiceAccountRoleArn", "value": role})
            if config is not None:
                addon.configuration_values = config or None
                params.append({"type": "ConfigurationValues", "value": config})
            if resolve is not None:
                params.append({"type": "ResolveConflicts", "value": resolve})
            t = now()
            addon.modified_at = t
            addon.phase = "UPDATING"
            addon.transition_at = t + self.delay_seconds
            update_id = new_uuid()
            addon.update_ids.append(update_id)
            update = {
                "id": update_id,
                "status": "InProgress",
                "type": "AddonUpdate",
                "params": params,
                "createdAt": t,
                "errors": [],
            }
            return 200, {"update": update}

    def delete(self, req: EksRequest) -> tuple[int, dict]:
        with self._lock:
            addon = self._require(req)
            if addon.phase != "DELETING":
                t = now()
                addon.phase = "DELETING"
                addon.transition_at = t + self.delay_seconds
                addon.modified_at = t
            return 200, {"addon": self.to_json(addon)}

    def list(self, req: EksRequest) -> tuple[int, dict]:
        cluster = req.labels["name"]
        clusters.require_cluster(req.account, req.region, cluster)
        with self._lock:
            names = sorted(
                a.name
                for a in list(self._addons.values())
                if (a.account, a.region, a.cluster) == (req.account, req.region, cluster) and self._settle(a, now())
            )
        page, token = paginate(names, req)
        out: dict = {"addons": page}
        if token:
            out["nextToken"] = token
        return 200, out

    def describe_versions(self, req: EksRequest) -> tuple[int, dict]:
        k8s = req.q("kubernetesVersion")
        name = req.q("addonName")
        types = set(req.qlist("types"))
        publishers = set(req.qlist("publishers"))
        owners = set(req.qlist("owners"))
        cluster_versions = [k8s] if k8s else CLUSTER_VERSIONS
        addons = []
        for addon_name, entry in sorted(CATALOG.items()):
            if name and addon_name != name:
                continue
            if types and entry["type"] not in types:
                continue
            if publishers and "eks" not in publishers:
                continue
            if owners and "aws" not in owners:
                continue
            versions = [
                {
                    "addonVersion": v,
                    "architecture": ["amd64", "arm64"],
                    "computeTypes": ["ec2", "hybrid"],
                    "compatibilities": [
                        {"clusterVersion": cv, "platformVersions": ["*"], "defaultVersion": v == entry["default"]}
                        for cv in cluster_versions
                    ],
                    "requiresConfiguration": False,
                    "requiresIamPermissions": False,
                }
                for v in entry["versions"]
            ]
            addons.append(
                {
                    "addonName": addon_name,
                    "type": entry["type"],
                    "addonVersions": versions,
                    "publisher": "eks",
                    "owner": "aws",
                    "defaultNamespace": "kube-system",
                }
            )
        page, token = paginate(addons, req)
        out: dict = {"addons": page}
        if token:
            out["nextToken"] = token
        return 200, out

    # --- admin and housekeeping ---------------------------------------------------------------------------------
    def set_override(self, account: str, region: str, cluster: str, name: str, spec: dict) -> dict:
        status = spec.get("status")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        seconds = spec.get("seconds")
        if seconds is not None and float(seconds) < 0:
            raise ValueError("seconds must be >= 0")
        issues = spec.get("issues")
        if issues is None:
            issues = DEFAULT_ISSUES.get(status, [])
        issues = [
            {
                "code": i.get("code", "InternalFailure"),
                "message": i.get("message", ""),
                "resourceIds": i.get("resourceIds", []),
            }
            for i in issues
        ]
        ov = Override(status, issues, float(seconds) if seconds is not None else None, now())
        with self._lock:
            self._overrides[(account, region, cluster, name)] = ov
        return {"status": ov.status, "issues": ov.issues, "seconds": ov.seconds}

    def clear_override(self, account: str, region: str, cluster: str, name: str) -> bool:
        with self._lock:
            return self._overrides.pop((account, region, cluster, name), None) is not None

    def find_by_arn(self, arn: str) -> Addon | None:
        with self._lock:
            for addon in list(self._addons.values()):
                if addon.arn == arn and self._settle(addon, now()):
                    return addon
        return None

    def drop_cluster(self, account: str, region: str, cluster: str) -> None:
        with self._lock:
            for key in [k for k in self._addons if k[:3] == (account, region, cluster)]:
                del self._addons[key]
            for key in [k for k in self._overrides if k[:3] == (account, region, cluster)]:
                del self._overrides[key]

    def summary(self) -> list[dict]:
        with self._lock:
            out = []
            for addon in list(self._addons.values()):
                if self._settle(addon, now()):
                    status, _ = self._status(addon, now())
                    out.append(
                        {
                            "account": addon.account,
                            "region": addon.region,
                            "cluster": addon.cluster,
                            "name": addon.name,
                            "status": status,
                            "version": addon.version,
                            "arn": addon.arn,
                            "tags": dict(addon.tags),
                        }
                    )
            return out

    def clear(self) -> None:
        with self._lock:
            self._addons.clear()
            self._overrides.clear()
