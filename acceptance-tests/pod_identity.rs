//! Pod Identity mode and the migration between IRSA and Pod Identity, end to end: the agent addon, the
//! pods.eks.amazonaws.com trust, the association, drift, import, shared addon ownership, slow and broken addons.

mod harness;

use harness::{Env, ADDRESS};
use serde_json::{json, Value};

const ADDR: &str = "eksidentity_service_account_role.app";
const AGENT: &str = "eks-pod-identity-agent";

fn config(env: &Env, mode: &str, cluster: &str, body: &str) -> String {
    format!(
        "{}\nresource \"{ADDRESS}\" \"app\" {{\n  mode = \"{mode}\"\n  cluster_name = \"{cluster}\"\n{body}}}\n",
        env.provider_block("")
    )
}

/// The same with an output of the annotations, as a user feeds them to a kubernetes_service_account.
fn config_with_output(env: &Env, mode: &str, cluster: &str, body: &str) -> String {
    format!(
        "{}output \"annotations\" {{ value = {ADDRESS}.app.service_account_annotations }}\n",
        config(env, mode, cluster, body)
    )
}

fn statements(trust: &Value) -> Vec<Value> {
    match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        s => vec![s.clone()],
    }
}

fn has_pods_statement(trust: &Value) -> bool {
    statements(trust).iter().any(|s| {
        s["Principal"]["Service"] == json!("pods.eks.amazonaws.com")
            && s["Action"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("sts:AssumeRole")) && a.contains(&json!("sts:TagSession")))
    })
}

fn has_federated_statement(trust: &Value) -> bool {
    statements(trust).iter().any(|s| s["Principal"]["Federated"].is_string())
}

/// The associations of a cluster for one service account (describe of each).
fn associations(env: &Env, cluster: &str, ns: &str, sa: &str) -> Vec<eksidentity::aws::Association> {
    let list = env.block(env.aws.list_associations(cluster, Some(ns), Some(sa))).expect("list");
    list.iter().map(|s| env.block(env.aws.describe_association(cluster, &s.id)).unwrap().unwrap()).collect()
}

fn addon(env: &Env, cluster: &str) -> Option<eksidentity::aws::Addon> {
    env.block(env.aws.describe_addon(cluster, AGENT)).expect("DescribeAddon")
}

