//! Bad input never reaches AWS: a table of invalid configurations (resource and provider block), each rejected
//! by `terraform validate` and by `terraform plan`, with the attribute named in the diagnostic, and without a
//! single AWS request. Values that only become known at plan time (variables) are accepted by validate and
//! rejected by plan, after the provider is configured, still without an AWS request.
//!
//! Also: the real pinned Terraform loads the provider from `-plugin-dir`, validates an example and shows the
//! schema with every contract attribute described.
//!
//! One working directory per test, initialised once; main.tf is rewritten for each case.

mod harness;

use std::path::Path;

use harness::{Env, Workdir, ADDRESS};
use serde_json::Value;

/// One invalid configuration. `attr` is the attribute the error must name: the highlighted source line holds it
/// (the provider attached the attribute path), or, when the attribute is absent from the configuration (nothing
/// to highlight), the summary or detail names it.
struct Case {
    name: &'static str,
    /// Body of the provider block.
    provider: String,
    /// Body of the resource block.
    resource: String,
    /// Extra top-level blocks (variables).
    extra: String,
    attr: &'static str,
}

const BASE: &[(&str, &str)] = &[
    ("mode", "\"irsa\""),
    ("cluster_name", "\"prod\""),
    ("namespace", "\"payments\""),
    ("service_account", "\"api\""),
];

/// A resource body: the base attributes with `set` applied (a value of "" removes the attribute), then `raw`.
fn res(set: &[(&str, &str)], raw: &str) -> String {
    let mut attrs: Vec<(String, String)> = BASE.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in set {
        attrs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            attrs.push((k.to_string(), v.to_string()));
        }
    }
    let mut out: String = attrs.iter().map(|(k, v)| format!("  {k} = {v}\n")).collect();
    out.push_str(raw);
    out
}

fn pod(set: &[(&str, &str)]) -> String {
    let mut all = vec![("mode", "\"pod_identity\"")];
    all.extend_from_slice(set);
    res(&all, "")
}

fn case(name: &'static str, resource: String, attr: &'static str) -> Case {
    Case { name, provider: String::new(), resource, extra: String::new(), attr }
}

fn provider_case(name: &'static str, provider: &str, attr: &'static str) -> Case {
    Case { name, provider: provider.to_string(), resource: res(&[], ""), extra: String::new(), attr }
}

fn timeouts(line: &str) -> String {
    res(&[], &format!("  timeouts {{\n    {line}\n  }}\n"))
}

