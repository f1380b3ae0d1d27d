//! HTTP handlers, one module per area of the API.
pub mod audit;
pub mod handover;
pub mod index;
pub mod reports;
pub mod review;
pub mod revocation;
pub mod rounds;
pub mod session;
pub mod spot_checks;
pub mod sync;
pub mod users;
