//! Security checks: no secret in any log at TF_LOG=TRACE, and trust policies that grant exactly the intended
//! principal under exactly the intended conditions, in every mode.
//!
//! The third check of issue 6 item 7, that the plugin refuses a client without Terraform's certificate (a different
//! certificate, or none), is `other_client_certificates_are_refused` in tests/protocol.rs.

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use harness::{Env, Workdir, ADDRESS, PROVIDER_BIN, VERSION};
use serde_json::{json, Value};

/// A plugin directory whose provider is a wrapper that copies the real provider's stderr to `log` (and still
/// passes it on to Terraform), so the provider's own output is checked as written, not only as Terraform
/// re-logs it.
fn teeing_plugin_dir(root: &Path, log: &Path) -> PathBuf {
    let dir = root.join(format!("plugins/registry.terraform.io/eksidentity/eksidentity/{VERSION}/linux_amd64"));
    std::fs::create_dir_all(&dir).unwrap();
    let wrapper = dir.join(format!("terraform-provider-eksidentity_v{VERSION}"));
    std::fs::write(
        &wrapper,
        format!("#!/bin/bash\nexec '{PROVIDER_BIN}' \"$@\" 2> >(tee -a '{}' >&2)\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    root.join("plugins")
}

/// Runs terraform commands at TF_LOG=TRACE, each with its own log file, and keeps what they wrote.
struct Recorder {
    dir: PathBuf,
    runs: Vec<(String, harness::terraform::Run)>,
    logs: Vec<PathBuf>,
}

impl Recorder {
    fn expect(&mut self, wd: &mut Workdir, name: &str, args: &[&str], succeeds: bool) {
        let log = self.dir.join(format!("terraform-{name}.log"));
        wd.set_env("TF_LOG", "TRACE");
        wd.set_env("TF_LOG_PATH", log.to_str().unwrap());
        let r = wd.run(args);
        assert_eq!(r.ok(), succeeds, "terraform {name}: exit code {}:\n{}", r.code, r.text());
        self.logs.push(log);
        self.runs.push((name.to_string(), r));
    }
}

/// Strings shaped like AWS access key IDs (long-term `AKIA`, temporary `ASIA`): 4 letters and 16 more.
fn access_key_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(19) {
        let head = &b[i..i + 4];
        if (head == b"AKIA" || head == b"ASIA")
            && b[i + 4..i + 20].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            out.push(text[i..i + 20].to_string());
        }
    }
    out
}

