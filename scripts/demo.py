#!/usr/bin/env python3
"""`make demo`: the quick start (examples/quickstart/) applied, shown, re-planned and destroyed.

Against the local AWS emulator by default; with `--aws real` (`make demo AWS=real`) against the account, region and
EKS cluster named by the environment (EKSIDENTITY_CLUSTER_NAME plus the usual AWS variables or profile).

Steps print one line each with the seconds elapsed since the start; the full output of every command is kept in
build/demo/logs/. Everything the demo writes stays under build/demo/ (ignored by git).

This script only drives existing tools (make, terraform, the emulator's run.py). It must not contain provider
logic or checks of the provider's behaviour beyond what a user would look at; the acceptance tests do that.
Standard library only: it runs with the system python3, before `make tools` has created the venv.
"""

import argparse
import configparser
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "demo"
LOGS = WORK / "logs"
EXAMPLE = ROOT / "examples" / "quickstart"
PLUGIN_DIR = ROOT / "build" / "plugins"  # where `make install` puts the provider
CLUSTER = "demo"
HEARTBEAT_SECONDS = 10
ADDON_GONE_TIMEOUT = 60

START = time.monotonic()


def stamp():
    return f"[{time.monotonic() - START:6.1f}s]"


def say(text=""):
    print(f"{stamp()} {text}" if text else "", flush=True)


def detail(text):
    """A line under the current step."""
    print(f"{stamp()}     {text}", flush=True)


def rel(path):
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return str(path)


class StepFailed(Exception):
    """A step did not do what it should; the message says what, for the user."""


class Interrupted(Exception):
    pass


class Signals:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP: remember it, pass one SIGINT to the running child and let the script
    clean up. Children run in their own process group, so only this forwarding reaches them: terraform gets exactly
    one interrupt and stops gracefully, saving its state, instead of being killed mid-apply."""

    def __init__(self):
        self.received = None
        self.child = None
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame):
        first = self.received is None
        self.received = signal.Signals(signum).name
        if first:
            print(f"\n{stamp()} {self.received}: stopping after the current command, then cleaning up", flush=True)
        child = self.child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def check(self):
        if self.received:
            raise Interrupted(self.received)


SIGNALS = None


def run(argv, log, *, env=None, cwd=ROOT, show=None, progress=None, interruptible=True):
    """Runs a command to completion, writing all of its output to `log`. `show(line)` returns the text to print for
    a line (or None); `progress()` returns a status for the heartbeat printed when nothing was shown for a while.
    Returns (exit code, output lines); raises Interrupted after a signal unless `interruptible` is false (cleanup)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(str(a) for a in argv)}\n")
        out.flush()
        try:
            child = subprocess.Popen(
                [str(a) for a in argv],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                text=True,
                errors="replace",
            )
        except OSError as e:
            raise StepFailed(f"cannot run {argv[0]}: {e}")
        SIGNALS.child = child
        pipe = queue.Queue()

        def pump():
            for line in child.stdout:
                pipe.put(line)
            pipe.put(None)

        threading.Thread(target=pump, daemon=True).start()
        started = last_shown = time.monotonic()
        last_text = None
        try:
            while True:
                try:
                    line = pipe.get(timeout=0.5)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                if line:
                    out.write(line)
                    line = line.rstrip("\n")
                    lines.append(line)
                    text = show(line) if show else None
                    if text and text != last_text:  # terraform repeats e.g. "Error: execution halted" per resource
                        detail(text)
                        last_shown, last_text = time.monotonic(), text
                if time.monotonic() - last_shown >= HEARTBEAT_SECONDS:
                    status = progress() if progress else "still running"
                    detail(f"... {status} ({time.monotonic() - started:.0f} s in this step)")
                    last_shown = time.monotonic()
            code = child.wait()
        finally:
            if child.poll() is None:  # only when this script itself failed: never leave a child behind
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            SIGNALS.child = None
    if interruptible:
        SIGNALS.check()
    return code, lines


def tail(lines, n=25):
    return "\n".join("      | " + l for l in lines[-n:])


# --- what to show of each tool's output -----------------------------------------------------------------------

