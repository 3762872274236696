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
    assert_eq!(
        st["Condition"]["StringEquals"][format!("{host_path}:sub")],
        json!("system:serviceaccount:payments:api")
    );
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
        assert!(
            plan.contains("updated in-place") && !plan.contains("must be replaced"),
            "{what}: not an in-place update:\n{plan}"
        );
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
    assert_eq!(
        st["Condition"]["StringEquals"][format!("{host_path}:sub")],
        json!("system:serviceaccount:billing:worker")
    );
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

/// `n` wirings on `cluster` in one configuration, named app0..app{n-1}.
fn many(env: &Env, clusters: &[&str], per_cluster: usize) -> String {
    let mut hcl = env.provider_block("");
    for c in clusters {
        for i in 0..per_cluster {
            hcl.push_str(&format!(
                "resource \"{ADDRESS}\" \"{c}_{i}\" {{\n  mode = \"irsa\"\n  cluster_name = \"{c}\"\n  namespace = \"team{i}\"\n  service_account = \"app\"\n}}\n"
            ));
        }
    }
    hcl
}

#[test]
fn emu_irsa_parallel_wirings_share_one_provider_per_issuer() {
    let env = Env::start();
    let emu = env.emu();
    let a = env.cluster("alpha");
    let b = env.cluster("beta");
    let wd = env.workdir();
    wd.write(&many(&env, &[&a, &b], 10));
    wd.init();
    emu.clear_requests();
    wd.apply_with(&["-parallelism=10"]).expect_ok();
    let counts = emu.request_counts();
    assert_eq!(counts.get("iam:CreateOpenIDConnectProvider"), Some(&2), "one provider per issuer: {counts:?}");
    assert_eq!(counts.get("iam:CreateRole"), Some(&20), "{counts:?}");
    let objects = emu.objects();
    assert_eq!(objects["counts"]["oidc_providers"], json!(2), "{objects}");
    assert_eq!(objects["counts"]["roles"], json!(20), "{objects}");
    wd.assert_no_changes();
    wd.destroy().expect_ok();
    let objects = emu.objects();
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["oidc_providers"], json!(0), "{objects}");
}

/// Regression: every destroyed wiring used to list all roles of the account to see whether the OIDC provider was
/// still trusted (N wirings: N ListRoles, each as long as the account). One process now scans at most twice per
/// provider: to learn who trusts it, and to confirm nobody does before deleting it.
#[test]
fn emu_irsa_destroy_lists_roles_per_provider_not_per_wiring() {
    let env = Env::start();
    let emu = env.emu();
    let a = env.cluster("alpha");
    let b = env.cluster("beta");
    let wd = env.workdir();
    wd.write(&many(&env, &[&a, &b], 8));
    wd.init();
    wd.apply().expect_ok();
    emu.clear_requests();
    wd.destroy().expect_ok();
    let counts = emu.request_counts();
    let list_roles = counts.get("iam:ListRoles").copied().unwrap_or(0);
    assert!((1..=4).contains(&list_roles), "two providers, at most two scans each: {counts:?}");
    assert_eq!(counts.get("iam:DeleteOpenIDConnectProvider"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("iam:DeleteRole"), Some(&16), "{counts:?}");
    let objects = emu.objects();
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    assert_eq!(objects["counts"]["oidc_providers"], json!(0), "{objects}");
}

/// A provider we created stays while a role outside this configuration still trusts it; once that role is gone,
/// the next destroy of a wiring on that issuer removes it.
#[test]
fn emu_irsa_destroy_keeps_a_provider_another_role_trusts() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let wd = env.workdir();
    wd.write(&many(&env, &[&cluster], 3));
    wd.init();
    wd.apply().expect_ok();
    let arn = emu.objects()["oidc_providers"][0]["arn"].as_str().expect("the provider we created").to_string();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{arn}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
    );
    env.block(env.aws.create_role(&eksidentity::aws::NewRole {
        name: "hand-made",
        path: "/",
        trust_policy: &trust,
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: &Default::default(),
    }))
    .unwrap();
    wd.destroy().expect_ok();
    assert!(env.block(env.aws.get_oidc_provider(&arn)).unwrap().is_some(), "still trusted by hand-made");
    assert_eq!(emu.objects()["counts"]["roles"], json!(1));

    env.block(env.aws.delete_role("hand-made")).unwrap();
    wd.apply().expect_ok();
    wd.destroy().expect_ok();
    assert!(env.block(env.aws.get_oidc_provider(&arn)).unwrap().is_none(), "nothing trusts it any more");
}

