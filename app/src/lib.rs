//! Shared between the Forge resource (wasm) and the remote (axum).
//!
//! `api` is always compiled: it is the one definition of the remote's JSON contract.
//! The Leptos UI sits behind the `ui` feature so the server never compiles Leptos.

pub mod api;

#[cfg(feature = "ui")]
pub mod ui;

#[cfg(feature = "ui")]
pub use ui::App;
