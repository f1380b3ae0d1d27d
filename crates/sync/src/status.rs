//! [`SyncStatus`]: what the app's sync screen shows.
use chrono::{DateTime, Utc};
use serde::Serialize;
use sipas_store::{Store, StoreError};

/// Upload queue counts (answers and field outcomes) and the last sync outcome.
///
/// `last_error` belongs to `last_error_at`; when `last_success_at` is later, the error has
/// been overcome since.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Answers waiting to be sent.
    pub pending: u64,
    /// Answers being sent right now (or interrupted; they are resent at the next sync).
    pub in_flight: u64,
    /// Answers the server has confirmed.
    pub acked: u64,
    /// Answers the server refused for good (invalid or conflicting); see the outbox entry.
    pub rejected: u64,
    /// Field outcomes (absent, refused, …) recorded on the device and not yet sent.
    pub statuses_pending: u64,
    /// When the last sync succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the last sync failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub last_error: Option<String>,
}

impl SyncStatus {
    /// Whether every queued answer and field outcome has reached the server (none pending
    /// or in flight).
    pub fn is_drained(&self) -> bool {
        self.pending == 0 && self.in_flight == 0 && self.statuses_pending == 0
    }
}

/// Reads the current [`SyncStatus`] from the store.
pub fn sync_status(store: &Store) -> Result<SyncStatus, StoreError> {
    let counts = store.outbox_counts()?;
    let log = store.get_sync_log()?;
    Ok(SyncStatus {
        pending: counts.pending,
        in_flight: counts.in_flight,
        acked: counts.acked,
        rejected: counts.rejected,
        statuses_pending: store.status_outbox_counts()?.pending,
        last_success_at: log.last_success_at,
        last_error_at: log.last_error_at,
        last_error: log.last_error,
    })
}
