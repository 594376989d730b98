//! Entry point of the Forge resource.
//!
//! Forge serves `index.html` from its CDN and never renders on a server, so this bundle is
//! client-side rendered and mounts straight into `<body>`.

#[cfg(feature = "csr")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // Readable panics while developing; the size-optimised release build leaves the hook out.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    app::mount();
}
