//! SIPAS Field local store: the on-device SQLite database.
//!
//! One [`Store`] wraps one SQLite file opened in WAL mode with `synchronous=FULL`, so every
//! answer is on disk once the call that saved it returns. The schema is created and upgraded
//! by numbered, embedded migrations ([`migrations`]). Every write runs in a single transaction
//! that also appends to the append-only audit log, so a crash leaves either the whole change or
//! none of it.
//!
//! * assignments and their (separately kept) contacts — [`Assignment`], [`Contact`]; contacts
//!   are deleted once the spot-check window has passed ([`Store::purge_contacts`]);
//! * drafts autosaved after every answer — [`Draft`]; a practice draft ([`DraftKind`]) is
//!   never completed into a response, so never queued or synced;
//! * rounds that take interviews outside the sample, as the last pull gave them
//!   ([`Store::replace_field_rounds`]);
//! * completed responses and the upload queue — [`StoredResponse`], [`OutboxEntry`];
//! * field outcomes waiting to be sent to the server — [`StatusChange`];
//! * synchronisation outcome — [`SyncLog`]; audit trail — [`AuditEntry`];
//! * administrative units with validity periods — [`UnitRecord`].
//!
//! On the surveyor's device the file is encrypted at rest with SQLCipher under a key derived
//! from the surveyor's PIN ([`Store::open_encrypted`], [`encryption`]); [`Store::open`] opens
//! plain files (server-side tools and tests).
#![forbid(unsafe_code)]

mod assignments;
mod audit;
mod codec;
mod drafts;
pub mod encryption;
mod error;
mod field_rounds;
mod forms;
pub mod migrations;
mod monitor;
mod outbox;
pub mod recovery;
mod responses;
mod retention;
mod status_outbox;
mod store;
mod sync_log;
mod units;

#[cfg(test)]
mod test_support;

pub use assignments::{Assignment, AssignmentNames, AssignmentStatus, Contact};
pub use audit::AuditEntry;
pub use drafts::{Draft, DraftKind, NewDraft};
pub use error::{Result, StoreError};
pub use forms::{CATALOGUE_KINDS, CatalogueOption, OptionLabel, StoredForm, form_content_hash};
pub use monitor::{LocalMonitorTask, MonitorFinding, MonitorOutboxCounts};
pub use outbox::{OutboxCounts, OutboxEntry, OutboxState, OutboxUpdate};
pub use responses::{InsertOutcome, ResponseStatus, StoredResponse};
pub use retention::{CONTACT_RETENTION_DAYS, default_contact_retention};
pub use status_outbox::{StatusChange, StatusOutboxCounts};
pub use store::{DatabaseKey, Store};
pub use sync_log::SyncLog;
pub use units::UnitRecord;
