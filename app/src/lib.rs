//! Shared between the Forge resource (wasm) and the remote (axum).
//!
//! `api` and `tasks` are the wire types; `functions` the remote's API as server functions,
//! defined once for both ends. The Leptos UI sits behind the `ui` feature, the remote's half
//! of the functions (database, Jira, errors) behind `ssr`.

pub mod api;
/// The typed Forge bridge shim (crates/forge-bridge).
pub mod bridge;
/// The remote's calls, as `#[server]` functions.
pub mod functions;
/// The JSON codec the panel reads and writes with (the bridge's), without serde_json.
pub use forge_bridge::json;
/// Team Tasks' shared types and validation.
pub mod tasks;

#[cfg(feature = "ssr")]
pub mod ssr;

#[cfg(feature = "ui")]
pub mod ui;

#[cfg(feature = "ui")]
pub use ui::{mount, App};
