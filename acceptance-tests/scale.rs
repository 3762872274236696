//! Many wirings at once: under throttling and server errors, and at `-parallelism=50` over two clusters. Both end
//! with an empty re-plan and a destroy that leaves no role, association, OIDC provider or addon behind.
//!
//! Sizes: each test's default is the full size (30 throttled wirings, 50 concurrent ones), which takes
//! well under a minute here, so CI runs the full sizes. `EKSIDENTITY_SCALE_N` overrides the number of wirings of
//! every test here (for a larger run by hand). The figures (faults injected, retries, seconds, AWS calls) are
//! printed; run with `-- --nocapture` to see them.

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use harness::{Env, ADDRESS};
use serde_json::{json, Value};

const AGENT: &str = "eks-pod-identity-agent";

/// The number of wirings: `EKSIDENTITY_SCALE_N` when set, else `default`.
fn scale_n(default: usize) -> usize {
    match std::env::var("EKSIDENTITY_SCALE_N") {
        Ok(v) if !v.trim().is_empty() => {
            v.trim().parse().unwrap_or_else(|_| panic!("EKSIDENTITY_SCALE_N={v} is not a whole number"))
        }
        _ => default,
    }
}

/// One wiring of the mix: its mode and whether it trusts the namespace's every service account.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Irsa,
    IrsaWildcard,
    PodIdentity,
    Both,
}

impl Kind {
    fn mode(self) -> &'static str {
        match self {
            Kind::Irsa | Kind::IrsaWildcard => "irsa",
            Kind::PodIdentity => "pod_identity",
            Kind::Both => "both",
        }
    }
    fn has_association(self) -> bool {
        matches!(self, Kind::PodIdentity | Kind::Both)
    }
    fn has_irsa(self) -> bool {
        !matches!(self, Kind::PodIdentity)
    }
}

/// `n` wirings spread round-robin over `clusters` and `kinds`, each in its own namespace.
fn wirings(env: &Env, clusters: &[String], kinds: &[Kind], n: usize) -> (String, Vec<(String, Kind)>) {
    let mut hcl = env.provider_block("");
    let mut plan = Vec::new();
    for i in 0..n {
        let cluster = &clusters[i % clusters.len()];
        let kind = kinds[(i / clusters.len()) % kinds.len()];
        let sa = if kind == Kind::IrsaWildcard { "*" } else { "app" };
        hcl.push_str(&format!(
            "resource \"{ADDRESS}\" \"w{i}\" {{\n  mode = \"{}\"\n  cluster_name = \"{cluster}\"\n  \
             namespace = \"team{i}\"\n  service_account = \"{sa}\"\n}}\n",
            kind.mode()
        ));
        plan.push((cluster.clone(), kind));
    }
    (hcl, plan)
}

fn count(objects: &Value, what: &str) -> u64 {
    objects["counts"][what].as_u64().unwrap_or_else(|| panic!("no count of {what}: {objects}"))
}

/// Waits until the emulator holds no objects of ours (addons finish DELETING after a short delay).
fn assert_nothing_left(env: &Env) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let objects = env.emu().objects();
        let left: Vec<(&str, u64)> = ["roles", "associations", "oidc_providers", "addons"]
            .into_iter()
            .map(|w| (w, count(&objects, w)))
            .filter(|(_, n)| *n > 0)
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "left after destroy: {left:?}\n{objects}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What the request log says about injected faults.
#[derive(Debug, Default)]
struct FaultFigures {
    requests: usize,
    injected: BTreeMap<String, usize>,
    /// Faulted requests followed later by an answered (not faulted) request of the same operation on the same
    /// method and path: the SDK's retries. IAM and STS share the path `/`, so for them "the same operation" is
    /// as precise as the log can be.
    retried: usize,
    /// Faulted requests with no answered request of the same operation after them.
    not_retried: Vec<String>,
}

fn fault_figures(log: &[Value]) -> FaultFigures {
    let key =
        |e: &Value| format!("{}:{} {} {}", e["service"].as_str().unwrap_or(""), e["operation"], e["method"], e["path"]);
    let faulted = |e: &Value| !e["fault"].is_null();
    let mut f = FaultFigures { requests: log.len(), ..FaultFigures::default() };
    // Scanning backwards, remember which operations get an answer later on.
    let mut answered_later: BTreeSet<String> = BTreeSet::new();
    for e in log.iter().rev() {
        let k = key(e);
        if faulted(e) {
            *f.injected.entry(e["fault"].as_str().unwrap_or("?").to_string()).or_default() += 1;
            if answered_later.contains(&k) {
                f.retried += 1;
            } else {
                f.not_retried.push(k);
            }
        } else {
            answered_later.insert(k);
        }
    }
    f
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed().as_secs_f64())
}

