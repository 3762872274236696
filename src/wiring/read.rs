//! Read (refresh): what exists in AWS, expressed in the state's terms, so the next plan shows drift as a repair.
//!
//! Documents equivalent to what the state holds keep the state's exact text (no perpetual diff); anything else
//! is recorded as AWS has it. A deleted role means the wiring is gone.

use crate::policy;

use super::context::Context;
use super::error::WiringError;
use super::model::{State, StringMap};
use super::naming::{self, CREATED_BY_TAG, WIRING_TAG};
use super::shared;

/// Our own tags never show in `tags` / `tags_all`.
fn is_system_tag(key: &str) -> bool {
    key == WIRING_TAG || key == CREATED_BY_TAG || key.starts_with("eksidentity:")
}

/// The state as AWS has it now; `None` when the wiring's role no longer exists.
pub async fn read(ctx: &Context, prior: &State) -> Result<Option<State>, WiringError> {
    let name = prior.role_name.as_str();
    let fail = |what: &str, e| WiringError::aws(&format!("Cannot read {what} of role \"{name}\""), e);
    let Some(role) = ctx.aws.get_role(name).await.map_err(|e| fail("the settings", e))? else {
        return Ok(None);
    };
    let mut st = prior.clone();
    st.role_arn = Some(role.arn.clone());
    st.role_unique_id = Some(role.role_id.clone());
    st.role_path = role.path.clone();
    st.role_description = role.description.clone();
    st.max_session_duration = role.max_session_duration;
    st.permissions_boundary = role.permissions_boundary.clone();

    // Tags: tags_all is everything but our ownership tags; tags is what is not explained by default_tags,
    // plus the keys the configuration names (so a tag set in both places stays in `tags`).
    let actual: StringMap =
        role.tags.iter().filter(|(k, _)| !is_system_tag(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let prior_keys = prior.tags.as_ref();
    let own: StringMap = actual
        .iter()
        .filter(|(k, v)| prior_keys.is_some_and(|t| t.contains_key(*k)) || ctx.default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    st.tags = if prior.tags.is_none() && own.is_empty() { None } else { Some(own) };
    st.tags_all = actual;

    st.trust_policy = Some(match &prior.trust_policy {
        Some(have) if policy::equivalent(have, &role.trust_policy_raw) => have.clone(),
        _ => policy::decode_to_string(&role.trust_policy_raw),
    });

    st.policy_arns = Some(
        ctx.aws.list_attached_policies(name).await.map_err(|e| fail("the attached policies", e))?.into_iter().collect(),
    );
    let mut inline = StringMap::new();
    for pname in ctx.aws.list_inline_policy_names(name).await.map_err(|e| fail("the inline policies", e))? {
        let Some(doc) = ctx.aws.get_inline_policy(name, &pname).await.map_err(|e| fail("an inline policy", e))? else {
            continue;
        };
        let prior_doc = prior.inline_policies.as_ref().and_then(|m| m.get(&pname));
        let kept = match prior_doc {
            Some(have) if policy::equivalent(have, &doc) => have.clone(),
            _ => policy::decode_to_string(&doc),
        };
        inline.insert(pname, kept);
    }
    st.inline_policies = Some(inline);

    read_oidc_provider(ctx, prior, &mut st).await?;
    read_association(ctx, prior, &role.arn, &mut st).await?;
    read_addon(ctx, prior, &mut st).await?;
    st.service_account_annotations = naming::annotations(st.mode.uses_irsa(), &role.arn, st.audience.as_deref());
    Ok(Some(st))
}

async fn read_oidc_provider(ctx: &Context, prior: &State, st: &mut State) -> Result<(), WiringError> {
    let Some(arn) = &prior.oidc_provider_arn else { return Ok(()) };
    match shared::lookup_oidc_provider(ctx, arn).await? {
        None => {
            st.oidc_provider_arn = None;
            st.oidc_thumbprint = None;
            st.oidc_thumbprint_list = None;
        }
        Some(p) => {
            let audience = prior.audience.as_deref().unwrap_or(naming::DEFAULT_AUDIENCE);
            if !p.client_ids.iter().any(|c| c == audience) {
                // The provider no longer accepts our tokens: plan must ensure it again.
                st.oidc_provider_arn = None;
            }
            let mut have = prior.oidc_thumbprint_list.clone().unwrap_or_default();
            let mut now = p.thumbprints.clone();
            have.sort();
            now.sort();
            if have != now {
                st.oidc_thumbprint_list = Some(p.thumbprints.clone());
                st.oidc_thumbprint = p.thumbprints.first().cloned();
            }
        }
    }
    Ok(())
}

async fn read_association(ctx: &Context, prior: &State, role_arn: &str, st: &mut State) -> Result<(), WiringError> {
    let (Some(id), Some(cluster)) = (&prior.association_id, &prior.cluster_name) else { return Ok(()) };
    let found = ctx
        .aws
        .describe_association(cluster, id)
        .await
        .map_err(|e| WiringError::aws("Cannot read the pod identity association", e))?;
    match found {
        Some(a) if a.role_arn == role_arn => {
            st.association_arn = Some(a.arn.clone());
            st.external_id = a.external_id.clone();
            st.target_role_arn = a.target_role_arn.clone();
            st.disable_session_tags = a.disable_session_tags;
            st.session_policy = match (&prior.session_policy, &a.policy) {
                (Some(have), Some(now)) if policy::equivalent(have, now) => Some(have.clone()),
                (_, now) => now.as_ref().map(|p| policy::decode_to_string(p)),
            };
        }
        // Gone, or re-pointed at another role behind our back: plan makes the association again.
        _ => {
            st.association_id = None;
            st.association_arn = None;
            st.external_id = None;
        }
    }
    Ok(())
}

async fn read_addon(ctx: &Context, prior: &State, st: &mut State) -> Result<(), WiringError> {
    if !(prior.mode.uses_pod_identity() && prior.manage_agent_addon) {
        return Ok(());
    }
    let Some(cluster) = &prior.cluster_name else { return Ok(()) };
    st.agent_addon_version = match shared::lookup_addon(ctx, cluster).await? {
        Some(a) if a.status != "DELETING" => a.version.clone(),
        // Removed: an unknown version in the next plan installs it again.
        _ => None,
    };
    Ok(())
}
