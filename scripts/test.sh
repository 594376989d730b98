#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit and integration tests (SQLite and
# PostgreSQL), the manifest check, the release build with its bundle-size report, the scale-out
# test (three replicas behind HAProxy), and the Playwright suite (Forge CSP render, local Forge
# host, bridge conformance, release server).
# Installs whatever is missing first. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Each step prints how long the previous one took, so a CI log doubles as a timing report.
step_start=$(date +%s)
step() {
  local now
  now=$(date +%s)
  [ -n "${step_name:-}" ] && printf '\033[1;34m== %s took %d s\033[0m\n' "$step_name" $((now - step_start))
  step_name=$*
  step_start=$now
  printf '\n\033[1;34m== %s\033[0m\n' "$*"
}
start=$(date +%s)
logs=target/test-logs
mkdir -p "$logs"
rm -f "$logs"/*.log

# A fresh clone's run needs several GiB of disk (most of it target/): say so up front rather
# than fail half an hour in with "No space left on device".
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((10 * 1024 * 1024)) ]; then
  printf 'warning: only %d MiB free here; a fresh-clone run needs about 8 GiB\n' $((free_kib / 1024)) >&2
fi

step "setup"
scripts/setup.sh test
# npm's wasm-opt must win over any other on PATH (Debian's binaryen 108 emits broken wasm).
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p frontend --lib --target wasm32-unknown-unknown --features csr --locked -- -D warnings

step "release build: the Forge resources and the remote"
scripts/release.sh
scripts/bundle-size.sh

# The manifest's REMOTE_BASE_URL has no default, so a deploy without it fails. Local tools
# resolve manifest variables as the Forge CLI does (the validator, the CSP oracle, the local
# host, which replaces the remote's URL with its own anyway), so they get a placeholder here.
# end2end/tests/manifest.spec.ts checks that validation fails without it.
export REMOTE_BASE_URL=${REMOTE_BASE_URL:-https://team-tasks-remote.invalid}

step "manifest: @forge/manifest full validation"
node end2end/forge/validate-manifest.mjs

step "Rust tests (SQLite)"
cargo test --workspace --locked 2>&1 | tee "$logs/cargo-sqlite.log"

step "UI unit tests: the app crate with its components (feature ui), natively"
# The workspace run above builds `app` for the remote (`ssr`), where the components are not
# compiled, so their pure logic is tested here on its own (only `ui::`: the rest ran above).
cargo test -p app --lib --features ui --locked -- ui:: 2>&1 | tee "$logs/cargo-ui.log"

step "Rust tests again on PostgreSQL: the API and storage suites"
# A throwaway server on 127.0.0.1, stopped when this script exits.
trap 'scripts/postgres.sh stop' EXIT
TEST_DATABASE_URL=$(scripts/postgres.sh)
export TEST_DATABASE_URL
cargo test -p server --locked --test api --test db 2>&1 | tee "$logs/cargo-postgres.log"

step "scale-out: three release replicas on PostgreSQL behind HAProxy, restarted under load"
POSTGRES_URL=$TEST_DATABASE_URL scripts/replicas.sh 2>&1 | tee "$logs/replicas.log"
unset TEST_DATABASE_URL

step "debug forge-devhost (the local Forge host and the remote) for Playwright"
cargo build -p forge-devhost --locked

step "Playwright (Debian Chromium)"
(cd end2end && npx playwright test) 2>&1 | tee "$logs/playwright.log"

step "summary"

# One closing line for the whole run, summed over every runner.
cargo_passed=$(grep -hoE '^test result: ok\. [0-9]+ passed' "$logs"/cargo-*.log | awk '{s += $4} END {print s + 0}')
pw_passed=$(grep -hoE '^ *[0-9]+ passed' "$logs/playwright.log" | tail -1 | awk '{print $1 + 0}')
echo
replicas_passed=$(grep -c '^== \[replicas\] passed' "$logs/replicas.log")
echo "cargo test: $cargo_passed passed; playwright: $pw_passed passed; replicas: $replicas_passed passed; in $(( $(date +%s) - start )) s"
echo "$((cargo_passed + pw_passed + replicas_passed)) passed, 0 failed"
