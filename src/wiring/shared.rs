//! Objects many wirings share: the IAM OIDC provider of an issuer and the `eks-pod-identity-agent` addon of a
//! cluster. Ownership rules (architecture.md): adopt what exists, create what is missing (tagged as ours), never
//! fail because a sibling got there first, and delete only what we created once nothing uses it.
//!
//! Within one process, a per-key lock makes parallel wirings share one lookup and one create, a use counter keeps
//! a release from deleting an object a sibling is about to rely on, and `KnownUsers` remembers who else used the
//! object at the last full "is anything still using it?" scan, so that N wirings destroyed by one process cost two
//! scans per shared object instead of N.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::{Addon, OidcProvider};
use crate::logging;
use crate::policy;

use super::context::Context;
use super::error::WiringError;
use super::naming::{self, AGENT_ADDON, CREATED_BY_TAG, CREATED_BY_VALUE};

/// How long the users learned by a scan are trusted to keep a shared object alive without another scan. Only
/// users removed by other processes (another workspace destroying its wirings meanwhile) can make the knowledge
/// wrong, and only towards keeping an unused object; this bounds how long that can last within one process.
pub const KNOWN_USERS_TTL: Duration = Duration::from_secs(60);

/// Who uses a shared object (role names for an OIDC provider, association IDs for the agent addon), as learned by
/// this process's last full scan, minus the users this process removed since.
///
/// Only ever used to skip a scan ("someone still uses it"); deleting always follows a fresh scan that finds no
/// user. Users this process removed are left out of later scans too, because IAM and EKS list a deleted object for
/// a while (eventual consistency) and counting our own just-deleted user would keep the object forever.
#[derive(Debug, Default)]
pub struct KnownUsers {
    users: BTreeSet<String>,
    learned: Option<Instant>,
    removed: BTreeSet<String>,
}

impl KnownUsers {
    /// A user this process is adding (a role about to trust the provider): it counts again when listed.
    pub fn add(&mut self, user: &str) {
        self.removed.remove(user);
        if self.learned.is_some() {
            self.users.insert(user.to_string());
        }
    }

    /// A user this process removed, or is removing (deleted, or no longer relying on the object).
    pub fn remove(&mut self, user: &str) {
        self.users.remove(user);
        self.removed.insert(user.to_string());
    }

    /// Records a full scan's users, leaving out those this process removed.
    pub fn learn(&mut self, scanned: impl IntoIterator<Item = String>, now: Instant) {
        self.users = scanned.into_iter().filter(|u| !self.removed.contains(u)).collect();
        self.learned = Some(now);
    }

