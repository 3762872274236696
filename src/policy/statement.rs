//! Building the trust statements this provider owns and the exact trust-policy JSON sent to IAM.
//!
//! Serialisation goes through derived `Serialize` impls on plain structs, so the key order is the field order and
//! does not depend on serde_json's `preserve_order` feature or on map iteration order.

use std::collections::BTreeMap;

use serde::Serialize;

/// Sid of the federated (IRSA) statement. Drift checks find our statement by it, so it never changes.
pub const IRSA_SID: &str = "EksIdentityIrsa";
/// Sid of the EKS Pod Identity statement.
pub const POD_IDENTITY_SID: &str = "EksIdentityPodIdentity";
/// The only policy language version we write.
pub const POLICY_VERSION: &str = "2012-10-17";
/// The principal EKS Pod Identity assumes roles as. AWS documents this same name for the China partition
/// (docs.amazonaws.cn shows `pods.eks.amazonaws.com`); GovCloud and the ISO partitions are not documented
/// differently, so every partition uses it.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";
/// The audience EKS projects into service account tokens by default.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// `Allow` or `Deny`; IAM compares it case-sensitively, so it is an enum rather than free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// A policy value that IAM accepts either as one string or as a list of strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for OneOrMany {
    fn from(s: &str) -> Self {
        OneOrMany::One(s.to_string())
    }
}

/// One statement of a trust policy, with the fields a trust statement uses. Keys serialise in IAM's customary
/// order: Sid, Effect, Principal, Action, Condition; principal types and condition operators/keys sorted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    #[serde(rename = "Sid")]
    pub sid: String,
    #[serde(rename = "Effect")]
    pub effect: Effect,
    /// Principal type (`Federated`, `Service`, `AWS`) -> principal(s).
    #[serde(rename = "Principal")]
    pub principal: BTreeMap<String, OneOrMany>,
    #[serde(rename = "Action")]
    pub action: OneOrMany,
    /// Operator (`StringEquals`, ...) -> condition key -> value(s).
    #[serde(rename = "Condition", skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, OneOrMany>>,
}

impl Statement {
    /// The statement as compact JSON, keys in the documented order.
    pub fn to_json(&self) -> String {
        // A struct of strings, enums and string-keyed maps always serialises.
        serde_json::to_string(self).expect("statement serialises")
    }

    /// The statement as a JSON value (for comparison with statements read back from IAM).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("statement serialises")
    }
}

/// The OIDC issuer as IAM names it in provider ARNs and condition keys: without `https://` and without a trailing
/// slash, e.g. `oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE`.
pub fn issuer_host_path(issuer_url: &str) -> &str {
    let s = issuer_url.strip_prefix("https://").unwrap_or(issuer_url);
    s.trim_end_matches('/')
}

/// ARN of the IAM OIDC provider for an issuer (`issuer_host_path` without `https://`).
pub fn oidc_provider_arn(partition: &str, account_id: &str, issuer_host_path: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:oidc-provider/{issuer_host_path}")
}

/// The federated (IRSA) trust statement: tokens from this issuer for this service account, with this audience.
///
/// `service_account == "*"` trusts every service account of the namespace: `sub` is matched with `StringLike`,
/// while `aud` stays an exact `StringEquals`.
pub fn irsa_statement(
    partition: &str,
    account_id: &str,
    issuer_host_path: &str,
    namespace: &str,
    service_account: &str,
    audience: &str,
) -> Statement {
    let sub_key = format!("{issuer_host_path}:sub");
    let aud_key = format!("{issuer_host_path}:aud");
    let subject = OneOrMany::One(format!("system:serviceaccount:{namespace}:{service_account}"));
    let audience = OneOrMany::One(audience.to_string());

    let mut condition: BTreeMap<String, BTreeMap<String, OneOrMany>> = BTreeMap::new();
    if service_account == "*" {
        condition.entry("StringLike".to_string()).or_default().insert(sub_key, subject);
    } else {
        condition.entry("StringEquals".to_string()).or_default().insert(sub_key, subject);
    }
    condition.entry("StringEquals".to_string()).or_default().insert(aud_key, audience);

    Statement {
        sid: IRSA_SID.to_string(),
        effect: Effect::Allow,
        principal: BTreeMap::from([(
            "Federated".to_string(),
            OneOrMany::One(oidc_provider_arn(partition, account_id, issuer_host_path)),
        )]),
        action: "sts:AssumeRoleWithWebIdentity".into(),
        condition,
    }
}

/// The EKS Pod Identity trust statement. `partition` is accepted so callers treat both builders alike; the
/// principal is the same in every partition AWS documents (see [`POD_IDENTITY_SERVICE`]).
pub fn pod_identity_statement(partition: &str) -> Statement {
    let _ = partition;
    Statement {
        sid: POD_IDENTITY_SID.to_string(),
        effect: Effect::Allow,
        principal: BTreeMap::from([("Service".to_string(), POD_IDENTITY_SERVICE.into())]),
        action: OneOrMany::Many(vec!["sts:AssumeRole".to_string(), "sts:TagSession".to_string()]),
        condition: BTreeMap::new(),
    }
}