/// 30% of AWS calls throttled and 5% answered 500, while applying and destroying a mix of irsa, irsa with `*`,
/// pod_identity and both wirings over two clusters (default 30 wirings, `EKSIDENTITY_SCALE_N` to change). Apply,
/// re-plan and destroy all run under the faults; the SDK's standard retry mode absorbs them.
#[test]
fn emu_throttled_apply_and_destroy() {
    let n = scale_n(30);
    let env = Env::start();
    let emu = env.emu();
    let clusters = vec![env.cluster("east"), env.cluster("west")];
    let kinds = [Kind::Irsa, Kind::PodIdentity, Kind::Both, Kind::IrsaWildcard];
    let (hcl, plan) = wirings(&env, &clusters, &kinds, n);
    let wd = env.workdir();
    wd.write(&hcl);
    wd.init();

    emu.clear_requests();
    emu.add_fault(json!({ "kind": "throttle", "rate": 0.3, "seed": 7 }));
    emu.add_fault(json!({ "kind": "http500", "rate": 0.05, "seed": 11 }));

    let (apply, apply_s) = timed(|| wd.apply());
    apply.expect_ok();
    let objects = emu.objects();
    let associations = plan.iter().filter(|(_, k)| k.has_association()).count() as u64;
    let irsa_clusters: BTreeSet<&String> = plan.iter().filter(|(_, k)| k.has_irsa()).map(|(c, _)| c).collect();
    let addon_clusters: BTreeSet<&String> = plan.iter().filter(|(_, k)| k.has_association()).map(|(c, _)| c).collect();
    assert_eq!(count(&objects, "roles"), n as u64, "{objects}");
    assert_eq!(count(&objects, "associations"), associations, "{objects}");
    assert_eq!(count(&objects, "oidc_providers"), irsa_clusters.len() as u64, "{objects}");
    assert_eq!(count(&objects, "addons"), addon_clusters.len() as u64, "{objects}");

    let (replan, plan_s) = timed(|| wd.plan());
    assert_eq!(replan.code, 0, "the re-plan under faults is not empty:\n{}", replan.text());

    let (destroy, destroy_s) = timed(|| wd.destroy());
    destroy.expect_ok();
    let figures = fault_figures(&emu.requests());
    let faults = emu.admin("GET", "/faults", None);
    emu.clear_faults();
    assert!(wd.state_list().is_empty(), "state after destroy: {:?}", wd.state_list());
    assert_nothing_left(&env);

    let injected: usize = figures.injected.values().sum();
    println!(
        "throttled run, {n} wirings: {} AWS requests, {injected} faults injected {:?}, {} retried, {} not retried; \
         apply {apply_s:.1} s, re-plan {plan_s:.1} s, destroy {destroy_s:.1} s",
        figures.requests,
        figures.injected,
        figures.retried,
        figures.not_retried.len()
    );
    assert_eq!(
        faults["injected"].as_u64(),
        Some(injected as u64),
        "the log and the fault rules disagree on what was injected: {faults}"
    );
    assert!(figures.injected.get("throttle").is_some_and(|&t| t > 0), "no throttling happened: {figures:?}");
    assert!(figures.injected.get("http500").is_some_and(|&t| t > 0), "no 500 happened: {figures:?}");
    assert!(figures.not_retried.is_empty(), "faulted calls never retried: {:?}", figures.not_retried);
}

