//! SIPAS Field local store: the on-device SQLite database.
//!
//! One [`Store`] wraps one SQLite file opened in WAL mode with `synchronous=FULL`, so every
//! answer is on disk once the call that saved it returns. The schema is created and upgraded
//! by numbered, embedded migrations ([`migrations`]). Every write runs in a single transaction
//! that also appends to the append-only audit log, so a crash leaves either the whole change or
//! none of it.
//!
//! * assignments and their (separately kept) contacts — [`Assignment`], [`Contact`];
//! * drafts autosaved after every answer — [`Draft`];
//! * completed responses and the upload queue — [`StoredResponse`], [`OutboxEntry`];
//! * synchronisation outcome — [`SyncLog`]; audit trail — [`AuditEntry`];
//! * administrative units with validity periods — [`UnitRecord`].
#![forbid(unsafe_code)]

mod assignments;
mod audit;
mod codec;
mod drafts;
mod error;
pub mod migrations;
mod outbox;
mod responses;
mod store;
mod sync_log;
mod units;

#[cfg(test)]
mod test_support;

pub use assignments::{Assignment, AssignmentStatus, Contact};
pub use audit::AuditEntry;
pub use drafts::{Draft, NewDraft};
pub use error::{Result, StoreError};
pub use outbox::{OutboxCounts, OutboxEntry, OutboxState};
pub use responses::{InsertOutcome, ResponseStatus, StoredResponse};
pub use store::Store;
pub use sync_log::SyncLog;
pub use units::UnitRecord;
