//! Table tests for planning: what is known at plan time, what stays, and that a re-plan of an applied wiring
//! changes nothing.

use super::*;
use crate::wiring::schema::resource_schema;

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF";

fn config(attrs: &[(&str, Value)]) -> Value {
    let mut v = Value::null_object(&resource_schema().value_type());
    if let Value::Object(m) = &mut v {
        for (k, x) in attrs {
            assert!(m.contains_key(*k), "no attribute {k}");
            m.insert(k.to_string(), x.clone());
        }
    }
    v
}

fn facts() -> PlanFacts {
    PlanFacts {
        account: Some(("aws".into(), ACCOUNT.into())),
        issuer_url: Some(ISSUER.into()),
        thumbprints: Some(vec!["a".repeat(40)]),
    }
}

fn run(cfg: &Value, prior: Option<&State>, facts: &PlanFacts) -> PlanOutput {
    plan(cfg, &Config::from_value(cfg), prior, facts, &StringMap::from([("team".to_string(), "platform".to_string())]))
}

fn get<'a>(out: &'a PlanOutput, name: &str) -> &'a Value {
    out.planned.get(name).unwrap_or_else(|| panic!("planned value has no {name}"))
}

fn base(mode: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("mode", Value::string(mode)),
        ("cluster_name", Value::string("prod")),
        ("namespace", Value::string("payments")),
        ("service_account", Value::string("api")),
    ]
}

/// What apply would store: the planned value with every unknown filled the way AWS would fill it.
fn applied(out: &PlanOutput) -> State {
    let mut v = out.planned.clone();
    if let Value::Object(m) = &mut v {
        let fill = [
            ("role_unique_id", Value::string("AROAEXAMPLE")),
            ("association_id", Value::string("a-123")),
            ("association_arn", Value::string("arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-123")),
            ("external_id", Value::Null),
            ("agent_addon_version", Value::string("v1.3.4-eksbuild.1")),
            ("policy_arns", Value::Set(vec![])),
            ("inline_policies", Value::Map(Default::default())),
        ];
        for (k, x) in fill {
            if m.get(k).is_some_and(Value::is_unknown) {
                m.insert(k.to_string(), x);
            }
        }
    }
    assert!(v.is_wholly_known(), "still unknown after fill: {:?}", v.unknown_paths());
    State::from_value(&v).expect("planned value reads as state")
}

#[test]
fn irsa_create_knows_arns_trust_and_annotations() {
    let out = run(&config(&base("irsa")), None, &facts());
    assert!(out.diagnostics.is_empty());
    let role_arn = "arn:aws:iam::111122223333:role/prod-payments-api";
    assert_eq!(get(&out, "role_arn"), &Value::string(role_arn));
    assert_eq!(get(&out, "role_name"), &Value::string("prod-payments-api"));
    assert_eq!(get(&out, "id"), &Value::string("prod/payments/api"));
    assert_eq!(
        get(&out, "oidc_provider_arn"),
        &Value::string("arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF")
    );
    let trust = get(&out, "trust_policy").as_str().expect("trust policy known");
    assert!(trust.contains("sts:AssumeRoleWithWebIdentity") && trust.contains("system:serviceaccount:payments:api"));
    assert!(!trust.contains("pods.eks.amazonaws.com"));
    assert_eq!(
        get(&out, "service_account_annotations"),
        &Value::Map([("eks.amazonaws.com/role-arn".to_string(), Value::string(role_arn))].into())
    );
    assert_eq!(get(&out, "audience"), &Value::string("sts.amazonaws.com"));
    assert_eq!(get(&out, "oidc_issuer_url"), &Value::string(ISSUER));
    for null in ["association_id", "association_arn", "external_id", "agent_addon_version"] {
        assert_eq!(get(&out, null), &Value::Null, "{null}");
    }
    assert!(get(&out, "role_unique_id").is_unknown());
    assert!(get(&out, "policy_arns").is_unknown(), "an adopted role may already have attachments");
    assert_eq!(get(&out, "tags_all"), &Value::Map([("team".to_string(), Value::string("platform"))].into()));
}

