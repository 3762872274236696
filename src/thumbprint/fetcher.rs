//! The process-wide, per-issuer cache in front of [`Client::fetch`](super::net::Client).
//!
//! Each issuer has one slot holding a shared future: every caller for that issuer awaits the same fetch, so fifty
//! wirings planned in parallel cause one discovery request. A successful result stays for the life of the process
//! (or until invalidated); a failed one is handed to everyone who was waiting for it and then dropped, so the next
//! call tries again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};

use super::error::ThumbprintError;
use super::net::{parse_issuer, Client, Thumbprints};

type SharedFetch = Shared<BoxFuture<'static, Result<Thumbprints, ThumbprintError>>>;

struct Slot {
    /// Tells a slot apart from a newer one for the same issuer, so a failed fetch only removes itself.
    id: u64,
    fetch: SharedFetch,
}

struct Inner {
    client: Arc<Client>,
    slots: Mutex<HashMap<String, Slot>>,
    next_id: AtomicU64,
}

/// Computes and caches OIDC thumbprints. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct ThumbprintFetcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ThumbprintFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThumbprintFetcher").field("cached_issuers", &self.slots().len()).finish()
    }
}

impl ThumbprintFetcher {
    /// Trusts the Mozilla root store (`webpki-roots`) plus `extra_roots_pem` (the provider's `oidc_ca_bundle`;
    /// `None` or blank means none). `timeout` bounds one whole fetch: connect, handshakes and the document.
    pub fn new(extra_roots_pem: Option<&str>, timeout: Duration) -> Result<Self, ThumbprintError> {
        let client = Arc::new(Client::new(extra_roots_pem, timeout)?);
        Ok(ThumbprintFetcher {
            inner: Arc::new(Inner { client, slots: Mutex::new(HashMap::new()), next_id: AtomicU64::new(0) }),
        })
    }

    /// The thumbprints for `issuer_url` (e.g. `https://oidc.eks.us-west-2.amazonaws.com/id/...`), fetched once per
    /// issuer per process. A trailing slash does not make a different issuer.
    pub async fn thumbprints(&self, issuer_url: &str) -> Result<Thumbprints, ThumbprintError> {
        let key = cache_key(issuer_url);
        // A malformed URL fails here, before any slot exists.
        parse_issuer(key)?;

        let (id, fetch) = {
            let mut slots = self.slots();
            match slots.get(key) {
                Some(slot) => (slot.id, slot.fetch.clone()),
                None => {
                    let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
                    let client = Arc::clone(&self.inner.client);
                    let issuer = key.to_string();
                    let fetch = async move { client.fetch(&issuer).await }.boxed().shared();
                    slots.insert(key.to_string(), Slot { id, fetch: fetch.clone() });
                    (id, fetch)
                }
            }
        };

        let result = fetch.await;
        if result.is_err() {
            let mut slots = self.slots();
            if slots.get(key).is_some_and(|slot| slot.id == id) {
                slots.remove(key);
            }
        }
        result
    }

    /// The cached result for `issuer_url`, if a fetch for it has succeeded and not been invalidated.
    pub fn cached(&self, issuer_url: &str) -> Option<Thumbprints> {
        let slots = self.slots();
        slots.get(cache_key(issuer_url)).and_then(|slot| slot.fetch.peek()).and_then(|r| r.as_ref().ok()).cloned()
    }

    /// Forgets `issuer_url` so the next call fetches again (e.g. when a refresh finds the chain changed).
    /// Callers already waiting on a fetch still get its result. Returns whether anything was cached.
    pub fn invalidate(&self, issuer_url: &str) -> bool {
        self.slots().remove(cache_key(issuer_url)).is_some()
    }

    /// Forgets every issuer.
    pub fn invalidate_all(&self) {
        self.slots().clear();
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Nothing panics while holding the lock, and the map stays consistent if something did.
        self.inner.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn cache_key(issuer_url: &str) -> &str {
    issuer_url.trim().trim_end_matches('/')
}