#[test]
fn emu_pod_identity_lifecycle() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let role = "prod-payments-api";
    let wd = env.workdir();
    let mut body = vec![
        "  namespace = \"payments\"\n".to_string(),
        "  service_account = \"api\"\n".to_string(),
        "  policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n".to_string(),
        "  tags = { app = \"payments\" }\n".to_string(),
    ];
    wd.write(&config(&env, "pod_identity", &cluster, &body.concat()));
    wd.init();
    emu.clear_requests();
    wd.apply().expect_ok();
    println!("AWS calls for one pod_identity create (plan + apply): {:?}", emu.request_counts());

    let trust = env.trust(role);
    assert!(has_pods_statement(&trust) && !has_federated_statement(&trust), "{trust}");
    let r = env.block(env.aws.get_role(role)).unwrap().unwrap();
    let a = associations(&env, &cluster, "payments", "api");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].role_arn, r.arn);
    assert_eq!(a[0].tags.get("eksidentity:wiring").map(String::as_str), Some("prod/payments/api"));
    assert_eq!(a[0].tags.get("app").map(String::as_str), Some("payments"));
    let agent = addon(&env, &cluster).expect("agent addon installed");
    assert_eq!(agent.status, "ACTIVE");
    assert_eq!(agent.tags.get("eksidentity:created-by").map(String::as_str), Some("eksidentity"));
    let res = wd.resource(ADDR);
    assert_eq!(res["association_id"], json!(a[0].id));
    assert_eq!(res["agent_addon_version"], json!(agent.version));
    assert_eq!(res["service_account_annotations"], json!({}));
    assert_eq!(res["oidc_provider_arn"], Value::Null);
    assert_eq!(emu.objects()["counts"]["oidc_providers"], json!(0), "pod identity needs no OIDC provider");
    wd.assert_no_changes();

    // Updates in place; the role stays, the association stays unless its subject changes.
    let unique_id = r.role_id.clone();
    let steps: &[(&str, &str, bool)] = &[
        ("policies", "  policy_arns = [\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"]\n", false),
        ("tags", "  tags = { app = \"payments\", tier = \"gold\" }\n", false),
        ("description", "  role_description = \"payments\"\n", false),
        ("duration", "  max_session_duration = 7200\n", false),
        ("target role", "  target_role_arn = \"arn:aws:iam::210987654321:role/payments-data\"\n", false),
        ("session tags off", "  disable_session_tags = true\n", false),
        (
            "session policy",
            "  session_policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = \"s3:GetObject\", Resource = \"*\" }] })\n",
            false,
        ),
        ("service account", "  service_account = \"worker\"\n", true),
        ("namespace", "  namespace = \"billing\"\n", true),
    ];
    let mut association = a[0].id.clone();
    for (what, line, new_association) in steps {
        let key = line.split('=').next().unwrap().trim();
        body.retain(|l| l.split('=').next().unwrap().trim() != key);
        body.push(line.to_string());
        wd.write(&config(&env, "pod_identity", &cluster, &body.concat()));
        let plan = wd.assert_changes();
        assert!(!plan.contains("must be replaced"), "{what}: replaced:\n{plan}");
        wd.apply().expect_ok();
        wd.assert_no_changes();
        assert_eq!(env.block(env.aws.get_role(role)).unwrap().expect("role").role_id, unique_id, "{what}");
        let now = wd.resource(ADDR)["association_id"].as_str().unwrap().to_string();
        assert_eq!(now != association, *new_association, "{what}: association {association} -> {now}");
        association = now;
    }
    let a = associations(&env, &cluster, "billing", "worker");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].target_role_arn.as_deref(), Some("arn:aws:iam::210987654321:role/payments-data"));
    assert!(a[0].disable_session_tags);
    assert!(a[0].policy.as_deref().is_some_and(|p| p.contains("s3:GetObject")));
    assert_eq!(
        a[0].external_id.as_deref(),
        Some(format!("{}/{}/prod/billing/worker", env.region, env.account_id).as_str())
    );
    assert_eq!(wd.resource(ADDR)["external_id"], json!(a[0].external_id));
    assert!(associations(&env, &cluster, "payments", "api").is_empty(), "the old association was removed");
    assert!(associations(&env, &cluster, "payments", "worker").is_empty());

    // Drift: the association, the trust policy, the addon.
    env.block(env.aws.delete_association(&cluster, &a[0].id)).unwrap();
    let plan = wd.assert_changes();
    assert!(plan.contains("association_id"), "{plan}");
    wd.apply().expect_ok();
    assert_eq!(associations(&env, &cluster, "billing", "worker").len(), 1);
    wd.assert_no_changes();

    let foreign = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.block(env.aws.update_trust_policy(role, foreign)).unwrap();
    wd.assert_changes();
    wd.apply().expect_ok();
    assert!(has_pods_statement(&env.trust(role)));
    wd.assert_no_changes();

    env.block(env.aws.delete_addon(&cluster, AGENT)).unwrap();
    wait_for(|| addon(&env, &cluster).is_none(), "the addon to be deleted");
    let plan = wd.assert_changes();
    assert!(plan.contains("agent_addon_version"), "{plan}");
    wd.apply().expect_ok();
    assert_eq!(addon(&env, &cluster).expect("re-installed").status, "ACTIVE");
    wd.assert_no_changes();

    // Import by ID and by role name.
    wd.state_rm(ADDR);
    wd.import(ADDR, "prod/billing/worker").expect_ok();
    wd.assert_no_changes();
    wd.state_rm(ADDR);
    wd.import(ADDR, role).expect_ok();
    wd.assert_no_changes();

    emu.clear_requests();
    wd.destroy().expect_ok();
    println!("AWS calls for one pod_identity destroy (refresh + destroy): {:?}", emu.request_counts());
    let objects = emu.objects();
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["associations"], json!(0), "{objects}");
    wait_for(|| addon(&env, &cluster).is_none(), "our addon to be removed with the last association");
}

