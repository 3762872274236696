//! Does what Terraform saved match what exists in AWS? Checks for tests that break an apply on purpose (faults,
//! crashes, interrupts): the saved state against the emulator's objects, duplicates after a converging apply, and
//! leftovers after destroy. Each returns a list of problems (empty: fine) so a test can count them before failing.

use serde_json::Value;

use super::Env;
use super::Workdir;

const WIRING_TAG: &str = "eksidentity:wiring";
const CREATED_BY_TAG: &str = "eksidentity:created-by";

/// One wiring as the test configured it.
pub struct Wiring<'a> {
    /// `eksidentity_service_account_role.<name>`
    pub address: &'a str,
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub role_name: &'a str,
    pub irsa: bool,
    pub pods: bool,
}

impl Wiring<'_> {
    /// The `eksidentity:wiring` tag value (the resource ID) of a wiring on an EKS cluster.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.cluster, self.namespace, self.service_account)
    }
}

/// The instance Terraform saved for `address` (attributes plus `status`, "tainted" or absent), from
/// terraform.tfstate as written: what the next command starts from.
pub fn saved_instance(wd: &Workdir, address: &str) -> Option<Value> {
    let (ty, name) = address.split_once('.').expect("address is type.name");
    let state = wd.saved_state();
    let resources = state["resources"].as_array()?;
    let r = resources.iter().find(|r| r["mode"] == "managed" && r["type"] == ty && r["name"] == name)?;
    let instances = r["instances"].as_array()?;
    assert!(instances.len() <= 1, "one instance expected for {address}: {r}");
    instances.first().cloned()
}

fn tag<'v>(o: &'v Value, key: &str) -> Option<&'v str> {
    o["tags"][key].as_str()
}

