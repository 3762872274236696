//! Planning: a pure function of (configuration, prior state, facts about AWS) -> planned state.
//!
//! Rules (see the protocol notes): configured values are planned exactly as configured; a computed value is known
//! in the plan when it can be derived now and unknown when it may change during apply; nothing else changes.
//! Drift found by `read` sits in the prior state, so a difference between the prior and what we derive here is
//! exactly the repair the plan shows.

use std::collections::BTreeMap;

use crate::cty::{AttributePath, Value};
use crate::diag::Diagnostic;

use super::model::{Config, Field, Mode, State, StringMap};
use super::naming::{self, DEFAULT_AUDIENCE};
use super::trust;

/// What plan knows about AWS. `None` means "cannot be known now": dependent values are planned unknown.
#[derive(Clone, Debug, Default)]
pub struct PlanFacts {
    /// (partition, account ID) of the caller.
    pub account: Option<(String, String)>,
    /// The issuer the role will trust (irsa and both), when known: the configured one or the cluster's.
    pub issuer_url: Option<String>,
    /// The thumbprints the OIDC provider will carry after apply, when known.
    pub thumbprints: Option<Vec<String>>,
}

#[derive(Debug)]
pub struct PlanOutput {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Vec<Diagnostic>,
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn opt(v: Option<&String>) -> Value {
    v.map_or(Value::Null, |x| Value::String(x.clone()))
}

fn field_value(f: &Field<String>) -> Value {
    match f {
        Field::Null => Value::Null,
        Field::Unknown => Value::unknown(),
        Field::Known(v) => Value::String(v.clone()),
    }
}

fn map_value(m: &StringMap) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// Plans the wiring. `config_value` is the raw configuration (to copy configured values exactly).
pub fn plan(
    config_value: &Value,
    config: &Config,
    prior: Option<&State>,
    facts: &PlanFacts,
    default_tags: &StringMap,
) -> PlanOutput {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let cfg = |name: &str| config_value.get(name).cloned().unwrap_or(Value::Null);

    // Inputs without defaults: exactly as configured.
    for name in [
        "mode",
        "cluster_name",
        "namespace",
        "service_account",
        "role_description",
        "permissions_boundary",
        "tags",
        "target_role_arn",
        "session_policy",
        "timeouts",
    ] {
        out.insert(name.to_string(), cfg(name));
    }
    let mode = config.mode();
    let uses_irsa = mode.map(Mode::uses_irsa);
    let uses_pod = mode.map(Mode::uses_pod_identity);

    // Optional + computed inputs: the configured value, else the prior's where it must not move, else a default.
    let keep_prior = prior.is_some();
    let role_name = match &config.role_name {
        Field::Null => match prior {
            // A derived name never changes after create: a namespace change must not replace the role.
            Some(p) if keep_prior => Field::Known(p.role_name.clone()),
            _ => naming::default_role_name_for_config(config).map_or(Field::Unknown, Field::Known),
        },
        other => other.clone(),
    };
    out.insert("role_name".into(), field_value(&role_name));
    let role_path = match &config.role_path {
        Field::Null => Field::Known(prior.map_or("/".to_string(), |p| p.role_path.clone())),
        other => other.clone(),
    };
    out.insert("role_path".into(), field_value(&role_path));
    out.insert(
        "max_session_duration".into(),
        match &config.max_session_duration {
            Field::Null => Value::int(3600),
            _ => cfg("max_session_duration"),
        },
    );
    out.insert(
        "manage_agent_addon".into(),
        if config.manage_agent_addon.is_null() { Value::Bool(true) } else { cfg("manage_agent_addon") },
    );
    out.insert(
        "disable_session_tags".into(),
        if config.disable_session_tags.is_null() { Value::Bool(false) } else { cfg("disable_session_tags") },
    );
    let audience: Field<String> = match (&config.audience, uses_irsa) {
        (Field::Null, Some(true)) => Field::Known(DEFAULT_AUDIENCE.to_string()),
        (Field::Null, Some(false)) => Field::Null,
        (Field::Null, None) => Field::Unknown,
        (other, _) => other.clone(),
    };
    out.insert("audience".into(), field_value(&audience));
    let issuer: Field<String> = match (&config.oidc_issuer_url, uses_irsa) {
        (Field::Null, Some(true)) => facts.issuer_url.clone().map_or(Field::Unknown, Field::Known),
        (Field::Null, Some(false)) => Field::Null,
        (Field::Null, None) => Field::Unknown,
        (other, _) => other.clone(),
    };
    out.insert("oidc_issuer_url".into(), field_value(&issuer));

    // Managed policies and inline policies: optional + computed. Not configured means "not managed here":
    // keep what the last read saw, so attachments made elsewhere never show as a change.
    for name in ["policy_arns", "inline_policies"] {
        let configured = cfg(name);
        let v = if configured.is_null() {
            match prior {
                Some(p) if name == "policy_arns" => {
                    Value::Set(p.policy_arns.iter().flatten().map(|a| Value::String(a.clone())).collect())
                }
                Some(p) => map_value(p.inline_policies.as_ref().unwrap_or(&StringMap::new())),
                // On create, an adopted role (left by an interrupted apply) may already have some.
                None => Value::unknown(),
            }
        } else {
            configured
        };
        out.insert(name.to_string(), v);
    }

    // tags_all: default tags with the resource's tags over them.
    let tags_all = match Config::known_map(&config.tags) {
        Some(tags) => {
            let mut all = default_tags.clone();
            all.extend(tags.unwrap_or_default());
            map_value(&all)
        }
        None => Value::unknown(),
    };
    out.insert("tags_all".into(), tags_all);

    // Identity and ARNs.
    let cluster = config.cluster_name.known().cloned();
    let id = match (&config.cluster_name, &issuer, config.namespace.known(), config.service_account.known()) {
        (Field::Unknown, _, _, _) => None,
        (Field::Known(c), _, Some(ns), Some(sa)) => Some(naming::wiring_key(Some(c), None, ns, sa)),
        (Field::Null, Field::Known(i), Some(ns), Some(sa)) => Some(naming::wiring_key(None, Some(i), ns, sa)),
        _ => None,
    };
    out.insert("id".into(), id.clone().map_or(Value::unknown(), s));

    let role_arn = match (&facts.account, role_path.known(), role_name.known()) {
        (Some((partition, account)), Some(path), Some(name)) => Some(naming::role_arn(partition, account, path, name)),
        _ => None,
    };
    out.insert("role_arn".into(), role_arn.clone().map_or(Value::unknown(), s));
    let same_role = prior.is_some_and(|p| {
        Some(&p.role_name) == role_name.known()
            && Some(&p.role_path) == role_path.known()
            && p.cluster_name.as_ref() == cluster.as_ref()
            && !config.cluster_name.is_unknown()
    });
    out.insert(
        "role_unique_id".into(),
        match prior {
            Some(p) if same_role => opt(p.role_unique_id.as_ref()),
            _ => Value::unknown(),
        },
    );

    // Trust policy.
    let trust = match (mode, &facts.account, config.namespace.known(), config.service_account.known()) {
        (Some(m), Some((partition, account)), Some(ns), Some(sa)) => {
            if m.uses_irsa() {
                match (issuer.known(), audience.known()) {
                    (Some(i), Some(a)) => Some(trust::document(m, partition, account, Some(i), ns, sa, Some(a))),
                    _ => None,
                }
            } else {
                Some(trust::document(m, partition, account, None, ns, sa, None))
            }
        }
        _ => None,
    };
    out.insert("trust_policy".into(), trust.map_or(Value::unknown(), s));

    // OIDC provider.
    let (oidc_arn, thumbprint, thumbprint_list) = match uses_irsa {
        Some(true) => {
            let arn = match (&facts.account, issuer.known()) {
                (Some((partition, account)), Some(i)) => s(naming::oidc_provider_arn(partition, account, i)),
                _ => Value::unknown(),
            };
            let (first, list) = match &facts.thumbprints {
                Some(t) => (
                    t.first().map_or(Value::Null, |x| s(x.clone())),
                    Value::List(t.iter().map(|x| s(x.clone())).collect()),
                ),
                None => (Value::unknown(), Value::unknown()),
            };
            (arn, first, list)
        }
        Some(false) => (Value::Null, Value::Null, Value::Null),
        None => (Value::unknown(), Value::unknown(), Value::unknown()),
    };
    out.insert("oidc_provider_arn".into(), oidc_arn);
    out.insert("oidc_thumbprint".into(), thumbprint);
    out.insert("oidc_thumbprint_list".into(), thumbprint_list);

    // Pod identity association: kept while its subject and settings stay; unknown when it will be (re)made.
    match uses_pod {
        Some(true) => {
            let kept = prior.filter(|p| {
                same_role
                    && p.mode.uses_pod_identity()
                    && p.association_id.is_some()
                    && Some(&p.namespace) == config.namespace.known()
                    && Some(&p.service_account) == config.service_account.known()
            });
            match kept {
                Some(p) => {
                    out.insert("association_id".into(), opt(p.association_id.as_ref()));
                    out.insert("association_arn".into(), opt(p.association_arn.as_ref()));
                    let settings_same = config.target_role_arn.known() == p.target_role_arn.as_ref()
                        && !config.target_role_arn.is_unknown()
                        && config.disable_session_tags.known().copied().unwrap_or(false) == p.disable_session_tags
                        && !config.disable_session_tags.is_unknown();
                    out.insert(
                        "external_id".into(),
                        if settings_same { opt(p.external_id.as_ref()) } else { Value::unknown() },
                    );
                }
                None => {
                    for name in ["association_id", "association_arn", "external_id"] {
                        out.insert(name.into(), Value::unknown());
                    }
                }
            }
        }
        Some(false) => {
            for name in ["association_id", "association_arn", "external_id"] {
                out.insert(name.into(), Value::Null);
            }
        }
        None => {
            for name in ["association_id", "association_arn", "external_id"] {
                out.insert(name.into(), Value::unknown());
            }
        }
    }

    // Agent addon version: configured, else the installed one, else unknown until apply installs or finds it.
    let manage = config.manage_agent_addon.known().copied().unwrap_or(true);
    let addon_version = match (&config.agent_addon_version, uses_pod) {
        (Field::Null, Some(true)) if manage => match prior {
            Some(p) if p.mode.uses_pod_identity() && p.manage_agent_addon && p.agent_addon_version.is_some() => {
                opt(p.agent_addon_version.as_ref())
            }
            _ => Value::unknown(),
        },
        (Field::Null, Some(_)) => Value::Null,
        (Field::Null, None) => Value::unknown(),
        _ => cfg("agent_addon_version"),
    };
    out.insert("agent_addon_version".into(), addon_version);

    // Annotations for the Kubernetes service account.
    let annotations = match (uses_irsa, &role_arn, audience.known(), &audience) {
        (Some(false), _, _, _) => Value::Map(BTreeMap::new()),
        (Some(true), Some(arn), Some(a), _) => map_value(&naming::annotations(true, arn, Some(a))),
        _ => Value::unknown(),
    };
    out.insert("service_account_annotations".into(), annotations);

    // A direct switch between the two mechanisms cuts workloads off while pods restart.
    if let (Some(p), Some(m)) = (prior, mode) {
        let direct = matches!((p.mode, m), (Mode::Irsa, Mode::PodIdentity) | (Mode::PodIdentity, Mode::Irsa));
        if direct {
            diagnostics.push(
                Diagnostic::warning(
                    "Direct switch between IRSA and Pod Identity",
                    format!(
                        "mode changes from \"{}\" to \"{}\" in one step. Pods that still use the old mechanism \
                         lose their credentials until they restart with the new one. The safe path is to apply \
                         mode = \"both\" first, restart or roll the workload, then apply \"{}\".",
                        p.mode.as_str(),
                        m.as_str(),
                        m.as_str()
                    ),
                )
                .at(AttributePath::attr("mode")),
            );
        }
    }

    PlanOutput {
        planned: Value::Object(out),
        requires_replace: ["cluster_name", "role_name", "role_path"].iter().map(|n| AttributePath::attr(n)).collect(),
        diagnostics,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
