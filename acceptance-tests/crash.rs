//! Crashes: the provider process is killed (SIGKILL) right after AWS carried out a call whose answer it never
//! received, at every call of an apply that changes something (taken from the request log of a clean run). The
//! emulator holds the answer back (a "hold"), the test kills the plugin while it waits, then lets the answer go to
//! nobody. The next apply must converge by adopting what the dead process made (tag-checked), with no
//! EntityAlreadyExists / ResourceInUse error and no duplicate; destroy must then leave nothing. The same holds
//! when terraform itself is killed instead, and then the provider must also stop by itself within seconds.
//!
//! A crash during destroy is not covered: Terraform itself drops a resource from its state when the provider dies
//! during a delete (it reads the missing answer as "deleted"), so what was left is only found again by a later
//! apply of the same configuration.

mod harness;

use std::time::{Duration, Instant};

use harness::consistency::{self, Wiring};
use harness::emulator::{calls_of, Call};
use harness::{process, Env, Workdir, ADDRESS};
use serde_json::json;

const ADDR: &str = "eksidentity_service_account_role.app";
const CLUSTER: &str = "prod";

fn wiring() -> Wiring<'static> {
    Wiring {
        address: ADDR,
        cluster: CLUSTER,
        namespace: "payments",
        service_account: "api",
        role_name: "prod-payments-api",
        irsa: true,
        pods: true,
    }
}

/// Mode `both` makes every kind of object: OIDC provider, role with policies, addon, association. The second
/// configuration changes all of it in place.
fn config(env: &Env, second: bool) -> String {
    let body = if !second {
        r#"  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  inline_policies = {
    s3 = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
  }
  tags = { app = "payments" }
"#
    } else {
        r#"  role_description = "payments v2"
  max_session_duration = 7200
  policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  inline_policies = {
    logs = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "logs:PutLogEvents", Resource = "*" }] })
  }
  tags = { app = "payments", tier = "gold" }
  audience = "payments.example.com"
  disable_session_tags = true
  target_role_arn = "arn:aws:iam::210987654321:role/payments-data"
"#
    };
    format!(
        "{}\nresource \"{ADDRESS}\" \"app\" {{\n  mode = \"both\"\n  cluster_name = \"{CLUSTER}\"\n  namespace = \"payments\"\n  service_account = \"api\"\n{body}}}\n",
        env.provider_block("")
    )
}

