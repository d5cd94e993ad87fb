//! [`StoreLease`]: the leases of several nodes sharing one store (PostgreSQL, or one SQLite
//! file), kept in its `leases` table through [`Store::lease_claim`] and
//! [`Store::lease_release`]. This module owns the holder's side of the guarantees stated in
//! the [parent module](super):
//!
//! - A node is one holder: its node name, a random token drawn once per process, its host
//!   name and process id (`ana-1f2e3d4c5b6a@host#4242`).
//! - A lease is claimed for one TTL and renewed every third of it by a task of its own. When
//!   renewing failed for two thirds of a TTL since the last claim that succeeded (counted from
//!   the moment that claim was sent, so before the row's expiry), or the row was taken over,
//!   the [`Held`] is reported lost and the lease is no longer renewed.
//! - A waiting [`Lease::acquire`] claims again every third of a TTL: a lease whose holder died
//!   is taken over at most a TTL and a third after the holder's last renewal.
//! - Dropping a [`Held`] releases its row at once (the renewal task wakes and deletes it);
//!   [`StoreLease::close`] releases every lease still held and waits until that is done, so a
//!   graceful stop hands the work over without waiting for a TTL.
//! - A lease held by a process of this host that no longer exists (a node killed and
//!   started again) is taken over at once rather than after its TTL: the process ids of one
//!   host name are taken to be one process namespace, as for processes on one machine
//!   sharing a SQLite file, and a host whose `/proc` cannot be read never concludes this.
//! - Within the process a name is held once: a second claim of it waits like another node's.

use super::{Held, Lease};
use crate::store::{Store, now_millis};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The shortest TTL accepted: renewals every third of it must fit a store round trip.
pub const MIN_TTL: Duration = Duration::from_millis(300);

/// Leases kept in the shared store. Cheap to clone; every clone is the same holder.
#[derive(Clone)]
pub struct StoreLease {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    holder: String,
    ttl: Duration,
    /// The names this process holds (or is claiming).
    held: Mutex<HashSet<String>>,
    /// Turns true on [`StoreLease::close`].
    closing: watch::Sender<bool>,
    /// The renewal tasks, one per held lease; `close` waits for them.
    renewals: Mutex<Vec<JoinHandle<()>>>,
}

/// Why a renewal task stopped.
enum End {
    /// The [`Held`] was dropped: release.
    Dropped,
    /// The lease store is closing: release.
    Closing,
    /// Renewing failed for too long: report lost, and try to release.
    Failed,
    /// Another holder has the row: report lost, leave the row alone.
    TakenOver,
}

impl StoreLease {
    /// The leases of node `node` (its name; a per-process random token is added to make the
    /// holder id) in `store`, each held for `ttl` (at least [`MIN_TTL`]) between renewals.
    pub fn new(store: Arc<dyn Store>, node: &str, ttl: Duration) -> StoreLease {
        let (closing, _) = watch::channel(false);
        StoreLease {
            inner: Arc::new(Inner {
                store,
                holder: format!(
                    "{node}-{}@{}#{}",
                    process_token(),
                    host_name(),
                    std::process::id()
                ),
                ttl: ttl.max(MIN_TTL),
                held: Mutex::new(HashSet::new()),
                closing,
                renewals: Mutex::new(Vec::new()),
            }),
        }
    }

    /// This node's holder id, as the `leases` table shows it.
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Stops renewing, reports every held lease lost, releases them and waits until the
    /// releases are done (each bounded by a TTL). Later claims are refused. Idempotent.
    pub async fn close(&self) {
        self.inner.closing.send_replace(true);
        let renewals = std::mem::take(&mut *lock(&self.inner.renewals));
        for renewal in renewals {
            let _ = renewal.await;
        }
    }

    fn closing(&self) -> bool {
        *self.inner.closing.borrow()
    }

    /// One claim (or renewal) of `name` for a TTL from now.
    async fn claim(&self, name: &str) -> Result<bool, crate::store::StoreError> {
        self.inner
            .store
            .lease_claim(
                name,
                &self.inner.holder,
                millis(self.inner.ttl),
                now_millis(),
            )
            .await
    }

    /// Releases `name` for its holder when that is a process of this host that is gone;
    /// whether it did.
    async fn freed_from_the_dead(&self, name: &str) -> bool {
        let Ok(Some(holder)) = self.inner.store.lease_holder(name, now_millis()).await else {
            return false;
        };
        if !gone_from_this_host(&holder) {
            return false;
        }
        match self.inner.store.lease_release(name, &holder).await {
            Ok(()) => {
                tracing::info!(lease = name, %holder, "took over a lease of a process that is gone");
                true
            }
            Err(_) => false,
        }
    }

    /// How often a waiting acquire claims again, and a holder renews.
    fn third(&self) -> Duration {
        self.inner.ttl / 3
    }
}

