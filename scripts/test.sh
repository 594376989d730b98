#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit and integration tests (SQLite and
# PostgreSQL), the manifest check, the release build with its bundle-size report, and the
# Playwright suite (Forge CSP render, local Forge host, bridge conformance, release server).
# Installs whatever is missing first. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }
start=$(date +%s)

step "setup"
scripts/setup.sh test
# npm's wasm-opt must win over any other on PATH (Debian's binaryen 108 emits broken wasm).
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p frontend --lib --target wasm32-unknown-unknown --features csr --locked -- -D warnings

step "manifest: @forge/manifest full validation"
node end2end/forge/validate-manifest.mjs

step "release build: the Forge resource and the remote"
cargo leptos build --release
scripts/bundle-size.sh

step "Rust tests"
cargo test --workspace --locked

step "debug server for the local Forge host"
cargo build -p server --locked

step "Playwright (Debian Chromium)"
(cd end2end && npx playwright test)

echo
echo "all tests passed in $(( $(date +%s) - start )) s"
