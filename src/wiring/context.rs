//! Process-wide context shared by every wiring: AWS clients, caches of shared lookups (caller identity, clusters,
//! OIDC providers, addons), per-key locks that let parallel wirings share one OIDC provider and one addon, and
//! the stop signal Terraform sends on Ctrl-C.
//!
//! Terraform starts a fresh provider process for each graph walk (plan, apply, refresh), so a cache here lives
//! for one walk: it can never hide a change made between two Terraform commands.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, OnceCell};
use tokio::time::Instant;

use crate::aws::{Aws, CallerIdentity, Cluster};
use crate::thumbprint::ThumbprintFetcher;

use super::error::WiringError;
use super::model::StringMap;

/// A map from a key (cluster name, issuer) to one shared value, created on first use.
pub struct Keyed<T> {
    inner: Mutex<HashMap<String, Arc<T>>>,
}

impl<T: Default> Keyed<T> {
    pub fn new() -> Self {
        Self { inner: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &str) -> Arc<T> {
        let mut map = self.inner.lock().expect("keyed map lock");
        map.entry(key.to_string()).or_default().clone()
    }
}

impl<T: Default> Default for Keyed<T> {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Context {
    pub aws: Aws,
    pub default_tags: StringMap,
    pub thumbprints: ThumbprintFetcher,
    identity: OnceCell<CallerIdentity>,
    clusters: Keyed<OnceCell<Option<Cluster>>>,
    pub(super) issuers: Keyed<tokio::sync::Mutex<super::shared::IssuerState>>,
    pub(super) addons: Keyed<tokio::sync::Mutex<super::shared::AddonState>>,
    pub(super) oidc_uses: super::shared::Uses,
    pub(super) addon_uses: super::shared::Uses,
    /// Roles of wirings this process is destroying: they no longer count as users of a shared OIDC provider.
    deleting_roles: Mutex<HashSet<String>>,
    stop_tx: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
}

impl Context {
    pub fn new(aws: Aws, default_tags: StringMap, thumbprints: ThumbprintFetcher) -> Self {
        let (stop_tx, stop_rx) = watch::channel(false);
        Self {
            aws,
            default_tags,
            thumbprints,
            identity: OnceCell::new(),
            clusters: Keyed::new(),
            issuers: Keyed::new(),
            addons: Keyed::new(),
            oidc_uses: Keyed::new(),
            addon_uses: Keyed::new(),
            deleting_roles: Mutex::new(HashSet::new()),
            stop_tx,
            stop_rx,
        }
    }

    /// The caller's account and partition, fetched once per process.
    pub async fn identity(&self) -> Result<&CallerIdentity, WiringError> {
        self.identity
            .get_or_try_init(|| async {
                self.aws.caller_identity().await.map_err(|e| WiringError::aws("Cannot determine the AWS account", e))
            })
            .await
    }

    /// DescribeCluster, once per cluster per process. `None` when the cluster does not exist.
    pub async fn cluster(&self, name: &str) -> Result<Option<Cluster>, WiringError> {
        let cell = self.clusters.get(name);
        cell.get_or_try_init(|| async {
            self.aws
                .describe_cluster(name)
                .await
                .map_err(|e| WiringError::aws(&format!("Cannot read EKS cluster \"{name}\""), e))
        })
        .await
        .cloned()
    }

    /// The OIDC issuer URL of a cluster, with a clear error when there is none.
    pub async fn cluster_issuer(&self, name: &str) -> Result<String, WiringError> {
        match self.cluster(name).await? {
            None => Err(WiringError::new(
                format!("EKS cluster \"{name}\" not found"),
                format!(
                    "No cluster named \"{name}\" exists in region {}. Check cluster_name and the provider's \
                     region.",
                    self.aws.region()
                ),
            )),
            Some(c) => c.oidc_issuer.ok_or_else(|| {
                WiringError::new(
                    format!("EKS cluster \"{name}\" has no OIDC issuer"),
                    "The cluster reports no OIDC issuer URL, which IRSA needs. Set oidc_issuer_url, or use \
                     mode = \"pod_identity\"."
                        .to_string(),
                )
            }),
        }
    }

    /// Marks a role as being destroyed until the returned guard is dropped.
    pub(super) fn deleting_role(&self, name: &str) -> DeletingRole<'_> {
        self.deleting_roles.lock().expect("deleting roles lock").insert(name.to_string());
        DeletingRole { ctx: self, name: name.to_string() }
    }

    pub(super) fn is_role_being_deleted(&self, name: &str) -> bool {
        self.deleting_roles.lock().expect("deleting roles lock").contains(name)
    }

    /// Terraform asked us to stop: every wait returns at once with an error.
    pub fn stop(&self) {
        let _ = self.stop_tx.send(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.stop_rx.borrow()
    }

    /// Sleeps for `d`, but never past `deadline`, and returns early with an error when Terraform stops us.
    pub async fn sleep(&self, d: Duration, deadline: Instant) -> Result<(), WiringError> {
        let until = (Instant::now() + d).min(deadline);
        let mut rx = self.stop_rx.clone();
        if *rx.borrow() {
            return Err(WiringError::interrupted());
        }
        tokio::select! {
            _ = tokio::time::sleep_until(until) => Ok(()),
            _ = rx.wait_for(|stopped| *stopped) => Err(WiringError::interrupted()),
        }
    }
}

/// A role marked as being destroyed; the mark goes when the destroy ends, whether it succeeded or not.
pub(super) struct DeletingRole<'a> {
    ctx: &'a Context,
    name: String,
}

impl Drop for DeletingRole<'_> {
    fn drop(&mut self) {
        self.ctx.deleting_roles.lock().expect("deleting roles lock").remove(&self.name);
    }
}