    /// True when a recent scan saw a user this process has not removed since: no need to scan again.
    pub fn still_used(&self, now: Instant) -> bool {
        !self.users.is_empty() && self.learned.is_some_and(|t| now.saturating_duration_since(t) < KNOWN_USERS_TTL)
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// Per issuer: the last known OIDC provider and the roles that trust it.
#[derive(Default)]
pub struct IssuerState {
    /// `None`: not looked up yet. `Some(None)`: known not to exist.
    pub provider: Option<Option<OidcProvider>>,
    pub users: KnownUsers,
}

/// Per cluster: the last known agent addon and the associations that need it.
#[derive(Default)]
pub struct AddonState {
    pub addon: Option<Option<Addon>>,
    pub users: KnownUsers,
}

/// A use of a shared object by one wiring, for as long as the wiring's apply needs it to exist.
pub struct SharedUse {
    counter: Arc<AtomicUsize>,
}

impl Drop for SharedUse {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Use counters live outside the locks so that dropping a use never waits.
#[derive(Default)]
pub struct UseCounter(pub Arc<AtomicUsize>);

impl UseCounter {
    fn acquire(&self) -> SharedUse {
        self.0.fetch_add(1, Ordering::SeqCst);
        SharedUse { counter: self.0.clone() }
    }
    fn in_use(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

fn created_by_us(tags: &BTreeMap<String, String>) -> bool {
    tags.get(CREATED_BY_TAG).map(String::as_str) == Some(CREATED_BY_VALUE)
}

fn ownership_tags(ctx: &Context) -> BTreeMap<String, String> {
    let mut tags = ctx.default_tags.clone();
    tags.insert(CREATED_BY_TAG.to_string(), CREATED_BY_VALUE.to_string());
    tags
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// What a wiring needs to know about its OIDC provider.
#[derive(Clone, Debug)]
pub struct OidcInfo {
    pub arn: String,
    pub thumbprints: Vec<String>,
}

/// The thumbprints an issuer should carry, computed from its TLS chain (cached per issuer by the fetcher).
pub async fn issuer_thumbprints(ctx: &Context, issuer_url: &str) -> Result<Vec<String>, WiringError> {
    ctx.thumbprints
        .thumbprints(issuer_url)
        .await
        .map(|t| t.thumbprints)
        .map_err(|e| WiringError::new(format!("Cannot compute the OIDC thumbprint of {issuer_url}"), e.to_string()))
}

/// The OIDC provider for an issuer, read once per process (for plan and refresh).
pub async fn lookup_oidc_provider(ctx: &Context, arn: &str) -> Result<Option<OidcProvider>, WiringError> {
    let slot = ctx.issuers.get(arn);
    let mut st = slot.lock().await;
    if let Some(known) = &st.provider {
        return Ok(known.clone());
    }
    let p = ctx
        .aws
        .get_oidc_provider(arn)
        .await
        .map_err(|e| WiringError::aws("Cannot read the IAM OIDC identity provider", e))?;
    st.provider = Some(p.clone());
    Ok(p)
}

/// The thumbprints the provider will carry after apply: ours follow the issuer's chain; one created by someone
/// else keeps its own list (we never change what we do not own, apart from adding our audience).
pub async fn planned_thumbprints(ctx: &Context, arn: &str, issuer_url: &str) -> Result<Vec<String>, WiringError> {
    match lookup_oidc_provider(ctx, arn).await? {
        Some(p) if !created_by_us(&p.tags) => Ok(p.thumbprints),
        _ => issuer_thumbprints(ctx, issuer_url).await,
    }
}

/// Makes sure the OIDC provider for `issuer_url` exists and accepts `audience`, for `role` to trust. Returns the
/// provider and a use that keeps sibling releases in this process from deleting it until the role trusts it.
pub async fn ensure_oidc_provider(
    ctx: &Context,
    partition: &str,
    account: &str,
    issuer_url: &str,
    audience: &str,
    role: &str,
) -> Result<(OidcInfo, SharedUse), WiringError> {
    let arn = naming::oidc_provider_arn(partition, account, issuer_url);
    let slot = ctx.issuers.get(&arn);
    let uses = ctx.oidc_uses.get(&arn);
    let guard = uses.acquire();
    let mut st = slot.lock().await;
    st.users.add(role);
    let fail = |what: &str, e| WiringError::aws(&format!("{what} for {issuer_url}"), e);

    let current = match &st.provider {
        Some(known) => known.clone(),
        None => ctx.aws.get_oidc_provider(&arn).await.map_err(|e| fail("Cannot read the OIDC provider", e))?,
    };
    let mut provider = match current {
        Some(p) => p,
        None => {
            let thumbprints = issuer_thumbprints(ctx, issuer_url).await?;
            let created = ctx
                .aws
                .create_oidc_provider(issuer_url, &[audience.to_string()], &thumbprints, &ownership_tags(ctx))
                .await;
            match created {
                Ok(_) => {
                    logging::info!("created OIDC provider", arn = arn.as_str());
                    OidcProvider {
                        arn: arn.clone(),
                        url: naming::issuer_host_path(issuer_url).to_string(),
                        client_ids: vec![audience.to_string()],
                        thumbprints,
                        tags: ownership_tags(ctx),
                    }
                }
                // Another process created it between our lookup and our create: adopt it.
                Err(e) if e.is_already_exists() => ctx
                    .aws
                    .get_oidc_provider(&arn)
                    .await
                    .map_err(|e| fail("Cannot read the OIDC provider", e))?
                    .ok_or_else(|| {
                        WiringError::new(
                            "OIDC provider vanished",
                            format!("IAM reported that {arn} exists, then that it does not. Run apply again."),
                        )
                    })?,
                Err(e) => return Err(fail("Cannot create the OIDC provider", e)),
            }
        }
    };
    if !provider.client_ids.iter().any(|c| c == audience) {
        ctx.aws
            .add_oidc_client_id(&arn, audience)
            .await
            .map_err(|e| fail("Cannot add the audience to the OIDC provider", e))?;
        provider.client_ids.push(audience.to_string());
    }
    if created_by_us(&provider.tags) {
        let want = issuer_thumbprints(ctx, issuer_url).await?;
        if !same_set(&want, &provider.thumbprints) {
            ctx.aws
                .update_oidc_thumbprints(&arn, &want)
                .await
                .map_err(|e| fail("Cannot update the OIDC provider's thumbprints", e))?;
            provider.thumbprints = want;
        }
    }
    let info = OidcInfo { arn: arn.clone(), thumbprints: provider.thumbprints.clone() };
    st.provider = Some(Some(provider));
    Ok((info, guard))
}

/// `role` stops trusting the OIDC provider `arn` (its wiring is being destroyed, or no longer uses IRSA): deletes
/// the provider when this provider created it and no other role in the account trusts it (roles whose wirings this
/// process is destroying do not count: they are about to go).
pub async fn release_oidc_provider(ctx: &Context, arn: &str, role: &str) -> Result<(), WiringError> {
    let slot = ctx.issuers.get(arn);
    let mut st = slot.lock().await;
    st.users.remove(role);
    if ctx.oidc_uses.get(arn).in_use() || st.users.still_used(Instant::now()) {
        return Ok(());
    }
    let fail = |what: &str, e| WiringError::aws(what, e);
    let provider = match &st.provider {
        Some(known) => known.clone(),
        None => ctx.aws.get_oidc_provider(arn).await.map_err(|e| fail("Cannot read the OIDC provider", e))?,
    };
    st.provider = Some(provider.clone());
    let Some(p) = provider else { return Ok(()) };
    if !created_by_us(&p.tags) {
        return Ok(());
    }
    let roles =
        ctx.aws.list_roles().await.map_err(|e| fail("Cannot list roles to see who trusts the OIDC provider", e))?;
    st.users.learn(
        roles
            .into_iter()
            .filter(|r| !ctx.is_role_being_deleted(&r.name) && policy::mentions(&r.trust_policy_raw, arn))
            .map(|r| r.name),
        Instant::now(),
    );
    if !st.users.is_empty() {
        return Ok(());
    }
    ctx.aws.delete_oidc_provider(arn).await.map_err(|e| fail("Cannot delete the OIDC provider", e))?;
    logging::info!("deleted OIDC provider: created by eksidentity and trusted by no role", arn = arn);
    st.provider = Some(None);
    Ok(())
}

/// The agent addon of a cluster as last seen by this process (read once per process for refresh).
pub async fn lookup_addon(ctx: &Context, cluster: &str) -> Result<Option<Addon>, WiringError> {
    let slot = ctx.addons.get(cluster);
    let mut st = slot.lock().await;
    if let Some(known) = &st.addon {
        return Ok(known.clone());
    }
    let a =
        ctx.aws.describe_addon(cluster, AGENT_ADDON).await.map_err(|e| {
            WiringError::aws(&format!("Cannot read the {AGENT_ADDON} addon of cluster \"{cluster}\""), e)
        })?;
    st.addon = Some(a.clone());
    Ok(a)
}

/// Makes sure the agent addon is installed and ACTIVE (at `version` when given), creating it when absent, and
/// waits with backoff until `deadline`. DEGRADED keeps waiting: an addon installed before any node exists sits
/// there until nodes join.
pub async fn ensure_addon(
    ctx: &Context,
    cluster: &str,
    version: Option<&str>,
    deadline: Instant,
) -> Result<(Addon, SharedUse), WiringError> {
    let slot = ctx.addons.get(cluster);
    let guard = ctx.addon_uses.get(cluster).acquire();
    let mut st = slot.lock().await;
    if let Some(Some(a)) = &st.addon {
        if a.status == "ACTIVE" && version.is_none_or(|v| a.version.as_deref() == Some(v)) {
            return Ok((a.clone(), guard));
        }
    }
    let started = Instant::now();
    let what = format!("{AGENT_ADDON} addon of cluster \"{cluster}\"");
    let fail = |verb: &str, e| WiringError::aws(&format!("Cannot {verb} the {what}"), e);
    let mut delay = Duration::from_millis(250);
    let mut last_status;
    let mut last_issues: Vec<String> = Vec::new();
    let mut asked_update = false;
    loop {
        let current = ctx.aws.describe_addon(cluster, AGENT_ADDON).await.map_err(|e| fail("read", e))?;
        match current {
            None => {
                match ctx.aws.create_addon(cluster, AGENT_ADDON, version, &ownership_tags(ctx)).await {
                    Ok(_) => logging::info!("installing agent addon", cluster = cluster),
                    Err(e) if e.is_already_exists() => {}
                    Err(e) if e.is_not_found() => {
                        return Err(WiringError::new(
                            format!("EKS cluster \"{cluster}\" not found"),
                            format!("Cannot install the {AGENT_ADDON} addon: {e}"),
                        ))
                    }
                    Err(e) => return Err(fail("create", e)),
                }
                last_status = "CREATING".into();
            }
            Some(a) => {
                last_status = a.status.clone();
                last_issues = a.health_issues.clone();
                match a.status.as_str() {
                    "ACTIVE" => {
                        match version {
                            Some(v) if a.version.as_deref() != Some(v) && !created_by_us(&a.tags) => {
                                st.addon = Some(Some(a.clone()));
                                return Err(WiringError::new(
                                    format!("The {what} runs another version"),
                                    format!(
                                        "agent_addon_version is \"{v}\", but the installed addon runs \"{}\" and \
                                         was not installed by this provider, so its version is left to whoever \
                                         manages it. Remove agent_addon_version, or set it to \"{}\".",
                                        a.version.as_deref().unwrap_or("unknown"),
                                        a.version.as_deref().unwrap_or("unknown")
                                    ),
                                ));
                            }
                            Some(v) if a.version.as_deref() != Some(v) && !asked_update => {
                                ctx.aws
                                    .update_addon_version(cluster, AGENT_ADDON, v)
                                    .await
                                    .map_err(|e| fail("update", e))?;
                                asked_update = true;
                            }
                            Some(v) if a.version.as_deref() != Some(v) => {
                                // Update requested; EKS has not switched yet (eventual consistency): keep waiting.
                            }
                            _ => {
                                st.addon = Some(Some(a.clone()));
                                return Ok((a, guard));
                            }
                        }
                    }
                    "CREATE_FAILED" | "UPDATE_FAILED" | "DELETE_FAILED" => {
                        st.addon = Some(Some(a.clone()));
                        let issues = if a.health_issues.is_empty() {
                            "EKS reported no health issues.".to_string()
                        } else {
                            format!("Health issues:\n- {}", a.health_issues.join("\n- "))
                        };
                        return Err(WiringError::new(
                            format!("The {what} is {}", a.status),
                            format!(
                                "{issues}\n\nFix the cause (see the addon in the EKS console), or delete the addon \
                                 so that it can be created again, then apply again. To manage the agent elsewhere, \
                                 set manage_agent_addon = false."
                            ),
                        ));
                    }
                    // CREATING, UPDATING, DEGRADED, DELETING (then create again): wait.
                    _ => {}
                }
            }
        }
        if Instant::now() >= deadline {
            st.addon = None;
            let mut extra = format!("The {what} was still {last_status}.");
            if last_status == "DEGRADED" {
                extra.push_str(
                    " An addon stays DEGRADED while the cluster has no nodes able to run it (for example before \
                     any node group exists, or with only Fargate or Windows nodes, which Pod Identity does not \
                     support).",
                );
            }
            if !last_issues.is_empty() {
                extra.push_str(&format!(" Health issues: {}.", last_issues.join("; ")));
            }
            return Err(WiringError::timeout(
                &format!("waiting for the {what} to become ACTIVE"),
                started.elapsed(),
                &extra,
            ));
        }
        ctx.sleep(delay, deadline).await?;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

/// The association `removed` (when there was one) is gone from `cluster`: deletes the agent addon when this
/// provider created it and no pod identity association remains on the cluster.
pub async fn release_addon(ctx: &Context, cluster: &str, removed: Option<&str>) -> Result<(), WiringError> {
    let slot = ctx.addons.get(cluster);
    let mut st = slot.lock().await;
    if let Some(id) = removed {
        st.users.remove(id);
    }
    if ctx.addon_uses.get(cluster).in_use() || st.users.still_used(Instant::now()) {
        return Ok(());
    }
    let what = format!("the {AGENT_ADDON} addon of cluster \"{cluster}\"");
    let addon = match &st.addon {
        Some(known) => known.clone(),
        None => ctx
            .aws
            .describe_addon(cluster, AGENT_ADDON)
            .await
            .map_err(|e| WiringError::aws(&format!("Cannot read {what}"), e))?,
    };
    st.addon = Some(addon.clone());
    let Some(a) = addon else { return Ok(()) };
    if !created_by_us(&a.tags) || a.status == "DELETING" {
        return Ok(());
    }
    let left = ctx
        .aws
        .list_associations(cluster, None, None)
        .await
        .map_err(|e| WiringError::aws(&format!("Cannot list the associations of cluster \"{cluster}\""), e))?;
    st.users.learn(left.into_iter().map(|a| a.id), Instant::now());
    if !st.users.is_empty() {
        return Ok(());
    }
    match ctx.aws.delete_addon(cluster, AGENT_ADDON).await {
        Ok(()) => {
            logging::info!("deleting agent addon: created by eksidentity and no association left", cluster = cluster)
        }
        // EKS refuses while the addon is changing (someone else is deleting or updating it): leave it to them.
        Err(e) if e.is_already_exists() => {}
        Err(e) => return Err(WiringError::aws(&format!("Cannot delete {what}"), e)),
    }
    st.addon = Some(None);
    Ok(())
}

/// Per-key use counters, kept by the context.
pub type Uses = super::context::Keyed<UseCounter>;

#[cfg(test)]
mod tests {
    use super::{KnownUsers, KNOWN_USERS_TTL};
    use std::time::Duration;
    use tokio::time::Instant;

    fn users(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn nothing_known_before_a_scan() {
        let mut k = KnownUsers::default();
        let now = Instant::now();
        assert!(!k.still_used(now));
        // A role about to trust the provider is no knowledge of the others.
        k.add("a");
        assert!(!k.still_used(now));
    }

    #[test]
    fn scanned_users_keep_the_object_until_this_process_removed_them_all() {
        let now = Instant::now();
        let mut k = KnownUsers::default();
        k.learn(users(&["a", "b"]), now);
        assert!(k.still_used(now));
        k.remove("a");
        assert!(k.still_used(now), "b is still there");
        k.remove("b");
        assert!(!k.still_used(now), "the last known user is gone: scan before deleting");
    }

    #[test]
    fn users_this_process_removed_are_not_counted_when_a_scan_still_lists_them() {
        let now = Instant::now();
        let mut k = KnownUsers::default();
        k.remove("a");
        // IAM still lists the role deleted a moment ago.
        k.learn(users(&["a"]), now);
        assert!(k.is_empty());
        assert!(!k.still_used(now));
    }

    #[test]
    fn a_user_added_again_counts_again() {
        let now = Instant::now();
        let mut k = KnownUsers::default();
        k.remove("a");
        k.add("a");
        k.learn(users(&["a"]), now);
        assert!(k.still_used(now));
        // Added after a scan: counted at once.
        k.add("b");
        k.remove("a");
        assert!(k.still_used(now));
    }

    #[test]
    fn knowledge_expires() {
        let then = Instant::now();
        let mut k = KnownUsers::default();
        k.learn(users(&["foreign"]), then);
        assert!(k.still_used(then + KNOWN_USERS_TTL - Duration::from_millis(1)));
        assert!(!k.still_used(then + KNOWN_USERS_TTL), "old knowledge is checked again");
    }
}
