//! Cross-field validation of a configuration, run at validate and plan time, before any AWS call.
//!
//! Single-value checks sit on the schema attributes; what needs two attributes, a map key, or the mode lives here.
//! A value that is not known yet is never rejected.

use crate::cty::AttributePath;
use crate::diag::Diagnostic;

use super::checks;
use super::model::{Config, Field, Mode};
use super::naming;

fn err(attr: &str, summary: &str, detail: String) -> Diagnostic {
    Diagnostic::attribute_error(AttributePath::attr(attr), summary, detail)
}

/// All cross-field problems of `config`.
pub fn validate(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(mode) = config.mode() else {
        // Unknown mode (not known yet, or rejected by the schema validator): nothing mode-specific to check.
        check_maps(config, &mut out);
        return out;
    };

    if config.service_account.known().is_some_and(|s| s == "*") && mode != Mode::Irsa {
        out.push(err(
            "service_account",
            "Wildcard service account needs IRSA",
            format!(
                "service_account = \"*\" trusts every service account of the namespace, which only IRSA can \
                 express (StringLike on the token's subject). EKS Pod Identity associates one named service \
                 account; mode is \"{}\". Name the service account, or use mode = \"irsa\".",
                mode.as_str()
            ),
        ));
    }

    match mode {
        Mode::Irsa => {
            if config.cluster_name.is_null() && config.oidc_issuer_url.is_null() {
                out.push(Diagnostic::attribute_error(
                    AttributePath::attr("cluster_name"),
                    "Missing cluster_name or oidc_issuer_url",
                    "In irsa mode the role must trust an OIDC issuer: set cluster_name (the issuer is read from \
                     EKS) or oidc_issuer_url (for clusters outside EKS).",
                ));
            }
            for attr in ["target_role_arn", "session_policy", "disable_session_tags"] {
                if is_set(config, attr) {
                    out.push(err(
                        attr,
                        "Attribute only applies to Pod Identity",
                        format!(
                            "{attr} configures the pod identity association, which does not exist in irsa mode. \
                             Remove it, or set mode to \"pod_identity\" or \"both\"."
                        ),
                    ));
                }
            }
            for attr in ["manage_agent_addon", "agent_addon_version"] {
                if is_set(config, attr) {
                    out.push(
                        Diagnostic::warning(
                            "Attribute has no effect in irsa mode",
                            format!(
                                "{attr} concerns the eks-pod-identity-agent addon, which irsa mode does not use. \
                             It takes effect when mode becomes \"both\" or \"pod_identity\"."
                            ),
                        )
                        .at(AttributePath::attr(attr)),
                    );
                }
            }
        }
        Mode::PodIdentity | Mode::Both => {
            if config.cluster_name.is_null() {
                out.push(err(
                    "cluster_name",
                    "Missing cluster_name",
                    format!(
                        "mode = \"{}\" creates a pod identity association, which belongs to an EKS cluster: set \
                         cluster_name.",
                        mode.as_str()
                    ),
                ));
            }
        }
    }
    if mode == Mode::PodIdentity {
        for attr in ["audience", "oidc_issuer_url"] {
            if is_set(config, attr) {
                out.push(err(
                    attr,
                    "Attribute only applies to IRSA",
                    format!(
                        "{attr} configures the IRSA trust, which does not exist in pod_identity mode. Remove it, \
                         or set mode to \"irsa\" or \"both\"."
                    ),
                ));
            }
        }
    }

    let tags_disabled_or_unknown =
        config.disable_session_tags == Field::Known(true) || config.disable_session_tags.is_unknown();
    if is_set(config, "session_policy") && !tags_disabled_or_unknown {
        out.push(err(
            "session_policy",
            "session_policy requires disable_session_tags = true",
            "EKS accepts a session policy only when session tags are disabled, because both share the \
             packed size limit of the role session. Add disable_session_tags = true."
                .into(),
        ));
    }

    // The derived role name must be a valid IAM name; an explicit one was checked by its validator.
    if config.role_name.is_null() {
        if let Some(name) = naming::default_role_name_for_config(config) {
            if let Err(reason) = checks::iam_role_name(&name) {
                out.push(err("role_name", "Cannot derive a role name", format!("{reason} Set role_name.")));
            }
        }
    }

    check_maps(config, &mut out);
    out
}