#[async_trait::async_trait]
impl Lease for StoreLease {
    async fn acquire(&self, name: &str) -> Held {
        let mut closing = self.inner.closing.subscribe();
        loop {
            if let Some(held) = self.try_acquire(name).await {
                return held;
            }
            if self.closing() {
                // A closing node takes nothing more; its caller stops on its own signal.
                std::future::pending::<()>().await;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.third()) => {}
                _ = closing.wait_for(|closing| *closing) => {}
            }
        }
    }

    async fn try_acquire(&self, name: &str) -> Option<Held> {
        if self.closing() {
            return None;
        }
        // Dropped on every way out but a granted claim, also when this future is cancelled.
        let reservation = Reservation::take(&self.inner, name)?;
        let mut sent = Instant::now();
        let mut claimed = self.claim(name).await;
        if matches!(claimed, Ok(false)) && self.freed_from_the_dead(name).await {
            sent = Instant::now();
            claimed = self.claim(name).await;
        }
        match claimed {
            Ok(true) => {}
            Ok(false) => return None,
            Err(error) => {
                tracing::warn!(lease = name, %error, "could not claim a lease");
                return None;
            }
        }
        // From here the renewal task owns the name and frees it when it ends.
        std::mem::forget(reservation);
        let (lost_tx, lost_rx) = watch::channel(false);
        let renewal = tokio::spawn(keep(self.clone(), name.to_string(), lost_tx, sent));
        let mut renewals = lock(&self.inner.renewals);
        renewals.retain(|renewal| !renewal.is_finished());
        renewals.push(renewal);
        tracing::debug!(lease = name, holder = %self.inner.holder, "lease held");
        Some(Held::new(name, lost_rx))
    }
}

/// A name this process is claiming: nobody else in the process claims it meanwhile.
struct Reservation<'a> {
    inner: &'a Inner,
    name: &'a str,
}

impl<'a> Reservation<'a> {
    /// The name reserved, or `None` when this process holds or claims it already.
    fn take(inner: &'a Inner, name: &'a str) -> Option<Reservation<'a>> {
        // A refused name makes no reservation at all: dropping one would free the name
        // for its rightful holder (and take the set's lock again).
        let fresh = lock(&inner.held).insert(name.to_string());
        if !fresh {
            return None;
        }
        Some(Reservation { inner, name })
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        lock(&self.inner.held).remove(self.name);
    }
}

/// Renews lease `name` (claimed at `claimed`) until its [`Held`] is dropped, the store closes,
/// renewing fails for two thirds of a TTL or the row is taken over; then reports it lost
/// and releases it (but when taken over).
async fn keep(lease: StoreLease, name: String, lost_tx: watch::Sender<bool>, mut claimed: Instant) {
    let inner = &lease.inner;
    let renew_every = lease.third();
    let lose_after = inner.ttl * 2 / 3;
    let retry_after = (inner.ttl / 12).max(Duration::from_millis(10));
    let mut closing = inner.closing.subscribe();
    let mut next = claimed + renew_every;
    let end = loop {
        let lose_at = claimed + lose_after;
        tokio::select! {
            _ = lost_tx.closed() => break End::Dropped,
            _ = closing.wait_for(|closing| *closing) => break End::Closing,
            _ = tokio::time::sleep_until(next.min(lose_at)) => {}
        }
        if Instant::now() >= lose_at {
            break End::Failed;
        }
        let sent = Instant::now();
        let renewed = tokio::time::timeout_at(
            lose_at,
            inner
                .store
                .lease_claim(&name, &inner.holder, millis(inner.ttl), now_millis()),
        )
        .await;
        match renewed {
            Ok(Ok(true)) => {
                claimed = sent;
                next = sent + renew_every;
            }
            Ok(Ok(false)) => break End::TakenOver,
            Ok(Err(error)) => {
                tracing::warn!(lease = %name, %error, "could not renew a lease; retrying");
                next = Instant::now() + retry_after;
            }
            Err(_) => break End::Failed,
        }
    };
    // Before anything else: the work must stop before the row's expiry.
    lost_tx.send_replace(true);
    match end {
        End::TakenOver => tracing::warn!(lease = %name, "lease taken over by another node"),
        End::Failed => tracing::warn!(lease = %name, "lease lost: it could not be renewed in time"),
        End::Dropped | End::Closing => {}
    }
    if !matches!(end, End::TakenOver) {
        let release = inner.store.lease_release(&name, &inner.holder);
        match tokio::time::timeout(inner.ttl, release).await {
            Ok(Ok(())) => tracing::debug!(lease = %name, "lease released"),
            Ok(Err(error)) => {
                tracing::debug!(lease = %name, %error, "lease not released; it expires")
            }
            Err(_) => tracing::debug!(lease = %name, "lease release timed out; it expires"),
        }
    }
    // Only now may this process claim the name again: a late release cannot delete a newer
    // claim of its own.
    lock(&inner.held).remove(&name);
}

/// A random token drawn once per process: two processes of one node name never share a holder.
fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let mut bytes = [0u8; 6];
        if getrandom::fill(&mut bytes).is_err() {
            // No entropy source: the process id and the clock still tell processes apart.
            let seed = (u64::from(std::process::id()) << 32) ^ now_millis() as u64;
            bytes.copy_from_slice(&seed.to_le_bytes()[..6]);
        }
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    })
}

/// This machine's host name, or `ponte` when it cannot be read.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "ponte".to_string())
}

/// Whether `holder` names a process of this host (another than this one) that no longer
/// runs. Anything unclear (another host, a holder id of another form, no `/proc`) is alive.
fn gone_from_this_host(holder: &str) -> bool {
    let Some((rest, pid)) = holder.rsplit_once('#') else {
        return false;
    };
    let Some((_, host)) = rest.rsplit_once('@') else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let proc_dir = std::path::Path::new("/proc");
    host == host_name()
        && pid != std::process::id()
        && proc_dir.join("self").exists()
        && !proc_dir.join(pid.to_string()).exists()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Locks a mutex whose data stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