TF_PROGRESS = re.compile(
    r"^\S+: (Creating|Creation complete|Still creating|Modifying|Modifications complete|Still modifying|"
    r"Destroying|Destruction complete|Still destroying|Refreshing state)"
)
TF_SUMMARY = re.compile(r"^(Plan: |Apply complete!|Destroy complete!|No changes\.|Terraform has been successfully)")


def show_terraform(line):
    text = line.lstrip("│╷╵ ").rstrip()
    if TF_PROGRESS.match(text) or TF_SUMMARY.match(text):
        return text
    if text.startswith(("Error: ", "Warning: ")):
        return text
    if text.startswith("- Installed "):
        return text[2:]
    return None


class CargoProgress:
    """Cargo prints a line per crate; show a count instead of hundreds of lines."""

    def __init__(self):
        self.compiled = 0
        self.current = ""

    def show(self, line):
        m = re.match(r"^\s*Compiling (\S+) ", line)
        if m:
            self.compiled += 1
            self.current = m.group(1)
            return None
        stripped = line.strip()
        if stripped.startswith(("Finished", "installed ", "error", "warning: unused")):
            return stripped.replace(str(ROOT) + "/", "")
        return None

    def progress(self):
        if self.compiled:
            return f"compiling: {self.compiled} crates so far, now {self.current}"
        return "still running"


# --- the demo ---------------------------------------------------------------------------------------------------


