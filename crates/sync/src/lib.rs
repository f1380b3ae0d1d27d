//! SIPAS Field device sync: moves completed answers from the device's local store to the
//! central server and brings assignments and review decisions back.
//!
//! * [`client`]: [`ApiClient`], the HTTP client of the `/api/v1` API (gzip uploads,
//!   per-request timeout, numbered problems mapped to [`SyncError::Server`]);
//! * [`engine`]: [`Syncer`], which drains the outbox of a [`sipas_store::Store`] batch by
//!   batch and marks a record synced only on the server's explicit acknowledgement;
//! * [`pull`]: applying a [`sipas_protocol::wire::PullResponse`] to the store and keeping
//!   the pull cursor;
//! * [`forms`]: downloading the questionnaires the assignments need (content hash checked)
//!   and the rounds' catalogue options (issue 12);
//! * [`SyncStatus`]: counts and last outcome for the app's sync screen;
//! * [`handover`]: offline hand-over: the device's signing identity, signed export files of
//!   the unsent answers (read-only on the outbox) and applying the server's import result.
//!
//! Guarantees: uploads are at-least-once and the server deduplicates by id, revision and
//! content hash, so a lost reply, a crash or a cut connection at any point never loses or
//! duplicates an answer: the next sync resends what was not acknowledged. Nothing here logs
//! answers, contact data or tokens.
#![forbid(unsafe_code)]

pub mod client;
pub mod engine;
mod error;
pub mod forms;
pub mod handover;
pub mod monitor;
pub mod pull;
mod status;

pub use client::ApiClient;
pub use engine::{PushReport, SyncConfig, SyncReport, Syncer};
pub use error::SyncError;
pub use forms::{FormsReport, fetch_forms};
pub use handover::{
    DeviceIdentity, HandoverApplyReport, HandoverExport, HandoverFileError, HandoverReply,
    IdentityEnrolment, apply_handover_acks, apply_handover_reply, enrol_with_identity,
    export_handover, export_handover_files, recover_handover_files, write_handover_file,
};
pub use monitor::{MonitorPushReport, pull_monitor_tasks, push_monitor_findings, sync_monitor};
pub use pull::{PullReport, apply_pull, field_rounds};
pub use status::{SyncStatus, sync_status};
