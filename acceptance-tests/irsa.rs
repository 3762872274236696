//! IRSA mode end to end: OIDC provider with the right thumbprint, federated trust, policies, updates, drift,
//! import, destroy without leaks, shared providers under parallel applies.

mod harness;

use harness::{Env, ADDRESS};
use serde_json::{json, Value};

const ADDR: &str = "eksidentity_service_account_role.app";

fn wiring(env: &Env, cluster: &str, body: &str) -> String {
    format!(
        "{}\nresource \"{ADDRESS}\" \"app\" {{\n  mode = \"irsa\"\n  cluster_name = \"{cluster}\"\n{body}}}\n",
        env.provider_block("  default_tags = { managed-by = \"acceptance\" }\n")
    )
}

/// The single federated statement of an IRSA trust policy.
fn federated_statement(trust: &Value) -> Value {
    let statements = match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        s => vec![s.clone()],
    };
    let fed: Vec<Value> = statements.into_iter().filter(|s| s["Principal"]["Federated"].is_string()).collect();
    assert_eq!(fed.len(), 1, "expected one federated statement: {trust}");
    fed[0].clone()
}

#[test]
fn emu_irsa_lifecycle() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let oidc = emu.oidc(&cluster);
    let issuer = oidc["issuer"].as_str().unwrap().to_string();
    let host_path = issuer.trim_start_matches("https://").to_string();
    let expected_thumbprint = oidc["thumbprint"].as_str().unwrap().to_string();
    let role = "prod-payments-api";
    let provider_arn = format!("arn:aws:iam::{}:oidc-provider/{host_path}", env.account_id);

    let wd = env.workdir();
    wd.write(&wiring(
        &env,
        &cluster,
        r#"  namespace = "payments"
  service_account = "api"
  role_description = "payments API"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  inline_policies = {
    s3 = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
  }
  tags = { app = "payments" }
"#,
    ));
    wd.init();
    emu.clear_requests();
    wd.apply().expect_ok();
    println!("AWS calls for one irsa create (plan + apply): {:?}", emu.request_counts());

    // IAM has exactly what we asked for.
    let trust = env.trust(role);
    let st = federated_statement(&trust);
    assert_eq!(st["Principal"]["Federated"], json!(provider_arn));
    assert_eq!(st["Action"], json!("sts:AssumeRoleWithWebIdentity"));
    assert_eq!(st["Condition"]["StringEquals"][format!("{host_path}:sub")], json!("system:serviceaccount:payments:api"));
    assert_eq!(st["Condition"]["StringEquals"][format!("{host_path}:aud")], json!("sts.amazonaws.com"));
    assert!(st["Condition"].get("StringLike").is_none());
    let provider = env.block(env.aws.get_oidc_provider(&provider_arn)).unwrap().expect("OIDC provider created");
    assert_eq!(provider.thumbprints, vec![expected_thumbprint.clone()], "thumbprint of the top intermediate CA");
    assert_eq!(provider.client_ids, vec!["sts.amazonaws.com".to_string()]);
    assert_eq!(provider.tags.get("eksidentity:created-by").map(String::as_str), Some("eksidentity"));
    let r = env.block(env.aws.get_role(role)).unwrap().unwrap();
    assert_eq!(r.tags.get("eksidentity:wiring").map(String::as_str), Some("prod/payments/api"));
    assert_eq!(r.tags.get("app").map(String::as_str), Some("payments"));
    assert_eq!(r.tags.get("managed-by").map(String::as_str), Some("acceptance"));
    assert_eq!(r.description.as_deref(), Some("payments API"));
    assert_eq!(env.attached(role), vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    assert!(env.block(env.aws.get_inline_policy(role, "s3")).unwrap().is_some());

    // Terraform's view matches, and a second plan is empty.
    let res = wd.resource(ADDR);
    assert_eq!(res["oidc_thumbprint"], json!(expected_thumbprint));
    assert_eq!(res["role_arn"], json!(r.arn));
    assert_eq!(res["service_account_annotations"], json!({ "eks.amazonaws.com/role-arn": r.arn }));
    assert_eq!(res["id"], json!("prod/payments/api"));
    wd.assert_no_changes();

    // Update every updatable attribute in place; the role stays the same object.
    let unique_id = r.role_id.clone();
    let updates: &[(&str, &str)] = &[
        ("description", "  role_description = \"payments API v2\"\n"),
        ("policies", "  policy_arns = [\"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\"]\n"),
        ("boundary", "  permissions_boundary = \"arn:aws:iam::aws:policy/PowerUserAccess\"\n"),
        ("duration", "  max_session_duration = 7200\n"),
        ("audience", "  audience = \"sts.example.com\"\n"),
        ("tags", "  tags = { app = \"payments\", tier = \"gold\" }\n"),
        ("inline", "  inline_policies = {}\n"),
        ("service account", "  service_account = \"worker\"\n"),
        ("namespace", "  namespace = \"billing\"\n"),
    ];
    let mut body: Vec<String> = vec![
        "  namespace = \"payments\"\n".into(),
        "  service_account = \"api\"\n".into(),
        "  role_description = \"payments API\"\n".into(),
        "  policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n".into(),
        "  tags = { app = \"payments\" }\n".into(),
    ];
    for (what, line) in updates {
        let key = line.split('=').next().unwrap().trim();
        body.retain(|l| l.split('=').next().unwrap().trim() != key);
        body.push(line.to_string());
        wd.write(&wiring(&env, &cluster, &body.concat()));
        let plan = wd.assert_changes();
        assert!(plan.contains("updated in-place") && !plan.contains("must be replaced"), "{what}: not an in-place update:\n{plan}");
        wd.apply().expect_ok();
        wd.assert_no_changes();
        let now = env.block(env.aws.get_role(role)).unwrap().expect("role still exists");
        assert_eq!(now.role_id, unique_id, "{what}: the role was replaced");
    }
    let r = env.block(env.aws.get_role(role)).unwrap().unwrap();
    assert_eq!(r.description.as_deref(), Some("payments API v2"));
    assert_eq!(r.max_session_duration, 7200);
    assert_eq!(r.permissions_boundary.as_deref(), Some("arn:aws:iam::aws:policy/PowerUserAccess"));
    assert_eq!(r.tags.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(env.attached(role), vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
    assert!(env.block(env.aws.list_inline_policy_names(role)).unwrap().is_empty());
    let st = federated_statement(&env.trust(role));
    assert_eq!(st["Condition"]["StringEquals"][format!("{host_path}:sub")], json!("system:serviceaccount:billing:worker"));
    assert_eq!(st["Condition"]["StringEquals"][format!("{host_path}:aud")], json!("sts.example.com"));
    let provider = env.block(env.aws.get_oidc_provider(&provider_arn)).unwrap().unwrap();
    assert!(provider.client_ids.contains(&"sts.example.com".to_string()));
    assert_eq!(
        wd.resource(ADDR)["service_account_annotations"],
        json!({ "eks.amazonaws.com/role-arn": r.arn, "eks.amazonaws.com/audience": "sts.example.com" })
    );

    // Drift, one sub-object at a time: each shows as a change and apply repairs exactly that.
    let want_trust = env.trust(role);
    env.block(env.aws.update_trust_policy(role, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}")).unwrap();
    let plan = wd.assert_changes();
    assert!(plan.contains("trust_policy"), "{plan}");
    wd.apply().expect_ok();
    assert!(eksidentity::policy::equivalent(&env.trust(role).to_string(), &want_trust.to_string()));
    wd.assert_no_changes();

    env.block(env.aws.detach_policy(role, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")).unwrap();
    let plan = wd.assert_changes();
    assert!(plan.contains("policy_arns"), "{plan}");
    wd.apply().expect_ok();
    assert_eq!(env.attached(role), vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
    wd.assert_no_changes();

    env.block(env.aws.update_oidc_thumbprints(&provider_arn, &["0".repeat(40)])).unwrap();
    let plan = wd.assert_changes();
    assert!(plan.contains("oidc_thumbprint"), "{plan}");
    wd.apply().expect_ok();
    let provider = env.block(env.aws.get_oidc_provider(&provider_arn)).unwrap().unwrap();
    assert_eq!(provider.thumbprints, vec![expected_thumbprint.clone()]);
    wd.assert_no_changes();

    env.block(env.aws.delete_oidc_provider(&provider_arn)).unwrap();
    let plan = wd.assert_changes();
    assert!(plan.contains("oidc_provider_arn"), "{plan}");
    wd.apply().expect_ok();
    assert!(env.block(env.aws.get_oidc_provider(&provider_arn)).unwrap().is_some());
    wd.assert_no_changes();

    // The issuer's CA chain rotates: the thumbprint follows.
    let rotated = emu.admin("POST", "/oidc/rotate", Some(json!({ "target": "all" })));
    let new_thumbprint = emu.oidc(&cluster)["thumbprint"].as_str().unwrap().to_string();
    assert_ne!(new_thumbprint, expected_thumbprint, "rotation changed nothing: {rotated}");
    let plan = wd.assert_changes();
    assert!(plan.contains(&new_thumbprint), "{plan}");
    wd.apply().expect_ok();
    let provider = env.block(env.aws.get_oidc_provider(&provider_arn)).unwrap().unwrap();
    assert_eq!(provider.thumbprints, vec![new_thumbprint]);
    wd.assert_no_changes();

    // The role is deleted behind Terraform's back: the plan re-creates it. A derived name is derived again from
    // the current namespace and service account (it only stayed put while the role existed).
    delete_role_everywhere(&env, role);
    let plan = wd.assert_changes();
    assert!(plan.contains("will be created"), "{plan}");
    wd.apply().expect_ok();
    let role = "prod-billing-worker";
    assert!(env.role_exists(role));
    assert_eq!(wd.resource(ADDR)["role_name"], json!(role));
    wd.assert_no_changes();

    // Import: forget it, import it by its ID, and the plan is empty; the same by role name.
    wd.state_rm(ADDR);
    wd.import(ADDR, "prod/billing/worker").expect_ok();
    wd.assert_no_changes();
    wd.state_rm(ADDR);
    wd.import(ADDR, role).expect_ok();
    wd.assert_no_changes();

    // Destroy leaves nothing we created.
    emu.clear_requests();
    wd.destroy().expect_ok();
    println!("AWS calls for one irsa destroy (refresh + destroy): {:?}", emu.request_counts());
    let objects = emu.objects();
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["oidc_providers"], json!(0), "{objects}");
}

/// Detaches what IAM would refuse to delete the role with, then deletes it (what a person does by hand).
fn delete_role_everywhere(env: &Env, role: &str) {
    for arn in env.attached(role) {
        env.block(env.aws.detach_policy(role, &arn)).unwrap();
    }
    for p in env.block(env.aws.list_inline_policy_names(role)).unwrap() {
        env.block(env.aws.delete_inline_policy(role, &p)).unwrap();
    }
    env.block(env.aws.delete_role(role)).unwrap();
}
