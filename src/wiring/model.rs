//! Typed views of the resource's values: `Config` (may hold unknowns, read at validate and plan time) and
//! `State` (fully known, what is stored and what apply works from). Conversions to and from cty values live here
//! and nowhere else.

use std::collections::{BTreeMap, BTreeSet};

use crate::cty::{AttributePath, Value};

/// The wiring mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Irsa,
    PodIdentity,
    Both,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "irsa" => Some(Mode::Irsa),
            "pod_identity" => Some(Mode::PodIdentity),
            "both" => Some(Mode::Both),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Irsa => "irsa",
            Mode::PodIdentity => "pod_identity",
            Mode::Both => "both",
        }
    }

    /// The role trusts the cluster's OIDC provider (IRSA).
    pub fn uses_irsa(self) -> bool {
        matches!(self, Mode::Irsa | Mode::Both)
    }

    /// The role trusts pods.eks.amazonaws.com and an association exists (Pod Identity).
    pub fn uses_pod_identity(self) -> bool {
        matches!(self, Mode::PodIdentity | Mode::Both)
    }
}

/// A configuration value that may be absent, not yet known, or known.
#[derive(Clone, Debug, PartialEq)]
pub enum Field<T> {
    Null,
    Unknown,
    Known(T),
}

impl<T> Field<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }
    /// Set in the configuration (known or not).
    pub fn is_set(&self) -> bool {
        !self.is_null()
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(f(v)),
        }
    }
}

pub type StringMap = BTreeMap<String, String>;

/// The `timeouts` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeouts {
    pub create: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

/// The configuration as written, values possibly unknown. Only inputs live here.
#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Field<String>,
    pub cluster_name: Field<String>,
    pub namespace: Field<String>,
    pub service_account: Field<String>,
    pub role_name: Field<String>,
    pub role_path: Field<String>,
    pub role_description: Field<String>,
    pub permissions_boundary: Field<String>,
    pub max_session_duration: Field<i64>,
    pub policy_arns: Field<Vec<Field<String>>>,
    pub inline_policies: Field<BTreeMap<String, Field<String>>>,
    pub tags: Field<BTreeMap<String, Field<String>>>,
    pub audience: Field<String>,
    pub oidc_issuer_url: Field<String>,
    pub manage_agent_addon: Field<bool>,
    pub agent_addon_version: Field<String>,
    pub target_role_arn: Field<String>,
    pub disable_session_tags: Field<bool>,
    pub session_policy: Field<String>,
    pub timeouts: Field<BTreeMap<String, Field<String>>>,
}

fn field_str(v: Option<&Value>) -> Field<String> {
    match v {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Unknown(_)) => Field::Unknown,
        Some(Value::String(s)) => Field::Known(s.clone()),
        Some(_) => Field::Unknown,
    }
}

fn field_bool(v: Option<&Value>) -> Field<bool> {
    match v {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Bool(b)) => Field::Known(*b),
        Some(_) => Field::Unknown,
    }
}

fn field_i64(v: Option<&Value>) -> Field<i64> {
    match v {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Field::Known(i),
            // A fraction: the schema validator reports it; treat as unknown here so nothing else trips on it.
            None => Field::Unknown,
        },
        Some(_) => Field::Unknown,
    }
}

fn field_list(v: Option<&Value>) -> Field<Vec<Field<String>>> {
    match v {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Set(items)) | Some(Value::List(items)) => {
            Field::Known(items.iter().map(|i| field_str(Some(i))).collect())
        }
        Some(_) => Field::Unknown,
    }
}

fn field_map(v: Option<&Value>) -> Field<BTreeMap<String, Field<String>>> {
    match v {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Map(items)) | Some(Value::Object(items)) => {
            Field::Known(items.iter().map(|(k, i)| (k.clone(), field_str(Some(i)))).collect())
        }
        Some(_) => Field::Unknown,
    }
}

impl Config {
    pub fn from_value(v: &Value) -> Config {
        let g = |name: &str| v.get(name);
        Config {
            mode: field_str(g("mode")),
            cluster_name: field_str(g("cluster_name")),
            namespace: field_str(g("namespace")),
            service_account: field_str(g("service_account")),
            role_name: field_str(g("role_name")),
            role_path: field_str(g("role_path")),
            role_description: field_str(g("role_description")),
            permissions_boundary: field_str(g("permissions_boundary")),
            max_session_duration: field_i64(g("max_session_duration")),
            policy_arns: field_list(g("policy_arns")),
            inline_policies: field_map(g("inline_policies")),
            tags: field_map(g("tags")),
            audience: field_str(g("audience")),
            oidc_issuer_url: field_str(g("oidc_issuer_url")),
            manage_agent_addon: field_bool(g("manage_agent_addon")),
            agent_addon_version: field_str(g("agent_addon_version")),
            target_role_arn: field_str(g("target_role_arn")),
            disable_session_tags: field_bool(g("disable_session_tags")),
            session_policy: field_str(g("session_policy")),
            timeouts: field_map(g("timeouts")),
        }
    }