fn wait_for(mut ok: impl FnMut() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ok() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn emu_migration_irsa_both_pod_identity_and_back() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let issuer = emu.oidc(&cluster)["issuer"].as_str().unwrap().trim_start_matches("https://").to_string();
    let provider_arn = format!("arn:aws:iam::{}:oidc-provider/{issuer}", env.account_id);
    let body = "  namespace = \"payments\"\n  service_account = \"api\"\n";
    let wd = env.workdir();
    let mut role_arn: Option<String> = None;
    for (step, mode) in ["irsa", "both", "pod_identity", "both", "irsa"].iter().enumerate() {
        wd.write(&config_with_output(&env, mode, &cluster, body));
        if step == 0 {
            wd.init();
        }
        let out = wd.apply().expect_ok();
        let direct = step > 0 && !out.text().contains("Warning: Direct switch");
        assert!(direct || step == 0, "step {step} ({mode}): no direct switch happens on this path:\n{}", out.text());
        wd.assert_no_changes();
        let res = wd.resource(ADDR);
        let arn = res["role_arn"].as_str().unwrap().to_string();
        assert_eq!(role_arn.get_or_insert(arn.clone()), &arn, "step {step}: the role ARN changed");
        let trust = env.trust("prod-payments-api");
        let irsa = *mode != "pod_identity";
        let pods = *mode != "irsa";
        assert_eq!(has_federated_statement(&trust), irsa, "step {step} ({mode}): {trust}");
        assert_eq!(has_pods_statement(&trust), pods, "step {step} ({mode}): {trust}");
        let a = associations(&env, &cluster, "payments", "api");
        assert_eq!(a.len(), usize::from(pods), "step {step} ({mode}) associations");
        assert_eq!(res["association_id"].is_string(), pods, "step {step}");
        let annotations = wd.outputs()["annotations"].clone();
        let want = if irsa { json!({ "eks.amazonaws.com/role-arn": arn }) } else { json!({}) };
        assert_eq!(annotations, want, "step {step} ({mode}) annotations");
        let provider = env.block(env.aws.get_oidc_provider(&provider_arn)).unwrap();
        assert_eq!(provider.is_some(), irsa, "step {step} ({mode}): our OIDC provider exists only while trusted");
    }
    // A direct switch warns and names the safe path.
    wd.write(&config(&env, "pod_identity", &cluster, body));
    let plan = wd.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.text().contains("Direct switch") && plan.text().contains("\"both\""), "{}", plan.text());
    wd.destroy().expect_ok();
    let objects = emu.objects();
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["oidc_providers"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["associations"], json!(0), "{objects}");
}

