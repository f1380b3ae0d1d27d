//! SIPAS Field sync protocol, shared by the surveyor app (client) and `sipas-server`.
//!
//! * [`roles`]: who may do what;
//! * [`wire`]: JSON request/response bodies of the HTTP API (`/api/v1/...`);
//! * [`problem`]: numbered API problems (ODK Central style), e.g. `403.1`;
//! * [`plan`]: the pure sync planner: outbox state → batches → acknowledgement → outbox operations;
//! * [`handover`]: signed batch files for offline hand-over (`sipas-batch/2`).
#![forbid(unsafe_code)]

pub mod enrol;
pub mod handover;
pub mod plan;
pub mod problem;
pub mod roles;
pub mod wire;

/// API path prefix of this protocol version.
pub const API_PREFIX: &str = "/api/v1";
/// Largest number of records in one upload batch.
pub const MAX_BATCH_RECORDS: usize = 500;
/// Largest upload body, after gzip decoding, in bytes.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
