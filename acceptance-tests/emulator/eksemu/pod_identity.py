"""EKS Pod Identity associations: Create, Describe, Update, Delete and List.

Rules enforced, as AWS does:
  - the cluster must exist (ResourceNotFoundException "No cluster found for name: X.");
  - roleArn must name a role that exists in moto's IAM backend of the same account and partition, and (with an IAM
    propagation delay set through the admin API) that is old enough to be visible; otherwise
    InvalidParameterException "Role provided in the request does not exist";
  - one association per (cluster, namespace, serviceAccount): ResourceInUseException
    "Association already exists: <association id>";
  - a session `policy` requires disableSessionTags = true (InvalidRequestException), and must be JSON;
  - a clientRequestToken makes Create idempotent: the same token with the same parameters returns the association
    created first; with other parameters it is an InvalidRequestException;
  - externalId is `<region>/<account>/<cluster>/<namespace>/<serviceAccount>` while a targetRoleArn is set, and
    absent otherwise; Update with targetRoleArn or policy set to "" removes them.
  - at most 5000 associations per cluster (ResourceLimitExceededException).

This module must not know about HTTP; field names follow the EKS model.
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass

from . import clusters
from .awserrors import EksError
from .eksapi import (
    ROLE_ARN,
    EksRequest,
    association_id,
    check_tags,
    now,
    optional_string,
    paginate,
    partition,
    require_string,
)
from .faults import Faults

ROLE_MISSING = "Role provided in the request does not exist"
MAX_PER_CLUSTER = 5000


@dataclass
class Association:
    account: str
    region: str
    cluster: str
    id: str
    arn: str
    namespace: str
    service_account: str
    role_arn: str
    target_role_arn: str | None
    disable_session_tags: bool
    policy: str | None
    tags: dict
    client_request_token: str | None
    created_at: float
    modified_at: float
    owner_arn: str | None = None

    @property
    def external_id(self) -> str | None:
        if not self.target_role_arn:
            return None
        return f"{self.region}/{self.account}/{self.cluster}/{self.namespace}/{self.service_account}"

    def to_json(self) -> dict:
        out = {
            "clusterName": self.cluster,
            "namespace": self.namespace,
            "serviceAccount": self.service_account,
            "roleArn": self.role_arn,
            "associationArn": self.arn,
            "associationId": self.id,
            "tags": dict(self.tags),
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "disableSessionTags": self.disable_session_tags,
        }
        if self.owner_arn:
            out["ownerArn"] = self.owner_arn
        if self.target_role_arn:
            out["targetRoleArn"] = self.target_role_arn
            out["externalId"] = self.external_id
        if self.policy:
            out["policy"] = self.policy
        return out

    def summary(self) -> dict:
        out = {
            "clusterName": self.cluster,
            "namespace": self.namespace,
            "serviceAccount": self.service_account,
            "associationArn": self.arn,
            "associationId": self.id,
        }
        if self.owner_arn:
            out["ownerArn"] = self.owner_arn
        return out


class AssociationStore:
    """All associations of all clusters. Thread-safe."""

    def __init__(self, faults: Faults) -> None:
        self._lock = threading.RLock()
        self._items: dict[tuple, Association] = {}  # (account, region, cluster, id) -> association
        self._faults = faults

    # --- checks -------------------------------------------------------------------------------------------------
    def _check_role(self, req: EksRequest, role_arn: str, cluster: str) -> None:
        """The role must exist in moto's IAM (same account and partition) and be past any propagation delay."""
        m = ROLE_ARN.match(role_arn)
        if not m or m.group(1) != partition(req.region):
            raise EksError(
                "InvalidParameterException", f"Invalid Role Arn: '{role_arn}'", fields={"clusterName": cluster}
            )
        if m.group(2) != req.account:
            raise EksError("InvalidParameterException", ROLE_MISSING, fields={"clusterName": cluster})
        iam = clusters.iam_backend(req.account, req.region)
        role = next((r for r in list(iam.roles.values()) if r.arn == role_arn), None)
        if role is None:
            raise EksError("InvalidParameterException", ROLE_MISSING, fields={"clusterName": cluster})
        created = role.create_date
        if created.tzinfo is None:  # moto keeps naive UTC datetimes
            created = created.replace(tzinfo=datetime.timezone.utc)
        age = (datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()
        if self._faults.role_is_propagating(age):
            raise EksError(
                "InvalidParameterException", ROLE_MISSING, fields={"clusterName": cluster}, injected="iam_propagation"
            )

    @staticmethod
    def _check_target(target: str | None, cluster: str) -> None:
        if target and not ROLE_ARN.match(target):
            raise EksError(
                "InvalidParameterException", f"Invalid Target Role Arn: '{target}'", fields={"clusterName": cluster}
            )

    @staticmethod
    def _check_policy(policy: str | None, disable_session_tags: bool, cluster: str) -> None:
        if not policy:
            return
        try:
            doc = json.loads(policy)
        except ValueError:
            raise EksError(
                "InvalidParameterException", "The policy is not valid JSON", fields={"clusterName": cluster}
            ) from None
        if not isinstance(doc, dict):
            raise EksError(
                "InvalidParameterException", "The policy must be a JSON object", fields={"clusterName": cluster}
            )
        if not disable_session_tags:
            raise EksError(
                "InvalidRequestException",
                "disableSessionTags must be set to true when a policy is specified",
                fields={"clusterName": cluster},
            )

    def _require(self, req: EksRequest) -> Association:
        cluster = req.labels["name"]
        clusters.require_cluster(req.account, req.region, cluster)
        assoc_id = req.labels["associationId"]
        item = self._items.get((req.account, req.region, cluster, assoc_id))
        if item is None:
            raise EksError(
                "ResourceNotFoundException",
                f"No association found for id: {assoc_id}",
                fields={"clusterName": cluster},
            )
        return item

    def _on_cluster(self, account: str, region: str, cluster: str) -> list[Association]:
        return sorted(
            (a for a in self._items.values() if (a.account, a.region, a.cluster) == (account, region, cluster)),
            key=lambda a: (a.created_at, a.id),
        )

    # --- operations ---------------------------------------------------------------------------------------------
    def create(self, req: EksRequest) -> tuple[int, dict]:
        cluster = req.labels["name"]
        moto_cluster = clusters.require_cluster(req.account, req.region, cluster)
        body = req.body
        namespace = require_string(body, "namespace")
        service_account = require_string(body, "serviceAccount")
        role_arn = require_string(body, "roleArn")
        target = optional_string(body, "targetRoleArn") or None
        policy = optional_string(body, "policy") or None
        token = optional_string(body, "clientRequestToken")
        disable = body.get("disableSessionTags", False)
        if not isinstance(disable, bool):
            raise EksError("InvalidParameterException", "disableSessionTags must be a boolean")
        tags = check_tags(body.get("tags"))
        self._check_target(target, cluster)
        self._check_policy(policy, disable, cluster)
        with self._lock:
            on_cluster = self._on_cluster(req.account, req.region, cluster)
            if token:
                replay = next((a for a in on_cluster if a.client_request_token == token), None)
                if replay is not None:
                    same = (replay.namespace, replay.service_account, replay.role_arn, replay.target_role_arn,
                            replay.disable_session_tags, replay.policy) == (
                        namespace, service_account, role_arn, target, disable, policy)  # fmt: skip
                    if same:
                        return 200, {"association": replay.to_json()}
                    raise EksError(
                        "InvalidRequestException",
                        "The client request token was already used with different parameters",
                        fields={"clusterName": cluster},
                    )
            self._check_role(req, role_arn, cluster)
            dup = next(
                (a for a in on_cluster if (a.namespace, a.service_account) == (namespace, service_account)), None
            )
            if dup is not None:
                raise EksError(
                    "ResourceInUseException", f"Association already exists: {dup.id}", fields={"clusterName": cluster}
                )
            if len(on_cluster) >= MAX_PER_CLUSTER:
                raise EksError(
                    "ResourceLimitExceededException",
                    f"Cluster {cluster} already has {MAX_PER_CLUSTER} Pod Identity associations",
                    fields={"clusterName": cluster},
                )
            t = now()
            assoc_id = association_id()
            arn = (
                f"arn:{partition(req.region)}:eks:{req.region}:{req.account}:podidentityassociation/"
                f"{moto_cluster.name}/{assoc_id}"
            )
            item = Association(
                account=req.account,
                region=req.region,
                cluster=cluster,
                id=assoc_id,
                arn=arn,
                namespace=namespace,
                service_account=service_account,
                role_arn=role_arn,
                target_role_arn=target,
                disable_session_tags=disable,
                policy=policy,
                tags=tags,
                client_request_token=token,
                created_at=t,
                modified_at=t,
            )
            self._items[(req.account, req.region, cluster, assoc_id)] = item
            return 200, {"association": item.to_json()}

    def describe(self, req: EksRequest) -> tuple[int, dict]:
        with self._lock:
            return 200, {"association": self._require(req).to_json()}

    def update(self, req: EksRequest) -> tuple[int, dict]:
        body = req.body
        role_arn = optional_string(body, "roleArn")
        target = optional_string(body, "targetRoleArn")
        policy = optional_string(body, "policy")
        disable = body.get("disableSessionTags")
        if disable is not None and not isinstance(disable, bool):
            raise EksError("InvalidParameterException", "disableSessionTags must be a boolean")
        with self._lock:
            item = self._require(req)
            if item.owner_arn:
                raise EksError(
                    "InvalidRequestException",
                    "This association is owned by an add-on; update the add-on instead",
                    fields={"clusterName": item.cluster},
                )
            new_target = item.target_role_arn if target is None else (target or None)
            new_policy = item.policy if policy is None else (policy or None)
            new_disable = item.disable_session_tags if disable is None else disable
            self._check_target(new_target, item.cluster)
            self._check_policy(new_policy, new_disable, item.cluster)
            if role_arn is not None:
                self._check_role(req, role_arn, item.cluster)
                item.role_arn = role_arn
            item.target_role_arn = new_target
            item.policy = new_policy
            item.disable_session_tags = new_disable
            item.modified_at = now()
            return 200, {"association": item.to_json()}

    def delete(self, req: EksRequest) -> tuple[int, dict]:
        with self._lock:
            item = self._require(req)
            if item.owner_arn:
                raise EksError(
                    "InvalidRequestException",
                    "This association is owned by an add-on; delete it through the add-on",
                    fields={"clusterName": item.cluster},
                )
            del self._items[(item.account, item.region, item.cluster, item.id)]
            return 200, {"association": item.to_json()}

    def list(self, req: EksRequest) -> tuple[int, dict]:
        cluster = req.labels["name"]
        clusters.require_cluster(req.account, req.region, cluster)
        namespace = req.q("namespace")
        service_account = req.q("serviceAccount")
        with self._lock:
            items = [
                a.summary()
                for a in self._on_cluster(req.account, req.region, cluster)
                if (namespace is None or a.namespace == namespace)
                and (service_account is None or a.service_account == service_account)
            ]
        page, token = paginate(items, req)
        out: dict = {"associations": page}
        if token:
            out["nextToken"] = token
        return 200, out

    # --- admin and housekeeping ---------------------------------------------------------------------------------
    def find_by_arn(self, arn: str) -> Association | None:
        with self._lock:
            return next((a for a in self._items.values() if a.arn == arn), None)

    def drop_cluster(self, account: str, region: str, cluster: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k[:3] == (account, region, cluster)]:
                del self._items[key]

    def summary(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "account": a.account,
                    "region": a.region,
                    "cluster": a.cluster,
                    "namespace": a.namespace,
                    "service_account": a.service_account,
                    "association_id": a.id,
                    "role_arn": a.role_arn,
                    "target_role_arn": a.target_role_arn,
                    "tags": dict(a.tags),
                }
                for a in self._items.values()
            ]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