fn list<'v>(objects: &'v Value, key: &str) -> &'v [Value] {
    objects[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn issuer_host_path(env: &Env, cluster: &str) -> String {
    env.emu().oidc(cluster)["issuer"].as_str().expect("issuer").trim_start_matches("https://").to_string()
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = match v {
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

/// The saved state against AWS:
/// - every object the state records exists, with the settings the state records (a partial apply must record
///   what was done, not what was planned);
/// - every object of ours that exists is recorded, or is one the next apply of `w` adopts (the role by name and
///   wiring tag, the association of the same service account, the OIDC provider of the cluster's issuer, the
///   cluster's agent addon). Anything else of ours is an orphan.
pub fn state_matches_aws(env: &Env, wd: &Workdir, w: &Wiring) -> Vec<String> {
    let emu = env.emu();
    let objects = emu.objects();
    let mut problems = Vec::new();
    let saved = saved_instance(wd, w.address);
    let attrs = saved.as_ref().map(|s| s["attributes"].clone()).unwrap_or(Value::Null);
    let recorded = |k: &str| attrs[k].as_str().map(str::to_string);

    let role_arn = recorded("role_arn");
    if let Some(arn) = &role_arn {
        match list(&objects, "roles").iter().find(|r| r["arn"] == arn.as_str()) {
            None => problems.push(format!("the state records role {arn}, which does not exist")),
            Some(_) => problems.extend(role_settings(env, w.role_name, &attrs)),
        }
    }
    let provider_arn = recorded("oidc_provider_arn");
    if let Some(arn) = &provider_arn {
        if !list(&objects, "oidc_providers").iter().any(|p| p["arn"] == arn.as_str()) {
            problems.push(format!("the state records OIDC provider {arn}, which does not exist"));
        }
    }
    let association_id = recorded("association_id");
    if let Some(id) = &association_id {
        match list(&objects, "associations").iter().find(|a| a["association_id"] == id.as_str()) {
            None => problems.push(format!("the state records association {id}, which does not exist")),
            Some(a) => {
                if role_arn.as_deref() != a["role_arn"].as_str() {
                    problems.push(format!(
                        "association {id} points at {} but the state has role {role_arn:?}",
                        a["role_arn"]
                    ));
                }
                if attrs["target_role_arn"] != a["target_role_arn"] {
                    problems.push(format!(
                        "association {id}: target_role_arn {} in AWS, {} in the state",
                        a["target_role_arn"], attrs["target_role_arn"]
                    ));
                }
            }
        }
    }
    let addon_recorded = w.pods && attrs["agent_addon_version"].is_string();
    if addon_recorded {
        let found =
            list(&objects, "addons").iter().any(|a| a["cluster"] == w.cluster && a["name"] == "eks-pod-identity-agent");
        if !found {
            problems.push(format!(
                "the state records the agent addon version {}, but no addon exists",
                attrs["agent_addon_version"]
            ));
        }
    }

    // Ours, not recorded: adoptable by the next apply, or orphaned.
    for r in list(&objects, "roles") {
        let Some(owner) = tag(r, WIRING_TAG) else { continue };
        if role_arn.as_deref() == r["arn"].as_str() {
            continue;
        }
        if !(r["name"] == w.role_name && owner == w.id()) {
            problems.push(format!("orphan role {} (wiring {owner})", r["arn"]));
        }
    }
    for a in list(&objects, "associations") {
        if association_id.as_deref() == a["association_id"].as_str() {
            continue;
        }
        let same_subject =
            a["cluster"] == w.cluster && a["namespace"] == w.namespace && a["service_account"] == w.service_account;
        let ours = tag(a, WIRING_TAG) == Some(w.id().as_str())
            || list(&objects, "roles").iter().any(|r| r["arn"] == a["role_arn"] && r["name"] == w.role_name);
        if !(w.pods && same_subject && ours) {
            problems.push(format!(
                "orphan association {} for {}/{}",
                a["association_id"], a["namespace"], a["service_account"]
            ));
        }
    }
    let host_path = if w.irsa { Some(issuer_host_path(env, w.cluster)) } else { None };
    for p in list(&objects, "oidc_providers") {
        if tag(p, CREATED_BY_TAG).is_none() || provider_arn.as_deref() == p["arn"].as_str() {
            continue;
        }
        if host_path.as_deref() != p["url"].as_str().map(|u| u.trim_start_matches("https://")) {
            problems.push(format!("orphan OIDC provider {}", p["arn"]));
        }
    }
    for a in list(&objects, "addons") {
        if tag(a, CREATED_BY_TAG).is_none() || addon_recorded {
            continue;
        }
        if !(w.pods && a["cluster"] == w.cluster) {
            problems.push(format!("orphan addon {} on {}", a["name"], a["cluster"]));
        }
    }
    problems
}

/// The role's settings and policies against what the state records for them.
fn role_settings(env: &Env, role: &str, attrs: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(r) = env.block(env.aws.get_role(role)).expect("GetRole") else {
        return vec![format!("role {role} vanished while being checked")];
    };
    let mut differs = |what: &str, aws: String, state: String| {
        if aws != state {
            problems.push(format!("role {role}: {what} is {aws} in AWS but {state} in the state"));
        }
    };
    let actual_trust = eksidentity::policy::decode_to_string(&r.trust_policy_raw);
    let state_trust = attrs["trust_policy"].as_str().unwrap_or_default();
    if !eksidentity::policy::equivalent(&actual_trust, state_trust) {
        differs("the trust policy", actual_trust.clone(), state_trust.to_string());
    }
    differs("the description", format!("{:?}", r.description), format!("{:?}", attrs["role_description"].as_str()));
    differs(
        "the session duration",
        r.max_session_duration.to_string(),
        attrs["max_session_duration"].as_i64().map(|n| n.to_string()).unwrap_or_default(),
    );
    differs(
        "the permissions boundary",
        format!("{:?}", r.permissions_boundary),
        format!("{:?}", attrs["permissions_boundary"].as_str()),
    );
    let tags: Vec<String> =
        r.tags.iter().filter(|(k, _)| !k.starts_with("eksidentity:")).map(|(k, v)| format!("{k}={v}")).collect();
    let mut state_tags: Vec<String> = attrs["tags_all"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    state_tags.sort();
    differs("tags", tags.join(","), state_tags.join(","));
    let mut attached = env.attached(role);
    attached.sort();
    differs("the attached policies", attached.join(","), strings(&attrs["policy_arns"]).join(","));
    let mut inline = env.block(env.aws.list_inline_policy_names(role)).expect("ListRolePolicies");
    inline.sort();
    differs("the inline policies", inline.join(","), strings(&attrs["inline_policies"]).join(","));
    problems
}

/// After an apply that converged: exactly one of each object the wiring needs, none of what it does not.
pub fn duplicates(env: &Env, w: &Wiring) -> Vec<String> {
    let objects = env.emu().objects();
    let mut problems = Vec::new();
    let mut expect = |what: &str, n: usize, want: usize| {
        if n != want {
            problems.push(format!("{n} {what}, expected {want}"));
        }
    };
    let roles = list(&objects, "roles").iter().filter(|r| tag(r, WIRING_TAG) == Some(w.id().as_str())).count();
    expect("roles of the wiring", roles, 1);
    expect("roles in all", list(&objects, "roles").len(), 1);
    let associations = list(&objects, "associations")
        .iter()
        .filter(|a| {
            a["cluster"] == w.cluster && a["namespace"] == w.namespace && a["service_account"] == w.service_account
        })
        .count();
    expect("associations for the service account", associations, usize::from(w.pods));
    expect("associations in all", list(&objects, "associations").len(), usize::from(w.pods));
    expect("OIDC providers", list(&objects, "oidc_providers").len(), usize::from(w.irsa));
    let addons = list(&objects, "addons").iter().filter(|a| a["cluster"] == w.cluster).count();
    expect("agent addons on the cluster", addons, usize::from(w.pods));
    problems
}

/// What we created that still exists: roles and associations carrying the wiring tag, OIDC providers and addons
/// carrying the created-by tag. An addon still DELETING is given the emulator's addon delay (up to 10 s) to go.
pub fn leftovers(env: &Env) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let objects = env.emu().objects();
        let deleting = list(&objects, "addons").iter().any(|a| a["status"] == "DELETING");
        if !deleting || std::time::Instant::now() > deadline {
            return leftovers_in(&objects);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn leftovers_in(objects: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for r in list(objects, "roles").iter().filter(|r| tag(r, WIRING_TAG).is_some()) {
        out.push(format!("role {}", r["arn"]));
    }
    for a in list(objects, "associations").iter().filter(|a| tag(a, WIRING_TAG).is_some()) {
        out.push(format!("association {}", a["association_id"]));
    }
    for p in list(objects, "oidc_providers").iter().filter(|p| tag(p, CREATED_BY_TAG).is_some()) {
        out.push(format!("OIDC provider {}", p["arn"]));
    }
    for a in list(objects, "addons").iter().filter(|a| tag(a, CREATED_BY_TAG).is_some()) {
        out.push(format!("addon {} on {} ({})", a["name"], a["cluster"], a["status"]));
    }
    out
}
