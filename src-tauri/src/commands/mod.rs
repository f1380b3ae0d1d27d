//! The Tauri commands, one module per area. Each command only calls `sipas-core` /
//! `sipas-store`; the `*_in` functions hold the (testable) body over an [`crate::state::AppState`].
pub mod assignments;
pub mod drafts;
pub mod folder;
pub mod forms;
pub mod monitor;
pub mod responses;
pub mod sync;
pub mod unlock;
