//! The schema of `eksidentity_service_account_role`: the single source for the protocol, decoding, per-attribute
//! validation and the documentation. Cross-field rules live in `spec.rs`.

use crate::cty::Type;
use crate::schema::{
    each_map_value, each_set_element, int_between, matches_fn, one_of, Attribute, Block, NestedBlock, Nesting, Schema,
};

use super::checks;

/// Bump when the stored state's shape changes, and teach `upgrade_state` the old shape.
pub const SCHEMA_VERSION: i64 = 0;

pub const MODES: &[&str] = &["irsa", "pod_identity", "both"];

fn string_check(
    description: &str,
    summary: &str,
    check: fn(&str) -> Result<(), String>,
) -> impl crate::schema::Validator {
    matches_fn(description, summary, check)
}

pub fn resource_schema() -> Schema {
    let block = Block::new(
        "Wires an AWS IAM role to a Kubernetes service account on an EKS cluster, with IRSA (an IAM OIDC identity \
         provider and a federated trust policy), EKS Pod Identity (the agent addon, a trust policy for \
         `pods.eks.amazonaws.com` and a pod identity association), or both at once while migrating from one to \
         the other. Shared objects (the OIDC provider, the agent addon) are adopted when they exist, created when \
         they do not, and removed on destroy only when this provider created them and nothing uses them any more.",
    )
    .attribute(
        Attribute::string("mode")
            .required()
            .description(
                "How the service account gets the role: `irsa` (IAM roles for service accounts, through the \
                 cluster's OIDC issuer), `pod_identity` (EKS Pod Identity), or `both` (the zero-downtime \
                 migration step: the role trusts both, the association exists and the IRSA annotation stays). \
                 Changing it updates the wiring in place; the role ARN never changes.",
            )
            .validator(one_of(MODES)),
    )
    .attribute(
        Attribute::string("cluster_name")
            .optional()
            .description(
                "Name of the EKS cluster. Required when `mode` is `pod_identity` or `both`; with `irsa`, either \
                 this or `oidc_issuer_url` is required. Changing it replaces the wiring.",
            )
            .validator(string_check(
                "Must be a valid EKS cluster name.",
                "Invalid cluster name",
                checks::eks_cluster_name,
            ))
            .requires_replace(),
    )
    .attribute(
        Attribute::string("namespace")
            .required()
            .description("Kubernetes namespace of the service account.")
            .validator(string_check("Must be a DNS-1123 label.", "Invalid namespace", checks::dns1123_label)),
    )
    .attribute(
        Attribute::string("service_account")
            .required()
            .description(
                "Name of the Kubernetes service account (a DNS-1123 subdomain). In `irsa` mode, `*` trusts every \
                 service account of the namespace (the trust policy then uses `StringLike` on `sub`, while `aud` \
                 stays exact); Pod Identity has no wildcard.",
            )
            .validator(string_check(
                "Must be a DNS-1123 subdomain, or `*` in `irsa` mode.",
                "Invalid service account name",
                |s| if s == "*" { Ok(()) } else { checks::dns1123_subdomain(s) },
            )),
    )
    .attribute(
        Attribute::string("role_name")
            .optional()
            .computed()
            .description(
                "Name of the IAM role. Defaults to a name derived from the cluster (or issuer), namespace and \
                 service account, at most 64 characters (long names end in a short hash). Changing it replaces \
                 the wiring.",
            )
            .validator(string_check("Must be a valid IAM role name.", "Invalid role name", checks::iam_role_name))
            .requires_replace(),
    )
    .attribute(
        Attribute::string("role_path")
            .optional()
            .computed()
            .description("IAM path of the role. Defaults to `/`. Changing it replaces the wiring.")
            .validator(string_check("Must be a valid IAM path.", "Invalid role path", checks::iam_path))
            .requires_replace(),
    )
    .attribute(Attribute::string("role_description").optional().description("Description of the IAM role.").validator(
        string_check("Must be a valid IAM description.", "Invalid role description", checks::iam_description),
    ))
    .attribute(
        Attribute::string("permissions_boundary")
            .optional()
            .description("ARN of the managed policy used as the role's permissions boundary.")
            .validator(string_check("Must be an IAM policy ARN.", "Invalid policy ARN", checks::iam_policy_arn)),
    )
    .attribute(
        Attribute::number("max_session_duration")
            .optional()
            .computed()
            .description("Maximum session duration of the role, in seconds, from 3600 to 43200. Defaults to 3600.")
            .validator(int_between(3600, 43200)),
    )
    .attribute(
        Attribute::new("policy_arns", Type::set(Type::String))
            .optional()
            .computed()
            .description(
                "ARNs of managed policies attached to the role. When set, the list is exclusive: attachments not \
                 listed are detached. When not set, attachments are not managed by this resource (so separate \
                 `aws_iam_role_policy_attachment` resources can add them).",
            )
            .validator(each_set_element(string_check(
                "Must be an IAM policy ARN.",
                "Invalid policy ARN",
                checks::iam_policy_arn,
            ))),
    )
    .attribute(
        Attribute::new("inline_policies", Type::map(Type::String))
            .optional()
            .computed()
            .description(
                "Inline policies of the role: policy name to JSON document. Documents are compared by meaning \
                 (key order, whitespace, single values versus lists), so IAM's reformatting never shows as a \
                 change. When set, the map is exclusive; when not set, inline policies are not managed.",
            )
            .validator(each_map_value(string_check(
                "Must be a JSON object.",
                "Invalid policy document",
                checks::json_object,
            ))),
    )
    .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description(
        "Tags for the role and the pod identity association, merged over the provider's `default_tags`. \
                 Keys starting with `aws:` or `eksidentity:` are reserved.",
    ))
    .attribute(
        Attribute::new("tags_all", Type::map(Type::String))
            .computed()
            .description("All tags of the role: the provider's `default_tags` merged with `tags`."),
    )
    .attribute(
        Attribute::string("audience")
            .optional()
            .computed()
            .description(
                "Audience (`aud`) that IRSA tokens carry, in `irsa` and `both` modes. Defaults to \
                 `sts.amazonaws.com`. It is added to the OIDC provider's client IDs when missing.",
            )
            .validator(crate::schema::string_length_between(1, 255)),
    )
    .attribute(
        Attribute::string("oidc_issuer_url")
            .optional()
            .computed()
            .description(
                "OIDC issuer URL of the cluster, for `irsa` and `both`. Defaults to the issuer that EKS reports \
                 for `cluster_name`; set it for clusters outside EKS (then `cluster_name` may be omitted in \
                 `irsa` mode).",
            )
            .validator(string_check("Must be an https:// URL.", "Invalid issuer URL", checks::https_url)),
    )
    .attribute(Attribute::bool("manage_agent_addon").optional().computed().description(
        "In `pod_identity` and `both` modes, make sure the `eks-pod-identity-agent` addon is installed \
                 and ACTIVE (adopting it when it exists). Defaults to `true`. Set `false` when the agent is \
                 managed elsewhere.",
    ))
    .attribute(
        Attribute::string("agent_addon_version")
            .optional()
            .computed()
            .description(
                "Version of the `eks-pod-identity-agent` addon, for example `v1.3.4-eksbuild.1`. Defaults to the \
                 version EKS picks; the computed value is the installed version. This provider changes the version \
                 only of an addon it installed; an addon installed elsewhere must already run the version set here.",
            )
            .validator(crate::schema::string_length_between(1, 100)),
    )
    .attribute(
        Attribute::string("target_role_arn")
            .optional()
            .description(
                "Pod Identity role chaining: ARN of a role (usually in another account) that EKS assumes with \
                 this wiring's role before handing credentials to the pod.",
            )
            .validator(string_check("Must be an IAM role ARN.", "Invalid role ARN", checks::iam_role_arn)),
    )
    .attribute(Attribute::bool("disable_session_tags").optional().computed().description(
        "Pod Identity: do not add the session tags (cluster, namespace, service account, pod) to the \
                 role session. Defaults to `false`. Required as `true` for `session_policy`.",
    ))
    .attribute(
        Attribute::string("session_policy")
            .optional()
            .description(
                "Pod Identity: a JSON policy that further limits the session's permissions. Requires \
                 `disable_session_tags = true`.",
            )
            .validator(string_check("Must be a JSON object.", "Invalid session policy", checks::json_object)),
    )
    .attribute(Attribute::string("id").computed().description(
        "Wiring identifier: `<cluster_name>/<namespace>/<service_account>` (or the issuer host and path in place \
         of the cluster for IRSA without a cluster name). Also the import ID.",
    ))
    .attribute(Attribute::string("role_arn").computed().description("ARN of the IAM role."))
    .attribute(Attribute::string("role_unique_id").computed().description("Stable unique ID IAM gave the role."))
    .attribute(Attribute::string("trust_policy").computed().description(
        "The role's trust policy, exactly as this provider writes it: a federated statement for IRSA, a \
         `pods.eks.amazonaws.com` statement for Pod Identity, both in `both` mode.",
    ))
    .attribute(
        Attribute::string("oidc_provider_arn")
            .computed()
            .description("ARN of the IAM OIDC identity provider the role trusts (`irsa` and `both`; null otherwise)."),
    )
    .attribute(Attribute::string("oidc_thumbprint").computed().description(
        "First thumbprint registered on the OIDC provider (`irsa` and `both`). For a provider this provider \
         created, it is the SHA-1 (40 lowercase hex characters) of the top intermediate CA that the issuer's JWKS \
         host presents, computed as AWS documents it, and it follows the issuer's certificate chain. A provider \
         created elsewhere keeps its own thumbprints.",
    ))
    .attribute(Attribute::new("oidc_thumbprint_list", Type::list(Type::String)).computed().description(
        "Thumbprints registered on the OIDC provider. For a provider this provider created: the JWKS host's, plus \
         the discovery host's when it differs.",
    ))
    .attribute(
        Attribute::string("association_id")
            .computed()
            .description("ID of the pod identity association (`pod_identity` and `both`; null otherwise)."),
    )
    .attribute(
        Attribute::string("association_arn")
            .computed()
            .description("ARN of the pod identity association (`pod_identity` and `both`; null otherwise)."),
    )
    .attribute(Attribute::string("external_id").computed().description(
        "External ID EKS uses when it assumes `target_role_arn` (set by EKS for role chaining; null otherwise).",
    ))
    .attribute(Attribute::new("service_account_annotations", Type::map(Type::String)).computed().description(
        "Annotations to put on the Kubernetes service account: `eks.amazonaws.com/role-arn` in `irsa` and `both` \
         modes (plus `eks.amazonaws.com/audience` when `audience` is not the default), empty in `pod_identity` \
         mode. Feed it to `kubernetes_service_account.metadata.annotations`.",
    ))
    .block(NestedBlock::new(
        "timeouts",
        Nesting::Single,
        Block::new("How long each operation may take, as durations such as `\"30s\"`, `\"20m\"` or `\"1h\"`.")
            .attribute(timeout_attribute(
                "create",
                "Time allowed to create the wiring, including waiting for the agent addon to become ACTIVE and \
                 for IAM to propagate a new role. Defaults to `20m`.",
            ))
            .attribute(timeout_attribute(
                "update",
                "Time allowed to update the wiring, including a mode switch that installs the agent addon. \
                 Defaults to `20m`.",
            ))
            .attribute(timeout_attribute(
                "delete",
                "Time allowed to delete the wiring: the association, the role and its policies, and shared objects \
                 no longer used. Defaults to `20m`.",
            )),
    ));
    Schema::new(SCHEMA_VERSION, block)
}

fn timeout_attribute(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description).validator(string_check(
        "Must be a duration such as `20m`.",
        "Invalid duration",
        |s| checks::parse_duration(s).map(|_| ()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_is_described_and_has_a_kind() {
        let schema = resource_schema();
        for a in &schema.block.attributes {
            assert!(!a.description.trim().is_empty(), "{} has no description", a.name);
            assert!(a.required || a.optional || a.computed, "{} is neither required, optional nor computed", a.name);
            assert!(!(a.required && (a.optional || a.computed)), "{} mixes required with optional/computed", a.name);
        }
        for b in &schema.block.blocks {
            for a in &b.block.attributes {
                assert!(!a.description.trim().is_empty(), "{}.{} has no description", b.name, a.name);
            }
        }
    }

    #[test]
    fn contract_attributes_exist() {
        let schema = resource_schema();
        for name in [
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
        ] {
            assert!(schema.block.find_attribute(name).is_some(), "missing {name}");
        }
        assert!(schema.block.find_block("timeouts").is_some());
    }
}
