#!/usr/bin/env bash
# Bounded load benchmark of the release server with valid Forge Invocation Tokens, on loopback
# only.
#
#   scripts/load.sh tasks     # GET /tasks?team=… with macro FITs, on SQLite, then PostgreSQL
#   scripts/load.sh whoami    # GET /whoami with issue-panel FITs: FIT verification, no database
#   scripts/load.sh healthz   # GET /healthz: no FIT, no database; the HTTP floor
#   scripts/load.sh lifecycle # POST /forge/lifecycle (avi:forge:installed:app, as Forge retries
#                             # it: every delivery after the first changes nothing)
#   scripts/load.sh outbox    # POST /tasks on $ISSUES issues at $RATE/s, Jira failing
#                             # $JIRA_FAIL_PERCENT % of property writes: the outbox's delay from
#                             # each change to Jira's tasks-progress, p50/p99, and the final state
#
# For each database: start the release server (RUST_LOG=warn) on a free port with a fresh
# database and a local JWKS host (server/examples/load.rs) that mints long-lived tokens with a
# fresh test key; seed the team's list with $TASKS tasks through the API (tasks only); then
#   1. max throughput: wrk, 1 thread, at each of $CONNECTIONS, for $SECONDS_PER_RUN s each;
#   2. fixed rate: $RATE req/s for $SECONDS_PER_RUN s, open loop, latency measured from when
#      each request was due (coordinated-omission safe).
# Then once more on the first database with the default RUST_LOG=info, to show what per-request
# logging costs. Prints a markdown table, also written to target/load/<target>.md.
#
# Settings (environment): POSTGRES_URL (a server to create the benchmark's databases on; default:
# the one scripts/postgres.sh starts), DATABASES ("sqlite postgres" for tasks, "sqlite" otherwise),
# CONNECTIONS ("16 64 256"), SECONDS_PER_RUN (10), RATE (1000), TASKS (20), TEAM (Platform),
# BUILD (1; 0 reuses the binaries already built), SERVER_BIN (another server binary, to compare
# two builds), WRK_THREADS (1), LOG_COST (1; 0 skips the RUST_LOG=info run), SERVER_ENV (extra
# "NAME=value …" for the server, e.g. to compare a setting), QUIET_BELOW (25) and QUIET_WAIT
# (120): before each run, wait up to QUIET_WAIT s for the machine to be less than QUIET_BELOW %
# busy (it may be shared); the table shows that reading and the share of all cores that
# anything but the server, the load generator and PostgreSQL took during the run. PROFILE=1
# samples the server with `perf record` (cpu-clock) during the first wrk run of each database
# and writes the hottest symbols to target/load/<target>-<database>.perf.txt.
#
# Bounded: every step has a timeout, the JWKS host exits by itself, and everything started
# here (the server, the JWKS host, the PostgreSQL database) is stopped or dropped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${1:-tasks}"
case "$TARGET" in
  tasks) DEFAULT_DATABASES="sqlite postgres" ;;
  whoami | healthz) DEFAULT_DATABASES="sqlite" ;;
  outbox | lifecycle) DEFAULT_DATABASES="sqlite postgres" ;;
  *) echo "usage: $0 [tasks|whoami|healthz|lifecycle|outbox]" >&2; exit 2 ;;
esac
DATABASES="${DATABASES:-$DEFAULT_DATABASES}"
CONNECTIONS="${CONNECTIONS:-16 64 256}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
RATE="${RATE:-$([[ "$TARGET" == outbox ]] && echo 50 || echo 1000)}"
ISSUES="${ISSUES:-20}"
JIRA_FAIL_PERCENT="${JIRA_FAIL_PERCENT:-20}"
TASKS="${TASKS:-20}"
TEAM="${TEAM:-Platform}"
WRK_THREADS="${WRK_THREADS:-1}"
LOG_COST="${LOG_COST:-1}"
SERVER_ENV="${SERVER_ENV:-}"
QUIET_BELOW="${QUIET_BELOW:-25}"
QUIET_WAIT="${QUIET_WAIT:-120}"
PROFILE="${PROFILE:-0}"
APP_ID="ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4"
# A fresh key per run: the load test keeps no tokens beyond it.
TOKEN_KEY="$(head -c 32 /dev/urandom | base64)"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
WORK="$(mktemp -d)"
PIDS=()
SERVER_PID=""
PG_BASE=""
PG_DBS=()
CLK_TCK="$(getconf CLK_TCK)"

