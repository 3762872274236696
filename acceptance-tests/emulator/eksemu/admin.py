"""The admin API: JSON in and out under /_emulator/ on the emulator's port. Not logged, never faulted.

Every endpoint takes optional `account` and `region` (query string or JSON body) where it concerns one cluster;
they default to moto's default account and the emulator's region. acceptance-tests/README.md documents each
endpoint with a curl example; keep the two in step.

This module translates HTTP to calls on the emulator's parts; it must not hold state of its own.
"""

from __future__ import annotations

import json
import re

from werkzeug.wrappers import Request, Response

from . import clusters

_ROUTES: list = []


def route(method: str, pattern: str):
    """Registers an admin handler for METHOD and a path pattern (relative to /_emulator)."""

    def register(fn):
        _ROUTES.append((method, re.compile(f"^{pattern}/?$"), fn))
        return fn

    return register


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AdminApp:
    """WSGI app for the admin API."""

    def __init__(self, emulator) -> None:
        self.emu = emulator

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path[len("/_emulator") :] or "/"
        try:
            for method, regex, fn in _ROUTES:
                m = regex.match(path)
                if m and request.method == method:
                    status, doc = fn(self, request, **m.groupdict())
                    break
            else:
                allowed = [method for method, regex, _ in _ROUTES if regex.match(path)]
                if allowed:
                    raise AdminError(405, f"method not allowed; use {', '.join(sorted(set(allowed)))}")
                raise AdminError(404, f"no admin endpoint {request.method} {request.path}")
        except AdminError as e:
            status, doc = e.status, {"error": e.message}
        except (ValueError, KeyError, TypeError) as e:
            status, doc = 400, {"error": str(e)}
        response = Response(json.dumps(doc, indent=1, default=str), status=status, mimetype="application/json")
        return response(environ, start_response)

    # --- helpers ------------------------------------------------------------------------------------------------
    @staticmethod
    def body(request: Request) -> dict:
        if not request.get_data():
            return {}
        doc = json.loads(request.get_data())
        if not isinstance(doc, dict):
            raise AdminError(400, "the body must be a JSON object")
        return doc

    def scope(self, request: Request, body: dict | None = None) -> tuple[str, str]:
        body = body or {}
        account = request.args.get("account") or body.get("account") or clusters.default_account()
        region = request.args.get("region") or body.get("region") or self.emu.region
        return account, region

    def cluster_json(self, account: str, region: str, name: str) -> dict:
        cluster = clusters.find_cluster(account, region, name)
        if cluster is None:
            raise AdminError(404, f"no cluster {name} in {account}/{region}")
        entry = self.emu.oidc.find((account, region, name))
        return {
            "name": cluster.name,
            "arn": cluster.arn,
            "status": cluster.status,
            "version": cluster.version,
            "account": account,
            "region": region,
            "oidc": self.emu.oidc.info(entry) if entry else None,
        }

    # --- endpoints ----------------------------------------------------------------------------------------------
    @route("GET", "/health")
    def health(self, request):
        return 200, {"ok": True, **self.emu.ready_info()}

    @route("GET", "/requests")
    def requests_get(self, request):
        return 200, self.emu.log.summary(request.args.get("service"), request.args.get("operation"))

    @route("DELETE", "/requests")
    def requests_delete(self, request):
        return 200, {"removed": self.emu.log.clear()}

    @route("GET", "/faults")
    def faults_get(self, request):
        return 200, {
            "faults": self.emu.faults.list(),
            "iam_propagation_delay_seconds": self.emu.faults.iam_propagation_seconds,
            "iam_propagation_hidden": self.emu.faults.iam_propagation_hidden,
            "injected": self.emu.faults.total_injected(),
        }

    @route("POST", "/faults")
    def faults_post(self, request):
        from .faults import FaultSpecError

        try:
            fault = self.emu.faults.add(self.body(request))
        except FaultSpecError as e:
            raise AdminError(400, str(e)) from None
        return 201, fault.to_dict()

    @route("DELETE", "/faults")
    def faults_delete(self, request):
        return 200, {"removed": self.emu.faults.clear()}

    @route("DELETE", "/faults/(?P<fault_id>[^/]+)")
    def fault_delete(self, request, fault_id):
        if not self.emu.faults.remove(fault_id):
            raise AdminError(404, f"no fault {fault_id}")
        return 200, {"removed": 1}

    @route("GET", "/holds")
    def holds_get(self, request):
        return 200, {"holds": self.emu.holds.list()}

    @route("POST", "/holds")
    def holds_post(self, request):
        from .holds import HoldSpecError

        try:
            hold = self.emu.holds.add(self.body(request))
        except HoldSpecError as e:
            raise AdminError(400, str(e)) from None
        return 201, hold.to_dict()

    @route("GET", "/holds/(?P<hold_id>[^/]+)")
    def hold_get(self, request, hold_id):
        hold = self.emu.holds.get(hold_id)
        if hold is None:
            raise AdminError(404, f"no hold {hold_id}")
        return 200, hold.to_dict()

    @route("DELETE", "/holds/(?P<hold_id>[^/]+)")
    def hold_delete(self, request, hold_id):
        if not self.emu.holds.release(hold_id):
            raise AdminError(404, f"no hold {hold_id}")
        return 200, {"released": 1}

    @route("DELETE", "/holds")
    def holds_delete(self, request):
        return 200, {"released": self.emu.holds.release_all()}

    @route("GET", "/iam/propagation-delay")
    def propagation_get(self, request):
        return 200, {
            "seconds": self.emu.faults.iam_propagation_seconds,
            "hidden": self.emu.faults.iam_propagation_hidden,
        }

    @route("PUT", "/iam/propagation-delay")
    def propagation_put(self, request):
        seconds = float(self.body(request).get("seconds", 0))
        if seconds < 0:
            raise AdminError(400, "seconds must be >= 0")
        self.emu.faults.iam_propagation_seconds = seconds
        return 200, {"seconds": seconds}

    @route("GET", "/clusters")
    def clusters_get(self, request):
        account, region = self.scope(request)
        names = sorted(clusters.eks_backend(account, region).clusters)
        return 200, {"clusters": [self.cluster_json(account, region, n) for n in names]}

    @route("POST", "/clusters")
    def clusters_post(self, request):
        body = self.body(request)
        account, region = self.scope(request, body)
        if not body.get("name"):
            raise AdminError(400, "name is required")
        if clusters.find_cluster(account, region, body["name"]) is not None:
            raise AdminError(409, f"cluster {body['name']} already exists")
        clusters.create_cluster_directly(account, region, body)
        if body.get("jwks_separate_host"):
            self.emu.oidc.set_jwks_separate((account, region, body["name"]), True)
        return 201, self.cluster_json(account, region, body["name"])

    @route("GET", "/clusters/(?P<name>[^/]+)")
    def cluster_get(self, request, name):
        account, region = self.scope(request)
        return 200, self.cluster_json(account, region, name)

    @route("GET", "/clusters/(?P<name>[^/]+)/oidc")
    def cluster_oidc_get(self, request, name):
        account, region = self.scope(request)
        doc = self.cluster_json(account, region, name)
        if doc["oidc"] is None:
            raise AdminError(404, f"cluster {name} has no local issuer")
        return 200, doc["oidc"]

    @route("PUT", "/clusters/(?P<name>[^/]+)/oidc")
    def cluster_oidc_put(self, request, name):
        body = self.body(request)
        account, region = self.scope(request, body)
        self.cluster_json(account, region, name)  # 404 when absent
        entry = self.emu.oidc.set_jwks_separate((account, region, name), bool(body.get("jwks_separate_host")))
        if entry is None:
            raise AdminError(404, f"cluster {name} has no local issuer")
        return 200, self.emu.oidc.info(entry)

    @route("GET", "/oidc")
    def oidc_get(self, request):
        return 200, {"ca_bundle": self.emu.oidc.ca_bundle, "thumbprints": self.emu.oidc.thumbprints()}

    @route("POST", "/oidc/rotate")
    def oidc_rotate(self, request):
        target = self.body(request).get("target", "all")
        before = self.emu.oidc.thumbprints()
        after = self.emu.oidc.rotate(target)
        return 200, {"before": before, "thumbprints": after, "ca_bundle": self.emu.oidc.ca_bundle}

    @route("PUT", "/clusters/(?P<name>[^/]+)/addons/(?P<addon>[^/]+)/status")
    def addon_status_put(self, request, name, addon):
        body = self.body(request)
        account, region = self.scope(request, body)
        return 200, self.emu.addons.set_override(account, region, name, addon, body)

    @route("DELETE", "/clusters/(?P<name>[^/]+)/addons/(?P<addon>[^/]+)/status")
    def addon_status_delete(self, request, name, addon):
        account, region = self.scope(request)
        return 200, {"removed": int(self.emu.addons.clear_override(account, region, name, addon))}

    @route("GET", "/addon-delay")
    def addon_delay_get(self, request):
        return 200, {"seconds": self.emu.addons.delay_seconds}

    @route("PUT", "/addon-delay")
    def addon_delay_put(self, request):
        seconds = float(self.body(request)["seconds"])
        if seconds < 0:
            raise AdminError(400, "seconds must be >= 0")
        self.emu.addons.delay_seconds = seconds
        return 200, {"seconds": seconds}

    @route("POST", "/reset")
    def reset(self, request):
        self.emu.reset()
        return 200, {"reset": True}

    @route("GET", "/objects")
    def objects(self, request):
        return 200, self.emu.objects()
