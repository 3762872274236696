//! Names and identifiers derived from the inputs: the default role name, the wiring key (also the `id` and the
//! `eksidentity:wiring` tag value), ARNs, and the OIDC provider's identity for an issuer. Pure functions.

use sha2::{Digest, Sha256};

use super::model::{Config, Field};

/// Tag on roles and associations this provider created: value is the wiring key.
pub const WIRING_TAG: &str = "eksidentity:wiring";
/// Tag on shared objects (OIDC providers, addons) this provider created.
pub const CREATED_BY_TAG: &str = "eksidentity:created-by";
pub const CREATED_BY_VALUE: &str = "eksidentity";

pub use crate::policy::{issuer_host_path, DEFAULT_AUDIENCE};
pub const AGENT_ADDON: &str = "eks-pod-identity-agent";
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
pub const AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";

/// What identifies the wiring's "cluster" part: the cluster name, or the issuer for clusters outside EKS.
fn scope(cluster_name: Option<&str>, issuer_url: Option<&str>) -> Option<String> {
    match (cluster_name, issuer_url) {
        (Some(c), _) => Some(c.to_string()),
        (None, Some(i)) => Some(issuer_host_path(i).to_string()),
        (None, None) => None,
    }
}

/// `<cluster>/<namespace>/<service_account>`: the resource ID, the import ID and the ownership tag value.
pub fn wiring_key(cluster_name: Option<&str>, issuer_url: Option<&str>, namespace: &str, sa: &str) -> String {
    let scope = scope(cluster_name, issuer_url).unwrap_or_default();
    format!("{scope}/{namespace}/{sa}")
}

/// The default role name: `<cluster>-<namespace>-<sa>`, with `*` spelled `all`. Names over 64 characters are cut
/// and end in `-` plus 8 hex characters of a SHA-256 of the full name, so distinct wirings keep distinct names.
/// Without a cluster, the scope is `irsa-` plus a hash of the issuer (issuer URLs are long and full of '/').
pub fn default_role_name(cluster_name: Option<&str>, issuer_url: Option<&str>, namespace: &str, sa: &str) -> String {
    let scope = match (cluster_name, issuer_url) {
        (Some(c), _) => c.to_string(),
        (None, Some(i)) => format!("irsa-{}", &hex_sha256(issuer_host_path(i))[..8]),
        (None, None) => "irsa".to_string(),
    };
    let sa = if sa == "*" { "all" } else { sa };
    let full = format!("{scope}-{namespace}-{sa}");
    if full.len() <= 64 {
        return full;
    }
    let hash = &hex_sha256(&full)[..8];
    let mut cut = full[..55].to_string();
    while cut.ends_with(['-', '.']) {
        cut.pop();
    }
    format!("{cut}-{hash}")
}

fn hex_sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The default role name for a configuration, when every input it depends on is known.
pub fn default_role_name_for_config(config: &Config) -> Option<String> {
    let cluster = match &config.cluster_name {
        Field::Known(c) => Some(c.as_str()),
        Field::Null => None,
        Field::Unknown => return None,
    };
    let issuer = match &config.oidc_issuer_url {
        Field::Known(i) => Some(i.as_str()),
        Field::Null => None,
        Field::Unknown => return None,
    };
    Some(default_role_name(cluster, issuer, config.namespace.known()?, config.service_account.known()?))
}

pub fn role_arn(partition: &str, account: &str, path: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role{path}{name}")
}

pub fn oidc_provider_arn(partition: &str, account: &str, issuer_url: &str) -> String {
    crate::policy::oidc_provider_arn(partition, account, issuer_host_path(issuer_url))
}

/// The annotations a Kubernetes service account needs for IRSA (empty for Pod Identity).
pub fn annotations(irsa: bool, role_arn: &str, audience: Option<&str>) -> crate::wiring::model::StringMap {
    let mut out = crate::wiring::model::StringMap::new();
    if irsa {
        out.insert(ROLE_ARN_ANNOTATION.to_string(), role_arn.to_string());
        if let Some(a) = audience.filter(|a| *a != DEFAULT_AUDIENCE) {
            out.insert(AUDIENCE_ANNOTATION.to_string(), a.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_readable() {
        assert_eq!(default_role_name(Some("prod"), None, "payments", "api"), "prod-payments-api");
        assert_eq!(default_role_name(Some("prod"), None, "payments", "*"), "prod-payments-all");
    }

    #[test]
    fn long_names_are_cut_with_a_stable_hash() {
        let ns = "n".repeat(40);
        let a = default_role_name(Some("cluster"), None, &ns, "service-account-a");
        let b = default_role_name(Some("cluster"), None, &ns, "service-account-b");
        assert!(a.len() <= 64 && b.len() <= 64, "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(a, default_role_name(Some("cluster"), None, &ns, "service-account-a"));
        assert!(crate::wiring::checks::iam_role_name(&a).is_ok());
    }

    #[test]
    fn issuer_scope() {
        let n = default_role_name(None, Some("https://issuer.example.com/id/ABC/"), "ns", "sa");
        assert!(n.starts_with("irsa-") && n.ends_with("-ns-sa"), "{n}");
        assert_eq!(
            wiring_key(None, Some("https://issuer.example.com/id/ABC"), "ns", "sa"),
            "issuer.example.com/id/ABC/ns/sa"
        );
        assert_eq!(issuer_host_path("https://h/id/X/"), "h/id/X");
    }

    #[test]
    fn arns_and_annotations() {
        assert_eq!(role_arn("aws", "123456789012", "/", "r"), "arn:aws:iam::123456789012:role/r");
        assert_eq!(role_arn("aws", "123456789012", "/a/", "r"), "arn:aws:iam::123456789012:role/a/r");
        assert_eq!(
            oidc_provider_arn("aws", "1", "https://oidc.eks.x/id/A"),
            "arn:aws:iam::1:oidc-provider/oidc.eks.x/id/A"
        );
        assert!(annotations(false, "arn", None).is_empty());
        assert_eq!(annotations(true, "arn", Some("sts.amazonaws.com")).len(), 1);
        assert_eq!(annotations(true, "arn", Some("other")).len(), 2);
    }
}
