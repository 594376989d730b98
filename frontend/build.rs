//! Writes the resource's `index.html` into cargo-leptos's site root.
//!
//! cargo-leptos only writes an `index.html` for SSR sites (and refuses one in `assets-dir`),
//! but Forge needs one at the root of the resource directory. Every wasm build of this crate
//! — `cargo leptos watch` and `cargo leptos build --release` alike — therefore renders
//! `index.html` from the template next to this file.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=index.html");
    println!("cargo:rerun-if-env-changed=LEPTOS_SITE_ROOT");
    println!("cargo:rerun-if-env-changed=LEPTOS_OUTPUT_NAME");

    // Native builds (`cargo test`, clippy) are not the resource.
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("wasm32") {
        return;
    }

    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir
        .parent()
        .expect("frontend/ sits in the workspace");
    let site_root = env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let name = env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "team-tasks".into());

    let template = fs::read_to_string(manifest_dir.join("index.html")).expect("read index.html");
    let html = template.replace("{{name}}", &name);

    let out_dir = workspace.join(site_root);
    let out = out_dir.join("index.html");
    // cargo-leptos empties the site root before each build; a missing index.html makes cargo
    // run this script again, so the resource is never left without one.
    println!("cargo:rerun-if-changed={}", out.display());
    // Rewrite only on change, so file watchers and caches see no churn.
    if fs::read_to_string(&out).ok().as_deref() != Some(html.as_str()) {
        fs::create_dir_all(&out_dir).expect("create site root");
        fs::write(&out, html).expect("write index.html");
    }
}
