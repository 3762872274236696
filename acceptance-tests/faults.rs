//! The fault matrix: for each mode and each AWS call that create, update and destroy make (read from the
//! emulator's request log of a clean run, never hand-listed), the same phase again with that one call refused
//! (AccessDenied, which the SDK does not retry). Each case must fail with an error naming the call, leave a saved
//! state that matches AWS, converge on the next apply without duplicates, and destroy without leftovers.
//!
//! A failed destroy is followed up both ways a user would: `destroy` again (must finish and leave nothing), and
//! `apply` (must converge back to the configuration).

mod harness;

use std::time::Instant;

use harness::consistency::{self, Wiring};
use harness::emulator::{self, Call};
use harness::{Env, Workdir, ADDRESS};
use serde_json::{json, Value};

const ADDR: &str = "eksidentity_service_account_role.app";
const CLUSTER: &str = "prod";
const NAMESPACE: &str = "payments";
const SERVICE_ACCOUNT: &str = "api";
const ROLE: &str = "prod-payments-api";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Irsa,
    PodIdentity,
    Both,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Irsa => "irsa",
            Mode::PodIdentity => "pod_identity",
            Mode::Both => "both",
        }
    }
    fn irsa(self) -> bool {
        self != Mode::PodIdentity
    }
    fn pods(self) -> bool {
        self != Mode::Irsa
    }
    fn wiring(self) -> Wiring<'static> {
        Wiring {
            address: ADDR,
            cluster: CLUSTER,
            namespace: NAMESPACE,
            service_account: SERVICE_ACCOUNT,
            role_name: ROLE,
            irsa: self.irsa(),
            pods: self.pods(),
        }
    }
}

/// What a failed destroy is followed by.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Create,
    Update,
    /// Destroy fails, then destroy again.
    DestroyThenDestroy,
    /// Destroy fails, then apply converges back.
    DestroyThenApply,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Update => "update",
            Phase::DestroyThenDestroy => "destroy, then destroy",
            Phase::DestroyThenApply => "destroy, then apply",
        }
    }
    fn destroys(self) -> bool {
        matches!(self, Phase::DestroyThenDestroy | Phase::DestroyThenApply)
    }
}

/// The first configuration (created) and the second (the update: every setting moves, policies are swapped, the
/// association's settings change, the audience changes).
fn config(env: &Env, mode: Mode, second: bool) -> String {
    let mut body = format!(
        "  mode = \"{}\"\n  cluster_name = \"{CLUSTER}\"\n  namespace = \"{NAMESPACE}\"\n  service_account = \"{SERVICE_ACCOUNT}\"\n",
        mode.name()
    );
    if !second {
        body.push_str(
            r#"  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  inline_policies = {
    s3 = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
  }
  tags = { app = "payments" }
"#,
        );
    } else {
        body.push_str(
            r#"  role_description = "payments v2"
  max_session_duration = 7200
  permissions_boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
  policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  inline_policies = {
    logs = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "logs:PutLogEvents", Resource = "*" }] })
  }
  tags = { app = "payments", tier = "gold" }
"#,
        );
        if mode.irsa() {
            body.push_str("  audience = \"payments.example.com\"\n");
        }
        if mode.pods() {
            body.push_str(
                "  disable_session_tags = true\n  target_role_arn = \"arn:aws:iam::210987654321:role/payments-data\"\n",
            );
        }
    }
    format!("{}\nresource \"{ADDRESS}\" \"app\" {{\n{body}}}\n", env.provider_block(""))
}

/// A clean emulator (one cluster, instant addon transitions so the number of polls is fixed), no saved state, and
/// AWS as the phase starts from; the request log starts empty.
fn prepare(env: &Env, wd: &Workdir, mode: Mode, phase: Phase) {
    let emu = env.emu();
    emu.reset();
    emu.create_cluster(CLUSTER);
    emu.admin("PUT", "/addon-delay", Some(json!({ "seconds": 0 })));
    wd.forget_state();
    match phase {
        Phase::Create => wd.write(&config(env, mode, false)),
        Phase::Update => {
            wd.write(&config(env, mode, false));
            wd.apply().expect_ok();
            wd.write(&config(env, mode, true));
        }
        Phase::DestroyThenDestroy | Phase::DestroyThenApply => {
            wd.write(&config(env, mode, true));
            wd.apply().expect_ok();
        }
    }
    emu.clear_requests();
}

