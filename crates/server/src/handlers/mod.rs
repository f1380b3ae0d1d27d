//! HTTP handlers, one module per area of the API.
pub mod audit;
pub mod index;
pub mod review;
pub mod rounds;
pub mod session;
pub mod sync;
pub mod users;
