"""The process contract others build on: ready file, printed environment, clean stop on SIGTERM and SIGINT,
start-up time and memory."""

from __future__ import annotations

import json
import os
import shlex
import signal

import boto3

from conftest import start_emulator, stop_emulator

READY_KEYS = {"endpoint", "admin_url", "region", "access_key_id", "secret_access_key", "account_id", "ca_bundle", "pid"}


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_ready_file_and_environment(emulator):
    info = emulator.info
    assert READY_KEYS <= set(info)
    assert info["pid"] == emulator.proc.pid
    assert info["endpoint"].startswith("http://127.0.0.1:") and info["admin_url"] == info["endpoint"] + "/_emulator"
    assert info["region"] == "us-east-1" and info["account_id"] == "123456789012"
    assert open(info["ca_bundle"]).read().startswith("-----BEGIN CERTIFICATE-----")

    env = dict(shlex.split(line)[0].split("=", 1) for line in emulator.stdout_lines)
    assert env["AWS_ENDPOINT_URL"] == info["endpoint"]
    assert env["AWS_ACCESS_KEY_ID"] == info["access_key_id"]
    assert env["AWS_SECRET_ACCESS_KEY"] == info["secret_access_key"]
    assert env["AWS_REGION"] == "us-east-1"
    assert env["EKSIDENTITY_EMULATOR_ADMIN"] == info["admin_url"]
    assert env["EKSIDENTITY_EMULATOR_CA_BUNDLE"] == info["ca_bundle"]

    # The printed environment is enough for an SDK: boto3 picks AWS_ENDPOINT_URL up by itself.
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_REGION"],
    )
    old = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]
    try:
        assert session.client("sts").get_caller_identity()["Account"] == "123456789012"
    finally:
        if old is None:
            del os.environ["AWS_ENDPOINT_URL"]
        else:
            os.environ["AWS_ENDPOINT_URL"] = old


def test_health(emulator):
    health = emulator.admin("GET", "/health")
    assert health["ok"] is True and health["endpoint"] == emulator.endpoint


def test_startup_time_memory_and_clean_stops(tmp_path, capsys):
    """Starts two more emulators: measures process start -> ready file and RSS, stops one with SIGTERM and one
    with SIGINT; both exit 0 and remove their ready file."""
    measured = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        emu = start_emulator(str(tmp_path / sig.name), "--addon-delay", "0.05")
        idle = rss_mib(emu.proc.pid)
        eks = emu.client("eks")
        iam = emu.client("iam")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        emu.admin("POST", "/clusters", {"name": "c"}, expect=201)
        eks.create_addon(clusterName="c", addonName="eks-pod-identity-agent")
        for i in range(20):
            eks.create_pod_identity_association(clusterName="c", namespace="n", serviceAccount=f"s{i}", roleArn=role)
        busy = rss_mib(emu.proc.pid)
        if sig == signal.SIGTERM:
            code = stop_emulator(emu)
        else:
            emu.proc.send_signal(signal.SIGINT)
            code = emu.proc.wait(timeout=20)
        assert code == 0, emu.proc.stderr.read()
        assert not os.path.exists(emu.ready_file)
        measured.append(
            {
                "startup_s": round(emu.startup_s, 3),
                "rss_idle_mib": round(idle, 1),
                "rss_after_calls_mib": round(busy, 1),
            }
        )
        assert emu.startup_s < 20
        assert busy < 500
    with capsys.disabled():
        print("\nemulator start-up and memory:", json.dumps(measured))
