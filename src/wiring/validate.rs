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
    if config.session_policy.is_set() && !tags_disabled_or_unknown {
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

fn is_set(config: &Config, attr: &str) -> bool {
    match attr {
        "target_role_arn" => config.target_role_arn.is_set(),
        "session_policy" => config.session_policy.is_set(),
        "disable_session_tags" => config.disable_session_tags.is_set(),
        "manage_agent_addon" => config.manage_agent_addon.is_set(),
        "agent_addon_version" => config.agent_addon_version.is_set(),
        "audience" => config.audience.is_set(),
        "oidc_issuer_url" => config.oidc_issuer_url.is_set(),
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