cleanup() {
  [[ -n "$SERVER_PID" ]] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${PG_DBS[@]}"; do
    timeout 30 psql -q "$PG_BASE" -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*"; }

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null
fi

if [[ "$PROFILE" == 1 ]] && ! command -v perf >/dev/null; then
  log "installing perf"
  apt-get install -y linux-perf >/dev/null
fi

log "building (release): the server binary, then the load helper"
# Two invocations on purpose: the helper is an example, and examples turn on forge-fit's `mint`
# feature through the server's dev-dependency. Built alone, the server binary has no minting
# code, exactly as in production.
if [[ "${BUILD:-1}" == 1 ]]; then
  cargo build --release -p server --bin server
  cargo build --release -p server --example load
fi
SERVER="${SERVER_BIN:-$TARGET_DIR/release/server}"
HELPER="$TARGET_DIR/release/examples/load"
if nm -C "$SERVER" 2>/dev/null | grep -q 'fit::mint'; then
  echo "error: the release server binary contains forge_fit::mint" >&2
  exit 1
fi

# How long the JWKS host (and the tokens) must last: every run, plus slack for start-ups.
n_conn=$(wc -w <<<"$CONNECTIONS")
n_db=$(wc -w <<<"$DATABASES")
BUDGET=$(( (n_db + 1) * (n_conn + 2) * (SECONDS_PER_RUN + 5 + QUIET_WAIT) + 300 ))

log "starting the JWKS host (tokens for team \"$TEAM\")"
JIRA_ARGS=()
[[ "$TARGET" == outbox ]] && JIRA_ARGS=("$ISSUES" "$JIRA_FAIL_PERCENT")
"$HELPER" jwks "$WORK" "$APP_ID" "$TEAM" "$BUDGET" "${JIRA_ARGS[@]}" &
PIDS+=($!)
for _ in $(seq 300); do [[ -s "$WORK/jwks-url" ]] && break; sleep 0.1; done
[[ -s "$WORK/jwks-url" ]] || { echo "error: the JWKS host did not start" >&2; exit 1; }
JWKS_URL="$(cat "$WORK/jwks-url")"

case "$TARGET" in
  tasks) TOKEN_FILE="$WORK/macro.jwt"; PATH_AND_QUERY="/tasks?team=$TEAM" ;;
  whoami) TOKEN_FILE="$WORK/issue-panel.jwt"; PATH_AND_QUERY="/whoami" ;;
  healthz) TOKEN_FILE="$WORK/issue-panel.jwt"; PATH_AND_QUERY="/healthz" ;;
  outbox) TOKEN_FILE="$WORK/issue-panel.jwt"; PATH_AND_QUERY="/tasks" ;;
  lifecycle)
    TOKEN_FILE="$WORK/trigger.jwt"; PATH_AND_QUERY="/forge/lifecycle"
    # wrk POSTs the installed event's documented body with this script.
    WRK_SCRIPT="$WORK/lifecycle.lua"
    cat >"$WRK_SCRIPT" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-forge-oauth-system"] = "load-test-system-token"
wrk.body = '{"eventType":"avi:forge:installed:app","id":"4f0a8e4e-0000-4000-8000-000000000001","app":{"version":"1.0.0"}}'
LUA
    ;;
