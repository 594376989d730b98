#!/usr/bin/env bash
# Builds what end2end/tests/bridge-conformance.spec.ts loads, into target/bridge-conformance/
# (never committed):
#   harness/bridge_harness.js + _bg.wasm  the Rust shim's test exports (end2end/bridge-harness)
#   forge-bridge.js                       the real, pinned @forge/bridge bundled for the browser
# Idempotent: cargo and esbuild only redo what changed. Debug wasm is enough for a test.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/target/bridge-conformance"
export PATH="$HOME/.cargo/bin:$PATH"

cd "$root"
cargo build -p bridge-harness --target wasm32-unknown-unknown
wasm-bindgen --target web --no-typescript --out-dir "$out/harness" \
  "$root/target/wasm32-unknown-unknown/debug/bridge_harness.wasm"

"$root/end2end/node_modules/.bin/esbuild" "$root/end2end/bridge/forge-bridge-entry.mjs" \
  --bundle --format=esm --platform=browser --log-level=warning \
  --outfile="$out/forge-bridge.js"

echo "bridge conformance assets in $out"
