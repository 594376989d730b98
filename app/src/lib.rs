//! Shared between the Forge resource (wasm) and the remote (axum).
//!
//! `api` is always compiled: it is the one definition of the remote's JSON contract.
//! The Leptos UI sits behind the `ui` feature so the server never compiles Leptos.

pub mod api;
/// The typed Forge bridge shim (crates/forge-bridge) and the remote's typed client.
pub mod bridge;
/// The JSON codec the panel reads and writes with (the bridge's), without serde_json.
pub use forge_bridge::json;
/// The remote's operations, shared by the server's router and the client.
pub mod routes;
/// Team Tasks' shared types and validation.
pub mod tasks;

#[cfg(feature = "ui")]
pub mod ui;

#[cfg(feature = "ui")]
pub use ui::{mount, App};
