#!/usr/bin/env bash
# Load test of GET /whoami with valid Forge Invocation Tokens, on loopback only.
#
#   scripts/load-whoami.sh                 # 10 s max throughput (wrk), then 1,000 req/s for 10 s
#   RATE=2000 SECONDS_PER_RUN=5 scripts/load-whoami.sh
#
# Starts the release-built server against a local JWKS host (examples/load_whoami.rs) that
# mints a long-lived token with a fresh test key, measures, and stops everything it started.
# Bounded: each step has a timeout, and the JWKS host exits by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE="${RATE:-1000}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
APP_ID="ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*"; }

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null
fi

log "building (release): the server binary, then the load helper"
# Two invocations on purpose: the helper is an example, and examples turn on the `mint`
# feature through the dev-dependency on the server crate. Built alone, the server binary has no
# minting code, exactly as in production.
cargo build --release -p server --bin server
cargo build --release -p server --example load_whoami
SERVER="$TARGET_DIR/release/server"
HELPER="$TARGET_DIR/release/examples/load_whoami"
if nm -C "$SERVER" 2>/dev/null | grep -q 'fit::mint'; then
  echo "error: the release server binary contains fit::mint" >&2
  exit 1
fi

log "starting the JWKS host and the server"
"$HELPER" jwks "$WORK/token" "$WORK/jwks-url" "$APP_ID" $((SECONDS_PER_RUN * 2 + 120)) &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/jwks-url" ]] && break; sleep 0.1; done
PORT="$("$HELPER" free-port)"
FORGE_APP_ID="$APP_ID" FORGE_JWKS_URL="$(cat "$WORK/jwks-url")" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$SERVER" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
URL="http://127.0.0.1:$PORT/whoami"
TOKEN="$(cat "$WORK/token")"
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  sleep 0.1
done
status="$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $TOKEN" "$URL")"
[[ "$status" == 200 ]] || { echo "error: /whoami answered $status" >&2; cat "$WORK/server.log" >&2; exit 1; }

log "max throughput: wrk, 1 thread, $CONNECTIONS connections, ${SECONDS_PER_RUN}s ($(nproc) cores shared with the server)"
timeout $((SECONDS_PER_RUN + 30)) wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
  -H "authorization: Bearer $TOKEN" "$URL"

log "fixed rate: $RATE req/s for ${SECONDS_PER_RUN}s"
timeout $((SECONDS_PER_RUN + 30)) "$HELPER" rate "$URL" "$WORK/token" "$RATE" "$SECONDS_PER_RUN"

if grep -qiE 'error|panic' "$WORK/server.log"; then
  log "server log"
  cat "$WORK/server.log"
fi
