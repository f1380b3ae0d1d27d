//! SIPAS Field central server (library part; the binary is `sipas-server`).
//!
//! * [`app`]: shared state and the `/api/v1` router;
//! * [`auth`], [`problem`], [`extract`]: tokens and roles, problem answers, request reading;
//! * [`handlers`]: one module per API area;
//! * [`sample_frame`], [`validation`], [`index_export`], [`report_export`]: sample import,
//!   upload checks, index CSV, report workbook;
//! * [`storage`]: the [`storage::ServerStore`] trait and its SQLite / PostgreSQL backends;
//! * [`tls`]: HTTPS with rustls (`--tls-cert`, `--tls-key`); [`hygiene`]: problem bodies,
//!   `no-store` and HSTS on every answer;
//! * [`shared_state`]: several processes on one database (issue 14).
#![forbid(unsafe_code)]

pub mod answer_counts;
pub mod app;
pub mod auth;
pub mod catalogue;
pub mod clock;
pub mod dashboard;
pub mod demo;
pub mod extract;
pub mod forms;
pub mod handlers;
pub mod hygiene;
pub mod index_export;
pub mod ingest;
pub mod last_sync;
pub mod microdata_stream;
pub mod ops;
pub mod problem;
pub mod public_page;
pub mod ratelimit;
pub mod recovery;
pub mod report_export;
pub mod results;
pub mod results_export;
pub mod results_modes;
pub mod review_queue;
pub mod sample_frame;
pub mod scope;
pub mod self_completion;
pub mod shared_state;
pub mod storage;
pub mod table_file;
pub mod tls;
pub mod validation;

pub use app::{AppState, router};