esac
WRK_SCRIPT="${WRK_SCRIPT:-}"
# Every target sends one user's token (or, for lifecycle, one installation's): the per-user
# limit (20/s) would answer almost every request 429, and the run would measure refusals. It
# is lifted here, first, so SERVER_ENV can still set it.
SERVER_ENV="RATE_LIMIT_PER_SECOND=1000000 RATE_LIMIT_BURST=1000000 $SERVER_ENV"
FIRST_DELIVERY=""
TOKEN="$(cat "$TOKEN_FILE")"

# Sets DB_URL to a fresh database for one server run (not in a subshell: cleanup needs
# PG_DBS).
new_database() {
  case "$1" in
    sqlite) DB_URL="sqlite://$WORK/db-$RANDOM$RANDOM/tasks.db" ;;
    postgres)
      if [[ -z "$PG_BASE" ]]; then
        PG_BASE="${POSTGRES_URL:-$(scripts/postgres.sh)}"
      fi
      local name="tt_load_$$_$RANDOM"
      timeout 30 psql -q "$PG_BASE" -c "CREATE DATABASE \"$name\"" >/dev/null
      PG_DBS+=("$name")
      DB_URL="${PG_BASE%/*}/$name"
      ;;
    *) echo "error: unknown database $1 (sqlite or postgres)" >&2; exit 2 ;;
  esac
}

# start_server <database-url> <RUST_LOG value, or "info (default)" for the binary's own>
start_server() {
  local port
  port="$("$HELPER" free-port)"
  BASE="http://127.0.0.1:$port"
  SERVER_LOG="$WORK/server-$port.log"
  local log_env=(RUST_LOG="$2")
  [[ "$2" == "info (default)" ]] && log_env=(-u RUST_LOG)
  # shellcheck disable=SC2086 # SERVER_ENV is a list of NAME=value words
  env "${log_env[@]}" FORGE_APP_ID="$APP_ID" FORGE_JWKS_URL="$JWKS_URL" \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" DATABASE_URL="$1" TOKEN_ENCRYPTION_KEY="$TOKEN_KEY" $SERVER_ENV \
    "$SERVER" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: the server did not start" >&2
  cat "$SERVER_LOG" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  # ERROR lines and panics only (a warning's `error=` field is not one), at most 20: `head`
  # would end grep with SIGPIPE, which pipefail turns into this script's exit.
  if grep -qE 'ERROR|panicked' "$SERVER_LOG"; then
    log "server log (errors)"
    grep -m 20 -E 'ERROR|panicked' "$SERVER_LOG"
  fi
}

# CPU time the server has used, in clock ticks.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

# Sets SNAP to "busy server generators postgres switches": CPU used so far, in clock ticks, by
# the whole machine, the server, this script's finished children (the load generators) and
# PostgreSQL; and the server's context switches (all threads).
# Not to be called in a subshell: `times` there would not see this shell's children.
cpu_snapshot() {
  local pg=0 p children
  times >"$WORK/times"
  children="$(tail -1 "$WORK/times" | awk '{
    total = 0
    for (i = 1; i <= 2; i++) { split($i, m, "m"); total += m[1] * 60 + substr(m[2], 1, length(m[2]) - 1) }
    print total }')"
  for p in $(pgrep -u postgres 2>/dev/null); do
    pg=$((pg + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  local switches
  switches="$(cat /proc/"$SERVER_PID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }')"
  SNAP="$(awk -v c="$children" -v pg="$pg" -v hz="$CLK_TCK" -v s="$(server_ticks)" -v cs="$switches" '
    NR == 1 { busy = 0; for (i = 2; i <= 11; i++) if (i != 5 && i != 6) busy += $i
              printf "%d %d %d %d %d", busy, s, c * hz, pg, cs }' /proc/stat)"
}

# others_busy <snapshot before> <snapshot after> <seconds>: percent of all cores used by
# anything but the server, the load generator and PostgreSQL during a run.
others_busy() {
  awk -v a="$1" -v b="$2" -v secs="$3" -v hz="$CLK_TCK" -v cores="$(nproc)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    others = (y[1] - x[1]) - (y[2] - x[2]) - (y[3] - x[3]) - (y[4] - x[4])
    if (others < 0) others = 0
    printf "%.0f", 100 * others / (secs * hz * cores) }'
}

