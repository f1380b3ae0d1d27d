//! Storage of self-completion (issue 15, migration `0012_self_completion`): personal one-time
//! links, open links per agency, open-link device tokens and submissions, each response's
//! mode and each round's official modes. Both backends implement [`SelfStore`] in their own
//! `*_self.rs` child module with the SQL text below. The rules (who may create, what a code
//! looks like, the abuse limits) live in [`crate::self_completion`].
use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sipas_core::mode::ResponseMode;
use std::collections::HashMap;
use uuid::Uuid;

/// A personal one-time link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelfLinkRow {
    /// The code in `/s/{code}`.
    pub code: String,
    /// Round.
    pub round_id: String,
    /// The sampled respondent's assignment.
    pub assignment_id: Uuid,
    /// Who made it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The response accepted through it.
    pub response_id: Option<Uuid>,
    /// When it was answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was withdrawn.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An open link of an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenLinkRow {
    /// The token in `/o/{token}`.
    pub token: String,
    /// Round.
    pub round_id: String,
    /// Agency code.
    pub agency_code: String,
    /// Who made it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was withdrawn.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A submission to reserve against the open-link limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSubmission {
    /// Response id (a resend of the same id is not counted again).
    pub response_id: Uuid,
    /// Open link token.
    pub link_token: String,
    /// SHA-256 of the device token.
    pub device_hash: String,
    /// SHA-256 of the client address.
    pub addr_hash: String,
    /// Now.
    pub at: DateTime<Utc>,
    /// Count the device's submissions from this instant.
    pub device_since: DateTime<Utc>,
    /// At most this many per device since `device_since` (this one included).
    pub device_cap: u32,
    /// Count the address's submissions from this instant.
    pub addr_since: DateTime<Utc>,
    /// At most this many per address since `addr_since` (this one included).
    pub addr_cap: u32,
}

/// Result of [`SelfStore::reserve_open_submission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted now.
    Reserved,
    /// This response id was already counted (a resend).
    Again,
    /// The device's cap is reached; nothing counted.
    DeviceLimit,
    /// The address's cap is reached; nothing counted.
    AddressLimit,
}

pub(crate) const SELF_LINK_COLS: &str = "code, round_id, assignment_id, created_by, created_at, \
     response_id, answered_at, revoked_at";
pub(crate) const OPEN_LINK_COLS: &str =
    "token, round_id, agency_code, created_by, created_at, revoked_at";
/// `$1` code, `$2` round, `$3` assignment, `$4` user, `$5` time; an assignment keeps its link.
pub(crate) const INSERT_SELF_LINK: &str = "INSERT INTO self_links \
     (code, round_id, assignment_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (assignment_id) DO NOTHING";
/// `$1` response, `$2` time, `$3` code: only the first answer binds a link.
pub(crate) const ANSWER_SELF_LINK: &str = "UPDATE self_links SET response_id = $1, \
     answered_at = $2 WHERE code = $3 AND response_id IS NULL";
/// `$1` token, `$2` round, `$3` agency, `$4` user, `$5` time.
pub(crate) const INSERT_OPEN_LINK: &str = "INSERT INTO open_links \
     (token, round_id, agency_code, created_by, created_at) VALUES ($1, $2, $3, $4, $5)";
/// `$1` time, `$2` token.
pub(crate) const REVOKE_OPEN_LINK: &str =
    "UPDATE open_links SET revoked_at = $1 WHERE token = $2 AND revoked_at IS NULL";
/// `$1` time, `$2` code.
pub(crate) const REVOKE_SELF_LINK: &str =
    "UPDATE self_links SET revoked_at = $1 WHERE code = $2 AND revoked_at IS NULL";
/// `$1` hash, `$2` link, `$3` time.
pub(crate) const INSERT_OPEN_DEVICE: &str =
    "INSERT INTO open_devices (token_hash, link_token, issued_at) VALUES ($1, $2, $3)";
/// `$1` hash, `$2` link.
pub(crate) const OPEN_DEVICE_EXISTS: &str =
    "SELECT COUNT(*) FROM open_devices WHERE token_hash = $1 AND link_token = $2";
/// `$1` response id.
pub(crate) const OPEN_SUBMISSION_EXISTS: &str =
    "SELECT COUNT(*) FROM open_submissions WHERE response_id = $1";