    pub fn mode(&self) -> Option<Mode> {
        self.mode.known().and_then(|m| Mode::parse(m))
    }

    /// A map whose keys and values are all known.
    pub fn known_map(f: &Field<BTreeMap<String, Field<String>>>) -> Option<Option<StringMap>> {
        match f {
            Field::Null => Some(None),
            Field::Unknown => None,
            Field::Known(m) => {
                let mut out = StringMap::new();
                for (k, v) in m {
                    match v {
                        Field::Known(s) => {
                            out.insert(k.clone(), s.clone());
                        }
                        Field::Null => {}
                        Field::Unknown => return None,
                    }
                }
                Some(Some(out))
            }
        }
    }

    /// A set whose elements are all known.
    pub fn known_set(f: &Field<Vec<Field<String>>>) -> Option<Option<BTreeSet<String>>> {
        match f {
            Field::Null => Some(None),
            Field::Unknown => None,
            Field::Known(items) => {
                let mut out = BTreeSet::new();
                for i in items {
                    match i {
                        Field::Known(s) => {
                            out.insert(s.clone());
                        }
                        Field::Null => {}
                        Field::Unknown => return None,
                    }
                }
                Some(Some(out))
            }
        }
    }
}

/// The stored state: every value known. Inputs that were not configured hold their defaults; computed values
/// that do not apply to the mode are `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub id: String,
    pub mode: Mode,
    pub cluster_name: Option<String>,
    pub namespace: String,
    pub service_account: String,
    pub role_name: String,
    pub role_path: String,
    pub role_description: Option<String>,
    pub permissions_boundary: Option<String>,
    pub max_session_duration: i64,
    pub policy_arns: Option<BTreeSet<String>>,
    pub inline_policies: Option<StringMap>,
    pub tags: Option<StringMap>,
    pub tags_all: StringMap,
    pub audience: Option<String>,
    pub oidc_issuer_url: Option<String>,
    pub manage_agent_addon: bool,
    pub agent_addon_version: Option<String>,
    pub target_role_arn: Option<String>,
    pub disable_session_tags: bool,
    pub session_policy: Option<String>,
    pub role_arn: Option<String>,
    pub role_unique_id: Option<String>,
    pub trust_policy: Option<String>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_thumbprint: Option<String>,
    pub oidc_thumbprint_list: Option<Vec<String>>,
    pub association_id: Option<String>,
    pub association_arn: Option<String>,
    pub external_id: Option<String>,
    pub service_account_annotations: StringMap,
    pub timeouts: Option<Timeouts>,
}

/// Why a stored value could not be read as a `State`.
#[derive(Debug)]
pub struct StateError {
    pub path: AttributePath,
    pub message: String,
}

fn opt_str(v: &Value, name: &str) -> Result<Option<String>, StateError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(StateError { path: AttributePath::attr(name), message: "expected a known string".into() }),
    }
}

fn req_str(v: &Value, name: &str) -> Result<String, StateError> {
    opt_str(v, name)?.ok_or_else(|| StateError { path: AttributePath::attr(name), message: "is missing".into() })
}

fn opt_map(v: Option<&Value>, name: &str) -> Result<Option<StringMap>, StateError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, x)| match x {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => {
                    Err(StateError { path: AttributePath::attr(name).push_key(k), message: "expected a string".into() })
                }
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(StateError { path: AttributePath::attr(name), message: "expected a map".into() }),
    }
}

fn opt_list(v: &Value, name: &str) -> Result<Option<Vec<String>>, StateError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::List(items)) | Some(Value::Set(items)) => items
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| StateError { path: AttributePath::attr(name), message: "expected strings".into() })
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(StateError { path: AttributePath::attr(name), message: "expected a list".into() }),
    }
}

