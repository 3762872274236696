//! The acceptance scenarios that run unchanged against the emulator (default) and against a real AWS account
//! and EKS cluster (`EKSIDENTITY_REAL_AWS=1 EKSIDENTITY_CLUSTER_NAME=<cluster>` plus AWS credentials and region:
//! see docs/guides/testing-locally.md). They assert through the AWS SDK only, never through the emulator's admin
//! API, and use names unique to the run so they never touch anything else in the account.

mod harness;

use harness::{Env, ADDRESS};
use serde_json::{json, Value};

const ADDR: &str = "eksidentity_service_account_role.app";

fn config(env: &Env, mode: &str, cluster: &str, namespace: &str, extra: &str) -> String {
    format!(
        "{}\nresource \"{ADDRESS}\" \"app\" {{\n  mode = \"{mode}\"\n  cluster_name = \"{cluster}\"\n  namespace = \"{namespace}\"\n  service_account = \"app\"\n{extra}}}\n",
        env.provider_block("")
    )
}

fn statements(trust: &Value) -> Vec<Value> {
    match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        s => vec![s.clone()],
    }
}

/// The OIDC provider of the cluster's issuer, as it is before the test (it may pre-exist in a real account).
fn provider_arn(env: &Env, cluster: &str) -> String {
    let c = env.block(env.aws.describe_cluster(cluster)).expect("DescribeCluster").expect("the cluster exists");
    let issuer = c.oidc_issuer.expect("the cluster has an OIDC issuer");
    format!("arn:aws:iam::{}:oidc-provider/{}", env.account_id, issuer.trim_start_matches("https://"))
}

#[test]
fn irsa_create_update_drift_import_destroy() {
    let env = Env::start();
    let cluster = env.cluster("portable");
    let ns = format!("eksid-{}", env.run_id);
    let arn = provider_arn(&env, &cluster);
    let provider_before = env.block(env.aws.get_oidc_provider(&arn)).unwrap();
    let wd = env.workdir();
    wd.write(&config(&env, "irsa", &cluster, &ns, "  policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n"));
    wd.init();
    wd.apply().expect_ok();
    let res = wd.resource(ADDR);
    let role = res["role_name"].as_str().unwrap().to_string();
    let trust = env.trust(&role);
    let st = statements(&trust);
    assert_eq!(st.len(), 1, "{trust}");
    assert_eq!(st[0]["Principal"]["Federated"], json!(arn));
    let host_path = arn.split("oidc-provider/").nth(1).unwrap();
    assert_eq!(
        st[0]["Condition"]["StringEquals"][format!("{host_path}:sub")],
        json!(format!("system:serviceaccount:{ns}:app"))
    );
    let thumbprint = res["oidc_thumbprint"].as_str().unwrap_or_default();
    assert!(thumbprint.len() == 40 && thumbprint.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(env.attached(&role), vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    wd.assert_no_changes();

    wd.write(&config(&env, "irsa", &cluster, &ns, "  policy_arns = []\n  role_description = \"updated\"\n"));
    wd.apply().expect_ok();
    wd.assert_no_changes();
    assert!(env.attached(&role).is_empty());

    let foreign = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.block(env.aws.update_trust_policy(&role, foreign)).unwrap();
    wd.assert_changes();
    wd.apply().expect_ok();
    wd.assert_no_changes();

    wd.state_rm(ADDR);
    wd.import(ADDR, &format!("{cluster}/{ns}/app")).expect_ok();
    wd.assert_no_changes();

    wd.destroy().expect_ok();
    assert!(!env.role_exists(&role));
    let provider_after = env.block(env.aws.get_oidc_provider(&arn)).unwrap();
    assert_eq!(provider_after.is_some(), provider_before.is_some(), "a pre-existing provider stays, ours goes");
}

#[test]
fn pod_identity_and_migration_keep_the_role() {
    let env = Env::start();
    let cluster = env.cluster("portable");
    let ns = format!("eksid-{}", env.run_id);
    let addon_before = env.block(env.aws.describe_addon(&cluster, "eks-pod-identity-agent")).unwrap();
    let wd = env.workdir();
    let mut role_arn = None;
    for (i, mode) in ["pod_identity", "both", "irsa", "both", "pod_identity"].iter().enumerate() {
        wd.write(&config(&env, mode, &cluster, &ns, ""));
        if i == 0 {
            wd.init();
        }
        wd.apply().expect_ok();
        wd.assert_no_changes();
        let res = wd.resource(ADDR);
        let arn = res["role_arn"].as_str().unwrap().to_string();
        assert_eq!(role_arn.get_or_insert(arn.clone()), &arn, "{mode}: the role ARN changed");
        let list = env.block(env.aws.list_associations(&cluster, Some(&ns), Some("app"))).unwrap();
        assert_eq!(list.len(), usize::from(*mode != "irsa"), "{mode}: associations");
        let annotated = res["service_account_annotations"].get("eks.amazonaws.com/role-arn").is_some();
        assert_eq!(annotated, *mode != "pod_identity", "{mode}: annotation");
    }
    wd.destroy().expect_ok();
    assert!(env.block(env.aws.list_associations(&cluster, Some(&ns), Some("app"))).unwrap().is_empty());
    let role = role_arn.unwrap().rsplit('/').next().unwrap().to_string();
    assert!(!env.role_exists(&role));
    if addon_before.is_some() {
        assert!(env.block(env.aws.describe_addon(&cluster, "eks-pod-identity-agent")).unwrap().is_some());
    }
}