/// `$1` device hash, `$2` since.
pub(crate) const OPEN_BY_DEVICE: &str =
    "SELECT COUNT(*) FROM open_submissions WHERE device_hash = $1 AND at >= $2";
/// `$1` address hash, `$2` since.
pub(crate) const OPEN_BY_ADDR: &str =
    "SELECT COUNT(*) FROM open_submissions WHERE addr_hash = $1 AND at >= $2";
/// `$1` response, `$2` link, `$3` device hash, `$4` address hash, `$5` time.
pub(crate) const INSERT_OPEN_SUBMISSION: &str = "INSERT INTO open_submissions \
     (response_id, link_token, device_hash, addr_hash, at) VALUES ($1, $2, $3, $4, $5)";
/// `$1` round: id and mode of every stored response of the round.
pub(crate) const RESPONSE_MODES: &str =
    "SELECT DISTINCT id, mode FROM responses WHERE round_id = $1";
/// `$1` round.
pub(crate) const ROUND_OFFICIAL_MODES: &str = "SELECT official_modes FROM rounds WHERE id = $1";
/// `$1` JSON, `$2` round.
pub(crate) const SET_ROUND_OFFICIAL_MODES: &str =
    "UPDATE rounds SET official_modes = $1 WHERE id = $2";

/// What decides a reservation from the counts read in the transaction.
pub(crate) fn decide(s: &OpenSubmission, again: bool, device: u64, addr: u64) -> Reservation {
    if again {
        Reservation::Again
    } else if device >= u64::from(s.device_cap) {
        Reservation::DeviceLimit
    } else if addr >= u64::from(s.addr_cap) {
        Reservation::AddressLimit
    } else {
        Reservation::Reserved
    }
}

/// Self-completion storage (both backends).
#[async_trait]
pub trait SelfStore: Send + Sync {
    /// Creates a link per assignment (`(assignment, new code)`); an assignment that already
    /// has one keeps it. Returns the links of those assignments.
    async fn create_self_links(
        &self,
        round_id: &str,
        links: &[(Uuid, String)],
        created_by: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<SelfLinkRow>, StoreError>;
    /// The links of a round.
    async fn self_links(&self, round_id: &str) -> Result<Vec<SelfLinkRow>, StoreError>;
    /// One link by code.
    async fn self_link(&self, code: &str) -> Result<Option<SelfLinkRow>, StoreError>;
    /// Binds the link to its first accepted response (no change if already bound).
    async fn answer_self_link(
        &self,
        code: &str,
        response_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Withdraws a personal link; false if unknown or already withdrawn.
    async fn revoke_self_link(&self, code: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Stores a new open link.
    async fn create_open_link(&self, row: &OpenLinkRow) -> Result<(), StoreError>;
    /// The open links of a round.
    async fn open_links(&self, round_id: &str) -> Result<Vec<OpenLinkRow>, StoreError>;
    /// One open link by token.
    async fn open_link(&self, token: &str) -> Result<Option<OpenLinkRow>, StoreError>;
    /// Withdraws an open link; false if unknown or already withdrawn.
    async fn revoke_open_link(&self, token: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Records a device token (hash) issued on an open link.
    async fn issue_open_device(
        &self,
        token_hash: &str,
        link_token: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Whether a device token (hash) was issued on this open link.
    async fn open_device_known(
        &self,
        token_hash: &str,
        link_token: &str,
    ) -> Result<bool, StoreError>;
    /// Counts a submission against the device and address caps in one transaction
    /// (race-free: SQLite's writer lock, a PostgreSQL advisory lock).
    async fn reserve_open_submission(&self, s: &OpenSubmission) -> Result<Reservation, StoreError>;
    /// Gives a reservation back (the response was refused).
    async fn release_open_submission(&self, response_id: Uuid) -> Result<(), StoreError>;
    /// Mode of every stored response of a round.
    async fn response_modes(
        &self,
        round_id: &str,
    ) -> Result<HashMap<Uuid, ResponseMode>, StoreError>;
    /// The round's official modes (JSON text), `None` for an unknown round.
    async fn round_official_modes(&self, round_id: &str) -> Result<Option<String>, StoreError>;
    /// Sets them; false for an unknown round.
    async fn set_round_official_modes(
        &self,
        round_id: &str,
        json: &str,
    ) -> Result<bool, StoreError>;
}