/// Apply, plan, a failing apply, another apply and destroy at TF_LOG=TRACE, with an assumed role (external ID), a
/// session token, a session policy and inline policies: none of the credentials, the token, the external ID or
/// the policies' contents appears in Terraform's log, Terraform's stderr or the provider's stderr; the
/// credentials, the token and the external ID do not appear on stdout either (policies are plan output by
/// design).
#[test]
fn emu_no_secret_in_trace_logs() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let files = tempfile::tempdir().unwrap();
    let provider_stderr = files.path().join("provider-stderr.log");
    let plugins = teeing_plugin_dir(files.path(), &provider_stderr);

    let session_token = format!("FwoGZXIvYXdzEKSIDENTITYFAKESESSIONTOKEN{}", env.run_id);
    let external_id = format!("eksidentity-external-id-{}", env.run_id);
    let policy_secret = format!("policy-secret-{}", env.run_id);
    let deployer = format!("arn:aws:iam::{}:role/deployer", env.account_id);
    let mut wd: Workdir = env.workdir();
    wd.set_env("AWS_SESSION_TOKEN", &session_token);
    let provider = format!(
        "  assume_role {{\n    role_arn = \"{deployer}\"\n    session_name = \"security-test\"\n    \
         external_id = \"{external_id}\"\n  }}\n"
    );
    let policy = format!(
        "jsonencode({{ Version = \"2012-10-17\", Statement = [{{ Sid = \"Marker\", Effect = \"Allow\", \
         Action = \"s3:GetObject\", Resource = \"arn:aws:s3:::{policy_secret}/*\" }}] }})"
    );
    wd.write(&format!(
        "{}\nresource \"{ADDRESS}\" \"irsa\" {{\n  mode = \"irsa\"\n  cluster_name = \"{cluster}\"\n  \
         namespace = \"payments\"\n  service_account = \"api\"\n  inline_policies = {{ s3 = {policy} }}\n}}\n\n\
         resource \"{ADDRESS}\" \"pod\" {{\n  mode = \"pod_identity\"\n  cluster_name = \"{cluster}\"\n  \
         namespace = \"billing\"\n  service_account = \"worker\"\n  disable_session_tags = true\n  \
         session_policy = {policy}\n  target_role_arn = \"arn:aws:iam::210987654321:role/target\"\n}}\n",
        env.provider_block(&provider)
    ));

    let mut rec = Recorder { dir: files.path().to_path_buf(), runs: Vec::new(), logs: Vec::new() };
    let plugin_dir = format!("-plugin-dir={}", plugins.display());
    rec.expect(&mut wd, "init", &["init", "-no-color", "-input=false", &plugin_dir], true);
    rec.expect(&mut wd, "apply", &["apply", "-no-color", "-auto-approve", "-input=false"], true);
    rec.expect(&mut wd, "plan", &["plan", "-no-color", "-input=false", "-detailed-exitcode"], true);
    // Error paths log too: an access-denied answer (with an ARN in its message) on an update, then the retry.
    let main_tf = std::fs::read_to_string(wd.path().join("main.tf")).unwrap();
    wd.write(&main_tf.replace("\"api\"\n", "\"api\"\n  role_description = \"v2\"\n"));
    let denied = format!("User: arn:aws:sts::{}:assumed-role/deployer/security-test is not authorized", env.account_id);
    emu.add_fault(json!({ "kind": "error", "service": "iam", "operation": "UpdateRole", "code": "AccessDenied",
                          "message": denied, "status": 403 }));
    emu.add_fault(json!({ "kind": "throttle", "rate": 0.2, "seed": 3 }));
    rec.expect(&mut wd, "failing-apply", &["apply", "-no-color", "-auto-approve", "-input=false"], false);
    rec.expect(&mut wd, "apply-again", &["apply", "-no-color", "-auto-approve", "-input=false"], true);
    rec.expect(&mut wd, "destroy", &["destroy", "-no-color", "-auto-approve", "-input=false"], true);
    let Recorder { runs, logs, .. } = rec;
    emu.clear_faults();

    // The setup really used what must stay secret: the role was assumed, and the provider logged at TRACE.
    let counts = emu.request_counts();
    assert!(counts.get("sts:AssumeRole").is_some_and(|&n| n > 0), "the provider never assumed the role: {counts:?}");
    let provider_text = std::fs::read_to_string(&provider_stderr).expect("the provider's stderr was captured");
    assert!(provider_text.contains("\"@level\":\"trace\""), "the provider did not log at TRACE:\n{provider_text}");
    let mut log_texts: Vec<(String, String)> =
        logs.iter().map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap_or_default())).collect();
    assert!(
        log_texts
            .iter()
            .any(|(_, t)| t.contains("provider.terraform-provider-eksidentity") && t.contains("rpc finished")),
        "Terraform's log lacks the provider's lines"
    );
    log_texts.push(("provider stderr".into(), provider_text));
    for (name, r) in &runs {
        log_texts.push((format!("terraform {name} stderr"), r.stderr.clone()));
    }
    let stdouts: Vec<(String, String)> =
        runs.iter().map(|(name, r)| (format!("terraform {name} stdout"), r.stdout.clone())).collect();

    let credentials = [
        ("access key ID", emu.access_key_id.clone()),
        ("secret access key", emu.secret_access_key.clone()),
        ("session token", session_token.clone()),
        ("external ID", external_id.clone()),
    ];
    let mut checked_bytes = 0;
    for (where_, text) in log_texts.iter().chain(stdouts.iter()) {
        checked_bytes += text.len();
        for (what, secret) in &credentials {
            assert!(!text.contains(secret.as_str()), "the {what} appears in {where_}");
        }
        let keys = access_key_ids(text);
        assert!(keys.is_empty(), "access key IDs appear in {where_}: {keys:?}");
    }
    for (where_, text) in &log_texts {
        assert!(!text.contains(&policy_secret), "a policy's content appears in {where_}");
    }
    println!(
        "no credential, session token, external ID or policy content in {} log and output texts ({checked_bytes} \
         bytes; AWS calls: {counts:?})",
        log_texts.len() + stdouts.len()
    );
}

