//! Faults: AWS refusing a call part-way through create, update or destroy. What Terraform saves must match what
//! exists in AWS, the next apply must converge, and destroy must leave nothing.

mod harness;

use harness::consistency::{self, Wiring};
use harness::emulator::Call;
use harness::{Env, ADDRESS};
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
