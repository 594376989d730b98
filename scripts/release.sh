#!/usr/bin/env bash
# Builds what `forge deploy` ships: the Forge resources, size-optimised, in target/site (`main`:
# issue panel and macro) and target/site-config (`config`: the macro's config view), and the
# release remote in target/release/server. Same as `cargo leptos build --release`, except
# that the wasm's standard library is rebuilt for size (see README "Size"), and that the remote
# is the `server` package itself, not cargo-leptos's bin-package (`forge-devhost`, the local
# loop, which a deploy never ships).
#
#   scripts/release.sh [extra cargo-leptos build options, for the resources]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" # npm's wasm-opt first

# The resource. The precompiled std is built for speed and carries panic messages, formatting
# and unwinding support; rebuilding it with the wasm (`-Zbuild-std`) lets LTO and opt-level z
# reach into it, and `panic=immediate-abort` turns every panic into a bare trap. It took the
# whole resource from 125,678 to 108,112 B gzip (scripts/bundle-size.sh).
# `-Z` flags are unstable: RUSTC_BOOTSTRAP=1 lets this pinned stable toolchain take them, for this
# one build only (the remote below and every debug build use plain stable). Needs the rust-src
# component (scripts/setup.sh adds it).
resource() {
  RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
    cargo leptos build --release --frontend-only \
    --lib-cargo-args=-Zbuild-std=std,panic_abort \
    --lib-cargo-args=-Zbuild-std-features=optimize_for_size "$@"
}
resource "$@"
# The config view: the same crate with `config-view`, so `start()` mounts it instead of the app,
# into its own site root. cargo-leptos empties only the site root it builds, and
# frontend/build.rs writes index.html into LEPTOS_SITE_ROOT, so target/site stays as built.
LEPTOS_SITE_ROOT=target/site-config resource --lib-features config-view "$@"

# The remote, with the ordinary release profile: the server crate alone, which depends on
# nothing that mints tokens (server/tests/release_deps.rs).
cargo build --release -p server --bin server

# What is deployed, in one place: the remote as a tarball (the binary, with its migrations
# compiled in, and the production settings to fill in), next to the resources `forge deploy`
# uploads from target/site and target/site-config (manifest.yml names them).
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
triple="$(rustc -vV | sed -n 's/^host: //p')"
name="team-tasks-remote-$version-$triple"
deploy="target/deploy"
rm -rf "$deploy/$name"
mkdir -p "$deploy/$name"
cp target/release/server "$deploy/$name/server"
cp server/production.env "$deploy/$name/production.env"
tar -C "$deploy" -czf "$deploy/$name.tar.gz" "$name"
rm -rf "${deploy:?}/$name"
(cd "$deploy" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "remote: $deploy/$name.tar.gz ($(du -h "$deploy/$name.tar.gz" | cut -f1)); resources: target/site, target/site-config"
