//! Import: from an ID to a state that matches a configuration of the same wiring, so that import followed by
//! plan shows no changes.
//!
//! Accepted IDs: `<cluster_name>/<namespace>/<service_account>` (the resource's `id`), `<issuer host and
//! path>/<namespace>/<service_account>` for IRSA without a cluster name, or a bare role name. The role is found
//! through the pod identity association, the default role name, or the ID itself; mode, issuer and audience are
//! read from the role's trust policy.

use serde_json::Value as Json;

use crate::policy;

use super::context::Context;
use super::error::WiringError;
use super::model::{Mode, State, StringMap};
use super::naming::{self, WIRING_TAG};
use super::read;

/// What an import ID names.
#[derive(Debug, PartialEq)]
enum ImportId {
    Wiring { cluster: Option<String>, issuer_host_path: Option<String>, namespace: String, service_account: String },
    Role(String),
}

fn parse_id(id: &str) -> Result<ImportId, WiringError> {
    let bad = || {
        WiringError::new(
            "Invalid import ID",
            format!(
                "\"{id}\" is not an import ID for eksidentity_service_account_role. Use \
                 <cluster_name>/<namespace>/<service_account> (for example prod/payments/api), or the IAM role name."
            ),
        )
    };
    let id = id.trim().trim_start_matches("https://");
    if id.is_empty() {
        return Err(bad());
    }
    if !id.contains('/') {
        return Ok(ImportId::Role(id.to_string()));
    }
    let mut parts: Vec<&str> = id.rsplitn(3, '/').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    parts.reverse();
    let (scope, namespace, service_account) = (parts[0], parts[1], parts[2]);
    let is_issuer = scope.contains('/') || scope.contains('.') || scope.contains(':');
    Ok(ImportId::Wiring {
        cluster: (!is_issuer).then(|| scope.to_string()),
        issuer_host_path: is_issuer.then(|| scope.to_string()),
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
    })
}

/// What a trust policy says about the wiring.
#[derive(Debug, Default, PartialEq)]
struct TrustFacts {
    /// Issuer host and path of a federated web-identity statement.
    issuer_host_path: Option<String>,
    audience: Option<String>,
    namespace: Option<String>,
    service_account: Option<String>,
    pod_identity: bool,
}