fn run_phase(wd: &Workdir, phase: Phase) -> harness::terraform::Run {
    if phase.destroys() {
        wd.destroy()
    } else {
        wd.apply()
    }
}

/// The calls that get a fault. With EKSIDENTITY_FAULTS=all (`make acceptance-full`), every call. By default, the
/// first call of the phase and every call from the phase's first change on: the calls in between are reads made
/// before anything changed, whose refusal can only show again what the first call shows (a failure before any
/// change leaves everything as it was).
fn selected(calls: Vec<Call>) -> Vec<Call> {
    if std::env::var("EKSIDENTITY_FAULTS").is_ok_and(|v| v == "all") {
        return calls;
    }
    let first_change = calls.iter().position(Call::changes_aws).unwrap_or(calls.len());
    calls.into_iter().enumerate().filter(|(i, _)| *i == 0 || *i >= first_change).map(|(_, c)| c).collect()
}

/// The calls of one phase, from a clean run of it.
fn phase_calls(env: &Env, wd: &Workdir, mode: Mode, phase: Phase) -> Vec<Call> {
    prepare(env, wd, mode, phase);
    run_phase(wd, phase).expect_ok();
    let calls = emulator::calls_of(&env.emu().requests());
    if phase.destroys() {
        assert_eq!(
            consistency::leftovers(env),
            Vec::<String>::new(),
            "{} {}: clean destroy",
            mode.name(),
            phase.name()
        );
    } else {
        wd.assert_no_changes();
    }
    calls
}

#[derive(Default)]
struct Outcome {
    injected: bool,
    /// The phase succeeded with a warning naming the refused read.
    tolerated: bool,
    converged: bool,
    leaked: bool,
    problems: Vec<String>,
}

/// The non-retryable refusal each service gives a caller without permission.
fn refusal(call: &Call) -> (&'static str, Value) {
    let code = if call.service == "eks" { "AccessDeniedException" } else { "AccessDenied" };
    let rule = json!({
        "kind": "error",
        "service": call.service,
        "operation": call.operation,
        "nth": call.nth,
        "code": code,
        "status": 403,
        "message": "User is not authorized to perform this operation (injected by the fault matrix)",
    });
    (code, rule)
}

fn run_case(env: &Env, wd: &Workdir, mode: Mode, phase: Phase, call: &Call, verbose: bool) -> Outcome {
    let emu = env.emu();
    let w = mode.wiring();
    let mut out = Outcome::default();
    prepare(env, wd, mode, phase);
    let (code, rule) = refusal(call);
    emu.add_fault(rule);
    let run = run_phase(wd, phase);
    if verbose {
        let log: Vec<String> = emu
            .requests()
            .iter()
            .map(|r| format!("{}:{} {} {}", r["service"], r["operation"], r["status"], r["fault"]))
            .collect();
        println!("{}\nrequests:\n{}", run.text(), log.join("\n"));
    }
    out.injected = emu.faults()["injected"].as_u64().unwrap_or(0) > 0;
    emu.clear_faults();
    if !out.injected {
        out.problems.push("the call was not made in this run: the fault was never injected".into());
        return out;
    }
    let text = run.text();
    let read = ["Get", "List", "Describe"].iter().any(|p| call.operation.starts_with(p));
    if run.ok() {
        // A refused read the provider can do without may end as a warning naming it (the plan keeps what the
        // state has; apply reads again before acting). A refused change never may.
        let warned = text.contains("Warning") && text.contains(&call.operation) && text.contains(code);
        if read && warned {
            out.tolerated = true;
        } else {
            out.problems.push(format!("the phase succeeded although a call was refused:\n{text}"));
        }
    } else if !(text.contains(&call.operation) && text.contains(code)) {
        out.problems.push(format!("the error does not name {} and {code}:\n{text}", call.operation));
    }
    out.problems.extend(consistency::state_matches_aws(env, wd, &w).into_iter().map(|p| format!("saved state: {p}")));

    if phase == Phase::DestroyThenDestroy {
        let again = wd.destroy();
        if !again.ok() {
            out.problems.push(format!("the second destroy failed:\n{}", again.text()));
        }
        let left = consistency::leftovers(env);
        out.leaked = !left.is_empty();
        out.problems.extend(left.into_iter().map(|l| format!("left after the second destroy: {l}")));
        out.converged = again.ok() && !out.leaked;
        return out;
    }

    let converge = wd.apply();
    let dups = consistency::duplicates(env, &w);
    let plan = wd.plan();
    out.converged = converge.ok() && dups.is_empty() && plan.code == 0;
    if !converge.ok() {
        out.problems.push(format!("the next apply failed:\n{}", converge.text()));
    }
    out.problems.extend(dups.into_iter().map(|d| format!("after the next apply: {d}")));
    if converge.ok() && plan.code != 0 {
        out.problems.push(format!("the plan after the next apply is not empty:\n{}", plan.text()));
    }
    let destroy = wd.destroy();
    if !destroy.ok() {
        out.problems.push(format!("destroy failed:\n{}", destroy.text()));
    }
    let left = consistency::leftovers(env);
    out.leaked = !left.is_empty();
    out.problems.extend(left.into_iter().map(|l| format!("left after destroy: {l}")));
    out
}