fn str_value(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn map_value(m: &StringMap) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

fn opt_map_value(m: &Option<StringMap>) -> Value {
    m.as_ref().map_or(Value::Null, map_value)
}

impl State {
    /// Reads a stored (fully known) state.
    pub fn from_value(v: &Value) -> Result<State, StateError> {
        let mode_s = req_str(v, "mode")?;
        let mode = Mode::parse(&mode_s).ok_or_else(|| StateError {
            path: AttributePath::attr("mode"),
            message: format!("unknown mode {mode_s:?}"),
        })?;
        let timeouts = match v.get("timeouts") {
            None | Some(Value::Null) => None,
            Some(t) => Some(Timeouts {
                create: opt_str(t, "create")?,
                update: opt_str(t, "update")?,
                delete: opt_str(t, "delete")?,
            }),
        };
        Ok(State {
            id: opt_str(v, "id")?.unwrap_or_default(),
            mode,
            cluster_name: opt_str(v, "cluster_name")?,
            namespace: req_str(v, "namespace")?,
            service_account: req_str(v, "service_account")?,
            role_name: req_str(v, "role_name")?,
            role_path: opt_str(v, "role_path")?.unwrap_or_else(|| "/".into()),
            role_description: opt_str(v, "role_description")?,
            permissions_boundary: opt_str(v, "permissions_boundary")?,
            max_session_duration: v.get("max_session_duration").and_then(Value::as_i64).unwrap_or(3600),
            policy_arns: opt_list(v, "policy_arns")?.map(|l| l.into_iter().collect()),
            inline_policies: opt_map(v.get("inline_policies"), "inline_policies")?,
            tags: opt_map(v.get("tags"), "tags")?,
            tags_all: opt_map(v.get("tags_all"), "tags_all")?.unwrap_or_default(),
            audience: opt_str(v, "audience")?,
            oidc_issuer_url: opt_str(v, "oidc_issuer_url")?,
            manage_agent_addon: v.get("manage_agent_addon").and_then(Value::as_bool).unwrap_or(true),
            agent_addon_version: opt_str(v, "agent_addon_version")?,
            target_role_arn: opt_str(v, "target_role_arn")?,
            disable_session_tags: v.get("disable_session_tags").and_then(Value::as_bool).unwrap_or(false),
            session_policy: opt_str(v, "session_policy")?,
            role_arn: opt_str(v, "role_arn")?,
            role_unique_id: opt_str(v, "role_unique_id")?,
            trust_policy: opt_str(v, "trust_policy")?,
            oidc_provider_arn: opt_str(v, "oidc_provider_arn")?,
            oidc_thumbprint: opt_str(v, "oidc_thumbprint")?,
            oidc_thumbprint_list: opt_list(v, "oidc_thumbprint_list")?,
            association_id: opt_str(v, "association_id")?,
            association_arn: opt_str(v, "association_arn")?,
            external_id: opt_str(v, "external_id")?,
            service_account_annotations: opt_map(v.get("service_account_annotations"), "service_account_annotations")?
                .unwrap_or_default(),
            timeouts,
        })
    }

    pub fn to_value(&self) -> Value {
        let timeouts = match &self.timeouts {
            None => Value::Null,
            Some(t) => Value::Object(
                [("create", &t.create), ("update", &t.update), ("delete", &t.delete)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), str_value(v)))
                    .collect(),
            ),
        };
        let attrs: Vec<(&str, Value)> = vec![
            ("id", Value::String(self.id.clone())),
            ("mode", Value::string(self.mode.as_str())),
            ("cluster_name", str_value(&self.cluster_name)),
            ("namespace", Value::String(self.namespace.clone())),
            ("service_account", Value::String(self.service_account.clone())),
            ("role_name", Value::String(self.role_name.clone())),
            ("role_path", Value::String(self.role_path.clone())),
            ("role_description", str_value(&self.role_description)),
            ("permissions_boundary", str_value(&self.permissions_boundary)),
            ("max_session_duration", Value::int(self.max_session_duration)),
            (
                "policy_arns",
                self.policy_arns
                    .as_ref()
                    .map_or(Value::Null, |s| Value::Set(s.iter().map(|a| Value::String(a.clone())).collect())),
            ),
            ("inline_policies", opt_map_value(&self.inline_policies)),
            ("tags", opt_map_value(&self.tags)),
            ("tags_all", map_value(&self.tags_all)),
            ("audience", str_value(&self.audience)),
            ("oidc_issuer_url", str_value(&self.oidc_issuer_url)),
            ("manage_agent_addon", Value::Bool(self.manage_agent_addon)),
            ("agent_addon_version", str_value(&self.agent_addon_version)),
            ("target_role_arn", str_value(&self.target_role_arn)),
            ("disable_session_tags", Value::Bool(self.disable_session_tags)),
            ("session_policy", str_value(&self.session_policy)),
            ("role_arn", str_value(&self.role_arn)),
            ("role_unique_id", str_value(&self.role_unique_id)),
            ("trust_policy", str_value(&self.trust_policy)),
            ("oidc_provider_arn", str_value(&self.oidc_provider_arn)),
            ("oidc_thumbprint", str_value(&self.oidc_thumbprint)),
            (
                "oidc_thumbprint_list",
                self.oidc_thumbprint_list
                    .as_ref()
                    .map_or(Value::Null, |l| Value::List(l.iter().map(|t| Value::String(t.clone())).collect())),
            ),
            ("association_id", str_value(&self.association_id)),
            ("association_arn", str_value(&self.association_arn)),
            ("external_id", str_value(&self.external_id)),
            ("service_account_annotations", map_value(&self.service_account_annotations)),
            ("timeouts", timeouts),
        ];
        Value::Object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}