/// A clean emulator and no state; for the update phase, the first configuration applied.
fn prepare(env: &Env, wd: &Workdir, update: bool) {
    let emu = env.emu();
    emu.reset();
    emu.create_cluster(CLUSTER);
    emu.admin("PUT", "/addon-delay", Some(json!({ "seconds": 0 })));
    wd.forget_state();
    wd.write(&config(env, false));
    if update {
        wd.apply().expect_ok();
        wd.write(&config(env, true));
    }
    emu.clear_requests();
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !ok() {
        if Instant::now() > deadline {
            println!("    timed out waiting for {what}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// What dies while AWS carries out the held call.
#[derive(Clone, Copy)]
enum Victim {
    /// The provider process.
    Plugin,
    /// The terraform process that started the provider (as a CI runner or the out-of-memory killer would): it
    /// never calls Shutdown, so the provider must notice by itself and stop.
    Terraform,
}

/// Kills `victim` once AWS has carried out `operation` #nth, then checks recovery. Returns the problems.
fn crash_case(env: &Env, wd: &Workdir, update: bool, call: &Call, victim: Victim) -> Vec<String> {
    let (operation, nth) = (call.operation.as_str(), call.nth);
    let emu = env.emu();
    let w = wiring();
    let mut problems = Vec::new();
    prepare(env, wd, update);
    let hold = emu.add_hold(json!({ "service": call.service, "operation": operation, "nth": nth, "timeout": 120 }));
    let run = wd.spawn(&["apply", "-no-color", "-auto-approve", "-input=false"]);
    let mut run = run;
    let held = wait_for(&format!("{operation} #{nth} to be held"), Duration::from_secs(90), || {
        emu.hold(&hold)["waiting"] == json!(true) || run.exited()
    }) && emu.hold(&hold)["waiting"] == json!(true);
    if !held {
        emu.release_hold(&hold);
        let out = run.wait();
        return vec![format!("{operation} #{nth} was never made (terraform exited {}):\n{}", out.code, out.text())];
    }
    let plugins = process::plugin_pids(run.pid());
    if plugins.is_empty() {
        problems.push("no provider process found under terraform".to_string());
    }
    match victim {
        Victim::Plugin => plugins.iter().for_each(|pid| process::kill(*pid, libc::SIGKILL)),
        Victim::Terraform => {
            let hosts: Vec<u32> = plugins.iter().filter_map(|p| process::parent_of(*p)).collect();
            hosts.iter().for_each(|pid| process::kill(*pid, libc::SIGKILL));
        }
    }
    // The answer goes nowhere now: the process that asked is dead. A correctness bound, not a benchmark: the
    // provider checks for its host every second and then has a grace period of 1.5 s.
    let died =
        wait_for("the plugin to die", Duration::from_secs(15), || plugins.iter().all(|p| process::has_exited(*p)));
    if !died {
        let killed = match victim {
            Victim::Plugin => "it",
            Victim::Terraform => "terraform",
        };
        problems.push(format!("the provider was still running 15 s after {killed} was killed"));
        plugins.iter().for_each(|pid| process::kill(*pid, libc::SIGKILL));
    }
    emu.release_hold(&hold);
    let out = run.wait();
    if out.ok() {
        problems.push(format!("terraform succeeded although its provider was killed:\n{}", out.text()));
    }
    // Whatever Terraform saved, the next apply adopts what the dead process made.
    emu.clear_requests();
    let converge = wd.apply();
    // What the dead process made and the next apply met again ("already exists" answers), then adopted.
    let log = emu.requests();
    let conflicts: Vec<String> = calls_of(&log)
        .into_iter()
        .zip(&log)
        .filter(|(_, r)| r["status"] == json!(409))
        .map(|(c, _)| c.operation)
        .collect();
    if !conflicts.is_empty() {
        println!("    the next apply met \"already exists\" from {} and adopted", conflicts.join(", "));
    }
    let text = converge.text();
    if !converge.ok() {
        problems.push(format!("the apply after the crash failed:\n{text}"));
    }
    for bad in ["EntityAlreadyExists", "ResourceInUse", "already exists"] {
        if text.contains(bad) {
            problems.push(format!("the apply after the crash reports {bad}:\n{text}"));
        }
    }
    problems.extend(consistency::duplicates(env, &w).into_iter().map(|d| format!("after the next apply: {d}")));
    if converge.ok() {
        let plan = wd.plan();
        if plan.code != 0 {
            problems.push(format!("the plan after the next apply is not empty:\n{}", plan.text()));
        }
    }
    let destroy = wd.destroy();
    if !destroy.ok() {
        problems.push(format!("destroy failed:\n{}", destroy.text()));
    }
    problems.extend(consistency::leftovers(env).into_iter().map(|l| format!("left after destroy: {l}")));
    problems
}

#[test]
fn emu_crash_recovery() {
    let started = Instant::now();
    let env = Env::start();
    let emu = env.emu();
    let wd = env.workdir();
    wd.write(&config(&env, false));
    wd.init();

    // The crash points: every mutating call of a clean create, and of a clean update.
    let mut points = Vec::new();
    for update in [false, true] {
        prepare(&env, &wd, update);
        wd.apply().expect_ok();
        // Where a crash can leave work half done: after each call that changes something.
        let calls: Vec<Call> = calls_of(&emu.requests()).into_iter().filter(Call::changes_aws).collect();
        let phase = if update { "update" } else { "create" };
        println!("crash points ({phase}): {}", calls.iter().map(Call::to_string).collect::<Vec<_>>().join(", "));
        points.extend(calls.into_iter().map(|c| (update, c)));
    }
    assert!(
        ["CreateRole", "CreateOpenIDConnectProvider", "CreatePodIdentityAssociation", "CreateAddon"]
            .iter()
            .all(|op| points.iter().any(|(_, c)| c.operation == *op)),
        "the create makes every kind of object: {points:?}"
    );

    let mut survived = 0;
    let mut problems = Vec::new();
    for (update, call) in &points {
        let t = Instant::now();
        let phase = if *update { "update" } else { "create" };
        println!("  crash after {phase} {call}:");
        let p = crash_case(&env, &wd, *update, call, Victim::Plugin);
        println!("    {} ({:.1}s)", if p.is_empty() { "survived" } else { "FAILED" }, t.elapsed().as_secs_f64());
        survived += usize::from(p.is_empty());
        problems.extend(p.into_iter().map(|x| format!("{phase} {call}: {x}")));
    }
    println!(
        "\ncrash recovery: {survived} of {} crash points survived in {:.0}s",
        points.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// Terraform killed mid-apply: its provider stops by itself instead of running on for nobody, and the next apply
/// adopts what was made. Two points: right after the role exists, and right after the last object of the create.
#[test]
fn emu_killed_terraform_stops_its_provider() {
    let env = Env::start();
    let emu = env.emu();
    let wd = env.workdir();
    wd.write(&config(&env, false));
    wd.init();
    prepare(&env, &wd, false);
    wd.apply().expect_ok();
    let calls: Vec<Call> = calls_of(&emu.requests()).into_iter().filter(Call::changes_aws).collect();
    let points: Vec<&Call> =
        [calls.iter().find(|c| c.operation == "CreateRole"), calls.last()].into_iter().flatten().collect();
    assert_eq!(points.len(), 2, "a create makes a role: {calls:?}");
    let mut problems = Vec::new();
    for call in points {
        println!("  terraform killed after create {call}:");
        let p = crash_case(&env, &wd, false, call, Victim::Terraform);
        println!("    {}", if p.is_empty() { "survived" } else { "FAILED" });
        problems.extend(p.into_iter().map(|x| format!("create {call}: {x}")));
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// Ctrl-C while apply waits for a DEGRADED addon: Terraform sends StopProvider, the provider stops waiting and
/// returns what exists, Terraform saves it and exits well before the addon would ever settle.
#[test]
fn emu_interrupt_stops_promptly() {
    let env = Env::start();
    let emu = env.emu();
    let w = wiring();
    emu.create_cluster(CLUSTER);
    let status_path = format!("/clusters/{CLUSTER}/addons/eks-pod-identity-agent/status");
    emu.admin("PUT", &status_path, Some(json!({ "status": "DEGRADED" })));
    let wd = env.workdir();
    wd.write(&config(&env, false));
    wd.init();
    emu.clear_requests();
    let mut run = wd.spawn(&["apply", "-no-color", "-auto-approve", "-input=false"]);
    // Waiting: the association exists and the addon has been found DEGRADED at least twice.
    let waiting = wait_for("the apply to wait for the addon", Duration::from_secs(90), || {
        let c = emu.request_counts();
        (c.contains_key("eks:CreatePodIdentityAssociation") && c.get("eks:DescribeAddon").copied().unwrap_or(0) >= 3)
            || run.exited()
    });
    assert!(waiting && !run.exited(), "terraform ended before it was waiting: {:?}", emu.request_counts());
    let sent = Instant::now();
    run.signal_group(libc::SIGINT);
    // A correctness bound, not a benchmark: a provider that ignored the stop would wait for the timeout (20 min).
    let stopped = wait_for("terraform to exit after Ctrl-C", Duration::from_secs(60), || run.exited());
    let took = sent.elapsed().as_secs_f64();
    let out = run.wait();
    println!("interrupt: terraform exited {:.2}s after SIGINT (exit code {})", took, out.code);
    if std::env::var("EKSIDENTITY_VERBOSE").is_ok() {
        println!("{}", out.text());
    }
    assert!(stopped && took < 20.0, "terraform took {took:.1}s to stop after Ctrl-C:\n{}", out.text());
    assert!(!out.ok(), "an interrupted apply must not report success:\n{}", out.text());
    assert!(out.text().contains("Interrupted"), "the provider says it was interrupted:\n{}", out.text());
    let saved = consistency::saved_instance(&wd, ADDR).expect("the role made before Ctrl-C is in the state");
    assert_eq!(saved["status"], json!("tainted"), "an unfinished create is tainted: {saved}");
    let problems = consistency::state_matches_aws(&env, &wd, &w);
    assert!(problems.is_empty(), "saved state after Ctrl-C: {problems:?}");

    // The addon recovers: the next apply converges, the plan is empty, destroy leaves nothing.
    emu.admin("DELETE", &status_path, None);
    wd.apply().expect_ok();
    assert_eq!(consistency::duplicates(&env, &w), Vec::<String>::new());
    wd.assert_no_changes();
    wd.destroy().expect_ok();
    assert_eq!(consistency::leftovers(&env), Vec::<String>::new());
}
