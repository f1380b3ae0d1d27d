//! HTTP handlers, one module per area of the API.
pub mod audit;
pub mod catalogues;
pub mod forms;
pub mod handover;
pub mod index;
pub mod quarantine;
pub mod reports;
pub mod results;
pub mod review;
pub mod revocation;
pub mod rounds;
pub mod sample;
pub mod session;
pub mod spot_checks;
pub mod sync;
pub mod users;
