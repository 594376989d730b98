//! The app's side of the Forge bridge: the generic shim, re-exported whole from
//! [`forge_bridge`] (crates/forge-bridge).

pub use forge_bridge::*;