# cpu_per_request <snapshot before> <snapshot after> <requests>: CPU per request, in µs, of the
# server / the load generator / PostgreSQL ("-" when it did not run).
cpu_per_request() {
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" -v pg="$4" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    if (n <= 0) { print "-"; exit }
    us = 1e6 / hz / n
    printf "%.0f / %.0f / ", (y[2] - x[2]) * us, (y[3] - x[3]) * us
    if (pg == "postgres") printf "%.0f", (y[4] - x[4]) * us; else printf "-"
  }'
}

# switches_per_request <snapshot before> <snapshot after> <requests>: the server's context
# switches per request (thread wake-ups: tokio workers, sqlx's SQLite worker threads).
switches_per_request() {
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    if (n > 0) printf "%.1f", (y[5] - x[5]) / n; else print "-" }'
}

# The machine is shared: say how busy it is just before a run (percent of all cores over 1 s),
# so a figure taken while something else was compiling can be recognised as such.
machine_busy() {
  local a b
  a="$(head -1 /proc/stat)"; sleep 1; b="$(head -1 /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x); split(b, y); total = 0; idle = 0
    for (i = 2; i <= 11; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    busy = 0
    if (total > 0) busy = 100 * (total - idle) / total
    printf "%.0f", busy
  }'
}

# Waits (up to $QUIET_WAIT s) until the machine is less than $QUIET_BELOW % busy, and sets
# BUSY_BEFORE to the last reading, which goes into the table.
wait_quiet() {
  local waited=0
  while BUSY_BEFORE="$(machine_busy)"; ((BUSY_BEFORE >= QUIET_BELOW && waited < QUIET_WAIT)); do
    ((waited == 0)) && echo "machine ${BUSY_BEFORE}% busy: waiting up to ${QUIET_WAIT}s for it to settle"
    sleep 4
    waited=$((waited + 5))
  done
  echo "machine busy before the run: ${BUSY_BEFORE}% of $(nproc) cores"
}

SUMMARY="$WORK/summary.md"
row() { printf '| %s |\n' "$(IFS='|'; echo "$*" | sed 's/|/ | /g')" >>"$SUMMARY"; }