#[test]
fn pod_identity_create_plans_association_and_addon_unknown() {
    let out = run(&config(&base("pod_identity")), None, &facts());
    for unknown in ["association_id", "association_arn", "external_id", "agent_addon_version", "role_unique_id"] {
        assert!(get(&out, unknown).is_unknown(), "{unknown}");
    }
    for null in ["oidc_provider_arn", "oidc_thumbprint", "oidc_issuer_url", "audience"] {
        assert_eq!(get(&out, null), &Value::Null, "{null}");
    }
    assert_eq!(get(&out, "service_account_annotations"), &Value::Map(Default::default()));
    let trust = get(&out, "trust_policy").as_str().unwrap();
    assert!(trust.contains("pods.eks.amazonaws.com") && trust.contains("sts:TagSession"));
    assert!(!trust.contains("AssumeRoleWithWebIdentity"));
}

#[test]
fn replan_after_apply_changes_nothing_in_every_mode() {
    for mode in ["irsa", "pod_identity", "both"] {
        let mut attrs = base(mode);
        attrs.push(("tags", Value::Map([("app".to_string(), Value::string("api"))].into())));
        attrs.push(("policy_arns", Value::Set(vec![Value::string("arn:aws:iam::aws:policy/ReadOnlyAccess")])));
        let cfg = config(&attrs);
        let first = run(&cfg, None, &facts());
        let mut state = applied(&first);
        state.policy_arns = Some(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into());
        let second = run(&cfg, Some(&state), &facts());
        assert!(second.diagnostics.is_empty(), "{mode}: {:?}", second.diagnostics);
        let planned = State::from_value(&second.planned).expect("re-plan is wholly known");
        assert_eq!(planned, state, "{mode}: re-plan differs from the applied state");
    }
}

#[test]
fn namespace_change_keeps_the_derived_role_name() {
    let cfg = config(&base("irsa"));
    let state = applied(&run(&cfg, None, &facts()));
    let mut attrs = base("irsa");
    attrs[2] = ("namespace", Value::string("billing"));
    let out = run(&config(&attrs), Some(&state), &facts());
    assert_eq!(get(&out, "role_name"), &Value::string("prod-payments-api"));
    assert_eq!(get(&out, "role_arn"), &Value::string(state.role_arn.clone().unwrap()));
    assert!(get(&out, "trust_policy").as_str().unwrap().contains("system:serviceaccount:billing:api"));
    assert_eq!(get(&out, "id"), &Value::string("prod/billing/api"));
}

#[test]
fn service_account_change_remakes_the_association_only() {
    let state = applied(&run(&config(&base("pod_identity")), None, &facts()));
    let mut attrs = base("pod_identity");
    attrs[3] = ("service_account", Value::string("worker"));
    let out = run(&config(&attrs), Some(&state), &facts());
    assert!(get(&out, "association_id").is_unknown());
    assert_eq!(get(&out, "role_arn"), &Value::string(state.role_arn.clone().unwrap()));
    assert_eq!(get(&out, "role_unique_id"), &Value::string("AROAEXAMPLE"));
    assert_eq!(get(&out, "agent_addon_version"), &Value::string("v1.3.4-eksbuild.1"));
}

#[test]
fn mode_switches_keep_the_role_and_warn_on_direct_switch() {
    let state = applied(&run(&config(&base("irsa")), None, &facts()));
    let to_both = run(&config(&base("both")), Some(&state), &facts());
    assert!(to_both.diagnostics.is_empty());
    assert_eq!(get(&to_both, "role_arn"), &Value::string(state.role_arn.clone().unwrap()));
    assert!(get(&to_both, "association_id").is_unknown());
    assert!(
        matches!(get(&to_both, "service_account_annotations"), Value::Map(m) if m.contains_key("eks.amazonaws.com/role-arn"))
    );

    let direct = run(&config(&base("pod_identity")), Some(&state), &facts());
    assert_eq!(direct.diagnostics.len(), 1);
    assert_eq!(direct.diagnostics[0].severity, crate::diag::Severity::Warning);
    assert!(direct.diagnostics[0].detail.contains("\"both\""));
    assert_eq!(direct.diagnostics[0].path, Some(AttributePath::attr("mode")));
}