#[test]
fn emu_irsa_adopts_an_existing_provider_and_leaves_it_on_destroy() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let oidc = emu.oidc(&cluster);
    let issuer = oidc["issuer"].as_str().unwrap();
    // Someone else's provider: other audience, no eksidentity tag, a stale thumbprint.
    let arn = env
        .block(env.aws.create_oidc_provider(
            issuer,
            &["other-audience".to_string()],
            &["1".repeat(40)],
            &Default::default(),
        ))
        .expect("create provider");
    let wd = env.workdir();
    wd.write(&wiring(&env, &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.init();
    wd.apply().expect_ok();
    wd.assert_no_changes();
    let p = env.block(env.aws.get_oidc_provider(&arn)).unwrap().expect("still there");
    assert!(p.client_ids.contains(&"sts.amazonaws.com".to_string()), "our audience was added: {p:?}");
    assert!(p.client_ids.contains(&"other-audience".to_string()));
    assert_eq!(p.thumbprints, vec!["1".repeat(40)], "we never change thumbprints of a provider we did not create");
    assert!(!p.tags.contains_key("eksidentity:created-by"));
    wd.destroy().expect_ok();
    assert!(
        env.block(env.aws.get_oidc_provider(&arn)).unwrap().is_some(),
        "a provider we did not create is never deleted"
    );
    assert_eq!(emu.objects()["counts"]["roles"], json!(0));
}

#[test]
fn emu_irsa_crash_leftover_role_is_adopted_only_with_our_tag() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
    // A role an interrupted apply left behind: our wiring tag, an attachment we did not ask for.
    let tags = std::collections::BTreeMap::from([("eksidentity:wiring".to_string(), "prod/payments/api".to_string())]);
    env.block(env.aws.create_role(&eksidentity::aws::NewRole {
        name: "prod-payments-api",
        path: "/",
        trust_policy: trust,
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: &tags,
    }))
    .unwrap();
    env.block(env.aws.attach_policy("prod-payments-api", "arn:aws:iam::aws:policy/ReadOnlyAccess")).unwrap();
    let wd = env.workdir();
    wd.write(&wiring(&env, &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n  policy_arns = []\n"));
    wd.init();
    wd.apply().expect_ok();
    assert!(env.attached("prod-payments-api").is_empty(), "policy_arns = [] is exclusive");
    assert!(env.trust("prod-payments-api").to_string().contains("AssumeRoleWithWebIdentity"), "trust converged");
    wd.assert_no_changes();
    assert_eq!(emu.objects()["counts"]["roles"], json!(1), "no duplicate role");

    // A same-named role without our tag is never taken over, and nothing changes.
    env.block(env.aws.create_role(&eksidentity::aws::NewRole {
        name: "prod-payments-web",
        path: "/",
        trust_policy: trust,
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: &Default::default(),
    }))
    .unwrap();
    let wd2 = env.workdir();
    wd2.write(&wiring(&env, &cluster, "  namespace = \"payments\"\n  service_account = \"web\"\n"));
    wd2.init();
    let out = wd2.apply().expect_fail();
    assert!(out.text().contains("prod-payments-web") && out.text().contains("already exists"), "{}", out.text());
    assert!(wd2.state_list().is_empty(), "nothing recorded for a role we did not create");
    assert_eq!(env.trust("prod-payments-web").to_string(), trust.replace(' ', ""));
    wd.destroy().expect_ok();
}

#[test]
fn emu_irsa_without_a_cluster_name_and_with_a_wildcard() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("external");
    let issuer = emu.oidc(&cluster)["issuer"].as_str().unwrap().to_string();
    let host_path = issuer.trim_start_matches("https://").to_string();
    let wd = env.workdir();
    wd.write(&format!(
        "{}\nresource \"{ADDRESS}\" \"app\" {{\n  mode = \"irsa\"\n  oidc_issuer_url = \"{issuer}\"\n  namespace = \"jobs\"\n  service_account = \"*\"\n}}\n",
        env.provider_block("")
    ));
    wd.init();
    wd.apply().expect_ok();
    let res = wd.resource(ADDR);
    let role = res["role_name"].as_str().unwrap().to_string();
    assert!(role.starts_with("irsa-") && role.ends_with("-jobs-all"), "{role}");
    assert_eq!(res["id"], json!(format!("{host_path}/jobs/*")));
    let st = federated_statement(&env.trust(&role));
    assert_eq!(st["Condition"]["StringLike"][format!("{host_path}:sub")], json!("system:serviceaccount:jobs:*"));
    assert_eq!(st["Condition"]["StringEquals"][format!("{host_path}:aud")], json!("sts.amazonaws.com"));
    assert!(st["Condition"]["StringEquals"].get(format!("{host_path}:sub")).is_none());
    wd.assert_no_changes();
    wd.state_rm(ADDR);
    wd.import(ADDR, &format!("{host_path}/jobs/*")).expect_ok();
    wd.assert_no_changes();
    wd.destroy().expect_ok();
    assert_eq!(emu.objects()["counts"]["roles"], json!(0));
    assert_eq!(emu.objects()["counts"]["oidc_providers"], json!(0));
}

#[test]
fn emu_irsa_import_of_a_hand_made_role_by_name() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    env.cluster("other");
    let issuer = emu.oidc(&cluster)["issuer"].as_str().unwrap().to_string();
    // A role made by hand for IRSA: custom name, no eksidentity tag, the provider made elsewhere.
    let trust = eksidentity::policy::trust_policy(&[eksidentity::policy::irsa_statement(
        "aws",
        &env.account_id,
        issuer.trim_start_matches("https://"),
        "payments",
        "api",
        "sts.amazonaws.com",
    )]);
    let thumbprint = emu.oidc(&cluster)["thumbprint"].as_str().unwrap().to_string();
    env.block(env.aws.create_oidc_provider(&issuer, &["sts.amazonaws.com".into()], &[thumbprint], &Default::default()))
        .unwrap();
    env.block(env.aws.create_role(&eksidentity::aws::NewRole {
        name: "payments-api-irsa",
        path: "/",
        trust_policy: &trust,
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: &Default::default(),
    }))
    .unwrap();
    let wd = env.workdir();
    wd.write(&wiring(
        &env,
        &cluster,
        "  namespace = \"payments\"\n  service_account = \"api\"\n  role_name = \"payments-api-irsa\"\n  tags = {}\n",
    ));
    wd.init();
    wd.import(ADDR, "payments-api-irsa").expect_ok();
    assert_eq!(wd.resource(ADDR)["cluster_name"], json!(cluster), "the cluster is found from the trusted issuer");
    // Only the tags managed by this configuration differ (default tags are added); no replacement.
    let plan = wd.assert_changes();
    assert!(!plan.contains("must be replaced"), "{plan}");
    wd.apply().expect_ok();
    wd.assert_no_changes();
}

