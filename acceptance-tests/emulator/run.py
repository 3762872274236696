#!/usr/bin/env python3
"""Runs eksidentity's local AWS emulator in the foreground.

  .tools/venv/bin/python acceptance-tests/emulator/run.py --port 0 [--host 127.0.0.1] [--region us-east-1]
      [--state-dir DIR] [--ready-file PATH] [--addon-delay SECONDS]

Once the endpoint answers, it writes the ready file (JSON, atomically: endpoint, admin_url, region, access_key_id,
secret_access_key, account_id, ca_bundle, pid, ...) and prints the client environment as shell lines on stdout:

  AWS_ENDPOINT_URL=http://127.0.0.1:<port>
  AWS_ACCESS_KEY_ID=...  AWS_SECRET_ACCESS_KEY=...  AWS_REGION=us-east-1  AWS_DEFAULT_REGION=us-east-1
  EKSIDENTITY_EMULATOR_ADMIN=http://127.0.0.1:<port>/_emulator
  EKSIDENTITY_EMULATOR_CA_BUNDLE=<state dir>/ca-bundle.pem

It stops cleanly on SIGTERM or SIGINT (exit status 0). Without --state-dir the CA bundle and TLS files live in a
temporary directory removed at exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# AWS managed policies (arn:aws:iam::aws:policy/...) exist in every account, as in AWS.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
from eksemu.server import Emulator  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="eksidentity local AWS emulator (moto + EKS add-ons, pod identity, OIDC)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    parser.add_argument("--region", default=os.environ.get("EKSIDENTITY_EMULATOR_REGION", "us-east-1"))
    parser.add_argument("--state-dir", help="directory for the CA bundle and TLS files (default: a temporary one)")
    parser.add_argument("--ready-file", help="JSON file written once the endpoint answers")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    parser.add_argument(
        "--addon-delay", type=float, default=0.2, help="seconds an add-on stays CREATING/UPDATING/DELETING"
    )
    return parser.parse_args(argv)


def write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ready-", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def environment_lines(info: dict) -> list[str]:
    env = {
        "AWS_ENDPOINT_URL": info["endpoint"],
        "AWS_ACCESS_KEY_ID": info["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": info["secret_access_key"],
        "AWS_REGION": info["region"],
        "AWS_DEFAULT_REGION": info["region"],
        "EKSIDENTITY_EMULATOR_ADMIN": info["admin_url"],
        "EKSIDENTITY_EMULATOR_CA_BUNDLE": info["ca_bundle"],
    }
    return [f"{k}={shlex.quote(v)}" for k, v in env.items()]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    temp_state = None
    state_dir = args.state_dir
    if not state_dir:
        temp_state = state_dir = tempfile.mkdtemp(prefix="eksidentity-emulator-")
    emulator = Emulator(args.host, args.port, args.region, os.path.abspath(state_dir), args.addon_delay)
    try:
        emulator.warm_up()
        emulator.start()
        info = emulator.ready_info()
        # Ready means answering: ask our own health endpoint before telling anyone.
        with urllib.request.urlopen(f"{info['admin_url']}/health", timeout=10) as resp:
            if resp.status != 200:
                raise RuntimeError(f"health check answered {resp.status}")
        if args.ready_file:
            write_atomically(args.ready_file, json.dumps(info, indent=1) + "\n")
        print("\n".join(environment_lines(info)), flush=True)
        print(
            f"# eksidentity emulator ready (pid {info['pid']}); Ctrl-C or SIGTERM stops it", file=sys.stderr, flush=True
        )
        while not stop.wait(3600):
            pass
    finally:
        emulator.stop()
        if args.ready_file and os.path.exists(args.ready_file):
            try:
                with open(args.ready_file) as f:
                    if json.load(f).get("pid") == os.getpid():
                        os.remove(args.ready_file)
            except (OSError, ValueError):
                pass
        if temp_state:
            shutil.rmtree(temp_state, ignore_errors=True)
    print("# eksidentity emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