#[test]
fn unknown_inputs_make_dependent_values_unknown_but_never_wrong() {
    let mut attrs = base("irsa");
    attrs[2] = ("namespace", Value::unknown());
    let out = run(&config(&attrs), None, &facts());
    for unknown in ["role_name", "role_arn", "trust_policy", "id", "service_account_annotations"] {
        assert!(get(&out, unknown).is_unknown(), "{unknown}");
    }
    assert!(get(&out, "namespace").is_unknown());
    assert!(get(&out, "oidc_provider_arn").as_str().is_some(), "the provider ARN does not depend on the namespace");

    let no_account = PlanFacts { account: None, ..facts() };
    let out = run(&config(&base("irsa")), None, &no_account);
    assert!(get(&out, "role_arn").is_unknown() && get(&out, "trust_policy").is_unknown());

    let no_thumbprint = PlanFacts { thumbprints: None, ..facts() };
    let out = run(&config(&base("irsa")), None, &no_thumbprint);
    assert!(get(&out, "oidc_thumbprint").is_unknown());
}

#[test]
fn drift_in_the_prior_shows_as_a_repair() {
    let cfg = config(&base("both"));
    let mut state = applied(&run(&cfg, None, &facts()));
    state.trust_policy = Some("{\"Version\":\"2012-10-17\",\"Statement\":[]}".into());
    state.oidc_provider_arn = None;
    state.association_id = None;
    state.agent_addon_version = None;
    let out = run(&cfg, Some(&state), &facts());
    assert_ne!(get(&out, "trust_policy"), &Value::string(state.trust_policy.clone().unwrap()));
    assert!(get(&out, "oidc_provider_arn").as_str().is_some());
    assert!(get(&out, "association_id").is_unknown());
    assert!(get(&out, "agent_addon_version").is_unknown());
}

#[test]
fn unset_policy_lists_keep_what_exists() {
    let cfg = config(&base("irsa"));
    let mut state = applied(&run(&cfg, None, &facts()));
    state.policy_arns = Some(["arn:aws:iam::aws:policy/Elsewhere".to_string()].into());
    state.inline_policies = Some([("x".to_string(), "{}".to_string())].into());
    let out = run(&cfg, Some(&state), &facts());
    assert_eq!(get(&out, "policy_arns"), &Value::Set(vec![Value::string("arn:aws:iam::aws:policy/Elsewhere")]));
    assert_eq!(get(&out, "inline_policies"), &Value::Map([("x".to_string(), Value::string("{}"))].into()));
}

#[test]
fn configured_values_are_planned_exactly() {
    let mut attrs = base("pod_identity");
    attrs.push(("session_policy", Value::string("{ \"Version\": \"2012-10-17\" }")));
    attrs.push(("disable_session_tags", Value::Bool(true)));
    attrs.push(("max_session_duration", Value::int(7200)));
    attrs.push(("role_path", Value::string("/workloads/")));
    let cfg = config(&attrs);
    let out = run(&cfg, None, &facts());
    for (k, v) in &attrs {
        assert_eq!(get(&out, k), v, "{k}");
    }
    assert_eq!(get(&out, "role_arn"), &Value::string("arn:aws:iam::111122223333:role/workloads/prod-payments-api"));
}

#[test]
fn replacement_paths_are_cluster_role_name_and_path() {
    // Terraform compares these paths of prior and planned; only a change there replaces the wiring.
    let out = run(&config(&base("irsa")), None, &facts());
    let paths: Vec<String> = out.requires_replace.iter().map(|p| p.to_string()).collect();
    assert_eq!(paths, ["cluster_name", "role_name", "role_path"]);
}