/// A statement reduced to what it grants: effect, principals, actions and conditions, with one-or-many values
/// as sorted lists. Panics on any key a trust statement of ours must not have (NotPrincipal, NotAction,
/// Resource...).
fn normalized(statement: &Value) -> Value {
    let obj = statement.as_object().unwrap_or_else(|| panic!("statement is not an object: {statement}"));
    for key in obj.keys() {
        assert!(
            ["Sid", "Effect", "Principal", "Action", "Condition"].contains(&key.as_str()),
            "unexpected {key}: {statement}"
        );
    }
    let list = |v: &Value| -> Value {
        let mut items: Vec<String> = match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap_or_else(|| panic!("not a string: {x}")).to_string()).collect()
            }
            other => panic!("neither a string nor a list: {other}"),
        };
        items.sort();
        json!(items)
    };
    let principal = obj.get("Principal").unwrap_or_else(|| panic!("no Principal: {statement}"));
    let principal: BTreeMap<String, Value> = match principal {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), list(v))).collect(),
        other => panic!("Principal is {other}, not a typed principal"),
    };
    let mut condition: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    if let Some(c) = obj.get("Condition") {
        for (op, keys) in c.as_object().unwrap_or_else(|| panic!("Condition is not an object: {c}")) {
            for (k, v) in keys.as_object().unwrap_or_else(|| panic!("{op} is not an object: {keys}")) {
                condition.entry(op.clone()).or_default().insert(k.clone(), list(v));
            }
        }
    }
    json!({ "Effect": obj["Effect"], "Principal": principal, "Action": list(&obj["Action"]), "Condition": condition })
}

fn statements(trust: &Value) -> Vec<Value> {
    match &trust["Statement"] {
        Value::Array(a) => a.iter().map(normalized).collect(),
        s => vec![normalized(s)],
    }
}