#[derive(Serialize)]
struct TrustDocument<'a> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: &'a [Statement],
}

/// The exact trust-policy JSON sent to IAM and shown in the plan: compact, `Version` then `Statement`, statements
/// in the order given. The same statements always give the same bytes.
pub fn trust_policy(statements: &[Statement]) -> String {
    serde_json::to_string(&TrustDocument { version: POLICY_VERSION, statement: statements })
        .expect("trust policy serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

    #[test]
    fn trust_policy_golden_documents() {
        struct Case {
            name: &'static str,
            statements: Vec<Statement>,
            want: String,
        }
        let cases = vec![
            Case {
                name: "irsa exact service account",
                statements: vec![irsa_statement("aws", "111122223333", ISSUER, "default", "app", "sts.amazonaws.com")],
                want: format!(
                    concat!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EksIdentityIrsa","Effect":"Allow","#,
                        r#""Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{i}"}},"#,
                        r#""Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"#,
                        r#""{i}:aud":"sts.amazonaws.com","{i}:sub":"system:serviceaccount:default:app"}}}}}}]}}"#
                    ),
                    i = ISSUER
                ),
            },
            Case {
                name: "irsa namespace wildcard uses StringLike on sub only",
                statements: vec![irsa_statement("aws", "111122223333", ISSUER, "team-a", "*", "sts.amazonaws.com")],
                want: format!(
                    concat!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EksIdentityIrsa","Effect":"Allow","#,
                        r#""Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{i}"}},"#,
                        r#""Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"#,
                        r#""StringEquals":{{"{i}:aud":"sts.amazonaws.com"}},"#,
                        r#""StringLike":{{"{i}:sub":"system:serviceaccount:team-a:*"}}}}}}]}}"#
                    ),
                    i = ISSUER
                ),
            },
            Case {
                name: "pod identity",
                statements: vec![pod_identity_statement("aws")],
                want: concat!(
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"EksIdentityPodIdentity","Effect":"Allow","#,
                    r#""Principal":{"Service":"pods.eks.amazonaws.com"},"#,
                    r#""Action":["sts:AssumeRole","sts:TagSession"]}]}"#
                )
                .to_string(),
            },
            Case {
                name: "both keeps the given statement order",
                statements: vec![
                    irsa_statement("aws-cn", "111122223333", "oidc.eks.cn-north-1.amazonaws.com.cn/id/X", "ns", "sa", "aud"),
                    pod_identity_statement("aws-cn"),
                ],
                want: concat!(
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"EksIdentityIrsa","Effect":"Allow","#,
                    r#""Principal":{"Federated":"arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X"},"#,
                    r#""Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"#,
                    r#""oidc.eks.cn-north-1.amazonaws.com.cn/id/X:aud":"aud","#,
                    r#""oidc.eks.cn-north-1.amazonaws.com.cn/id/X:sub":"system:serviceaccount:ns:sa"}}},"#,
                    r#"{"Sid":"EksIdentityPodIdentity","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"#,
                    r#""Action":["sts:AssumeRole","sts:TagSession"]}]}"#
                )
                .to_string(),
            },
            Case {
                name: "no statements",
                statements: vec![],
                want: r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
            },
        ];
        for case in cases {
            let got = trust_policy(&case.statements);
            assert_eq!(got, case.want, "case {:?}", case.name);
            assert_eq!(trust_policy(&case.statements), got, "case {:?}: not deterministic", case.name);
            let parsed: serde_json::Value = serde_json::from_str(&got).unwrap();
            assert!(parsed.is_object(), "case {:?}", case.name);
        }
    }

    #[test]
    fn issuer_host_path_strips_scheme_and_trailing_slash() {
        let cases = [
            (
                "eks issuer",
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
                "oidc.eks.us-east-1.amazonaws.com/id/ABC",
            ),
            ("trailing slash", "https://example.com/id/ABC/", "example.com/id/ABC"),
            ("already bare", "example.com/x", "example.com/x"),
            ("loopback with port", "https://localhost:8443/id/T", "localhost:8443/id/T"),
        ];
        for (name, input, want) in cases {
            assert_eq!(issuer_host_path(input), want, "case {name:?}");
        }
    }

    #[test]
    fn oidc_provider_arn_uses_partition() {
        assert_eq!(
            oidc_provider_arn("aws-us-gov", "123456789012", "oidc.eks.us-gov-west-1.amazonaws.com/id/A"),
            "arn:aws-us-gov:iam::123456789012:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/A"
        );
    }

    #[test]
    fn statement_to_json_matches_its_slice_of_the_document() {
        let st = pod_identity_statement("aws");
        let doc = trust_policy(std::slice::from_ref(&st));
        assert!(doc.contains(&st.to_json()));
        assert_eq!(st.to_value(), serde_json::from_str::<serde_json::Value>(&st.to_json()).unwrap());
    }
}