/// 50 wirings (`EKSIDENTITY_SCALE_N` to change) over two clusters in irsa, pod_identity and both modes, applied
/// at `-parallelism=50`: one OIDC provider per issuer and one addon per cluster, created once each, no conflict
/// answered by AWS, an empty re-plan and a clean destroy.
#[test]
fn emu_fifty_wirings_two_clusters_both_modes() {
    let n = scale_n(50);
    let env = Env::start();
    let emu = env.emu();
    let clusters = vec![env.cluster("blue"), env.cluster("green")];
    let kinds = [Kind::Irsa, Kind::PodIdentity, Kind::Both];
    let (hcl, plan) = wirings(&env, &clusters, &kinds, n);
    let wd = env.workdir();
    wd.write(&hcl);
    wd.init();

    emu.clear_requests();
    let (apply, apply_s) = timed(|| wd.apply_with(&["-parallelism=50"]));
    let apply = apply.expect_ok();
    assert!(!apply.text().contains("Error:"), "{}", apply.text());
    let log = emu.requests();
    let counts = emu.request_counts();
    let objects = emu.objects();

    // One OIDC provider per issuer, one addon per cluster, each created exactly once.
    let issuers: BTreeSet<String> = clusters
        .iter()
        .map(|c| emu.oidc(c)["issuer"].as_str().unwrap().trim_start_matches("https://").to_string())
        .collect();
    let provider_urls: Vec<String> = objects["oidc_providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap().trim_start_matches("https://").to_string())
        .collect();
    assert_eq!(provider_urls.len(), issuers.len(), "one provider per issuer: {provider_urls:?}");
    assert_eq!(provider_urls.iter().cloned().collect::<BTreeSet<_>>(), issuers);
    let addons: Vec<(String, String)> = objects["addons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["cluster"].as_str().unwrap().to_string(), a["name"].as_str().unwrap().to_string()))
        .collect();
    let mut expected_addons: Vec<(String, String)> = clusters.iter().map(|c| (c.clone(), AGENT.to_string())).collect();
    let mut sorted = addons.clone();
    sorted.sort();
    expected_addons.sort();
    assert_eq!(sorted, expected_addons, "one agent addon per cluster");
    let creates_providers = counts.get("iam:CreateOpenIDConnectProvider").copied().unwrap_or(0);
    let creates_addons = counts.get("eks:CreateAddon").copied().unwrap_or(0);
    assert_eq!(creates_providers, issuers.len() as u64, "{counts:?}");
    assert_eq!(creates_addons, clusters.len() as u64, "{counts:?}");
    assert_eq!(counts.get("iam:CreateRole"), Some(&(n as u64)), "{counts:?}");
    let associations = plan.iter().filter(|(_, k)| k.has_association()).count() as u64;
    assert_eq!(counts.get("eks:CreatePodIdentityAssociation"), Some(&associations), "{counts:?}");
    assert_eq!(count(&objects, "roles"), n as u64);
    assert_eq!(count(&objects, "associations"), associations);

    // Siblings never collided: no 409 (EntityAlreadyExists, ResourceInUse) and no server error was answered.
    let mut by_status: BTreeMap<u64, usize> = BTreeMap::new();
    for e in &log {
        *by_status.entry(e["status"].as_u64().unwrap_or(0)).or_default() += 1;
    }
    let conflicts: Vec<&Value> =
        log.iter().filter(|e| e["status"] == json!(409) || e["status"].as_u64() >= Some(500)).collect();
    assert!(conflicts.is_empty(), "conflicts or server errors: {conflicts:?}");

    let (replan, plan_s) = timed(|| wd.plan());
    assert_eq!(replan.code, 0, "the re-plan is not empty:\n{}", replan.text());
    let (destroy, destroy_s) =
        timed(|| wd.run(&["destroy", "-no-color", "-auto-approve", "-input=false", "-parallelism=50"]));
    destroy.expect_ok();
    assert!(wd.state_list().is_empty(), "state after destroy: {:?}", wd.state_list());
    assert_nothing_left(&env);

    println!(
        "{n} wirings on 2 clusters at -parallelism=50: CreateOpenIDConnectProvider {creates_providers}, CreateAddon \
         {creates_addons}, CreateRole {}, CreatePodIdentityAssociation {associations}; {} AWS requests by status \
         {by_status:?}; apply {apply_s:.1} s, re-plan {plan_s:.1} s, destroy {destroy_s:.1} s",
        counts.get("iam:CreateRole").copied().unwrap_or(0),
        log.len()
    );
}

/// The timeouts block bounds the SDK's retries too: with one IAM operation throttled on every call, create,
/// update and delete each give up a few seconds after their timeout with a "Timed out" error (without the bound,
/// the SDK's 25 retries with backoff take minutes), and once the throttling stops the next apply and destroy
/// converge.
#[test]
fn emu_retries_stop_at_the_timeouts_block() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("east");
    let wd = env.workdir();
    let config = |description: &str| {
        format!(
            "{}resource \"{ADDRESS}\" \"w\" {{\n  mode = \"both\"\n  cluster_name = \"{cluster}\"\n  \
             namespace = \"jobs\"\n  service_account = \"runner\"\n  role_description = \"{description}\"\n  \
             timeouts {{\n    create = \"4s\"\n    update = \"4s\"\n    delete = \"4s\"\n  }}\n}}\n",
            env.provider_block("")
        )
    };
    wd.write(&config("v1"));
    wd.init();

    let mut figures = Vec::new();
    for (phase, operation) in [("create", "CreateRole"), ("update", "UpdateRole"), ("delete", "DeleteRole")] {
        if phase == "update" {
            wd.write(&config("v2"));
        }
        emu.clear_requests();
        emu.add_fault(json!({ "kind": "throttle", "service": "iam", "operation": operation }));
        let (run, seconds) = timed(|| if phase == "delete" { wd.destroy() } else { wd.apply() });
        let run = run.expect_fail();
        let attempts = emu.request_counts().get(&format!("iam:{operation}")).copied().unwrap_or(0);
        figures.push(format!("{phase}: gave up after {seconds:.1} s and {attempts} {operation} attempts"));
        let text = run.text();
        assert!(text.contains("Timed out:"), "{phase}: the timeout did not bound the retries:\n{text}");
        assert!(attempts >= 2, "{phase}: {operation} was not retried before the timeout ({attempts} attempts)");
        emu.clear_faults();
        if phase == "delete" {
            assert!(!wd.state_list().is_empty(), "a failed destroy keeps the wiring in the state");
            wd.destroy().expect_ok();
        } else {
            wd.apply().expect_ok();
            wd.assert_no_changes();
        }
    }
    println!("timeouts of 4 s under constant throttling: {}", figures.join("; "));
    assert!(wd.state_list().is_empty());
    assert_nothing_left(&env);
}
