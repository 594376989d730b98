#!/usr/bin/env bash
# Builds what `forge deploy` ships: the Forge resource in target/site (size-optimised wasm) and
# the release remote in target/release/server. Same as `cargo leptos build --release`, except
# that the wasm's standard library is rebuilt for size; see README "Size".
#
#   scripts/release.sh [extra cargo-leptos build options]
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
RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  cargo leptos build --release --frontend-only \
  --lib-cargo-args=-Zbuild-std=std,panic_abort \
  --lib-cargo-args=-Zbuild-std-features=optimize_for_size "$@"

# The remote, with the ordinary release profile.
cargo leptos build --release --server-only "$@"
