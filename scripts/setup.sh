#!/usr/bin/env bash
# Installs whatever this machine lacks to build, run and test the app. Idempotent: every step
# checks first, so a second run takes seconds.
#
#   scripts/setup.sh        tools to build and run (`cargo leptos watch`)
#   scripts/setup.sh test   plus Chromium and PostgreSQL for the test suite
#
# Nothing here downloads a prebuilt binary at run time (this machine reaches package registries
# only): cargo tools are built from source, wasm-opt comes from npm, Chromium and PostgreSQL
# from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions that build on the installed rustc (1.95); see README "Toolchain".
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130 # must equal wasm-bindgen in Cargo.lock

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

need_apt=()
apt_want() { dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1"); }

if [ "${1:-}" = test ]; then
  apt_want chromium
  apt_want postgresql
  # The replicas test (scripts/replicas.sh): the load balancer in front of three remotes.
  apt_want haproxy
fi

# The slow steps (apt, and building two cargo tools from source) run side by side; each writes
# its own log, and the script waits for all of them and fails if any failed.
logs=$(mktemp -d)
pids=()
names=()
background() {
  local name=$1
  shift
  log "$name (log: $logs/$name.log)"
  ("$@") >"$logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
}
if [ ${#need_apt[@]} -gt 0 ]; then
  background "apt-get install ${need_apt[*]}" apt_install
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The release wasm rebuilds the standard library for size (scripts/release.sh).
if ! rustup component list --installed | grep -q '^rust-src'; then
  log "rustup component add rust-src"
  rustup component add rust-src
fi

# Both tools' own release profiles ask for fat LTO with one codegen unit, which makes their final
# link take most of the build on 2 cores. Neither is on a hot path, so they are built with
# thin-local LTO, many codegen units, no debug info and a lower opt-level (the first argument):
# cargo-leptos only spawns rustc, wasm-bindgen and wasm-opt, so it gets 0; wasm-bindgen-cli
# rewrites every wasm we build, so it keeps 1, which is still seconds on our bundle.
fast_install() {
  local opt_level=$1
  shift
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt_level \
    CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=true \
    cargo install --quiet "$@"
}

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  # No --locked: its lockfile pins a webpki-roots release the registry here does not have.
  background "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION" \
    fast_install 1 wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  # no_downloads: a missing tool is an immediate, clear error instead of a failed download.
  background "cargo install cargo-leptos $CARGO_LEPTOS_VERSION" \
    fast_install 0 cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
fi

# wasm-opt (npm binaryen) for release builds, and the test harness's packages.
npm_ci() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci .
npm_ci end2end

failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    log "done: ${names[$i]}"
  else
    log "FAILED: ${names[$i]}; its log follows"
    cat "$logs/${names[$i]}.log" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
rm -rf "$logs"

log "ready"