#[derive(Default, Clone, Copy)]
struct Figures {
    injected: usize,
    tolerated: usize,
    converged: usize,
    leaked: usize,
    cases: usize,
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Figures) {
        self.injected += o.injected;
        self.tolerated += o.tolerated;
        self.converged += o.converged;
        self.leaked += o.leaked;
        self.cases += o.cases;
    }
}

/// Every case of one mode; returns the figures and the problems found (case name, problem).
fn matrix(mode: Mode) -> (Figures, Vec<String>) {
    let env = Env::start();
    let wd = env.workdir();
    wd.write(&config(&env, mode, false));
    wd.init();
    let started = Instant::now();
    let phases = [Phase::Create, Phase::Update, Phase::DestroyThenDestroy, Phase::DestroyThenApply];
    let mut plan: Vec<(Phase, Call)> = Vec::new();
    for phase in phases {
        let calls = if phase == Phase::DestroyThenApply {
            plan.iter().filter(|(p, _)| *p == Phase::DestroyThenDestroy).map(|(_, c)| c.clone()).collect()
        } else {
            let all = phase_calls(&env, &wd, mode, phase);
            println!(
                "fault matrix {} {}: {} calls: {}",
                mode.name(),
                phase.name(),
                all.len(),
                all.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
            );
            selected(all)
        };
        plan.extend(calls.into_iter().map(|c| (phase, c)));
    }
    let mut figures = Figures::default();
    let mut problems = Vec::new();
    // EKSIDENTITY_FAULT_CASE=<text> runs only the cases whose name contains it, and prints their request logs.
    let only = std::env::var("EKSIDENTITY_FAULT_CASE").ok().filter(|s| !s.is_empty());
    for (phase, call) in &plan {
        let name = format!("{} / {} / {call}", mode.name(), phase.name());
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let t = Instant::now();
        let o = run_case(&env, &wd, mode, *phase, call, only.is_some());
        figures.cases += 1;
        figures.injected += usize::from(o.injected);
        figures.tolerated += usize::from(o.tolerated);
        figures.converged += usize::from(o.converged);
        figures.leaked += usize::from(o.leaked);
        let verdict = if o.problems.is_empty() { "ok" } else { "FAILED" };
        println!("  {} {} {call}: {verdict} ({:.1}s)", mode.name(), phase.name(), t.elapsed().as_secs_f64());
        for p in o.problems {
            problems.push(format!("{} / {} / {call}: {p}", mode.name(), phase.name()));
        }
    }
    println!("fault matrix {}: {} cases in {:.0}s", mode.name(), figures.cases, started.elapsed().as_secs_f64());
    (figures, problems)
}

