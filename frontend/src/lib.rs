//! Entry point of the Forge resources.
//!
//! Forge serves `index.html` from its CDN and never renders on a server, so these bundles are
//! client-side rendered and mount straight into `<body>`. One crate builds both resources: the
//! main one (issue panel and macro, `target/site`) and, with the feature `config-view`, the
//! macro's config view (`target/site-config`). Each wasm links only the view it mounts.

#[cfg(feature = "csr")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // Readable panics while developing; the size-optimised release build leaves the hook out.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    #[cfg(not(feature = "config-view"))]
    app::mount();
    #[cfg(feature = "config-view")]
    app::ui::config::mount_config();
}
