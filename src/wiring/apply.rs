//! Apply: create, update and delete a wiring as a short list of idempotent steps.
//!
//! Each step records what now exists in a `State` under construction, so a failure part-way returns exactly what
//! was made together with the error (Terraform then saves it and the next plan repairs or replaces it). Shared
//! objects go through `shared`, which owns the adopt/create/release rules.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::{AssociationSettings, AwsErrorKind, NewRole, Role};
use crate::logging;
use crate::policy;

use super::context::Context;
use super::error::WiringError;
use super::model::{State, StringMap};
use super::naming::{self, WIRING_TAG};
use super::shared::{self, SharedUse};
use super::trust;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Which timeout applies.
#[derive(Clone, Copy)]
pub enum Phase {
    Create,
    Update,
    Delete,
}

pub fn deadline(state: &State, phase: Phase) -> Instant {
    let configured = state.timeouts.as_ref().and_then(|t| match phase {
        Phase::Create => t.create.clone(),
        Phase::Update => t.update.clone(),
        Phase::Delete => t.delete.clone(),
    });
    let d = configured.and_then(|s| super::checks::parse_duration(&s).ok()).unwrap_or(DEFAULT_TIMEOUT);
    Instant::now() + d
}

/// How long after the deadline [`within`] cuts a part off: waits that watch the deadline themselves (the addon
/// becoming ACTIVE) make one last call after it and report their own, more telling timeout first.
const CUT_OFF_GRACE: Duration = Duration::from_secs(5);

/// Runs one part of an apply and gives up shortly after `deadline`. The SDK retries throttling and 5xx answers
/// with backoff (up to max_retries, minutes in all) and knows nothing of the timeouts block, so the deadline must
/// be enforced around the calls, not only between them. Dropping the part mid-call is safe: each step records
/// what exists only once it succeeded, and an object AWS created just before we gave up is adopted by the next
/// apply (by its ownership tag).
async fn within<T>(
    deadline: Instant,
    what: &str,
    part: impl std::future::Future<Output = Result<T, WiringError>>,
) -> Result<T, WiringError> {
    let started = Instant::now();
    match tokio::time::timeout_at(deadline + CUT_OFF_GRACE, part).await {
        Ok(r) => r,
        Err(_) => Err(WiringError::timeout(
            what,
            started.elapsed(),
            "AWS calls were still being retried (throttling or server errors) or waited for. What was done so far \
             is recorded; apply again to finish.",
        )),
    }
}

/// Tags for the role and the association: everything in tags_all plus our ownership tag.
fn owned_tags(st: &State) -> StringMap {
    let mut tags = st.tags_all.clone();
    tags.insert(WIRING_TAG.to_string(), st.id.clone());
    tags
}