#[test]
fn emu_fault_matrix() {
    let started = Instant::now();
    let modes = match std::env::var("EKSIDENTITY_FAULT_MODES") {
        Ok(list) if !list.is_empty() => [Mode::Irsa, Mode::PodIdentity, Mode::Both]
            .into_iter()
            .filter(|m| list.split(',').any(|x| x.trim() == m.name()))
            .collect::<Vec<_>>(),
        _ => vec![Mode::Irsa, Mode::PodIdentity, Mode::Both],
    };
    // One emulator and working directory per mode, the modes side by side.
    let results: Vec<(Mode, Figures, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = modes.iter().map(|m| (*m, s.spawn(move || matrix(*m)))).collect();
        handles
            .into_iter()
            .map(|(m, h)| {
                let (f, p) = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                (m, f, p)
            })
            .collect()
    });
    let mut total = Figures::default();
    println!("\nfault matrix: faults injected / converged / leaked (of which the phase went on with a warning)");
    for (m, f, _) in &results {
        println!("  {:<13} {:>3} / {:>3} / {} ({})", m.name(), f.injected, f.converged, f.leaked, f.tolerated);
        total += *f;
    }
    println!(
        "  {:<13} {:>3} / {:>3} / {} ({}) in {:.0}s",
        "total",
        total.injected,
        total.converged,
        total.leaked,
        total.tolerated,
        started.elapsed().as_secs_f64()
    );
    let problems: Vec<&String> = results.iter().flat_map(|(_, _, p)| p).collect();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(total.injected, total.cases);
    assert_eq!(total.converged, total.cases);
}

/// Regression: destroy deleted the role first and released the shared OIDC provider after it. When the release
/// failed, the next destroy found no role, dropped the wiring from the state, and the provider was left behind
/// for good. Now the role goes last, so a failed release leaves a wiring that the next destroy finishes.
#[test]
fn emu_destroy_failing_to_release_the_oidc_provider_is_finished_by_the_next_destroy() {
    let env = Env::start();
    let emu = env.emu();
    let w = Mode::Irsa.wiring();
    emu.create_cluster(CLUSTER);
    let wd = env.workdir();
    wd.write(&config(&env, Mode::Irsa, false));
    wd.init();
    wd.apply().expect_ok();
    emu.add_fault(refusal(&Call { service: "iam".into(), operation: "ListRoles".into(), nth: 1 }).1);
    let out = wd.destroy().expect_fail();
    assert!(out.text().contains("ListRoles"), "{}", out.text());
    emu.clear_faults();
    assert!(env.role_exists(ROLE), "the role stays until the shared objects are released");
    assert_eq!(consistency::state_matches_aws(&env, &wd, &w), Vec::<String>::new());
    wd.destroy().expect_ok();
    assert_eq!(consistency::leftovers(&env), Vec::<String>::new());
}

/// Regression: a destroy that failed part-way saved the prior state, which still listed the association and the
/// policies it had already removed. Now the saved state records what still exists.
#[test]
fn emu_failed_destroy_saves_what_still_exists() {
    let env = Env::start();
    let emu = env.emu();
    let w = Mode::Both.wiring();
    emu.create_cluster(CLUSTER);
    let wd = env.workdir();
    wd.write(&config(&env, Mode::Both, false));
    wd.init();
    wd.apply().expect_ok();
    emu.add_fault(refusal(&Call { service: "iam".into(), operation: "DeleteRole".into(), nth: 1 }).1);
    let out = wd.destroy().expect_fail();
    assert!(out.text().contains("DeleteRole"), "{}", out.text());
    emu.clear_faults();
    let saved = consistency::saved_instance(&wd, ADDR).expect("the role still exists, so the wiring stays");
    let attrs = &saved["attributes"];
    assert_eq!(attrs["association_id"], Value::Null, "{attrs}");
    assert_eq!(attrs["oidc_provider_arn"], Value::Null, "{attrs}");
    assert_eq!(attrs["policy_arns"], json!([]), "{attrs}");
    assert_eq!(attrs["inline_policies"], json!({}), "{attrs}");
    assert_eq!(consistency::state_matches_aws(&env, &wd, &w), Vec::<String>::new());
    // Either way on: apply puts everything back, or destroy finishes.
    wd.apply().expect_ok();
    assert_eq!(consistency::duplicates(&env, &w), Vec::<String>::new());
    wd.assert_no_changes();
    wd.destroy().expect_ok();
    assert_eq!(consistency::leftovers(&env), Vec::<String>::new());
}