/// The trust policy IAM stores after apply grants, in each mode, exactly the intended principal with exactly the
/// intended conditions: no extra statement or principal, no wildcard principal, `aud` always an exact match.
#[test]
fn emu_trust_policies_grant_exactly_the_intended_principal() {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let issuer = emu.oidc(&cluster)["issuer"].as_str().unwrap().trim_start_matches("https://").to_string();
    let federated = format!("arn:aws:iam::{}:oidc-provider/{issuer}", env.account_id);
    let (sub, aud) = (format!("{issuer}:sub"), format!("{issuer}:aud"));
    let irsa = |op_sub: &str, subject: &str, audience: &str| {
        let mut condition: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
        condition.entry(op_sub).or_default().insert(&sub, json!([subject]));
        condition.entry("StringEquals").or_default().insert(&aud, json!([audience]));
        json!({ "Effect": "Allow", "Principal": { "Federated": [federated] },
                "Action": ["sts:AssumeRoleWithWebIdentity"], "Condition": condition })
    };
    let pods = json!({ "Effect": "Allow", "Principal": { "Service": ["pods.eks.amazonaws.com"] },
                       "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {} });

    struct Wiring {
        name: &'static str,
        body: &'static str,
        want: Vec<Value>,
    }
    let wirings = vec![
        Wiring {
            name: "irsa",
            body: "  mode = \"irsa\"\n  namespace = \"payments\"\n  service_account = \"api\"\n",
            want: vec![irsa("StringEquals", "system:serviceaccount:payments:api", "sts.amazonaws.com")],
        },
        Wiring {
            name: "irsa_wildcard",
            body: "  mode = \"irsa\"\n  namespace = \"jobs\"\n  service_account = \"*\"\n",
            want: vec![irsa("StringLike", "system:serviceaccount:jobs:*", "sts.amazonaws.com")],
        },
        Wiring {
            name: "irsa_audience",
            body: "  mode = \"irsa\"\n  namespace = \"vault\"\n  service_account = \"agent\"\n  audience = \"vault.example.com\"\n",
            want: vec![irsa("StringEquals", "system:serviceaccount:vault:agent", "vault.example.com")],
        },
        Wiring {
            name: "pod_identity",
            body: "  mode = \"pod_identity\"\n  namespace = \"cart\"\n  service_account = \"api\"\n",
            want: vec![pods.clone()],
        },
        Wiring {
            name: "pod_identity_chained",
            body: "  mode = \"pod_identity\"\n  namespace = \"cart\"\n  service_account = \"chained\"\n  \
                   target_role_arn = \"arn:aws:iam::210987654321:role/target\"\n  disable_session_tags = true\n",
            want: vec![pods.clone()],
        },
        Wiring {
            name: "both",
            body: "  mode = \"both\"\n  namespace = \"shipping\"\n  service_account = \"tracker\"\n",
            want: vec![irsa("StringEquals", "system:serviceaccount:shipping:tracker", "sts.amazonaws.com"), pods.clone()],
        },
    ];
    let mut hcl = env.provider_block("");
    for w in &wirings {
        hcl.push_str(&format!(
            "\nresource \"{ADDRESS}\" \"{}\" {{\n  cluster_name = \"{cluster}\"\n{}}}\n",
            w.name, w.body
        ));
    }
    let wd = env.workdir();
    wd.write(&hcl);
    wd.init();
    wd.apply().expect_ok();

    for w in &wirings {
        let res = wd.resource(&format!("{ADDRESS}.{}", w.name));
        let role = res["role_name"].as_str().unwrap();
        let stored = env.trust(role);
        assert_eq!(stored["Version"], json!("2012-10-17"), "{}: {stored}", w.name);
        let got = statements(&stored);
        let as_set = |v: &[Value]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(got.len(), w.want.len(), "{}: {stored}", w.name);
        assert_eq!(
            as_set(&got),
            as_set(&w.want),
            "{}: the stored trust policy grants something else: {stored}",
            w.name
        );
        for s in &got {
            for values in s["Principal"].as_object().unwrap().values() {
                for p in values.as_array().unwrap() {
                    assert!(!p.as_str().unwrap().contains('*'), "{}: wildcard principal {p}", w.name);
                }
            }
            if let Some(ops) = s["Condition"].as_object() {
                for (op, keys) in ops {
                    if keys.as_object().unwrap().contains_key(&aud) {
                        assert_eq!(op, "StringEquals", "{}: aud is matched with {op}", w.name);
                    }
                }
            }
        }
        // What Terraform shows as trust_policy is what IAM stores.
        let shown: Value = serde_json::from_str(res["trust_policy"].as_str().unwrap()).unwrap();
        assert_eq!(as_set(&statements(&shown)), as_set(&got), "{}: trust_policy output differs from IAM", w.name);
    }
    println!("trust policies checked: {}", wirings.iter().map(|w| w.name).collect::<Vec<_>>().join(", "));
    wd.destroy().expect_ok();
    assert_eq!(emu.objects()["counts"]["roles"], json!(0));
}
