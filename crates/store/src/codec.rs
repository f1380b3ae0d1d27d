//! How Rust values are written to and read back from SQLite text columns.
//!
//! Timestamps: RFC 3339 UTC with exactly nine fractional digits, so they sort correctly as
//! text and round-trip without loss (a response's content hash covers its timestamps).
//! Ids: lowercase hyphenated UUIDs. JSON: compact serde_json text.
use crate::error::{Result, StoreError};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The current time (the store's only clock).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Timestamp as stored text.
pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses a stored timestamp; `what` names it in the error.
pub(crate) fn parse_ts(s: &str, what: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(what, format!("{e}: {s:?}")))
}

/// Parses an optional stored timestamp.
pub(crate) fn parse_opt_ts(s: Option<&str>, what: &str) -> Result<Option<DateTime<Utc>>> {
    s.map(|s| parse_ts(s, what)).transpose()
}

/// Parses a stored UUID.
pub(crate) fn parse_uuid(s: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::corrupt(what, format!("{e}: {s:?}")))
}

/// Parses a stored calendar date `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str, what: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::corrupt(what, format!("{e}: {s:?}")))
}

/// Serialises a value to stored JSON text.
pub(crate) fn to_json<T: Serialize + ?Sized>(v: &T, what: &str) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt(what, e))
}

/// Parses stored JSON text.
pub(crate) fn from_json<T: DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt(what, e))
}

/// A revision number read from SQLite.
pub(crate) fn revision(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|e| StoreError::corrupt(what, format!("{e}: {v}")))
}