/// Invalid configurations that `terraform validate` can already see. `files` is a folder for the CA bundle cases.
fn invalid_cases(files: &Path) -> Vec<Case> {
    let long_tag = format!("{{ team = \"{}\" }}", "v".repeat(257));
    let not_pem = files.join("not-a-certificate.txt");
    std::fs::write(&not_pem, "just text\n").unwrap();
    let not_pem = not_pem.display().to_string();
    let dir = files.display().to_string();
    vec![
        // mode
        case("unknown mode", res(&[("mode", "\"oidc\"")], ""), "mode"),
        case("empty mode", res(&[("mode", "\"\"")], ""), "mode"),
        case("mode missing", res(&[("mode", "")], ""), "mode"),
        // namespace: a DNS-1123 label
        case("namespace with capitals", res(&[("namespace", "\"Payments\"")], ""), "namespace"),
        case("namespace with underscore", res(&[("namespace", "\"pay_ments\"")], ""), "namespace"),
        case("namespace with a dot", res(&[("namespace", "\"pay.ments\"")], ""), "namespace"),
        case("namespace too long", res(&[("namespace", &format!("\"{}\"", "n".repeat(64)))], ""), "namespace"),
        case("empty namespace", res(&[("namespace", "\"\"")], ""), "namespace"),
        // service account: a DNS-1123 subdomain, `*` only in irsa mode
        case("service account with underscore", res(&[("service_account", "\"api_server\"")], ""), "service_account"),
        case("service account with capitals", res(&[("service_account", "\"API\"")], ""), "service_account"),
        case("service account ending in a dot", res(&[("service_account", "\"api.\"")], ""), "service_account"),
        case("wildcard in pod_identity", pod(&[("service_account", "\"*\"")]), "service_account"),
        case("wildcard in both", res(&[("mode", "\"both\""), ("service_account", "\"*\"")], ""), "service_account"),
        // cluster and issuer
        case("irsa without cluster or issuer", res(&[("cluster_name", "")], ""), "cluster_name"),
        case("pod_identity without cluster", pod(&[("cluster_name", "")]), "cluster_name"),
        case("both without cluster", res(&[("mode", "\"both\""), ("cluster_name", "")], ""), "cluster_name"),
        case("cluster name starting with a dash", res(&[("cluster_name", "\"-prod\"")], ""), "cluster_name"),
        case("issuer over http", res(&[("oidc_issuer_url", "\"http://oidc.example.com/id/1\"")], ""), "oidc_issuer_url"),
        case("issuer with a query", res(&[("oidc_issuer_url", "\"https://oidc.example.com/?a=b\"")], ""), "oidc_issuer_url"),
        case("issuer in pod_identity", pod(&[("oidc_issuer_url", "\"https://oidc.example.com\"")]), "oidc_issuer_url"),
        case("audience in pod_identity", pod(&[("audience", "\"sts.amazonaws.com\"")]), "audience"),
        case("empty audience", res(&[("audience", "\"\"")], ""), "audience"),
        // role settings
        case("role name of 65 characters", res(&[("role_name", &format!("\"{}\"", "r".repeat(65)))], ""), "role_name"),
        case("role name with a space", res(&[("role_name", "\"my role\"")], ""), "role_name"),
        case("role name with a slash", res(&[("role_name", "\"team/api\"")], ""), "role_name"),
        case("role path without slashes", res(&[("role_path", "\"workloads\"")], ""), "role_path"),
        case("role description outside Latin-1", res(&[("role_description", "\"payments \u{2603}\"")], ""), "role_description"),
        case("session duration below 3600", res(&[("max_session_duration", "60")], ""), "max_session_duration"),
        case("session duration above 43200", res(&[("max_session_duration", "50000")], ""), "max_session_duration"),
        case("session duration not whole", res(&[("max_session_duration", "3600.5")], ""), "max_session_duration"),
        case("session duration not a number", res(&[("max_session_duration", "\"long\"")], ""), "max_session_duration"),
        // ARNs
        case("policy ARN without arn:", res(&[("policy_arns", "[\"ReadOnlyAccess\"]")], ""), "policy_arns"),
        case("policy ARN of S3", res(&[("policy_arns", "[\"arn:aws:s3:::bucket\"]")], ""), "policy_arns"),
        case("boundary is a role ARN", res(&[("permissions_boundary", "\"arn:aws:iam::123456789012:role/x\"")], ""), "permissions_boundary"),
        case("boundary malformed", res(&[("permissions_boundary", "\"PowerUserAccess\"")], ""), "permissions_boundary"),
        case("target role malformed", pod(&[("target_role_arn", "\"role/target\"")]), "target_role_arn"),
        case("target role in account aws", pod(&[("target_role_arn", "\"arn:aws:iam::aws:role/target\"")]), "target_role_arn"),
        case("target role in irsa", res(&[("target_role_arn", "\"arn:aws:iam::123456789012:role/t\"")], ""), "target_role_arn"),
        // policies
        case("inline policy not JSON", res(&[("inline_policies", "{ s3 = \"{not json\" }")], ""), "inline_policies"),
        case("inline policy a JSON array", res(&[("inline_policies", "{ s3 = \"[]\" }")], ""), "inline_policies"),
        case("inline policy name with a space", res(&[("inline_policies", "{ \"read all\" = \"{}\" }")], ""), "inline_policies"),
        case(
            "session policy not JSON",
            pod(&[("disable_session_tags", "true"), ("session_policy", "\"allow everything\"")]),
            "session_policy",
        ),
        case("session policy without disable_session_tags", pod(&[("session_policy", "\"{}\"")]), "session_policy"),
        case(
            "session policy with session tags on",
            pod(&[("disable_session_tags", "false"), ("session_policy", "\"{}\"")]),
            "session_policy",
        ),
        case("session policy in irsa", res(&[("session_policy", "\"{}\"")], ""), "session_policy"),
        case("disable_session_tags in irsa", res(&[("disable_session_tags", "true")], ""), "disable_session_tags"),
        case("empty agent addon version", pod(&[("agent_addon_version", "\"\"")]), "agent_addon_version"),
        // tags
        case("tag key with aws: prefix", res(&[("tags", "{ \"aws:team\" = \"x\" }")], ""), "tags"),
        case("tag key with eksidentity: prefix", res(&[("tags", "{ \"eksidentity:wiring\" = \"x\" }")], ""), "tags"),
        case("tag value of 257 characters", res(&[("tags", &long_tag)], ""), "tags"),
        // timeouts
        case("create timeout in words", timeouts("create = \"ten minutes\""), "create"),
        case("update timeout in days", timeouts("update = \"1d\""), "update"),
        case("delete timeout of zero", timeouts("delete = \"0s\""), "delete"),
        // Terraform's own checks against our schema
        case("unknown argument", res(&[("role", "\"x\"")], ""), "role"),
        case("computed attribute set", res(&[("role_arn", "\"arn:aws:iam::123456789012:role/x\"")], ""), "role_arn"),
        // provider block
        provider_case("IAM endpoint without scheme", "  endpoints {\n    iam = \"localhost:5000\"\n  }\n", "iam"),
        provider_case("EKS endpoint over ftp", "  endpoints {\n    eks = \"ftp://eks.example.com\"\n  }\n", "eks"),
        provider_case("STS endpoint without host", "  endpoints {\n    sts = \"https://\"\n  }\n", "sts"),
        provider_case("max_retries negative", "  max_retries = -1\n", "max_retries"),
        provider_case("max_retries above 100", "  max_retries = 101\n", "max_retries"),
        provider_case("max_retries not whole", "  max_retries = 2.5\n", "max_retries"),
        provider_case("assume_role without role_arn", "  assume_role {\n    session_name = \"ci\"\n  }\n", "role_arn"),
        provider_case("assume_role with a role name", "  assume_role {\n    role_arn = \"deployer\"\n  }\n", "role_arn"),
        provider_case(
            "assume_role with a user ARN",
            "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:user/deployer\"\n  }\n",
            "role_arn",
        ),
        provider_case(
            "assume_role session name of one character",
            "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/deployer\"\n    session_name = \"x\"\n  }\n",
            "session_name",
        ),
        provider_case(
            "assume_role external ID of one character",
            "  assume_role {\n    role_arn = \"arn:aws:iam::123456789012:role/deployer\"\n    external_id = \"x\"\n  }\n",
            "external_id",
        ),
        provider_case("default tag key with aws: prefix", "  default_tags = { \"aws:owner\" = \"x\" }\n", "default_tags"),
        provider_case("default tag key with eksidentity: prefix", "  default_tags = { \"eksidentity:created-by\" = \"me\" }\n", "default_tags"),
        provider_case("CA bundle file missing", "  oidc_ca_bundle = \"/nonexistent/ca.pem\"\n", "oidc_ca_bundle"),
        provider_case("CA bundle is a directory", &format!("  oidc_ca_bundle = \"{dir}\"\n"), "oidc_ca_bundle"),
        provider_case("CA bundle file without a certificate", &format!("  oidc_ca_bundle = \"{not_pem}\"\n"), "oidc_ca_bundle"),
        provider_case(
            "CA bundle PEM text that is not a certificate",
            "  oidc_ca_bundle = \"-----BEGIN CERTIFICATE-----\\nbm90IGEgY2VydA==\\n-----END CERTIFICATE-----\\n\"\n",
            "oidc_ca_bundle",
        ),
        provider_case("static access key argument", "  access_key = \"AKIAEXAMPLE\"\n", "access_key"),
    ]
}