/// Retries `f` while IAM has not propagated a principal we just created, with backoff, until `deadline`.
async fn retry_propagation<T, F, Fut>(ctx: &Context, deadline: Instant, mut f: F) -> Result<T, crate::aws::AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::aws::AwsError>>,
{
    let mut delay = Duration::from_millis(500);
    loop {
        match f().await {
            Err(e) if e.kind == AwsErrorKind::NotYetPropagated && Instant::now() + delay < deadline => {
                if ctx.sleep(delay, deadline).await.is_err() {
                    return Err(e);
                }
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

/// Facts every step needs, resolved once per apply.
struct Resolved {
    partition: String,
    account: String,
    issuer_url: Option<String>,
}

async fn resolve(ctx: &Context, desired: &State) -> Result<Resolved, WiringError> {
    let id = ctx.identity().await?;
    let issuer_url = if desired.mode.uses_irsa() {
        match (&desired.oidc_issuer_url, &desired.cluster_name) {
            (Some(i), _) => Some(i.clone()),
            (None, Some(c)) => Some(ctx.cluster_issuer(c).await?),
            (None, None) => {
                return Err(WiringError::new("No OIDC issuer", "irsa mode needs cluster_name or oidc_issuer_url."))
            }
        }
    } else {
        None
    };
    Ok(Resolved { partition: id.partition.clone(), account: id.account.clone(), issuer_url })
}

fn trust_document(desired: &State, r: &Resolved) -> String {
    trust::document(
        desired.mode,
        &r.partition,
        &r.account,
        r.issuer_url.as_deref(),
        &desired.namespace,
        &desired.service_account,
        desired.audience.as_deref(),
    )
}

/// The role as it exists, with its policies, for converging it to the desired settings.
struct RoleActual {
    trust_policy: String,
    description: Option<String>,
    max_session_duration: i64,
    permissions_boundary: Option<String>,
    tags: StringMap,
    attached: BTreeSet<String>,
    inline: StringMap,
}

impl RoleActual {
    fn from_state(p: &State) -> Self {
        let mut tags = p.tags_all.clone();
        tags.insert(WIRING_TAG.to_string(), p.id.clone());
        RoleActual {
            trust_policy: p.trust_policy.clone().unwrap_or_default(),
            description: p.role_description.clone(),
            max_session_duration: p.max_session_duration,
            permissions_boundary: p.permissions_boundary.clone(),
            tags,
            attached: p.policy_arns.clone().unwrap_or_default(),
            inline: p.inline_policies.clone().unwrap_or_default(),
        }
    }

    async fn fetch(ctx: &Context, role: &Role) -> Result<Self, WiringError> {
        let name = &role.name;
        let fail = |e| WiringError::aws(&format!("Cannot read role \"{name}\""), e);
        let attached = ctx.aws.list_attached_policies(name).await.map_err(fail)?.into_iter().collect();
        let mut inline = StringMap::new();
        for p in ctx.aws.list_inline_policy_names(name).await.map_err(fail)? {
            if let Some(doc) = ctx.aws.get_inline_policy(name, &p).await.map_err(fail)? {
                inline.insert(p, policy::decode_to_string(&doc));
            }
        }
        Ok(RoleActual {
            trust_policy: policy::decode_to_string(&role.trust_policy_raw),
            description: role.description.clone(),
            max_session_duration: role.max_session_duration,
            permissions_boundary: role.permissions_boundary.clone(),
            tags: role.tags.clone(),
            attached,
            inline,
        })
    }
}

/// Brings the role's settings and policies to `desired`, recording progress in `st`.
async fn converge_role(
    ctx: &Context,
    desired: &State,
    trust_doc: &str,
    actual: &RoleActual,
    st: &mut State,
    deadline: Instant,
) -> Result<(), WiringError> {
    let name = desired.role_name.as_str();
    let fail = |what: &str, e| WiringError::aws(&format!("Cannot {what} of role \"{name}\""), e);

    if !policy::equivalent(&actual.trust_policy, trust_doc) {
        retry_propagation(ctx, deadline, || ctx.aws.update_trust_policy(name, trust_doc))
            .await
            .map_err(|e| fail("update the trust policy", e))?;
    }
    st.trust_policy = Some(trust_doc.to_string());

    if actual.description != desired.role_description || actual.max_session_duration != desired.max_session_duration {
        ctx.aws
            .update_role(name, desired.role_description.as_deref(), desired.max_session_duration)
            .await
            .map_err(|e| fail("update the description and session duration", e))?;
    }
    st.role_description = desired.role_description.clone();
    st.max_session_duration = desired.max_session_duration;

    if actual.permissions_boundary != desired.permissions_boundary {
        match &desired.permissions_boundary {
            Some(b) => ctx.aws.put_permissions_boundary(name, b).await,
            None => ctx.aws.delete_permissions_boundary(name).await,
        }
        .map_err(|e| fail("set the permissions boundary", e))?;
    }
    st.permissions_boundary = desired.permissions_boundary.clone();

    let want_tags = owned_tags(desired);
    let stale: Vec<String> = actual.tags.keys().filter(|k| !want_tags.contains_key(*k)).cloned().collect();
    let changed: StringMap =
        want_tags.iter().filter(|(k, v)| actual.tags.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    ctx.aws.untag_role(name, &stale).await.map_err(|e| fail("remove tags", e))?;
    ctx.aws.tag_role(name, &changed).await.map_err(|e| fail("tag", e))?;
    st.tags = desired.tags.clone();
    st.tags_all = desired.tags_all.clone();

    // Managed policies: exclusive when configured, untouched otherwise.
    let mut attached = actual.attached.clone();
    if let Some(want) = &desired.policy_arns {
        for arn in want.difference(&actual.attached) {
            ctx.aws.attach_policy(name, arn).await.map_err(|e| fail(&format!("attach {arn}"), e))?;
            attached.insert(arn.clone());
            st.policy_arns = Some(attached.clone());
        }
        for arn in actual.attached.difference(want) {
            ctx.aws.detach_policy(name, arn).await.map_err(|e| fail(&format!("detach {arn}"), e))?;
            attached.remove(arn);
            st.policy_arns = Some(attached.clone());
        }
    }
    st.policy_arns = Some(attached);

    let mut inline = actual.inline.clone();
    if let Some(want) = &desired.inline_policies {
        for (pname, doc) in want {
            let same = actual.inline.get(pname).is_some_and(|have| policy::equivalent(have, doc));
            if !same {
                ctx.aws
                    .put_inline_policy(name, pname, doc)
                    .await
                    .map_err(|e| fail(&format!("put inline policy {pname}"), e))?;
            }
            inline.insert(pname.clone(), doc.clone());
            st.inline_policies = Some(inline.clone());
        }
        for pname in actual.inline.keys().filter(|k| !want.contains_key(*k)) {
            ctx.aws
                .delete_inline_policy(name, pname)
                .await
                .map_err(|e| fail(&format!("delete inline policy {pname}"), e))?;
            inline.remove(pname);
            st.inline_policies = Some(inline.clone());
        }
    }
    st.inline_policies = Some(inline);
    Ok(())
}

/// Creates the role, or adopts one left by an interrupted apply of this same wiring (recognised by its tag).
/// Returns the role and, for an adopted role, what it currently has.
async fn create_or_adopt_role(
    ctx: &Context,
    desired: &State,
    trust_doc: &str,
    deadline: Instant,
) -> Result<(Role, Option<RoleActual>), WiringError> {
    let name = desired.role_name.as_str();
    let tags = owned_tags(desired);
    let req = NewRole {
        name,
        path: &desired.role_path,
        trust_policy: trust_doc,
        description: desired.role_description.as_deref(),
        max_session_duration: desired.max_session_duration,
        permissions_boundary: desired.permissions_boundary.as_deref(),
        tags: &tags,
    };
    match retry_propagation(ctx, deadline, || ctx.aws.create_role(&req)).await {
        Ok(role) => Ok((role, None)),
        Err(e) if e.is_already_exists() => {
            let existing = ctx
                .aws
                .get_role(name)
                .await
                .map_err(|e| WiringError::aws(&format!("Cannot read the existing role \"{name}\""), e))?
                .ok_or_else(|| {
                    WiringError::new(
                        "Role vanished",
                        format!("IAM said role \"{name}\" exists, then that it does not. Run apply again."),
                    )
                })?;
            match existing.tags.get(WIRING_TAG) {
                Some(owner) if *owner == desired.id => {
                    logging::info!("adopting role left by an earlier apply of this wiring", role = name);
                    if existing.path != desired.role_path {
                        return Err(WiringError::new(
                            format!("Role \"{name}\" exists with another path"),
                            format!(
                                "The role was created by this wiring with path \"{}\", but role_path is now \"{}\". \
                                 Delete the role or set role_path = \"{}\".",
                                existing.path, desired.role_path, existing.path
                            ),
                        ));
                    }
                    let actual = RoleActual::fetch(ctx, &existing).await?;
                    Ok((existing, Some(actual)))
                }
                Some(owner) => Err(WiringError::new(
                    format!("Role \"{name}\" belongs to another wiring"),
                    format!(
                        "IAM role \"{name}\" already exists and carries the tag {WIRING_TAG} = \"{owner}\", so it \
                         belongs to a different wiring than \"{}\". Set role_name to a different name.",
                        desired.id
                    ),
                )),
                None => Err(WiringError::new(
                    format!("Role \"{name}\" already exists"),
                    format!(
                        "IAM role \"{name}\" already exists and was not created by this provider (it has no \
                         {WIRING_TAG} tag), so it is not taken over. Choose another role_name, or import it with \
                         `terraform import <address> {}` after adding the tag {WIRING_TAG} = \"{}\" to it.",
                        desired.id, desired.id
                    ),
                )),
            }
        }
        Err(e) => Err(WiringError::aws(&format!("Cannot create role \"{name}\""), e)),
    }
}

fn association_settings<'a>(desired: &'a State, role_arn: &'a str) -> AssociationSettings<'a> {
    AssociationSettings {
        role_arn,
        target_role_arn: desired.target_role_arn.as_deref(),
        disable_session_tags: desired.disable_session_tags,
        policy: desired.session_policy.as_deref(),
    }
}

fn record_association(st: &mut State, a: &crate::aws::Association) {
    st.association_id = Some(a.id.clone());
    st.association_arn = Some(a.arn.clone());
    st.external_id = a.external_id.clone();
    st.target_role_arn = a.target_role_arn.clone();
    st.disable_session_tags = a.disable_session_tags;
}

/// Creates the pod identity association, or adopts the existing one for the same service account when it is ours
/// (points at our role or carries our tag).
async fn create_or_adopt_association(
    ctx: &Context,
    desired: &State,
    role_arn: &str,
    st: &mut State,
    deadline: Instant,
) -> Result<(), WiringError> {
    let cluster = desired.cluster_name.as_deref().unwrap_or_default();
    let (ns, sa) = (desired.namespace.as_str(), desired.service_account.as_str());
    let settings = association_settings(desired, role_arn);
    let tags = owned_tags(desired);
    let token = uuid::Uuid::new_v4().to_string();
    let what = format!("the pod identity association for {ns}/{sa} on cluster \"{cluster}\"");
    let created =
        retry_propagation(ctx, deadline, || ctx.aws.create_association(cluster, ns, sa, &settings, &tags, &token))
            .await;
    let a = match created {
        Ok(a) => a,
        Err(e) if e.is_already_exists() => {
            let fail = |e| WiringError::aws(&format!("Cannot read {what}"), e);
            let found = ctx.aws.list_associations(cluster, Some(ns), Some(sa)).await.map_err(fail)?;
            let Some(summary) = found.first() else {
                return Err(WiringError::new(
                    "Association already exists",
                    format!("EKS reports that {what} exists, but does not list it yet. Run apply again."),
                ));
            };
            let existing =
                ctx.aws.describe_association(cluster, &summary.id).await.map_err(fail)?.ok_or_else(|| {
                    WiringError::new(
                        "Association vanished",
                        format!("{what} disappeared while being adopted. Run apply again."),
                    )
                })?;
            let ours = existing.role_arn == role_arn || existing.tags.get(WIRING_TAG) == Some(&desired.id);
            if !ours {
                return Err(WiringError::new(
                    format!("Service account {ns}/{sa} already has a pod identity association"),
                    format!(
                        "Association {} on cluster \"{cluster}\" gives {ns}/{sa} the role {}, and it was not created \
                         by this wiring. EKS allows one association per service account. Delete that association \
                         (aws eks delete-pod-identity-association --cluster-name {cluster} --association-id {}) \
                         or wire a different service account.",
                        existing.id, existing.role_arn, existing.id
                    ),
                ));
            }
            if existing.target_role_arn.as_deref() != settings.target_role_arn
                || existing.disable_session_tags != settings.disable_session_tags
                || !policy::optional_equivalent(existing.policy.as_deref(), settings.policy)
                || existing.role_arn != role_arn
            {
                retry_propagation(ctx, deadline, || ctx.aws.update_association(cluster, &existing.id, &settings))
                    .await
                    .map_err(|e| WiringError::aws(&format!("Cannot update {what}"), e))?
            } else {
                existing
            }
        }
        Err(e) => return Err(WiringError::aws(&format!("Cannot create {what}"), e)),
    };
    record_association(st, &a);
    st.session_policy = desired.session_policy.clone();
    Ok(())
}

/// The addon part of a create or update, run beside the role work.
async fn addon_step(
    ctx: &Context,
    desired: &State,
    deadline: Instant,
) -> Result<Option<(String, SharedUse)>, WiringError> {
    let cluster = desired.cluster_name.as_deref().unwrap_or_default();
    let (addon, guard) = shared::ensure_addon(ctx, cluster, desired.agent_addon_version.as_deref(), deadline).await?;
    Ok(Some((addon.version.unwrap_or_default(), guard)))
}

/// Creates a wiring. Returns the state that now exists (None when nothing was created) and the error, if any.
pub async fn create(ctx: &Context, desired: &State) -> (Option<State>, Option<WiringError>) {
    let deadline = deadline(desired, Phase::Create);
    let mut st = desired.clone();
    let mut role_exists = false;
    let needs_addon = desired.mode.uses_pod_identity() && desired.manage_agent_addon;
    let addon_fut = within(deadline, "creating the wiring", async {
        if needs_addon {
            addon_step(ctx, desired, deadline).await
        } else {
            Ok(None)
        }
    });
    let main = within(deadline, "creating the wiring", async {
        let r = resolve(ctx, desired).await?;
        let trust_doc = trust_document(desired, &r);
        let mut _oidc_use = None;
        if let Some(issuer) = &r.issuer_url {
            let audience = desired.audience.as_deref().unwrap_or(naming::DEFAULT_AUDIENCE);
            let (info, guard) =
                shared::ensure_oidc_provider(ctx, &r.partition, &r.account, issuer, audience, &desired.role_name)
                    .await?;
            _oidc_use = Some(guard);
            st.oidc_issuer_url = Some(issuer.clone());
            st.oidc_provider_arn = Some(info.arn);
            st.oidc_thumbprint = info.thumbprints.first().cloned();
            st.oidc_thumbprint_list = Some(info.thumbprints);
        }
        let (role, adopted) = create_or_adopt_role(ctx, desired, &trust_doc, deadline).await?;
        role_exists = true;
        st.role_arn = Some(role.arn.clone());
        st.role_unique_id = Some(role.role_id.clone());
        st.trust_policy = Some(trust_doc.clone());
        // What the role has now; a fresh role has exactly what CreateRole set.
        let actual = match adopted {
            Some(a) => a,
            None => {
                let mut a = RoleActual::from_state(desired);
                a.trust_policy = trust_doc.clone();
                a.attached = BTreeSet::new();
                a.inline = BTreeMap::new();
                a
            }
        };
        st.policy_arns = Some(actual.attached.clone());
        st.inline_policies = Some(actual.inline.clone());
        converge_role(ctx, desired, &trust_doc, &actual, &mut st, deadline).await?;
        drop(_oidc_use);
        if desired.mode.uses_pod_identity() {
            create_or_adopt_association(ctx, desired, &role.arn, &mut st, deadline).await?;
        }
        Ok::<(), WiringError>(())
    });
    let (addon_result, main_result) = tokio::join!(addon_fut, main);
    let mut error = main_result.err();
    match addon_result {
        Ok(Some((version, _guard))) => st.agent_addon_version = Some(version),
        Ok(None) => {}
        Err(e) => {
            error.get_or_insert(e);
        }
    }
    finish(&mut st);
    if !role_exists {
        // Nothing of this wiring exists, so nothing goes into the state: give back the shared objects this apply
        // may have created, under the usual rule (created by us and unused), so that giving up leaks nothing.
        if let Some(e) = error.as_mut() {
            release_after_failed_create(ctx, &st, needs_addon, e).await;
        }
        return (None, error);
    }
    (Some(st), error)
}

async fn release_after_failed_create(ctx: &Context, st: &State, addon_touched: bool, error: &mut WiringError) {
    let mut problems = Vec::new();
    if let Some(arn) = &st.oidc_provider_arn {
        if let Err(e) = shared::release_oidc_provider(ctx, arn, &st.role_name).await {
            problems.push(e.to_string());
        }
    }
    if addon_touched {
        if let Some(cluster) = &st.cluster_name {
            if let Err(e) = shared::release_addon(ctx, cluster, None).await {
                problems.push(e.to_string());
            }
        }
    }
    if !problems.is_empty() {
        error.detail.push_str(&format!(
            "\n\nShared objects this apply created could not be removed again ({}); the next apply adopts them.",
            problems.join("; ")
        ));
    }
}

/// Fills the values derived from the rest; called on every state apply returns. Object IDs are never cleared
/// here: a partial apply must keep recording what exists, whatever the mode says.
fn finish(st: &mut State) {
    st.service_account_annotations =
        naming::annotations(st.mode.uses_irsa(), st.role_arn.as_deref().unwrap_or_default(), st.audience.as_deref());
    if st.role_arn.is_none() {
        st.service_account_annotations.clear();
    }
}

/// Updates a wiring in place. `desired` holds the planned values (unknown computed values as None).
pub async fn update(ctx: &Context, prior: &State, desired: &State) -> (State, Option<WiringError>) {
    let deadline = deadline(desired, Phase::Update);
    // Start from what exists; each step moves a part of it to `desired`.
    let mut st = prior.clone();
    st.mode = desired.mode;
    st.namespace = desired.namespace.clone();
    st.service_account = desired.service_account.clone();
    st.id = desired.id.clone();
    st.audience = desired.audience.clone();
    st.manage_agent_addon = desired.manage_agent_addon;
    st.timeouts = desired.timeouts.clone();
    st.oidc_issuer_url = desired.oidc_issuer_url.clone().or(prior.oidc_issuer_url.clone());

    let wants_addon = desired.mode.uses_pod_identity() && desired.manage_agent_addon;
    let addon_needed = wants_addon
        && (!prior.mode.uses_pod_identity()
            || !prior.manage_agent_addon
            || prior.agent_addon_version.is_none()
            || desired.agent_addon_version != prior.agent_addon_version);
    let addon_fut = within(deadline, "updating the wiring", async {
        if addon_needed {
            addon_step(ctx, desired, deadline).await
        } else {
            Ok(None)
        }
    });
    let main = within(deadline, "updating the wiring", async {
        let r = resolve(ctx, desired).await?;
        let trust_doc = trust_document(desired, &r);
        let mut _oidc_use = None;
        if let Some(issuer) = &r.issuer_url {
            let audience = desired.audience.as_deref().unwrap_or(naming::DEFAULT_AUDIENCE);
            let stale = !prior.mode.uses_irsa()
                || prior.oidc_provider_arn.is_none()
                || prior.oidc_issuer_url.as_deref() != Some(issuer)
                || prior.audience.as_deref() != Some(audience)
                || desired.oidc_thumbprint_list.as_ref() != prior.oidc_thumbprint_list.as_ref();
            if stale {
                let (info, guard) =
                    shared::ensure_oidc_provider(ctx, &r.partition, &r.account, issuer, audience, &desired.role_name)
                        .await?;
                _oidc_use = Some(guard);
                st.oidc_provider_arn = Some(info.arn);
                st.oidc_thumbprint = info.thumbprints.first().cloned();
                st.oidc_thumbprint_list = Some(info.thumbprints);
            }
            st.oidc_issuer_url = Some(issuer.clone());
        }
        let actual = RoleActual::from_state(prior);
        converge_role(ctx, desired, &trust_doc, &actual, &mut st, deadline).await?;
        drop(_oidc_use);

        let cluster = desired.cluster_name.clone().unwrap_or_default();
        let role_arn = prior.role_arn.clone().unwrap_or_default();
        if desired.mode.uses_pod_identity() {
            let same_subject = prior.mode.uses_pod_identity()
                && prior.association_id.is_some()
                && prior.namespace == desired.namespace
                && prior.service_account == desired.service_account;
            if same_subject {
                let id = prior.association_id.clone().unwrap_or_default();
                let settings = association_settings(desired, &role_arn);
                let differs = prior.target_role_arn != desired.target_role_arn
                    || prior.disable_session_tags != desired.disable_session_tags
                    || !policy::optional_equivalent(prior.session_policy.as_deref(), desired.session_policy.as_deref());
                if differs {
                    match retry_propagation(ctx, deadline, || ctx.aws.update_association(&cluster, &id, &settings))
                        .await
                    {
                        Ok(a) => record_association(&mut st, &a),
                        Err(e) if e.is_not_found() => {
                            st.association_id = None;
                            create_or_adopt_association(ctx, desired, &role_arn, &mut st, deadline).await?;
                        }
                        Err(e) => return Err(WiringError::aws("Cannot update the pod identity association", e)),
                    }
                }
                st.session_policy = desired.session_policy.clone();
                st.target_role_arn = desired.target_role_arn.clone();
                st.disable_session_tags = desired.disable_session_tags;
            } else {
                // New subject (or none yet): create the new association first, then remove the old one.
                let old = prior.association_id.clone().filter(|_| prior.mode.uses_pod_identity());
                create_or_adopt_association(ctx, desired, &role_arn, &mut st, deadline).await?;
                if let Some(old) = old.filter(|o| Some(o) != st.association_id.as_ref()) {
                    ctx.aws
                        .delete_association(&cluster, &old)
                        .await
                        .map_err(|e| WiringError::aws("Cannot delete the previous pod identity association", e))?;
                }
            }
        } else if prior.mode.uses_pod_identity() {
            if let Some(id) = &prior.association_id {
                ctx.aws
                    .delete_association(&cluster, id)
                    .await
                    .map_err(|e| WiringError::aws("Cannot delete the pod identity association", e))?;
            }
            st.association_id = None;
            st.association_arn = None;
            st.external_id = None;
            st.target_role_arn = None;
            st.session_policy = None;
            st.disable_session_tags = desired.disable_session_tags;
            if prior.manage_agent_addon {
                shared::release_addon(ctx, &cluster, prior.association_id.as_deref()).await?;
            }
        } else {
            st.target_role_arn = desired.target_role_arn.clone();
            st.session_policy = desired.session_policy.clone();
            st.disable_session_tags = desired.disable_session_tags;
        }

        // The role no longer trusts the old issuer: release its provider under the ownership rule.
        if prior.mode.uses_irsa() {
            if let Some(old_arn) = &prior.oidc_provider_arn {
                if !desired.mode.uses_irsa() || st.oidc_provider_arn.as_ref() != Some(old_arn) {
                    shared::release_oidc_provider(ctx, old_arn, &prior.role_name).await?;
                }
            }
        }
        if !desired.mode.uses_irsa() {
            st.oidc_provider_arn = None;
            st.oidc_thumbprint = None;
            st.oidc_thumbprint_list = None;
            st.oidc_issuer_url = None;
        }
        Ok::<(), WiringError>(())
    });
    let (addon_result, main_result) = tokio::join!(addon_fut, main);
    let mut error = main_result.err();
    match addon_result {
        Ok(Some((version, _guard))) => st.agent_addon_version = Some(version),
        Ok(None) => {
            if !wants_addon {
                st.agent_addon_version = desired.agent_addon_version.clone();
            }
        }
        Err(e) => {
            error.get_or_insert(e);
        }
    }
    if error.is_none() {
        st.mode = desired.mode;
    }
    finish(&mut st);
    (st, error)
}

/// Deletes a wiring: the association, then the shared objects it no longer needs, then the role with its
/// policies. The role goes last because it is what makes the wiring exist: while it exists, a failed destroy
/// leaves a wiring in the state that the next destroy finishes; once it is gone, refresh drops the wiring, and a
/// shared object not yet released would be forgotten. On error, returns the state of what still exists.
pub async fn delete(ctx: &Context, prior: &State) -> Result<(), (State, WiringError)> {
    let deadline = deadline(prior, Phase::Delete);
    let mut st = prior.clone();
    let _deleting = ctx.deleting_role(&prior.role_name);
    // Cut off at the deadline, `st` still records each step that finished.
    let result = within(deadline, "deleting the wiring", delete_parts(ctx, prior, &mut st, deadline)).await;
    result.map_err(|e| (st, e))
}

async fn delete_parts(ctx: &Context, prior: &State, st: &mut State, deadline: Instant) -> Result<(), WiringError> {
    let cluster = prior.cluster_name.clone().unwrap_or_default();
    // A partial mode switch can leave an association or OIDC provider recorded in another mode: clean up by
    // what the state records, not only by the mode.
    let mut association = None;
    if prior.mode.uses_pod_identity() || prior.association_id.is_some() {
        association = match &prior.association_id {
            Some(id) => Some(id.clone()),
            None => find_own_association(ctx, prior).await?,
        };
        if let Some(id) = &association {
            ctx.aws
                .delete_association(&cluster, id)
                .await
                .map_err(|e| WiringError::aws("Cannot delete the pod identity association", e))?;
        }
        st.association_id = None;
        st.association_arn = None;
        st.external_id = None;
    }
    if prior.mode.uses_pod_identity() && prior.manage_agent_addon {
        shared::release_addon(ctx, &cluster, association.as_deref()).await?;
        st.agent_addon_version = None;
    }
    if let Some(arn) = &prior.oidc_provider_arn {
        shared::release_oidc_provider(ctx, arn, &prior.role_name).await?;
        st.oidc_provider_arn = None;
        st.oidc_thumbprint = None;
        st.oidc_thumbprint_list = None;
    }
    delete_role(ctx, prior, st, deadline).await
}

/// An association for the wiring's service account that points at our role or carries our tag.
async fn find_own_association(ctx: &Context, prior: &State) -> Result<Option<String>, WiringError> {
    let cluster = prior.cluster_name.as_deref().unwrap_or_default();
    let fail = |e| WiringError::aws("Cannot look up the pod identity association", e);
    for s in
        ctx.aws.list_associations(cluster, Some(&prior.namespace), Some(&prior.service_account)).await.map_err(fail)?
    {
        if let Some(a) = ctx.aws.describe_association(cluster, &s.id).await.map_err(fail)? {
            if Some(&a.role_arn) == prior.role_arn.as_ref() || a.tags.get(WIRING_TAG) == Some(&prior.id) {
                return Ok(Some(a.id));
            }
        }
    }
    Ok(None)
}

/// Detaches and deletes what the state says the role has (recording each removal in `st`), then deletes the role.
/// When IAM still reports a dependency (something attached behind Terraform's back), lists and removes it and
/// tries again.
async fn delete_role(ctx: &Context, prior: &State, st: &mut State, deadline: Instant) -> Result<(), WiringError> {
    let name = prior.role_name.as_str();
    let fail = |what: &str, e| WiringError::aws(&format!("Cannot {what} of role \"{name}\""), e);
    for arn in prior.policy_arns.iter().flatten() {
        ctx.aws.detach_policy(name, arn).await.map_err(|e| fail(&format!("detach {arn}"), e))?;
        if let Some(set) = st.policy_arns.as_mut() {
            set.remove(arn);
        }
    }
    for pname in prior.inline_policies.iter().flat_map(|m| m.keys()) {
        ctx.aws
            .delete_inline_policy(name, pname)
            .await
            .map_err(|e| fail(&format!("delete inline policy {pname}"), e))?;
        if let Some(map) = st.inline_policies.as_mut() {
            map.remove(pname);
        }
    }
    for attempt in 0..3 {
        match ctx.aws.delete_role(name).await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind == AwsErrorKind::Conflict && attempt < 2 => {
                for arn in ctx.aws.list_attached_policies(name).await.map_err(|e| fail("list the policies", e))? {
                    ctx.aws.detach_policy(name, &arn).await.map_err(|e| fail(&format!("detach {arn}"), e))?;
                }
                for p in
                    ctx.aws.list_inline_policy_names(name).await.map_err(|e| fail("list the inline policies", e))?
                {
                    ctx.aws
                        .delete_inline_policy(name, &p)
                        .await
                        .map_err(|e| fail(&format!("delete inline policy {p}"), e))?;
                }
                ctx.sleep(Duration::from_millis(200), deadline).await?;
            }
            Err(e) => return Err(WiringError::aws(&format!("Cannot delete role \"{name}\""), e)),
        }
    }
    Ok(())
}