# wrk_run <backend> <log> <connections> <url>
wrk_run() {
  local out="$WORK/wrk.txt" snap_before snap_after perf_pid=""
  if [[ "$PROFILE" == 1 && -z "${PROFILED:-}" ]]; then
    PROFILED=1
    PERF_DATA="$TARGET_DIR/load/$TARGET-$1.perf.data"
    mkdir -p "$TARGET_DIR/load"
    perf record -q -F 999 -e cpu-clock -g -p "$SERVER_PID" -o "$PERF_DATA" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  cpu_snapshot
  snap_before="$SNAP"
  local script=()
  [[ -n "$WRK_SCRIPT" ]] && script=(-s "$WRK_SCRIPT")
  timeout $((SECONDS_PER_RUN + 30)) wrk -t"$WRK_THREADS" -c"$3" -d"${SECONDS_PER_RUN}s" \
    --latency "${script[@]}" -H "authorization: Bearer $TOKEN" "$4" | tee "$out"
  cpu_snapshot
  snap_after="$SNAP"
  if [[ -n "$perf_pid" ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$PERF_DATA" --no-children --sort symbol --stdio -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -40 >"$TARGET_DIR/load/$TARGET-$1.perf.txt" || true
    echo "profile of the server during this run: $TARGET_DIR/load/$TARGET-$1.perf.txt"
  fi
  local fields
  fields="$(awk -f scripts/wrk-summary.awk "$out")"
  read -r rps n p50 p90 p99 max err <<<"$fields"
  row "$1" "$2" "wrk -c$3" "$rps" "$p50" "$p90" "$p99" "$max" "$err/$n" \
    "$(cpu_per_request "$snap_before" "$snap_after" "$n" "$1")" \
    "$(switches_per_request "$snap_before" "$snap_after" "$n")" \
    "$BUSY_BEFORE / $(others_busy "$snap_before" "$snap_after" "$SECONDS_PER_RUN")"
}

# rate_run <backend> <log> <url>
rate_run() {
  local out="$WORK/rate.txt" snap_before snap_after
  cpu_snapshot
  snap_before="$SNAP"
  timeout $((SECONDS_PER_RUN + 30)) "$HELPER" rate "$3" "$TOKEN_FILE" "$RATE" "$SECONDS_PER_RUN" \
    | tee "$out"
  cpu_snapshot
  snap_after="$SNAP"
  local n err p50 p90 p99 max
  eval "$(sed -n 's/^result //p' "$out" | tr ' ' '\n' | sed 's/^/local /')"
  n="$requests" err="$errors"
  row "$1" "$2" "fixed $RATE/s" "$(awk -v n="$n" -v s="$SECONDS_PER_RUN" 'BEGIN{printf "%.0f", n/s}')" \
    "$p50_ms" "$p90_ms" "$p99_ms" "$max_ms" "$err/$n" \
    "$(cpu_per_request "$snap_before" "$snap_after" "$n" "$1")" \
    "$(switches_per_request "$snap_before" "$snap_after" "$n")" \
    "$BUSY_BEFORE / $(others_busy "$snap_before" "$snap_after" "$SECONDS_PER_RUN")"
}

# bench <backend> <RUST_LOG> <connection counts>
bench() {
  local backend="$1" level="$2" conns="$3"
  PROFILED=""
  new_database "$backend"
  start_server "$DB_URL" "$level"
  local url="$BASE$PATH_AND_QUERY"
  if [[ "$TARGET" == tasks ]]; then
    log "$backend: seeding $TASKS tasks into team \"$TEAM\" through the API"
    timeout 60 "$HELPER" seed "$BASE" "$TOKEN_FILE" "$TEAM" "$TASKS"
  fi
  local status curl_args=() script=()
  if [[ "$TARGET" == lifecycle ]]; then
    # The first delivery creates the installation: its own figure, from curl.
    curl_args=(-X POST -H "content-type: application/json" -H "x-forge-oauth-system: load-test-system-token"
      --data '{"eventType":"avi:forge:installed:app","id":"4f0a8e4e-0000-4000-8000-000000000001"}')
    script=(-s "$WRK_SCRIPT")
  fi
  status="$(curl -s -o "$WORK/body" -w '%{http_code} %{time_total}' "${curl_args[@]}" -H "authorization: Bearer $TOKEN" "$url")"
  [[ "${status%% *}" == 200 ]] || { echo "error: $url answered $status" >&2; cat "$WORK/body" "$SERVER_LOG" >&2; exit 1; }
  echo "$PATH_AND_QUERY: 200 in ${status#* } s, $(wc -c <"$WORK/body") bytes: $(head -c 200 "$WORK/body")"
  [[ "$TARGET" == lifecycle ]] && FIRST_DELIVERY="$FIRST_DELIVERY $backend: $(awk -v t="${status#* }" 'BEGIN{printf "%.1f ms", t*1000}') ($(cat "$WORK/body"));"

  log "$backend, RUST_LOG=$level: warm-up (2 s, not reported)"
  timeout 30 wrk -t"$WRK_THREADS" -c"${conns%% *}" -d2s "${script[@]}" -H "authorization: Bearer $TOKEN" "$url" >/dev/null
  for c in $conns; do
    wait_quiet
    log "$backend, RUST_LOG=$level: max throughput, wrk -t$WRK_THREADS -c$c, ${SECONDS_PER_RUN}s ($(nproc) cores shared with the server)"
    wrk_run "$backend" "$level" "$c" "$url"
  done
  if [[ "$TARGET" != lifecycle ]]; then # the fixed-rate generator sends GETs only
    wait_quiet
    log "$backend, RUST_LOG=$level: fixed rate $RATE req/s for ${SECONDS_PER_RUN}s"
    rate_run "$backend" "$level" "$url"
  fi
  stop_server
}

if [[ "$TARGET" == outbox ]]; then
  # The Jira stand-in is loopback; the per-user rate limit would refuse most of one user's
  # writes at this rate.
  SERVER_ENV="$SERVER_ENV FORGE_API_HOSTS=127.0.0.1 RATE_LIMIT_PER_SECOND=1000000 RATE_LIMIT_BURST=1000000"
  {
    echo "| database | changes | errors | written before the answer | never shown | delay p50 ms | delay p99 ms | delay max ms | final property right |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  } >"$SUMMARY"
  for backend in $DATABASES; do
    new_database "$backend"
    start_server "$DB_URL" warn
    wait_quiet
    log "$backend: $RATE changes/s on $ISSUES issues for ${SECONDS_PER_RUN}s, Jira failing $JIRA_FAIL_PERCENT % of writes"
    timeout $((SECONDS_PER_RUN + 180)) "$HELPER" writes "$BASE" "$WORK" "$ISSUES" "$RATE" "$SECONDS_PER_RUN" \
      | tee "$WORK/writes.txt"
    eval "$(sed -n 's/^result //p' "$WORK/writes.txt" | tr ' ' '\n' | sed 's/^/local_/')"
    # shellcheck disable=SC2154 # set by the eval above
    row "$backend" "$local_changes" "$local_errors" "$local_before_answer" "$local_undelivered" "$local_p50_ms" "$local_p99_ms" "$local_max_ms" "$local_final_ok"
    stop_server
  done
  mkdir -p "$TARGET_DIR/load"
  {
    printf 'POST /tasks, %s changes/s round robin on %s issues for %s s, Jira failing %s %% of property writes, %s, %s cores\n\n' \
      "$RATE" "$ISSUES" "$SECONDS_PER_RUN" "$JIRA_FAIL_PERCENT" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)"
    cat "$SUMMARY"
  } >"$TARGET_DIR/load/outbox.md"
  log "summary (also in $TARGET_DIR/load/outbox.md)"
  cat "$TARGET_DIR/load/outbox.md"
  exit 0
fi

{
  echo "| database | RUST_LOG | scenario | req/s | p50 ms | p90 ms | p99 ms | max ms | errors/requests | CPU µs/req: server / generator / PostgreSQL | server context switches/req | other load % before / during |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$SUMMARY"

for backend in $DATABASES; do
  bench "$backend" warn "$CONNECTIONS"
done
if [[ "$LOG_COST" == 1 ]]; then
  # The cost of the default per-request info logging (to a file), on one connection count.
  backend="${DATABASES%% *}"
  conns=($CONNECTIONS)
  bench "$backend" "info (default)" "${conns[$(( ${#conns[@]} / 2 ))]}"
fi

mkdir -p "$TARGET_DIR/load"
{
  printf '%s %s, %s, %s cores shared with the load generators, %s s per run' \
    "$([[ "$TARGET" == lifecycle ]] && echo POST || echo GET)" "$PATH_AND_QUERY" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$SECONDS_PER_RUN"
  [[ "$TARGET" == tasks ]] && printf ', %s tasks listed' "$TASKS"
  echo
  [[ -n "${FIRST_DELIVERY:-}" ]] && printf '\nfirst delivery (creates the installation), curl:%s\n' "$FIRST_DELIVERY"
  [[ -n "$SERVER_ENV" ]] && echo "server environment: $SERVER_ENV"
  echo
  cat "$SUMMARY"
} >"$TARGET_DIR/load/$TARGET.md"
log "summary (also in $TARGET_DIR/load/$TARGET.md)"
cat "$TARGET_DIR/load/$TARGET.md"