/// Invalid values that come from variables: unknown to `terraform validate` (so accepted), known to `terraform
/// plan`, which must reject them before any AWS call.
fn plan_time_cases() -> Vec<Case> {
    let var = |name: &str, default: &str| format!("variable \"{name}\" {{\n  default = {default}\n}}\n");
    vec![
        Case {
            name: "mode from a variable",
            provider: String::new(),
            resource: res(&[("mode", "var.mode")], ""),
            extra: var("mode", "\"oidc\""),
            attr: "mode",
        },
        Case {
            name: "namespace from a variable",
            provider: String::new(),
            resource: res(&[("namespace", "var.namespace")], ""),
            extra: var("namespace", "\"Payments\""),
            attr: "namespace",
        },
        Case {
            name: "wildcard from a variable in pod_identity",
            provider: String::new(),
            resource: pod(&[("service_account", "var.sa")]),
            extra: var("sa", "\"*\""),
            attr: "service_account",
        },
        Case {
            name: "session policy from a variable without disable_session_tags",
            provider: String::new(),
            resource: pod(&[("session_policy", "var.policy")]),
            extra: var("policy", "\"{}\""),
            attr: "session_policy",
        },
        Case {
            name: "tags from a variable",
            provider: String::new(),
            resource: res(&[("tags", "var.tags")], ""),
            extra: var("tags", "{ \"aws:team\" = \"x\" }"),
            attr: "tags",
        },
        Case {
            name: "max_retries from a variable",
            provider: "  max_retries = var.retries\n".into(),
            resource: res(&[], ""),
            extra: var("retries", "500"),
            attr: "max_retries",
        },
        Case {
            name: "default_tags from a variable",
            provider: "  default_tags = var.tags\n".into(),
            resource: res(&[], ""),
            extra: var("tags", "{ \"aws:owner\" = \"x\" }"),
            attr: "default_tags",
        },
        Case {
            name: "CA bundle path from a variable",
            provider: "  oidc_ca_bundle = var.bundle\n".into(),
            resource: res(&[], ""),
            extra: var("bundle", "\"/nonexistent/ca.pem\""),
            attr: "oidc_ca_bundle",
        },
    ]
}