/// Set to a known value. An unknown value may still turn out null, so it is never rejected.
fn is_set(config: &Config, attr: &str) -> bool {
    match attr {
        "target_role_arn" => config.target_role_arn.known().is_some(),
        "session_policy" => config.session_policy.known().is_some(),
        "disable_session_tags" => config.disable_session_tags.known().is_some(),
        "manage_agent_addon" => config.manage_agent_addon.known().is_some(),
        "agent_addon_version" => config.agent_addon_version.known().is_some(),
        "audience" => config.audience.known().is_some(),
        "oidc_issuer_url" => config.oidc_issuer_url.known().is_some(),
        _ => false,
    }
}

/// Map keys are not covered by schema validators: inline policy names and tag keys/values.
fn check_maps(config: &Config, out: &mut Vec<Diagnostic>) {
    if let Field::Known(policies) = &config.inline_policies {
        for name in policies.keys() {
            if let Err(reason) = checks::iam_policy_name(name) {
                out.push(Diagnostic::attribute_error(
                    AttributePath::attr("inline_policies").push_key(name),
                    "Invalid inline policy name",
                    reason,
                ));
            }
        }
    }
    if let Field::Known(tags) = &config.tags {
        for (key, value) in tags {
            let path = AttributePath::attr("tags").push_key(key);
            if let Err(reason) = checks::tag_key(key) {
                out.push(Diagnostic::attribute_error(path.clone(), "Invalid tag key", reason));
            }
            if let Field::Known(v) = value {
                if let Err(reason) = checks::tag_value(v) {
                    out.push(Diagnostic::attribute_error(path, "Invalid tag value", reason));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Value;
    use crate::schema::validate_config;
    use crate::wiring::schema::resource_schema;

    fn config(attrs: &[(&str, Value)]) -> Value {
        let mut v = Value::null_object(&resource_schema().value_type());
        if let Value::Object(m) = &mut v {
            m.insert("mode".into(), Value::string("irsa"));
            m.insert("cluster_name".into(), Value::string("prod"));
            m.insert("namespace".into(), Value::string("payments"));
            m.insert("service_account".into(), Value::string("api"));
            for (k, x) in attrs {
                assert!(m.contains_key(*k), "no attribute {k}");
                m.insert(k.to_string(), x.clone());
            }
        }
        v
    }

    /// Schema validators plus cross-field validation, as the protocol layer runs them.
    fn errors(v: &Value) -> Vec<Diagnostic> {
        let mut out = validate_config(&resource_schema().block, v);
        out.extend(validate(&Config::from_value(v)));
        out.into_iter().filter(|d| d.is_error()).collect()
    }

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn each_invalid_configuration_names_its_attribute() {
        let map = |k: &str, v: Value| Value::Map([(k.to_string(), v)].into());
        type Case<'a> = (&'a str, Vec<(&'a str, Value)>, &'a str);
        let cases: Vec<Case> = vec![
            ("unknown mode", vec![("mode", s("oidc"))], "mode"),
            ("namespace not a label", vec![("namespace", s("Payments"))], "namespace"),
            ("service account not a subdomain", vec![("service_account", s("api_server"))], "service_account"),
            (
                "wildcard outside irsa",
                vec![("mode", s("pod_identity")), ("service_account", s("*"))],
                "service_account",
            ),
            ("irsa without cluster or issuer", vec![("cluster_name", Value::Null)], "cluster_name"),
            ("pod identity without cluster", vec![("mode", s("both")), ("cluster_name", Value::Null)], "cluster_name"),
            ("role name too long", vec![("role_name", s(&"r".repeat(65)))], "role_name"),
            ("role name characters", vec![("role_name", s("my role"))], "role_name"),
            (
                "policy ARN malformed",
                vec![("policy_arns", Value::Set(vec![s("ReadOnlyAccess")]))],
                "policy_arns[\"ReadOnlyAccess\"]",
            ),
            ("boundary malformed", vec![("permissions_boundary", s("arn:aws:s3:::b"))], "permissions_boundary"),
            (
                "target role malformed",
                vec![("mode", s("pod_identity")), ("target_role_arn", s("role/x"))],
                "target_role_arn",
            ),
            ("inline policy not JSON", vec![("inline_policies", map("s3", s("{not json")))], "inline_policies[\"s3\"]"),
            ("inline policy not an object", vec![("inline_policies", map("s3", s("[]")))], "inline_policies[\"s3\"]"),
            (
                "inline policy name",
                vec![("inline_policies", map("bad name", s("{}")))],
                "inline_policies[\"bad name\"]",
            ),
            (
                "session policy not JSON",
                vec![
                    ("mode", s("pod_identity")),
                    ("disable_session_tags", Value::Bool(true)),
                    ("session_policy", s("x")),
                ],
                "session_policy",
            ),
            (
                "session policy without disabled tags",
                vec![("mode", s("pod_identity")), ("session_policy", s("{}"))],
                "session_policy",
            ),
            ("session duration too short", vec![("max_session_duration", Value::int(60))], "max_session_duration"),
            ("session duration too long", vec![("max_session_duration", Value::int(50000))], "max_session_duration"),
            ("issuer not https", vec![("oidc_issuer_url", s("http://issuer"))], "oidc_issuer_url"),
            (
                "bad timeout",
                vec![(
                    "timeouts",
                    Value::Object(
                        [
                            ("create".to_string(), s("ten minutes")),
                            ("update".to_string(), Value::Null),
                            ("delete".to_string(), Value::Null),
                        ]
                        .into(),
                    ),
                )],
                "timeouts.create",
            ),
            ("reserved tag key", vec![("tags", map("eksidentity:wiring", s("x")))], "tags[\"eksidentity:wiring\"]"),
            (
                "target role in irsa",
                vec![("target_role_arn", s("arn:aws:iam::111122223333:role/t"))],
                "target_role_arn",
            ),
            ("audience in pod identity", vec![("mode", s("pod_identity")), ("audience", s("x"))], "audience"),
            ("bad cluster name", vec![("cluster_name", s("-prod"))], "cluster_name"),
            ("bad role path", vec![("role_path", s("workloads"))], "role_path"),
        ];
        for (name, attrs, path) in cases {
            let errs = errors(&config(&attrs));
            assert!(!errs.is_empty(), "{name}: accepted");
            assert!(
                errs.iter().any(|d| d.path.as_ref().map(|p| p.to_string()).as_deref() == Some(path)),
                "{name}: no error at {path}: {errs:?}"
            );
            assert!(errs.iter().all(|d| !d.detail.is_empty()), "{name}: an error has no explanation");
        }
    }

    #[test]
    fn valid_and_unknown_values_are_accepted() {
        assert!(errors(&config(&[])).is_empty());
        assert!(errors(&config(&[("service_account", s("*"))])).is_empty());
        assert!(errors(&config(&[
            ("cluster_name", Value::Null),
            ("oidc_issuer_url", s("https://issuer.example.com"))
        ]))
        .is_empty());
        // Values from other resources are not known at validate time: never rejected.
        for attr in ["mode", "namespace", "service_account", "cluster_name", "session_policy", "role_name"] {
            assert!(errors(&config(&[(attr, Value::unknown())])).is_empty(), "{attr} unknown was rejected");
        }
        assert!(errors(&config(&[
            ("mode", s("pod_identity")),
            ("session_policy", s("{}")),
            ("disable_session_tags", Value::unknown())
        ]))
        .is_empty());
    }
}
