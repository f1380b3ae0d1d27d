//! State several server processes on one database share (issue 14, migration 0013): the
//! guessing throttles' counts and the version counters of what a process caches. The rules
//! (caps, windows) are in [`crate::ratelimit`]; the backends only read and write atomically.
use super::StoreError;
use crate::ratelimit::{Limit, Throttled, Window};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// The version counters of cached tables (`shared_versions`): each is bumped in the
/// transaction that changes the table, so a process that sees the number it last loaded at
/// has nothing newer to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SharedVersions {
    /// `form_versions` (every upload, replace, publish, retire, draft deletion).
    pub forms: i64,
    /// The unit catalogue (every import with units).
    pub units: i64,
}

/// One counted key of a reservation: the key and the start of the window it was counted in.
pub type Counted = (String, DateTime<Utc>);

/// Throttle counts and version counters, shared by every process on the database.
#[async_trait]
pub trait SharedStore: Send + Sync {
    /// Atomically (one transaction, serialised with every other reservation on the database):
    /// forgets windows of `throttle` that ended by `now` (`window` long), reads the windows of
    /// the `limits`' keys, applies [`crate::ratelimit::plan`] and writes what it decides.
    /// `Ok(Err(Throttled))` wrote nothing but the forgetting.
    async fn throttle_reserve(
        &self,
        throttle: &str,
        limits: &[Limit],
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Result<Vec<Counted>, Throttled>, StoreError>;
    /// Gives reservations back (each key's count less one, if still in the window it was
    /// counted in) and deletes the windows of `reset`, in one transaction.
    async fn throttle_release(
        &self,
        throttle: &str,
        counted: &[Counted],
        reset: &[String],
    ) -> Result<(), StoreError>;
    /// When a user last signed in successfully at a known-address key (`None`: never, or
    /// forgotten).
    async fn throttle_known_at(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Records a successful sign-in at `key` at `now`, forgetting every record older than
    /// `forget_before`.
    async fn throttle_remember(
        &self,
        key: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The version counters.
    async fn shared_versions(&self) -> Result<SharedVersions, StoreError>;
}

/// Current windows of keys, as [`crate::ratelimit::plan`] reads them.
pub(crate) type Windows = std::collections::HashMap<String, Window>;

/// Forgets windows of throttle `$1` started at or before `$2`.
pub(crate) const FORGET_WINDOWS: &str =
    "DELETE FROM throttle_windows WHERE limiter = $1 AND started_at <= $2";
/// Writes the window of throttle `$1`, key `$2`: start `$3`, count `$4`.
pub(crate) const UPSERT_WINDOW: &str = "INSERT INTO throttle_windows \
     (limiter, key, started_at, count) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (limiter, key) DO UPDATE SET started_at = excluded.started_at, \
     count = excluded.count";
/// Gives one reservation back: throttle `$1`, key `$2`, window start `$3`.
pub(crate) const RELEASE_WINDOW: &str = "UPDATE throttle_windows SET count = count - 1 \
     WHERE limiter = $1 AND key = $2 AND started_at = $3 AND count > 0";
/// Deletes the window of throttle `$1`, key `$2`.
pub(crate) const RESET_WINDOW: &str =
    "DELETE FROM throttle_windows WHERE limiter = $1 AND key = $2";
/// The last successful sign-in at known-address key `$1`.
pub(crate) const KNOWN_AT: &str = "SELECT seen_at FROM throttle_known WHERE key = $1";
/// Forgets known addresses last seen before `$1`.
pub(crate) const FORGET_KNOWN: &str = "DELETE FROM throttle_known WHERE seen_at < $1";
/// Records a successful sign-in at key `$1` at `$2`.
pub(crate) const REMEMBER_KNOWN: &str = "INSERT INTO throttle_known (key, seen_at) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at";
/// The version counters.
pub(crate) const VERSIONS: &str = "SELECT name, version FROM shared_versions";
/// Bumps version counter `$1` (`forms`, `units`).
pub(crate) const BUMP_VERSION: &str =
    "UPDATE shared_versions SET version = version + 1 WHERE name = $1";

/// The versions from `(name, version)` rows.
pub(crate) fn versions_from(rows: impl IntoIterator<Item = (String, i64)>) -> SharedVersions {
    let mut v = SharedVersions::default();
    for (name, version) in rows {
        match name.as_str() {
            "forms" => v.forms = version,
            "units" => v.units = version,
            _ => {}
        }
    }
    v
}