#[test]
fn emu_irsa_jwks_on_another_host_registers_both_thumbprints() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = "split";
    emu.admin("POST", "/clusters", Some(json!({ "name": cluster, "jwks_separate_host": true })));
    let oidc = emu.oidc(cluster);
    let jwks = oidc["jwks_host_thumbprint"].as_str().unwrap().to_string();
    let issuer_host = oidc["issuer_host_thumbprint"].as_str().unwrap().to_string();
    assert_ne!(jwks, issuer_host, "the emulator serves two chains: {oidc}");
    let wd = env.workdir();
    wd.write(&wiring(&env, cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.init();
    wd.apply().expect_ok();
    let res = wd.resource(ADDR);
    assert_eq!(res["oidc_thumbprint"], json!(jwks), "the jwks_uri host's thumbprint comes first, as AWS documents");
    assert_eq!(res["oidc_thumbprint_list"], json!([jwks, issuer_host]));
    let arn = res["oidc_provider_arn"].as_str().unwrap();
    assert_eq!(env.block(env.aws.get_oidc_provider(arn)).unwrap().unwrap().thumbprints, vec![jwks, issuer_host]);
    wd.assert_no_changes();
    wd.destroy().expect_ok();
}

#[test]
fn emu_irsa_failed_create_gives_back_the_provider_it_made() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    // The credentials may create OIDC providers but not roles: nothing of the wiring can exist.
    emu.add_fault(json!({
        "kind": "error", "service": "iam", "operation": "CreateRole", "code": "AccessDenied",
        "message": "not allowed", "status": 403, "every_after": true
    }));
    let wd = env.workdir();
    wd.write(&wiring(&env, &cluster, "  namespace = \"payments\"\n  service_account = \"api\"\n"));
    wd.init();
    let out = wd.apply().expect_fail();
    assert!(out.text().contains("CreateRole") && out.text().contains("AccessDenied"), "{}", out.text());
    assert!(wd.state_list().is_empty());
    let objects = emu.objects();
    assert_eq!(objects["counts"]["oidc_providers"], json!(0), "the provider this apply created is gone: {objects}");
    assert_eq!(objects["counts"]["roles"], json!(0), "{objects}");
    // Once allowed, the same apply succeeds.
    emu.clear_faults();
    wd.apply().expect_ok();
    wd.assert_no_changes();
    wd.destroy().expect_ok();
}