class Demo:
    def __init__(self, real):
        self.real = real
        self.steps = self.plan_steps()
        self.index = 0
        self.current = None
        self.emulator = None
        self.emulator_info = None
        self.workdir = WORK / ("real" if real else "local")
        self.terraform = Path(os.environ.get("TERRAFORM") or ROOT / ".tools" / "bin" / "terraform")
        self.applied = False  # something may exist in AWS: a destroy is owed
        self.destroyed = False

    def plan_steps(self):
        steps = ["tools", "build"]
        if not self.real:
            steps.append("emulator")
        steps += ["init", "apply", "outputs", "re-plan", "destroy", "leftovers"]
        if not self.real:
            steps.append("stop")
        return steps

    def step(self, name, what):
        SIGNALS.check()
        self.index = self.steps.index(name) + 1
        self.current = name
        self.step_started = time.monotonic()
        say(f"step {self.index}/{len(self.steps)} {name}: {what}")

    def done(self, note="ok"):
        detail(f"{note} ({time.monotonic() - self.step_started:.1f} s)")

    def log(self, name):
        return LOGS / f"{self.index:02d}-{name}.log"

    # -- environment --

    def terraform_env(self):
        env = dict(os.environ)
        # Nothing from the caller's Terraform settings may change what the demo runs (extra CLI args, a workspace,
        # variables, dev_overrides in ~/.terraformrc); TF_LOG* stay, for debugging.
        for k in list(env):
            if k.startswith(("TF_CLI_ARGS", "TF_VAR_")) or k in (
                "TF_WORKSPACE",
                "TF_DATA_DIR",
                "TF_CLI_CONFIG_FILE",
                "TF_PLUGIN_CACHE_DIR",
                "TF_INPUT",
            ):
                del env[k]
        cli_config = WORK / "terraformrc"
        cli_config.write_text("# empty: the demo installs the provider with -plugin-dir\n")
        env.update(
            TF_CLI_CONFIG_FILE=str(cli_config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
        )
        if self.real:
            env["TF_VAR_cluster_name"] = os.environ["EKSIDENTITY_CLUSTER_NAME"]
            return env
        # The emulator only: no credentials, profile or endpoint of the caller's may reach a real account.
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        info = self.emulator_info
        env.update(
            AWS_ENDPOINT_URL=info["endpoint"],
            AWS_ACCESS_KEY_ID=info["access_key_id"],
            AWS_SECRET_ACCESS_KEY=info["secret_access_key"],
            AWS_REGION=info["region"],
            AWS_DEFAULT_REGION=info["region"],
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_EC2_METADATA_DISABLED="true",
            TF_VAR_cluster_name=CLUSTER,
            TF_VAR_region=info["region"],
            TF_VAR_oidc_ca_bundle=info["ca_bundle"],
        )
        return env

    def tf(self, name, *args, show=show_terraform):
        return run([self.terraform, *args], self.log(name), env=self.env, cwd=self.workdir, show=show)

    # -- steps --

    def tools(self):
        self.step("tools", "pinned Terraform 1.0.3 and the emulator's Python packages into .tools/ (make tools)")
        code, lines = run(["make", "--no-print-directory", "tools"], self.log("tools"), show=lambda l: l.strip())
        if code != 0:
            raise StepFailed(f"`make tools` exited with {code}:\n{tail(lines)}")
        if not os.access(self.terraform, os.X_OK):
            raise StepFailed(f"no terraform at {self.terraform} (TERRAFORM={os.environ.get('TERRAFORM', '')})")
        code, lines = run([self.terraform, "version"], self.log("tools"))
        if code != 0 or not lines:
            raise StepFailed(f"`{self.terraform} version` failed:\n{tail(lines)}")
        detail(f"using {lines[0]} ({rel(self.terraform)})")
        self.done()

    def build(self):
        self.step("build", f"debug build of the provider, installed into {rel(PLUGIN_DIR)}/ (make install)")
        cargo = CargoProgress()
        code, lines = run(
            ["make", "--no-print-directory", "install"], self.log("build"), show=cargo.show, progress=cargo.progress
        )
        if code != 0:
            raise StepFailed(f"`make install` exited with {code}:\n{tail(lines)}")
        self.done()

    def start_emulator(self):
        self.step("emulator", f"local AWS emulator, and a cluster `{CLUSTER}` whose OIDC issuer is local")
        python = ROOT / ".tools" / "venv" / "bin" / "python"
        folder = WORK / "emulator"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        ready = folder / "ready.json"
        log_path = self.log("emulator")
        log = open(log_path, "w", encoding="utf-8")
        self.emulator = subprocess.Popen(
            [python, ROOT / "acceptance-tests/emulator/run.py", "--port", "0", "--ready-file", ready,
             "--state-dir", folder / "state"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # our Ctrl-C handling stops it, after terraform is done with it
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            SIGNALS.check()
            if self.emulator.poll() is not None:
                raise StepFailed(
                    f"the emulator exited with {self.emulator.returncode} before it was ready; its log "
                    f"({rel(log_path)}):\n{tail(log_path.read_text(errors='replace').splitlines())}"
                )
            try:
                self.emulator_info = json.loads(ready.read_text())
                break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise StepFailed(f"the emulator was not ready within 60 s; see {rel(log_path)}")
            time.sleep(0.1)
        info = self.emulator_info
        detail(f"AWS endpoint {info['endpoint']} (IAM, STS, EKS), account {info['account_id']}, {info['region']}")
        cluster = self.admin("POST", "/clusters", {"name": CLUSTER})
        detail(f"cluster {CLUSTER}: OIDC issuer {cluster['oidc']['issuer']}")
        detail(f"the issuer's CA is {rel(info['ca_bundle'])}: the example's oidc_ca_bundle variable points at it")
        self.done()

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.emulator_info["admin_url"] + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise StepFailed(f"emulator admin {method} {path} answered {e.code}: {e.read().decode(errors='replace')}")
        except (urllib.error.URLError, OSError) as e:
            raise StepFailed(f"emulator admin {method} {path}: {e}")

    def init(self):
        self.step("init", f"copy {rel(EXAMPLE)}/ to {rel(self.workdir)}/ and terraform init -plugin-dir")
        if not self.real:
            # The state of an earlier local run died with its emulator.
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        for tf in sorted(EXAMPLE.glob("*.tf")):
            shutil.copy2(tf, self.workdir / tf.name)
        self.env = self.terraform_env()
        code, lines = self.tf("init", "init", "-no-color", "-input=false", f"-plugin-dir={PLUGIN_DIR}")
        if code != 0:
            raise StepFailed(f"terraform init exited with {code}:\n{tail(lines)}")
        self.done()

    def apply(self):
        what = "three wirings on cluster " + (os.environ.get("EKSIDENTITY_CLUSTER_NAME", "") if self.real else CLUSTER)
        self.step("apply", f"terraform apply: {what} (irsa, pod_identity, both)")
        self.applied = True
        code, lines = self.tf("apply", "apply", "-no-color", "-input=false", "-auto-approve")
        if code != 0:
            raise StepFailed(f"terraform apply exited with {code}:\n{tail(lines)}")
        self.done()

    def outputs(self):
        self.step("outputs", "what to copy into your Kubernetes service accounts")
        code, lines = run([self.terraform, "output", "-json"], self.log("outputs"), env=self.env, cwd=self.workdir)
        if code != 0:
            raise StepFailed(f"terraform output exited with {code}:\n{tail(lines)}")
        outputs = {k: v["value"] for k, v in json.loads("\n".join(lines)).items()}
        code, lines = run([self.terraform, "show", "-json"], self.log("outputs"), env=self.env, cwd=self.workdir)
        if code != 0:
            raise StepFailed(f"terraform show exited with {code}:\n{tail(lines)}")
        wirings = {}
        for r in json.loads("\n".join(lines)).get("values", {}).get("root_module", {}).get("resources", []):
            if r.get("type") == "eksidentity_service_account_role":
                wirings[r["name"]] = r["values"]
        print_outputs(outputs, wirings)
        self.done()

    def replan(self):
        self.step("re-plan", "terraform plan -detailed-exitcode: reads every object back and expects no changes")
        code, lines = self.tf("re-plan", "plan", "-no-color", "-input=false", "-detailed-exitcode")
        if code == 2:
            changes = [l for l in lines if l.lstrip().startswith(("#", "~", "+", "-", "Plan:"))]
            raise StepFailed(f"the second plan has changes; it should have none:\n{tail(changes, 40)}")
        if code != 0:
            raise StepFailed(f"terraform plan exited with {code}:\n{tail(lines)}")
        self.done("no changes (exit code 0)")

    def destroy(self):
        self.step("destroy", "terraform destroy")
        code, lines = self.tf("destroy", "destroy", "-no-color", "-input=false", "-auto-approve")
        if code != 0:
            raise StepFailed(f"terraform destroy exited with {code}:\n{tail(lines)}")
        self.destroyed = True
        self.done()

    def leftovers(self):
        if self.real:
            self.step("leftovers", "terraform state list: the state must be empty")
            code, lines = run([self.terraform, "state", "list"], self.log("leftovers"), env=self.env, cwd=self.workdir)
            left = [l for l in lines if l.strip()]
            if code != 0 or left:
                raise StepFailed(f"the state is not empty after destroy (exit {code}):\n{tail(left or lines)}")
            self.done("the state is empty: terraform destroyed everything the demo created")
            return
        self.step("leftovers", "ask the emulator what still exists (roles, OIDC providers, associations, addons)")
        deadline = time.monotonic() + ADDON_GONE_TIMEOUT
        waited = None
        while True:
            SIGNALS.check()
            objects = self.admin("GET", "/objects")
            deleting = [a for a in objects["addons"] if a.get("status") == "DELETING"]
            if not deleting or time.monotonic() > deadline:
                break
            if waited is None:
                waited = time.monotonic()
                detail(f"waiting for the {deleting[0]['name']} addon: EKS deletes addons in the background (DELETING)")
            time.sleep(0.2)
        if waited is not None and not deleting:
            detail(f"the addon is gone after {time.monotonic() - waited:.1f} s")
        left = []
        for kind, key in (("roles", "arn"), ("oidc_providers", "arn"), ("associations", "association_id"),
                          ("addons", "arn")):
            for o in objects[kind]:
                left.append(f"{kind}: {o.get(key)}" + (f" ({o['status']})" if "status" in o else ""))
        if left:
            raise StepFailed("objects are left after destroy:\n" + "\n".join("      | " + l for l in left))
        counts = objects["counts"]
        detail(
            f"nothing left: {counts['roles']} roles, {counts['oidc_providers']} OIDC providers, "
            f"{counts['associations']} associations, {counts['addons']} addons "
            f"(the cluster `{CLUSTER}` was the demo's own, made through the admin API)"
        )
        calls = self.admin("GET", "/requests")
        by_service = {}
        for op, n in calls.get("by_operation", {}).items():
            service = op.split(":", 1)[0]
            by_service[service] = by_service.get(service, 0) + n
        detail(
            f"the provider made {calls.get('count', 0)} AWS calls over apply, re-plan and destroy: "
            + ", ".join(f"{s.upper()} {n}" for s, n in sorted(by_service.items()))
        )
        self.done()

    def stop_emulator(self, quiet=False):
        if self.emulator is None:
            return
        if not quiet:
            self.step("stop", "stop the emulator")
        proc, self.emulator = self.emulator, None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # it removes its ready file and state on SIGTERM
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if not quiet:
            self.done(f"stopped (exit {proc.returncode})")

    # -- the whole run --

    def main(self):
        where = (
            f"the AWS account of your credentials, EKS cluster {os.environ.get('EKSIDENTITY_CLUSTER_NAME')}"
            if self.real
            else "a local AWS emulator (no AWS account needed)"
        )
        say(f"demo: {rel(EXAMPLE)}/ against {where}; logs in {rel(LOGS)}/")
        shutil.rmtree(LOGS, ignore_errors=True)
        LOGS.mkdir(parents=True)
        failure = None
        try:
            self.tools()
            self.build()
            if not self.real:
                self.start_emulator()
            self.init()
            self.apply()
            self.outputs()
            self.replan()
            self.destroy()
            self.leftovers()
            SIGNALS.check()
            if not self.real:
                self.stop_emulator()
        except StepFailed as e:
            failure = (self.index, self.current, str(e))
        except Interrupted as e:
            failure = (self.index, self.current, f"interrupted ({e})")
        finally:
            self.cleanup(failure)
        if failure:
            index, name, message = failure
            print(f"\n{stamp()} demo: FAILED at step {index}/{len(self.steps)} ({name}): {message}", flush=True)
            print(f"{stamp()} demo: full output of each step in {rel(LOGS)}/", flush=True)
            return 130 if SIGNALS.received else 1
        say(f"demo: OK in {time.monotonic() - START:.1f} s")
        return 0

    def state_holds_something(self):
        """False only when `terraform state list` says the state is empty (the apply created nothing)."""
        code, lines = run(
            [self.terraform, "state", "list"], LOGS / "cleanup-state.log", env=self.env, cwd=self.workdir,
            interruptible=False,
        )
        return code != 0 or any(l.strip() for l in lines)

    def cleanup(self, failure):
        if self.real and self.applied and not self.destroyed and self.state_holds_something():
            # Against real AWS nothing may stay behind, whatever happened: destroy what the state holds.
            say("cleanup: terraform destroy of everything the demo created (Ctrl-C interrupts it)")
            code, lines = run(
                [self.terraform, "destroy", "-no-color", "-input=false", "-auto-approve"],
                LOGS / "cleanup-destroy.log",
                env=self.env,
                cwd=self.workdir,
                show=show_terraform,
                interruptible=False,
            )
            if code == 0:
                self.destroyed = True
            else:
                print(
                    f"{stamp()} cleanup: DESTROY FAILED ({code}): objects may be left in your account. Retry with:\n"
                    f"    cd {self.workdir} && TF_CLI_CONFIG_FILE={WORK / 'terraformrc'} "
                    f"TF_VAR_cluster_name={os.environ.get('EKSIDENTITY_CLUSTER_NAME')} {self.terraform} destroy\n"
                    f"{tail(lines)}",
                    flush=True,
                )
        if self.emulator is not None:
            if failure:
                log = LOGS / "emulator-objects.json"
                try:
                    log.write_text(json.dumps(self.admin("GET", "/objects"), indent=1))
                except StepFailed:
                    pass
                say("cleanup: stopping the emulator")
            self.stop_emulator(quiet=True)


MODE_ORDER = ["irsa", "pod_identity", "both"]
EXPLAIN = {
    "role_arns": [
        "The IAM role each service account gets. It stays the same when the mode changes later,",
        "so permissions granted to it elsewhere (a bucket policy, a KMS key policy) keep working.",
    ],
    "service_account_annotations": [
        "Put these in the service account's metadata.annotations. IRSA (irsa, both) needs",
        "eks.amazonaws.com/role-arn; Pod Identity needs no annotation, so pod_identity's is empty.",
    ],
    "association_ids": [
        "The EKS Pod Identity associations (pod_identity, both) that map namespace/service account",
        "to the role inside EKS. Nothing to copy: they are what make an annotation unnecessary.",
    ],
    "oidc_provider_arns": [
        "The IAM OIDC identity provider of the cluster's issuer that IRSA roles trust. One per",
        "cluster, shared: the provider adopts it or creates it, and deletes it only when unused.",
    ],
}


def print_outputs(outputs, wirings):
    def subject(key):
        w = wirings.get(key)
        return f"{w['namespace']}/{w['service_account']}" if w else ""

    def keys(value):
        return sorted(value, key=lambda k: (MODE_ORDER.index(k) if k in MODE_ORDER else 99, k))

    for name in sorted(outputs, key=lambda n: list(EXPLAIN).index(n) if n in EXPLAIN else 99):
        value = outputs[name]
        print(flush=True)
        detail(f"{name}")
        for line in EXPLAIN.get(name, []):
            detail(f"  {line}")
        if not isinstance(value, dict):
            detail(f"    {json.dumps(value)}")
            continue
        for key in keys(value):
            v = value[key]
            if isinstance(v, dict):
                v = ", ".join(f"{a} = {b}" for a, b in v.items()) or "(none)"
            elif not isinstance(v, str):
                v = json.dumps(v)
            detail(f"    {key:<13} {subject(key):<17} {v}")
    annotated = [k for k in keys(wirings) if wirings[k].get("service_account_annotations")]
    if annotated:
        key = annotated[0]
        w = wirings[key]
        width = max(len(a) for a in w["service_account_annotations"])
        print(flush=True)
        detail("For example, with the hashicorp/kubernetes provider (or the same annotation in YAML):")
        snippet = [
            f'resource "kubernetes_service_account" "{w["service_account"]}" {{',
            "  metadata {",
            f'    name        = "{w["service_account"]}"',
            f'    namespace   = "{w["namespace"]}"',
            f"    annotations = eksidentity_service_account_role.{key}.service_account_annotations",
        ]
        snippet += [f'    #           {{ "{a}"{"":<{width - len(a)}} = "{b}" }}'
                    for a, b in w["service_account_annotations"].items()]
        snippet += ["  }", "}"]
        for line in snippet:
            detail(f"  {line}")
    print(flush=True)


# --- real AWS preconditions -------------------------------------------------------------------------------------


def profile_region():
    """The region of the active profile in the shared config file, as the AWS SDKs read it, or None."""
    path = Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config")
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    for section in (f"profile {profile}", profile) if profile != "default" else ("default", "profile default"):
        if parser.has_option(section, "region"):
            return parser.get(section, "region").strip() or None
    return None


def real_aws_preconditions():
    """Refuses to start against real AWS without a cluster name and a region. Never asks interactively."""
    problems = []
    cluster = os.environ.get("EKSIDENTITY_CLUSTER_NAME", "").strip()
    if not cluster:
        problems.append("EKSIDENTITY_CLUSTER_NAME is not set: name an existing EKS cluster in a sandbox account.")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or profile_region()
    if not region:
        problems.append(
            "No AWS region: set AWS_REGION (the cluster's region), or a region in the profile "
            f"{os.environ.get('AWS_PROFILE') or 'default'} of your AWS config file."
        )
    if problems:
        print("demo (AWS=real): refusing to start:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print(
            "Example:\n  EKSIDENTITY_CLUSTER_NAME=my-sandbox AWS_PROFILE=sandbox AWS_REGION=eu-west-1 make demo AWS=real",
            file=sys.stderr,
        )
        return False
    profile = os.environ.get("AWS_PROFILE") or ("(environment credentials)" if os.environ.get("AWS_ACCESS_KEY_ID")
                                                else "default chain")
    print(f"demo (AWS=real): cluster {cluster}, region {region}, credentials: {profile}", flush=True)
    print(
        "demo (AWS=real): creates three IAM roles and two pod identity associations, adopts or creates the cluster's\n"
        "IAM OIDC provider and the eks-pod-identity-agent addon, then destroys all of it (the shared objects only if\n"
        "it created them and nothing else uses them). The addon becomes ACTIVE only on a cluster with Linux nodes.",
        flush=True,
    )
    return True


def main():
    global SIGNALS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aws", default="", help="'real' for a real account; empty or 'emulator' for the emulator")
    args = parser.parse_args()
    if args.aws not in ("", "emulator", "real"):
        print(f"demo: AWS={args.aws} is not understood: use AWS=real, or nothing for the emulator", file=sys.stderr)
        return 2
    real = args.aws == "real"
    if real and not real_aws_preconditions():
        return 2
    SIGNALS = Signals()
    return Demo(real).main()


if __name__ == "__main__":
    sys.exit(main())
