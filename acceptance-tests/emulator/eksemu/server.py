"""Process wiring: builds the emulator's parts, serves them on one port, and stops them.

`Emulator` owns the state (fault rules, request log, add-ons, associations, OIDC issuer) and the HTTP server;
run.py parses the command line and drives it. Tests start run.py as a subprocess, never this class in-process,
so they see exactly what the provider sees.

This module must not implement AWS operations.
"""

from __future__ import annotations

import os
import threading

from werkzeug.serving import make_server

from . import clusters, iam_extras
from .admin import AdminApp
from .app import EmulatorApp
from .eks_addons import AddonStore
from .eksapi import TaggableRegistry
from .faults import Faults
from .holds import Holds
from .oidc import OidcProvider
from .pod_identity import AssociationStore
from .requestlog import RequestLog

ACCESS_KEY_ID = "AKIAEKSIDENTITYEMU01"
SECRET_ACCESS_KEY = "eksidentity-emulator-secret-access-key"


def tag_map(tags) -> dict:
    """moto keeps IAM tags as a list of {Key, Value} (roles) or a dict of them (OIDC providers): one plain map."""
    if not tags:
        return {}
    items = tags.values() if isinstance(tags, dict) else tags
    out = {}
    for item in items:
        if isinstance(item, dict) and "Key" in item:
            out[item["Key"]] = item.get("Value", "")
    return out


class Emulator:
    """Everything one emulator process serves."""

    def __init__(self, host: str, port: int, region: str, state_dir: str, addon_delay: float) -> None:
        self.host = host
        self.region = region
        self.state_dir = state_dir
        self.initial_addon_delay = addon_delay
        self.faults = Faults()
        self.holds = Holds()
        self.log = RequestLog()
        self.oidc = OidcProvider(state_dir)
        self.addons = AddonStore(addon_delay)
        self.associations = AssociationStore(self.faults)
        self.tags = TaggableRegistry()
        self.tags.add_lookup(self.addons.find_by_arn)
        self.tags.add_lookup(self.associations.find_by_arn)
        clusters.ClusterHooks(on_create=self._cluster_created, on_delete=self._cluster_deleted).install()
        iam_extras.install()

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from .keepalive import KeepAliveRequestHandler

        handlers = {
            "CreateAddon": self.addons.create,
            "DescribeAddon": self.addons.describe,
            "UpdateAddon": self.addons.update,
            "DeleteAddon": self.addons.delete,
            "ListAddons": self.addons.list,
            "DescribeAddonVersions": self.addons.describe_versions,
            "CreatePodIdentityAssociation": self.associations.create,
            "DescribePodIdentityAssociation": self.associations.describe,
            "UpdatePodIdentityAssociation": self.associations.update,
            "DeletePodIdentityAssociation": self.associations.delete,
            "ListPodIdentityAssociations": self.associations.list,
            "TagResource": self.tags.tag_resource,
            "UntagResource": self.tags.untag_resource,
            "ListTagsForResource": self.tags.list_tags,
        }
        self.app = EmulatorApp(
            moto_app=DomainDispatcherApplication(create_backend_app),
            admin_app=AdminApp(self),
            faults=self.faults,
            log=self.log,
            eks_handlers=handlers,
            account_for=self._account_for,
            owns_tag_arn=self.tags.owns,
            holds=self.holds,
        )
        self.server = make_server(host, port, self.app, threaded=True, request_handler=KeepAliveRequestHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self._thread: threading.Thread | None = None

    # --- moto hooks ---------------------------------------------------------------------------------------------
    def _cluster_created(self, account: str, region: str, cluster) -> str:
        return self.oidc.register((account, region, cluster.name))

    def _cluster_deleted(self, account: str, region: str, name: str) -> None:
        self.oidc.unregister_owner((account, region, name))
        self.addons.drop_cluster(account, region, name)
        self.associations.drop_cluster(account, region, name)

    @staticmethod
    def _account_for(access_key: str, environ: dict) -> str:
        """The caller's account, decided as moto decides it for its own services."""
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return environ["HTTP_X_MOTO_ACCOUNT_ID"]
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)

    # --- lifecycle ----------------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def ready_info(self) -> dict:
        """The ready file's content (also the stdout environment and /_emulator/health)."""
        return {
            "endpoint": self.endpoint,
            "admin_url": f"{self.endpoint}/_emulator",
            "region": self.region,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
            "account_id": clusters.default_account(),
            "ca_bundle": self.oidc.ca_bundle,
            "oidc_issuer_base": self.oidc.issuer_listener.base_url,
            "pid": os.getpid(),
        }

    def warm_up(self) -> None:
        """Imports moto's IAM, STS and EKS backends and builds their apps now, so the first real request is not the
        one that pays for it."""
        dispatcher = self.app.moto_app
        for service in ("iam", "sts", "eks"):
            with dispatcher.lock:
                if service not in dispatcher.app_instances:
                    dispatcher.app_instances[service] = dispatcher.create_app(service)
        clusters.iam_backend(clusters.default_account(), self.region)
        clusters.eks_backend(clusters.default_account(), self.region)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="aws-endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.oidc.stop()

    def reset(self) -> None:
        """Wipes everything: moto's backends, add-ons, associations, issuers, faults, holds (released), the log, the
        add-on delay."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.addons.clear()
        self.addons.delay_seconds = self.initial_addon_delay
        self.associations.clear()
        self.oidc.clear()
        self.faults.reset()
        self.holds.reset()
        self.log.clear()

    def objects(self) -> dict:
        """Everything that exists, to assert that nothing leaked: roles, OIDC providers, clusters, add-ons,
        associations, across the accounts and regions moto has seen."""
        from moto.eks.models import eks_backends
        from moto.iam.models import iam_backends

        roles, providers, cluster_list = [], [], []
        for account, per_account in list(iam_backends.items()):
            for part in list(per_account.keys()):
                iam = per_account[part]
                for role in list(iam.roles.values()):
                    roles.append({"account": account, "arn": role.arn, "name": role.name, "path": role.path,
                                  "tags": tag_map(role.tags)})  # fmt: skip
                for provider in list(iam.open_id_providers.values()):
                    providers.append({"account": account, "arn": provider.arn, "url": provider.url,
                                      "thumbprints": list(provider.thumbprint_list or []),
                                      "tags": tag_map(provider.tags)})  # fmt: skip
        for account, per_account in list(eks_backends.items()):
            for region in list(per_account.keys()):
                for cluster in list(per_account[region].clusters.values()):
                    cluster_list.append({"account": account, "region": region, "name": cluster.name,
                                         "issuer": cluster.identity.get("oidc", {}).get("issuer")})  # fmt: skip
        addons = self.addons.summary()
        associations = self.associations.summary()
        return {
            "counts": {
                "roles": len(roles),
                "oidc_providers": len(providers),
                "clusters": len(cluster_list),
                "addons": len(addons),
                "associations": len(associations),
            },
            "roles": roles,
            "oidc_providers": providers,
            "clusters": cluster_list,
            "addons": addons,
            "associations": associations,
        }