fn main_tf(c: &Case) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    eksidentity = {{ source = \"eksidentity/eksidentity\" }}\n  }}\n}}\n\n\
         provider \"eksidentity\" {{\n{}}}\n\n{}\nresource \"{ADDRESS}\" \"bad\" {{\n{}}}\n",
        c.provider, c.extra, c.resource
    )
}

/// Error diagnostics of `validate -json` (one document) or `plan -json` (one JSON object per line).
fn error_diagnostics(stdout: &str) -> Vec<Value> {
    let mut out = Vec::new();
    if let Ok(doc) = serde_json::from_str::<Value>(stdout) {
        out.extend(doc["diagnostics"].as_array().cloned().unwrap_or_default());
    } else {
        for line in stdout.lines() {
            if let Ok(v) = serde_json::from_str::<Value>(line) {
                if v["type"] == "diagnostic" {
                    out.push(v["diagnostic"].clone());
                }
            }
        }
    }
    out.retain(|d| d["severity"] == "error");
    out
}

fn names(text: &str, attr: &str) -> bool {
    text.match_indices(attr).any(|(i, _)| {
        let before = text[..i].chars().last();
        let after = text[i + attr.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// Checks that a failed run's errors name the case's attribute; returns the error that does.
fn check_rejection(c: &Case, command: &str, code: i32, stdout: &str, stderr: &str) -> Value {
    let tf = main_tf(c);
    assert_ne!(code, 0, "{}: terraform {command} accepted it:\n{tf}\n{stdout}\n{stderr}", c.name);
    let errors = error_diagnostics(stdout);
    assert!(
        !errors.is_empty(),
        "{}: terraform {command} failed without an error diagnostic:\n{stdout}\n{stderr}",
        c.name
    );
    // Where the attribute is written in the configuration, the diagnostic must point at it (it carries the path);
    // where it is absent, the message must name it.
    let written = tf.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with(&format!("{} ", c.attr)) || l.starts_with(&format!("{}=", c.attr))
    });
    let found = errors.iter().find(|d| {
        let line = d["snippet"]["code"].as_str().unwrap_or("");
        if written {
            names(line, c.attr)
        } else {
            names(d["summary"].as_str().unwrap_or(""), c.attr) || names(d["detail"].as_str().unwrap_or(""), c.attr)
        }
    });
    let found = found.unwrap_or_else(|| {
        panic!(
            "{}: terraform {command} rejected it, but no error {} {}:\n{}",
            c.name,
            if written { "points at" } else { "names" },
            c.attr,
            serde_json::to_string_pretty(&errors).unwrap()
        )
    });
    assert!(
        !found["detail"].as_str().unwrap_or("").trim().is_empty(),
        "{}: an error without a detail: {found}",
        c.name
    );
    found.clone()
}

fn one_line(d: &Value) -> String {
    let detail = d["detail"].as_str().unwrap_or("").replace('\n', " ");
    format!("{} | {}", d["summary"].as_str().unwrap_or(""), detail)
}

/// The pinned Terraform (1.0.3 unless TERRAFORM says otherwise) installs the provider from a plugin directory,
/// validates the resource example and shows the whole contract, described, in `providers schema -json`.
#[test]
fn terraform_loads_the_schema() {
    let wd = harness::offline_workdir();
    let example = harness::repo_root().join("examples/resources/eksidentity_service_account_role");
    wd.copy_from(&example);
    let version = wd.run(&["version"]).expect_ok();
    println!("{}", version.stdout.lines().next().unwrap_or(""));
    wd.init();
    wd.validate().expect_ok();
    let schema = wd.run(&["providers", "schema", "-json"]).expect_ok();
    let schema: Value = serde_json::from_str(&schema.stdout).expect("providers schema -json is JSON");
    let provider = &schema["provider_schemas"]["registry.terraform.io/eksidentity/eksidentity"];
    assert!(provider.is_object(), "the provider is missing from the schema: {schema}");

    let resource = &provider["resource_schemas"][ADDRESS]["block"];
    let contract = [
        "mode",
        "cluster_name",
        "namespace",
        "service_account",
        "role_name",
        "role_path",
        "role_description",
        "permissions_boundary",
        "max_session_duration",
        "policy_arns",
        "inline_policies",
        "tags",
        "audience",
        "oidc_issuer_url",
        "manage_agent_addon",
        "agent_addon_version",
        "target_role_arn",
        "disable_session_tags",
        "session_policy",
        "id",
        "role_arn",
        "role_unique_id",
        "trust_policy",
        "oidc_provider_arn",
        "oidc_thumbprint",
        "association_id",
        "association_arn",
        "external_id",
        "service_account_annotations",
    ];
    for name in contract {
        assert!(resource["attributes"][name].is_object(), "{ADDRESS} lacks {name}");
    }
    for name in ["create", "update", "delete"] {
        assert!(resource["block_types"]["timeouts"]["block"]["attributes"][name].is_object(), "timeouts lacks {name}");
    }
    let provider_block = &provider["provider"]["block"];
    for name in ["region", "profile", "shared_config_files", "default_tags", "max_retries", "oidc_ca_bundle"] {
        assert!(provider_block["attributes"][name].is_object(), "the provider block lacks {name}");
    }
    for (block, attrs) in
        [("assume_role", &["role_arn", "session_name", "external_id"]), ("endpoints", &["iam", "eks", "sts"])]
    {
        for name in attrs {
            assert!(
                provider_block["block_types"][block]["block"]["attributes"][name].is_object(),
                "the provider block lacks {block}.{name}"
            );
        }
    }

    // Every attribute and block, at every depth, has a markdown description.
    fn described(block: &Value, at: &str, count: &mut usize) {
        assert!(!block["description"].as_str().unwrap_or("").trim().is_empty(), "{at} has no description");
        assert_eq!(block["description_kind"], "markdown", "{at}");
        for (name, a) in block["attributes"].as_object().into_iter().flatten() {
            *count += 1;
            assert!(!a["description"].as_str().unwrap_or("").trim().is_empty(), "{at}.{name} has no description");
            assert_eq!(a["description_kind"], "markdown", "{at}.{name}");
        }
        for (name, b) in block["block_types"].as_object().into_iter().flatten() {
            described(&b["block"], &format!("{at}.{name}"), count);
        }
    }
    let mut count = 0;
    described(resource, ADDRESS, &mut count);
    described(provider_block, "provider", &mut count);
    println!("{count} attributes, all described");
}

/// `terraform validate` rejects every invalid configuration with the attribute named, with no AWS environment
/// at all (no emulator, no credentials, no region), and accepts values it cannot know yet.
#[test]
fn bad_input_is_rejected_by_terraform_validate() {
    let files = tempfile::tempdir().unwrap();
    let cases = invalid_cases(files.path());
    let wd = harness::offline_workdir();
    wd.write(&main_tf(&case("valid", res(&[], ""), "mode")));
    wd.init();
    wd.validate().expect_ok();
    for c in &cases {
        wd.write(&main_tf(c));
        let r = wd.run(&["validate", "-json", "-no-color"]);
        let d = check_rejection(c, "validate", r.code, &r.stdout, &r.stderr);
        println!("{:<48} {}", c.name, one_line(&d));
    }
    for c in plan_time_cases() {
        wd.write(&main_tf(&c));
        let r = wd.run(&["validate", "-json", "-no-color"]);
        assert_eq!(r.code, 0, "{}: validate rejected a value it cannot know yet:\n{}", c.name, r.text());
    }
    println!("terraform validate rejected {} invalid configurations", cases.len());
    assert!(cases.len() >= 40);
}

/// Every invalid configuration is rejected by `terraform plan` against the emulator (the test above has
/// `terraform validate` reject the same table), and the emulator's request log stays empty across the whole
/// sweep; values known only at plan time are rejected by plan, after ConfigureProvider for resource values,
/// still without a request.
#[test]
fn emu_bad_input_is_rejected_before_any_aws_call() {
    let env = Env::start();
    let emu = env.emu();
    env.cluster("prod");
    let files = tempfile::tempdir().unwrap();
    let cases = invalid_cases(files.path());
    let mut wd: Workdir = env.workdir();
    let log = files.path().join("terraform.log");
    wd.set_env("TF_LOG", "TRACE");
    wd.set_env("TF_LOG_PATH", log.to_str().unwrap());
    wd.write(&main_tf(&case("valid", res(&[], ""), "mode")));
    wd.init();
    emu.clear_requests();

    for c in &cases {
        wd.write(&main_tf(c));
        let r = wd.run(&["plan", "-json", "-no-color", "-input=false"]);
        check_rejection(c, "plan", r.code, &r.stdout, &r.stderr);
        let requests = emu.requests();
        assert!(requests.is_empty(), "{}: AWS was called: {requests:?}", c.name);
    }

    let plan_cases = plan_time_cases();
    let mut configured = 0;
    for c in &plan_cases {
        wd.write(&main_tf(c));
        let _ = std::fs::remove_file(&log);
        let r = wd.run(&["plan", "-json", "-no-color", "-input=false"]);
        let d = check_rejection(c, "plan", r.code, &r.stdout, &r.stderr);
        let trace = std::fs::read_to_string(&log).unwrap_or_default();
        // A bad resource value is caught after the provider was configured (so the AWS clients existed and were
        // not used); a bad provider value before ConfigureProvider.
        let was_configured = trace
            .lines()
            .any(|l| l.contains("rpc finished") && l.contains("rpc=ConfigureProvider") && l.contains("errors=0"));
        assert_eq!(
            was_configured,
            c.provider.is_empty(),
            "{}: ConfigureProvider in the trace: {was_configured}",
            c.name
        );
        configured += usize::from(was_configured);
        let requests = emu.requests();
        assert!(requests.is_empty(), "{}: AWS was called: {requests:?}", c.name);
        println!("{:<48} {}", c.name, one_line(&d));
    }
    assert!(emu.requests().is_empty());
    println!(
        "{} invalid configurations rejected by plan, {} more (from variables) by plan with the provider configured \
         in {configured}; AWS requests: 0",
        cases.len(),
        plan_cases.len()
    );
}
