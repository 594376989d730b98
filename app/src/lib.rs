//! Shared between the Forge resource (wasm) and the remote (axum).
//!
//! `api` is always compiled: it is the one definition of the remote's JSON contract.
//! The Leptos UI sits behind the `ui` feature so the server never compiles Leptos.

pub mod api;
/// The typed Forge bridge shim and the remote's typed client.
pub mod bridge;
/// The JSON the panel reads and writes, without serde_json in the bundle.
pub mod json;
/// The remote's operations, shared by the server's router and the client.
pub mod routes;
/// Team Tasks' shared types and validation.
pub mod tasks;

#[cfg(feature = "ui")]
pub mod ui;

#[cfg(feature = "ui")]
pub use ui::{mount, App};