fn as_strings(v: &Json) -> Vec<String> {
    match v {
        Json::String(s) => vec![s.clone()],
        Json::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn trust_facts(raw: &str) -> TrustFacts {
    let mut out = TrustFacts::default();
    let Ok(doc) = policy::decode_iam_document(raw) else { return out };
    let statements = match doc.get("Statement") {
        Some(Json::Array(a)) => a.clone(),
        Some(s @ Json::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    for s in statements {
        if s.get("Effect").and_then(Json::as_str) != Some("Allow") {
            continue;
        }
        let principal = s.get("Principal");
        let services = principal.and_then(|p| p.get("Service")).map(as_strings).unwrap_or_default();
        if services.iter().any(|x| x == policy::POD_IDENTITY_SERVICE) {
            out.pod_identity = true;
        }
        let federated = principal.and_then(|p| p.get("Federated")).map(as_strings).unwrap_or_default();
        let Some(host_path) =
            federated.iter().find_map(|f| f.split_once(":oidc-provider/").map(|(_, h)| h.to_string()))
        else {
            continue;
        };
        let conditions = s.get("Condition").and_then(Json::as_object).cloned().unwrap_or_default();
        for (_, block) in conditions {
            let Some(block) = block.as_object() else { continue };
            if let Some(aud) = block.get(&format!("{host_path}:aud")).map(as_strings) {
                out.audience = aud.into_iter().next();
            }
            if let Some(sub) = block.get(&format!("{host_path}:sub")).map(as_strings) {
                if let Some(rest) = sub.first().and_then(|s| s.strip_prefix("system:serviceaccount:")) {
                    if let Some((ns, sa)) = rest.split_once(':') {
                        out.namespace = Some(ns.to_string());
                        out.service_account = Some(sa.to_string());
                    }
                }
            }
        }
        out.issuer_host_path = Some(host_path);
    }
    out
}

fn mode_of(t: &TrustFacts) -> Option<Mode> {
    match (t.issuer_host_path.is_some(), t.pod_identity) {
        (true, true) => Some(Mode::Both),
        (true, false) => Some(Mode::Irsa),
        (false, true) => Some(Mode::PodIdentity),
        (false, false) => None,
    }
}

/// The cluster in this region whose OIDC issuer is `issuer_host_path`, if any: a role imported by name without our
/// tag still gets its `cluster_name`, so a configuration that names the cluster plans no replacement.
async fn cluster_for_issuer(ctx: &Context, issuer_host_path: Option<&str>) -> Result<Option<String>, WiringError> {
    let Some(want) = issuer_host_path else { return Ok(None) };
    let names = ctx.aws.list_clusters().await.map_err(|e| WiringError::aws("Cannot list EKS clusters", e))?;
    for name in names {
        if let Some(c) = ctx.cluster(&name).await? {
            if c.oidc_issuer.as_deref().map(naming::issuer_host_path) == Some(want) {
                return Ok(Some(name));
            }
        }
    }
    Ok(None)
}

pub async fn import(ctx: &Context, id: &str) -> Result<State, WiringError> {
    let parsed = parse_id(id)?;
    let fail = |what: &str, e| WiringError::aws(what, e);

    // Find the role.
    let (role_name, mut association_id) = match &parsed {
        ImportId::Role(name) => (name.clone(), None),
        ImportId::Wiring { cluster, issuer_host_path, namespace, service_account } => {
            let mut found = None;
            if let Some(c) = cluster {
                for s in ctx
                    .aws
                    .list_associations(c, Some(namespace), Some(service_account))
                    .await
                    .map_err(|e| fail("Cannot look up the pod identity association", e))?
                {
                    if let Some(a) = ctx
                        .aws
                        .describe_association(c, &s.id)
                        .await
                        .map_err(|e| fail("Cannot read the association", e))?
                    {
                        let name = a.role_arn.rsplit('/').next().unwrap_or_default().to_string();
                        found = Some((name, Some(a.id)));
                    }
                }
            }
            match found {
                Some(f) => f,
                None => {
                    let issuer = issuer_host_path.as_ref().map(|h| format!("https://{h}"));
                    (naming::default_role_name(cluster.as_deref(), issuer.as_deref(), namespace, service_account), None)
                }
            }
        }
    };
    let role = ctx
        .aws
        .get_role(&role_name)
        .await
        .map_err(|e| fail(&format!("Cannot read role \"{role_name}\""), e))?
        .ok_or_else(|| {
        WiringError::new(
            "Cannot import: role not found",
            format!(
                "No IAM role \"{role_name}\" exists for import ID \"{id}\". If the role has a custom name, \
                     import it by that name."
            ),
        )
    })?;

    let trust = trust_facts(&role.trust_policy_raw);
    let mode = mode_of(&trust).ok_or_else(|| {
        WiringError::new(
            "Cannot import: role is not a service account role",
            format!(
                "The trust policy of role \"{role_name}\" trusts neither an OIDC provider with \
                 sts:AssumeRoleWithWebIdentity nor pods.eks.amazonaws.com, so it is not a wiring this resource \
                 manages."
            ),
        )
    })?;

    // Cluster, namespace and service account: from the ID, else the ownership tag, else the trust policy.
    let tag = role.tags.get(WIRING_TAG).cloned();
    let from_tag = tag.as_deref().and_then(|t| parse_id(t).ok());
    let (cluster, namespace, service_account) = match (&parsed, &from_tag) {
        (ImportId::Wiring { cluster, namespace, service_account, .. }, _) => {
            (cluster.clone(), namespace.clone(), service_account.clone())
        }
        (ImportId::Role(_), Some(ImportId::Wiring { cluster, namespace, service_account, .. })) => {
            (cluster.clone(), namespace.clone(), service_account.clone())
        }
        _ => match (&trust.namespace, &trust.service_account) {
            (Some(ns), Some(sa)) => {
                (cluster_for_issuer(ctx, trust.issuer_host_path.as_deref()).await?, ns.clone(), sa.clone())
            }
            _ => {
                return Err(WiringError::new(
                    "Cannot import: wiring unknown",
                    format!(
                        "Role \"{role_name}\" has no {WIRING_TAG} tag and its trust policy does not name a service \
                         account. Import with <cluster_name>/<namespace>/<service_account> instead."
                    ),
                ))
            }
        },
    };
    if mode.uses_pod_identity() && cluster.is_none() {
        return Err(WiringError::new(
            "Cannot import: cluster unknown",
            format!(
                "Role \"{role_name}\" is used with Pod Identity, which belongs to a cluster. Import with \
                 <cluster_name>/{namespace}/{service_account}."
            ),
        ));
    }
    if mode.uses_pod_identity() && association_id.is_none() {
        let c = cluster.as_deref().unwrap_or_default();
        for s in ctx
            .aws
            .list_associations(c, Some(&namespace), Some(&service_account))
            .await
            .map_err(|e| fail("Cannot look up the pod identity association", e))?
        {
            association_id = Some(s.id);
        }
    }

    let identity = ctx.identity().await?;
    let issuer_url = trust.issuer_host_path.as_ref().map(|h| format!("https://{h}"));
    let oidc_provider_arn =
        issuer_url.as_ref().map(|i| naming::oidc_provider_arn(&identity.partition, &identity.account, i));
    let skeleton = State {
        id: naming::wiring_key(cluster.as_deref(), issuer_url.as_deref(), &namespace, &service_account),
        mode,
        cluster_name: cluster,
        namespace,
        service_account,
        role_name: role.name.clone(),
        role_path: role.path.clone(),
        role_description: None,
        permissions_boundary: None,
        max_session_duration: 3600,
        policy_arns: Some(Default::default()),
        inline_policies: Some(StringMap::new()),
        tags: None,
        tags_all: StringMap::new(),
        audience: mode
            .uses_irsa()
            .then(|| trust.audience.clone().unwrap_or_else(|| naming::DEFAULT_AUDIENCE.to_string())),
        oidc_issuer_url: issuer_url,
        manage_agent_addon: true,
        agent_addon_version: None,
        target_role_arn: None,
        disable_session_tags: false,
        session_policy: None,
        role_arn: Some(role.arn.clone()),
        role_unique_id: Some(role.role_id.clone()),
        trust_policy: Some(policy::decode_to_string(&role.trust_policy_raw)),
        oidc_provider_arn: oidc_provider_arn.clone(),
        oidc_thumbprint: None,
        oidc_thumbprint_list: None,
        association_id,
        association_arn: None,
        external_id: None,
        service_account_annotations: StringMap::new(),
        timeouts: None,
    };
    let mut st = read::read(ctx, &skeleton).await?.ok_or_else(|| {
        WiringError::new("Cannot import: role vanished", format!("Role \"{role_name}\" was deleted during import."))
    })?;
    // The first read had no thumbprints to keep: take the provider's list as it is.
    if let Some(arn) = &oidc_provider_arn {
        if let Some(p) = super::shared::lookup_oidc_provider(ctx, arn).await? {
            st.oidc_thumbprint = p.thumbprints.first().cloned();
            st.oidc_thumbprint_list = Some(p.thumbprints);
        }
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(
            parse_id("prod/payments/api").unwrap(),
            ImportId::Wiring {
                cluster: Some("prod".into()),
                issuer_host_path: None,
                namespace: "payments".into(),
                service_account: "api".into()
            }
        );
        assert_eq!(
            parse_id("oidc.example.com/id/ABC/payments/api").unwrap(),
            ImportId::Wiring {
                cluster: None,
                issuer_host_path: Some("oidc.example.com/id/ABC".into()),
                namespace: "payments".into(),
                service_account: "api".into()
            }
        );
        assert_eq!(parse_id("my-role").unwrap(), ImportId::Role("my-role".into()));
        assert!(parse_id("a//b").is_err());
        assert!(parse_id("").is_err());
    }

    #[test]
    fn trust_facts_from_each_mode() {
        let irsa = crate::wiring::trust::document(
            Mode::Irsa,
            "aws",
            "111122223333",
            Some("https://oidc.x/id/A"),
            "ns",
            "sa",
            Some("sts.amazonaws.com"),
        );
        let t = trust_facts(&irsa);
        assert_eq!(mode_of(&t), Some(Mode::Irsa));
        assert_eq!(t.issuer_host_path.as_deref(), Some("oidc.x/id/A"));
        assert_eq!(t.audience.as_deref(), Some("sts.amazonaws.com"));
        assert_eq!((t.namespace.as_deref(), t.service_account.as_deref()), (Some("ns"), Some("sa")));
        let both =
            crate::wiring::trust::document(Mode::Both, "aws", "1", Some("https://oidc.x/id/A"), "ns", "*", Some("aud"));
        let t = trust_facts(&both);
        assert_eq!(mode_of(&t), Some(Mode::Both));
        assert_eq!(t.service_account.as_deref(), Some("*"));
        let pod = crate::wiring::trust::document(Mode::PodIdentity, "aws", "1", None, "ns", "sa", None);
        assert_eq!(mode_of(&trust_facts(&pod)), Some(Mode::PodIdentity));
        assert_eq!(mode_of(&trust_facts("{\"Statement\":[]}")), None);
    }
}