#[test]
fn emu_twenty_parallel_wirings_share_one_addon() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    emu.admin("PUT", "/addon-delay", Some(json!({ "seconds": 1.0 })));
    let mut hcl = env.provider_block("");
    for i in 0..20 {
        hcl.push_str(&format!(
            "resource \"{ADDRESS}\" \"w{i}\" {{\n  mode = \"pod_identity\"\n  cluster_name = \"{cluster}\"\n  namespace = \"team{i}\"\n  service_account = \"app\"\n}}\n"
        ));
    }
    let wd = env.workdir();
    wd.write(&hcl);
    wd.init();
    emu.clear_requests();
    wd.apply_with(&["-parallelism=20"]).expect_ok();
    let counts = emu.request_counts();
    assert_eq!(counts.get("eks:CreateAddon"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("eks:CreatePodIdentityAssociation"), Some(&20), "{counts:?}");
    let objects = emu.objects();
    assert_eq!(objects["counts"]["addons"], json!(1), "{objects}");
    assert_eq!(objects["counts"]["associations"], json!(20), "{objects}");
    wd.assert_no_changes();
    wd.destroy().expect_ok();
    let objects = emu.objects();
    assert_eq!(objects["counts"]["associations"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    wait_for(|| addon(&env, &cluster).is_none(), "the addon we created to be removed");
}

/// Regression: every destroyed wiring used to describe the addon and list the cluster's associations; one process
/// now does that at most twice per cluster (learn who needs the addon, confirm nobody does before deleting it).
#[test]
fn emu_destroy_lists_associations_per_cluster_not_per_wiring() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let mut hcl = env.provider_block("");
    for i in 0..12 {
        hcl.push_str(&format!(
            "resource \"{ADDRESS}\" \"w{i}\" {{\n  mode = \"pod_identity\"\n  cluster_name = \"{cluster}\"\n  namespace = \"team{i}\"\n  service_account = \"app\"\n}}\n"
        ));
    }
    let wd = env.workdir();
    wd.write(&hcl);
    wd.init();
    wd.apply().expect_ok();
    emu.clear_requests();
    wd.destroy().expect_ok();
    let counts = emu.request_counts();
    let lists = counts.get("eks:ListPodIdentityAssociations").copied().unwrap_or(0);
    assert!((1..=2).contains(&lists), "{counts:?}");
    // One DescribeAddon refreshing (plan), one deciding about the release (apply).
    assert!(counts.get("eks:DescribeAddon").copied().unwrap_or(0) <= 2, "{counts:?}");
    assert_eq!(counts.get("eks:DeleteAddon"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("eks:DeletePodIdentityAssociation"), Some(&12), "{counts:?}");
    wait_for(|| addon(&env, &cluster).is_none(), "the addon we created to be removed");
    assert_eq!(emu.objects()["counts"]["associations"], json!(0));
}

#[test]
fn emu_preexisting_addon_is_adopted_and_left_alone() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    env.block(env.aws.create_addon(&cluster, AGENT, None, &Default::default())).unwrap();
    wait_for(|| addon(&env, &cluster).is_some_and(|a| a.status == "ACTIVE"), "the addon to be ACTIVE");
    let wd = env.workdir();
    wd.write(&config(&env, "pod_identity", &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.init();
    emu.clear_requests();
    wd.apply().expect_ok();
    assert_eq!(emu.request_counts().get("eks:CreateAddon"), None);
    wd.assert_no_changes();
    // Its version belongs to whoever installed it: asking for another one is a clear error, not an update.
    let other = "v0.0.1-eksbuild.1";
    wd.write(&config(
        &env,
        "pod_identity",
        &cluster,
        &format!("  namespace = \"payments\"\n  service_account = \"api\"\n  agent_addon_version = \"{other}\"\n"),
    ));
    let out = wd.apply().expect_fail();
    assert!(out.text().contains("was not installed by this provider"), "{}", out.text());
    assert_ne!(addon(&env, &cluster).unwrap().version.as_deref(), Some(other));
    wd.write(&config(&env, "pod_identity", &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.apply().expect_ok();
    wd.destroy().expect_ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(addon(&env, &cluster).expect("still installed").status, "ACTIVE", "an addon we did not create stays");
}

#[test]
fn emu_slow_addon_is_waited_for() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    emu.admin("PUT", "/addon-delay", Some(json!({ "seconds": 4.0 })));
    let wd = env.workdir();
    wd.write(&config(&env, "pod_identity", &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.init();
    wd.apply().expect_ok();
    assert_eq!(addon(&env, &cluster).unwrap().status, "ACTIVE");
    let polls = emu.request_counts().get("eks:DescribeAddon").copied().unwrap_or(0);
    assert!(polls >= 2, "the addon was polled while CREATING ({polls} DescribeAddon calls)");
    wd.assert_no_changes();
    wd.destroy().expect_ok();
}

#[test]
fn emu_degraded_addon_times_out_with_a_clear_error_and_consistent_state() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    emu.admin("PUT", &format!("/clusters/{cluster}/addons/{AGENT}/status"), Some(json!({ "status": "DEGRADED" })));
    let wd = env.workdir();
    wd.write(&config(
        &env,
        "pod_identity",
        &cluster,
        "  namespace = \"payments\"\n  service_account = \"api\"\n  timeouts {\n    create = \"6s\"\n  }\n",
    ));
    wd.init();
    let out = wd.apply().expect_fail();
    let text = out.text();
    assert!(text.contains("DEGRADED") && text.contains("timeouts"), "{text}");
    // What exists is in the state (tainted), nothing else exists.
    let res = wd.resource(ADDR);
    assert_eq!(res["role_arn"].as_str().is_some(), env.role_exists("prod-payments-api"));
    assert_eq!(associations(&env, &cluster, "payments", "api").len(), usize::from(res["association_id"].is_string()));
    // Once the addon recovers, apply converges without duplicates, and destroy leaves nothing.
    emu.admin("DELETE", &format!("/clusters/{cluster}/addons/{AGENT}/status"), None);
    wd.apply().expect_ok();
    wd.assert_no_changes();
    assert_eq!(emu.objects()["counts"]["roles"], json!(1));
    assert_eq!(emu.objects()["counts"]["associations"], json!(1));
    wd.destroy().expect_ok();
    assert_eq!(emu.objects()["counts"]["roles"], json!(0));
    assert_eq!(emu.objects()["counts"]["associations"], json!(0));
}

#[test]
fn emu_association_waits_for_iam_to_propagate_the_new_role() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    // EKS does not see a role for 3 s after IAM created it, as happens in AWS.
    emu.admin("PUT", "/iam/propagation-delay", Some(json!({ "seconds": 3 })));
    let wd = env.workdir();
    wd.write(&config(&env, "pod_identity", &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.init();
    wd.apply().expect_ok();
    let hidden = emu.admin("GET", "/iam/propagation-delay", None)["hidden"].as_u64().unwrap_or(0);
    assert!(hidden >= 1, "the role was hidden at least once, and apply retried through it");
    assert_eq!(associations(&env, &cluster, "payments", "api").len(), 1);
    wd.assert_no_changes();
    wd.destroy().expect_ok();
}
