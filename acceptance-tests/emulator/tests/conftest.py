"""Fixtures: one emulator process for the session (started as the provider's tests start it: run.py on a free
port, waiting for the ready file), a reset before every test, boto3 clients, and a hook that checks every raw EKS
response against the service model (shapecheck.py) and fails the test on any mismatch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.session
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shapecheck import check_response  # noqa: E402

EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_PY = os.path.join(EMULATOR_DIR, "run.py")


class Emulator:
    """A running emulator process and helpers to talk to its admin API."""

    def __init__(self, proc: subprocess.Popen, info: dict, stdout_lines: list[str], ready_file: str, startup_s: float):
        self.proc = proc
        self.info = info
        self.stdout_lines = stdout_lines
        self.ready_file = ready_file
        self.startup_s = startup_s

    @property
    def endpoint(self) -> str:
        return self.info["endpoint"]

    def admin(self, method: str, path: str, body: dict | None = None, expect: int | None = 200):
        """Calls the admin API; returns the decoded JSON (and checks the status unless expect is None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.info["admin_url"] + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        doc = json.loads(payload)
        if expect is not None:
            assert status == expect, f"{method} {path} -> {status}: {doc}"
        return doc

    def client(self, service: str, attempts: int = 1, region: str | None = None, **extra):
        """A boto3 client; `attempts` counts the first try (1: retries off)."""
        config = botocore.config.Config(retries={"total_max_attempts": attempts, "mode": "standard"}, **extra)
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region or self.info["region"],
            aws_access_key_id=self.info["access_key_id"],
            aws_secret_access_key=self.info["secret_access_key"],
            config=config,
        )


def start_emulator(tmp_dir: str, *extra_args: str) -> Emulator:
    """Starts run.py on a free port and waits for its ready file (as the Rust acceptance tests do)."""
    ready = os.path.join(tmp_dir, "ready.json")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            RUN_PY,
            "--port",
            "0",
            "--ready-file",
            ready,
            "--state-dir",
            os.path.join(tmp_dir, "state"),
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = t0 + 60
    while not os.path.exists(ready):
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with {proc.returncode}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("emulator did not become ready within 60 s")
        time.sleep(0.02)
    startup = time.monotonic() - t0
    with open(ready) as f:
        info = json.load(f)
    lines = [proc.stdout.readline().rstrip("\n") for _ in range(7)]
    return Emulator(proc, info, lines, ready, startup)


def stop_emulator(emu: Emulator) -> int:
    emu.proc.send_signal(signal.SIGTERM)
    try:
        return emu.proc.wait(timeout=20)
    finally:
        if emu.proc.poll() is None:
            emu.proc.kill()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emu = start_emulator(str(tmp_path_factory.mktemp("emulator")))
    yield emu
    code = stop_emulator(emu)
    assert code == 0, f"emulator exited with {code}: {emu.proc.stderr.read()}"


@pytest.fixture(autouse=True)
def _fresh(request):
    """Every test that uses the emulator starts from a reset one."""
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").admin("POST", "/reset")
    yield


@pytest.fixture
def model_problems():
    """Collects shape problems seen by the EKS client of this test."""
    return []


@pytest.fixture
def eks(emulator, model_problems):
    """An EKS client (retries off: one attempt) whose every raw response is checked against the service model."""
    client = emulator.client("eks")
    service_model = botocore.session.get_session().get_service_model("eks")

    def check(http_response, model, **_):
        model_problems.extend(
            check_response(
                service_model, model, http_response.status_code, dict(http_response.headers), http_response.content
            )
        )

    client.meta.events.register("after-call.eks", check)
    yield client
    assert not model_problems, "responses that do not match the EKS model:\n" + "\n".join(model_problems)


@pytest.fixture
def iam(emulator):
    return emulator.client("iam")


@pytest.fixture
def sts(emulator):
    return emulator.client("sts")


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)


@pytest.fixture
def role(iam):
    """A role that pod identity associations can use."""
    return iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


@pytest.fixture
def cluster(emulator):
    """A cluster created through the admin API (ACTIVE, with a local issuer)."""
    return emulator.admin("POST", "/clusters", {"name": "demo"}, expect=201)
