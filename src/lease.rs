//! Leases: the seam for work that must run on one node at a time. [`LocalLease`] always
//! holds (one process, nothing shared); [`StoreLease`] (in [`store`]) keeps leases in the
//! shared store's `leases` table, so that of several nodes on one database each piece of work
//! runs on one. The work that needs one is named by the constants below: the lost-chat timer
//! ([`LOST_CHATS`]), the resume of conversations waiting on an effect ([`RESUME`]), the
//! adoption of orphaned hand-offs ([`ORPHANS`]), and the bridges' outbox dispatcher
//! ([`BRIDGE_DISPATCH`]) and accept deadlines ([`BRIDGE_DEADLINES`]).
//!
//! What a multi-node implementation must guarantee:
//! - **At most one holder.** While a node's [`Held`] says it holds a lease, no other node's
//!   does. Holding is bounded in time (a TTL renewed well before it runs out, say every third
//!   of it); a node that cannot renew in time must report the lease lost *before* the TTL
//!   ends, so that its successor never starts while it still believes it holds.
//! - **Loss is observable.** [`Held::lost`] resolves as soon as the holder stops holding
//!   (renewal failed, the lease was taken over); the work stops at its next step and goes
//!   back to [`Lease::acquire`]. Work under a lease is made of idempotent steps (every desk
//!   operation and ticket it makes has its own key), so a step that ran twice around a
//!   hand-over does no harm; the lease keeps that rare, it does not make it impossible.
//! - **Someone takes over.** A lease whose holder died is free after its TTL, and a waiting
//!   [`Lease::acquire`] on another node then gets it: the timer keeps running, and the node
//!   that takes [`RESUME`] over resumes what the dead node left waiting.
//! - **Release on shutdown.** Dropping [`Held`] releases the lease at once, so a graceful stop
//!   hands the work over without waiting for the TTL.

pub mod store;

pub use store::StoreLease;

use std::sync::Arc;
use tokio::sync::watch;

/// The lease of the lost-chat timer.
pub const LOST_CHATS: &str = "lost_chats";

/// The lease of resuming the conversations that wait on an effect.
pub const RESUME: &str = "resume";

/// The lease of queueing the hand-offs the desk never heard of.
pub const ORPHANS: &str = "orphans";

/// The lease of delivering the bridges' outbox.
pub const BRIDGE_DISPATCH: &str = "bridge_dispatch";

/// The lease of failing the bridge hand-offs nobody accepted in time.
pub const BRIDGE_DEADLINES: &str = "bridge_deadlines";

/// Grants the right to run a named piece of work on this node. See the module documentation.
#[async_trait::async_trait]
pub trait Lease: Send + Sync + 'static {
    /// Waits until this node holds the lease `name`.
    async fn acquire(&self, name: &str) -> Held;

    /// The lease `name` if this node can hold it now, without waiting.
    async fn try_acquire(&self, name: &str) -> Option<Held>;
}

/// A lease this node holds, until it is dropped or [`lost`](Held::lost).
#[derive(Debug)]
pub struct Held {
    name: String,
    /// Turns true when the lease is lost. The sender belongs to the implementation (which
    /// also learns from it when this guard is dropped: its receiver count falls).
    lost_rx: watch::Receiver<bool>,
    /// Keeps the sender of a lease that is never lost.
    _keep: Option<Arc<watch::Sender<bool>>>,
}

impl Held {
    /// A lease whose holding the implementation reports through `lost_rx`.
    pub fn new(name: &str, lost_rx: watch::Receiver<bool>) -> Held {
        Held {
            name: name.to_string(),
            lost_rx,
            _keep: None,
        }
    }

    /// A lease that is held until it is dropped.
    pub fn forever(name: &str) -> Held {
        let (lost_tx, lost_rx) = watch::channel(false);
        Held {
            name: name.to_string(),
            lost_rx,
            _keep: Some(Arc::new(lost_tx)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this node still holds the lease. Work checks it before each step.
    pub fn is_held(&self) -> bool {
        !*self.lost_rx.borrow()
    }

    /// Resolves once the lease is lost (never, for one held [`forever`](Held::forever)); a
    /// lease whose implementation went away counts as lost. Cancel-safe.
    pub async fn lost(&mut self) {
        let _ = self.lost_rx.wait_for(|lost| *lost).await;
    }
}

/// The lease of a single process: always granted at once, never lost.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalLease;

#[async_trait::async_trait]
impl Lease for LocalLease {
    async fn acquire(&self, name: &str) -> Held {
        Held::forever(name)
    }

    async fn try_acquire(&self, name: &str) -> Option<Held> {
        Some(Held::forever(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_local_lease_is_held_at_once_and_never_lost() {
        let lease: Arc<dyn Lease> = Arc::new(LocalLease);
        let mut held = lease.acquire(LOST_CHATS).await;
        assert!(held.is_held());
        assert_eq!(held.name(), LOST_CHATS);
        let lost = tokio::time::timeout(Duration::from_millis(50), held.lost()).await;
        assert!(lost.is_err(), "a local lease is never lost");
        assert!(lease.try_acquire(RESUME).await.unwrap().is_held());
    }

    #[tokio::test]
    async fn a_lease_reported_lost_stops_being_held() {
        let (lost_tx, lost_rx) = watch::channel(false);
        let mut held = Held::new(RESUME, lost_rx);
        assert!(held.is_held());
        lost_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(1), held.lost())
            .await
            .unwrap();
        assert!(!held.is_held());
    }
}
