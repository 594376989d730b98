#!/usr/bin/env bash
# Scale-out test: three release remotes on one PostgreSQL behind HAProxy, restarted one by one
# under load. Loopback only, bounded in time, and everything it starts is stopped on exit.
#
#   scripts/replicas.sh         # the test (scripts/test.sh runs it)
#   scripts/replicas.sh bench   # the test, then wrk figures through HAProxy: steady, and
#                               # during a rolling restart
#
# 1. A JWKS host with a Jira stand-in (server/examples/load.rs), which fails
#    $JIRA_FAIL_PERCENT % of property writes; a fresh database on the PostgreSQL at
#    $POSTGRES_URL (default: the one scripts/postgres.sh starts); three replicas of
#    target/release/server; HAProxy checking GET /readyz on each every 500 ms.
# 2. Mixed load through HAProxy: $RATE req/s for $SECONDS_OF_LOAD s, $WRITE_PERCENT % of them
#    POST /tasks, over $ISSUES issues, while each replica in turn gets SIGTERM, must exit 0,
#    and is started again from the same binary. Pass: no failed request (no 5xx, no
#    connection error), every acknowledged task listed at the end, and Jira holding each
#    issue's final progress.
# 3. The outbox, with a restart in the middle: Jira down, one change on each of $ONCE_ISSUES
#    new issues, Jira up, one replica restarted. Pass: each issue's property written exactly
#    once.
#
# Runs the release artifact (target/deploy/team-tasks-remote-*.tar.gz, from scripts/release.sh),
# unpacked, with its production.env and this test's values for the deployment-specific
# settings. Needs haproxy, psql, curl; builds the load helper (debug) itself. Settings: RATE (150), SECONDS_OF_LOAD (45), WRITE_PERCENT (20),
# ISSUES (20), ONCE_ISSUES (12), JIRA_FAIL_PERCENT (20), WRK_SECONDS (15), WRK_CONNECTIONS (32),
# WRK_RESTART_SECONDS (35: the wrk run that spans a whole rolling restart),
# REPLICA_ENV (extra "NAME=value …" for every replica, e.g. SHUTDOWN_GRACE_SECS=0 to see what
# the grace period is for), HAPROXY_RETRIES (0: HAProxy retries nothing, so it cannot hide a
# refused connection; its own default is 3 connection-level retries).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-test}"
[[ "$MODE" == test || "$MODE" == bench ]] || { echo "usage: $0 [test|bench]" >&2; exit 2; }
RATE="${RATE:-150}"
SECONDS_OF_LOAD="${SECONDS_OF_LOAD:-45}"
# The three restarts take about 25 s from the load's 5th second, and each replica must serve
# load after its own (the metrics check below).
(( SECONDS_OF_LOAD >= 40 )) || { echo "SECONDS_OF_LOAD must be at least 40" >&2; exit 2; }
WRITE_PERCENT="${WRITE_PERCENT:-20}"
ISSUES="${ISSUES:-20}"
ONCE_ISSUES="${ONCE_ISSUES:-12}"
JIRA_FAIL_PERCENT="${JIRA_FAIL_PERCENT:-20}"
WRK_SECONDS="${WRK_SECONDS:-15}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-32}"
WRK_RESTART_SECONDS="${WRK_RESTART_SECONDS:-35}"
REPLICA_ENV="${REPLICA_ENV:-}"
HAPROXY_RETRIES="${HAPROXY_RETRIES:-0}"
REPLICAS=3
APP_ID="ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4"
TOKEN_KEY="$(head -c 32 /dev/urandom | base64)"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
HELPER="$TARGET_DIR/debug/examples/load"
WORK="$(mktemp -d)"
OUT="$TARGET_DIR/load/replicas.md"
declare -a PIDS=() PORTS=() METRICS_PORTS=() REPLICA_PID=()
PG_BASE="" PG_DB="" HAPROXY_PID=""

log() { printf '\n== [replicas] %s\n' "$*"; }
fail() { echo "FAIL [replicas]: $*" >&2; exit 1; }

cleanup() {
  local pid
  for pid in "${REPLICA_PID[@]}" "$HAPROXY_PID" "${PIDS[@]}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ -n "$PG_DB" ]]; then
    timeout 30 psql -q "$PG_BASE" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v haproxy >/dev/null || fail "haproxy is not installed (scripts/setup.sh test installs it)"
# The release artifact itself, as an operator would unpack it.
ARTIFACT="$(ls -t "$TARGET_DIR"/deploy/team-tasks-remote-*.tar.gz 2>/dev/null | head -1)"
[[ -n "$ARTIFACT" ]] || fail "no release artifact in $TARGET_DIR/deploy: run scripts/release.sh first"
(cd "$TARGET_DIR/deploy" && sha256sum -c --quiet "$(basename "$ARTIFACT").sha256") || fail "$ARTIFACT does not match its checksum"
mkdir -p "$WORK/artifact"
tar -C "$WORK/artifact" --strip-components=1 -xzf "$ARTIFACT"
SERVER="$WORK/artifact/server"
# Its production settings, then this test's own values for what is deployment-specific.
mapfile -t PRODUCTION_ENV < <(grep -E '^[A-Z_]+=' "$WORK/artifact/production.env")
if [[ "$MODE" == bench ]] && ! command -v wrk >/dev/null; then apt-get install -y -qq wrk >/dev/null; fi
cargo build -q -p server --example load

log "JWKS host and Jira stand-in"
"$HELPER" jwks "$WORK" "$APP_ID" Platform 900 $((ISSUES + ONCE_ISSUES)) "$JIRA_FAIL_PERCENT" &
PIDS+=($!)
for _ in $(seq 300); do [[ -s "$WORK/jwks-url" ]] && break; sleep 0.1; done
[[ -s "$WORK/jwks-url" ]] || fail "the JWKS host did not start"
JWKS_URL="$(cat "$WORK/jwks-url")"

PG_BASE="${POSTGRES_URL:-$(scripts/postgres.sh)}"
PG_DB="tt_replicas_$$_$RANDOM"
timeout 30 psql -q "$PG_BASE" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
DB_URL="${PG_BASE%/*}/$PG_DB"

for r in $(seq 0 $((REPLICAS - 1))); do
  PORTS[r]="$("$HELPER" free-port)"
  METRICS_PORTS[r]="$("$HELPER" free-port)"
done
HAPROXY_PORT="$("$HELPER" free-port)"
STATS_PORT="$("$HELPER" free-port)"

# start_replica <index>: the same binary and settings each time, as a deploy would.
start_replica() {
  local r=$1
  # The load is one user: lift the per-user limit, which would otherwise answer 429s.
  env -i PATH="$PATH" "${PRODUCTION_ENV[@]}" RUST_LOG=warn FORGE_APP_ID="$APP_ID" FORGE_JWKS_URL="$JWKS_URL" FORGE_API_HOSTS=127.0.0.1 \
    LEPTOS_SITE_ADDR="127.0.0.1:${PORTS[r]}" METRICS_ADDR="127.0.0.1:${METRICS_PORTS[r]}" \
    DATABASE_URL="$DB_URL" TOKEN_ENCRYPTION_KEY="$TOKEN_KEY" \
    RATE_LIMIT_PER_SECOND=1000000 RATE_LIMIT_BURST=1000000 $REPLICA_ENV \
    "$SERVER" >>"$WORK/replica-$r.log" 2>&1 &
  REPLICA_PID[r]=$!
}

# haproxy_stat <server name> <column>: one field of HAProxy's stats CSV for the backend.
haproxy_stat() {
  curl -fsS "http://127.0.0.1:$STATS_PORT/stats;csv" 2>/dev/null | awk -F, -v s="$1" -v c="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == "replicas" && $2 == s { print $col[c] }'
}

# haproxy_status <index>: UP, DOWN, … as HAProxy's stats page says.
haproxy_status() { haproxy_stat "r$1" status; }

# scrape_metrics <index>: the replica's /metrics text (fails the run if it serves none).
scrape_metrics() {
  curl -fsS "http://127.0.0.1:${METRICS_PORTS[$1]}/metrics" || fail "replica $1 serves no metrics"
}

wait_for_status() {
  local r=$1 want=$2
  for _ in $(seq 200); do
    [[ "$(haproxy_status "$r")" == "$want"* ]] && return 0
    sleep 0.1
  done
  fail "replica $r never became $want in HAProxy (now: $(haproxy_status "$r"))"
}

# restart_replica <index>: SIGTERM, which must exit 0 within the shutdown timeout, then start
# it again and wait until HAProxy sends it traffic.
restart_replica() {
  local r=$1 started status
  started=$(date +%s%N)
  kill -TERM "${REPLICA_PID[r]}"
  status=0
  wait "${REPLICA_PID[r]}" || status=$?
  local took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  [[ $status == 0 ]] || fail "replica $r exited with status $status after SIGTERM"
  echo "replica $r: SIGTERM → exit 0 in ${took_ms} ms; starting it again"
  echo "$took_ms" >>"$WORK/stop-times"
  start_replica "$r"
  wait_for_status "$r" UP
}

cat >"$WORK/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout check 2s
  # No retries at all: a request the replicas failed to answer would count as failed, not
  # be hidden by a retry on another replica (see HAPROXY_RETRIES).
  retries $HAPROXY_RETRIES
frontend remote
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
$(for r in $(seq 0 $((REPLICAS - 1))); do echo "  server r$r 127.0.0.1:${PORTS[r]} check"; done)
listen stats
  bind 127.0.0.1:$STATS_PORT
  stats enable
  stats uri /stats
CFG

log "$REPLICAS replicas on PostgreSQL, HAProxy on 127.0.0.1:$HAPROXY_PORT"
for r in $(seq 0 $((REPLICAS - 1))); do start_replica "$r"; done
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for r in $(seq 0 $((REPLICAS - 1))); do wait_for_status "$r" UP; done
BASE="http://127.0.0.1:$HAPROXY_PORT"

# rolling_restart <seconds to wait before starting>
rolling_restart() {
  sleep "$1"
  for r in $(seq 0 $((REPLICAS - 1))); do
    restart_replica "$r"
    sleep 2
  done
}

log "mixed load: $RATE req/s for $SECONDS_OF_LOAD s, $WRITE_PERCENT % writes, over $ISSUES issues, restarting each replica in turn"
"$HELPER" mixed "$BASE" "$WORK" "$ISSUES" "$RATE" "$SECONDS_OF_LOAD" "$WRITE_PERCENT" >"$WORK/mixed.out" 2>&1 &
MIXED_PID=$!
rolling_restart 5
wait "$MIXED_PID" || { cat "$WORK/mixed.out"; fail "the load generator failed"; }
RESULT="$(grep '^result ' "$WORK/mixed.out")"
echo "$RESULT"
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
[[ "$(field "$RESULT" failed)" == 0 ]] || fail "failed requests during the rolling restart: $RESULT"
[[ "$(field "$RESULT" missing)" == 0 ]] || fail "acknowledged tasks missing: $RESULT"
[[ "$(field "$RESULT" final_ok)" == true ]] || fail "Jira does not hold every issue's final progress: $RESULT"
(( $(field "$RESULT" writes) > 0 )) || fail "no write was acknowledged: $RESULT"
# The retries HAProxy made (connection level), over the whole backend.
RETRIES="$(haproxy_stat BACKEND wretr)" REDISPATCHES="$(haproxy_stat BACKEND wredis)"
RETRIES="${RETRIES:-0}" REDISPATCHES="${REDISPATCHES:-0}"
# Each replica's metrics count its share of the load (all were restarted well before the load
# ended), by route template.
for r in $(seq 0 $((REPLICAS - 1))); do
  scraped="$(scrape_metrics "$r")" || exit 1
  grep -q '^http_server_request_duration_seconds_count{.*http_route="/tasks"' <<<"$scraped" \
    || fail "replica $r counted no GET /tasks"
done

log "outbox: $ONCE_ISSUES changes while Jira is down, then Jira up and a replica restarted"
"$HELPER" once "$BASE" "$WORK" "$ISSUES" "$ONCE_ISSUES" "$WORK/jira-up" >"$WORK/once.out" 2>&1 &
ONCE_PID=$!
for _ in $(seq 300); do [[ -e "$WORK/jira-up" ]] && break; sleep 0.1; done
[[ -e "$WORK/jira-up" ]] || { cat "$WORK/once.out"; fail "the outbox phase never brought Jira up"; }
restart_replica 1
wait "$ONCE_PID" || { cat "$WORK/once.out"; fail "the outbox phase failed"; }
ONCE="$(grep '^result ' "$WORK/once.out")"
echo "$ONCE"
[[ "$(field "$ONCE" once)" == "$ONCE_ISSUES" ]] || fail "each due property must be written exactly once: $ONCE"

# Every replica sees an empty outbox now.
for r in $(seq 0 $((REPLICAS - 1))); do
  scraped="$(scrape_metrics "$r")" || exit 1
  grep -qx 'outbox_rows 0' <<<"$scraped" || fail "replica $r sees rows still due: $(grep '^outbox' <<<"$scraped")"
done
curl -fsS -o /dev/null "http://127.0.0.1:$HAPROXY_PORT/metrics" 2>/dev/null && fail "/metrics answers on the public port"

if grep -qE 'ERROR|panicked' "$WORK"/replica-*.log; then
  grep -m 20 -hE 'ERROR|panicked' "$WORK"/replica-*.log
  fail "a replica logged an error"
fi

mkdir -p "$(dirname "$OUT")"
STOPS="$(sort -n "$WORK/stop-times" | tr '\n' ' ')"
{
  echo "# Replicas: 3 × release remote, PostgreSQL, HAProxy 500 ms /readyz checks ($(date -u +%F), $(nproc) cores)"
  echo
  echo "| run | requests | failed | p50 ms | p99 ms | max ms | statuses |"
  echo "|---|---|---|---|---|---|---|"
  echo "| mixed ${RATE}/s, ${WRITE_PERCENT} % writes, 3 rolling restarts | $(field "$RESULT" requests) | $(field "$RESULT" failed) | $(field "$RESULT" p50_ms) | $(field "$RESULT" p99_ms) | $(field "$RESULT" max_ms) | $(field "$RESULT" statuses) |"
  echo
  echo "Acknowledged writes: $(field "$RESULT" writes), missing $(field "$RESULT" missing); Jira final progress right: $(field "$RESULT" final_ok)."
  echo "HAProxy connection retries: $RETRIES, redispatches: $REDISPATCHES. SIGTERM to exit (ms): $STOPS."
  echo "Outbox across a restart: $ONCE."
} >"$OUT"

if [[ "$MODE" == bench ]]; then
  TOKEN="$(cat "$WORK/issue-0.jwt")"
  # wrk_through <label> [restart]: GET /tasks through HAProxy, optionally with a rolling restart.
  wrk_through() {
    # A rolling restart takes about 3 × (grace + start + 2 s): wrk runs through all of it.
    local seconds=$WRK_SECONDS
    [[ "${2:-}" == restart ]] && seconds=$WRK_RESTART_SECONDS
    timeout $((seconds + 60)) wrk -t1 -c"$WRK_CONNECTIONS" -d"${seconds}s" --latency \
      -H "authorization: Bearer $TOKEN" "$BASE/tasks" >"$WORK/wrk.txt" &
    local wrk_pid=$!
    # In this shell, which started the replicas and so can wait for them.
    [[ "${2:-}" == restart ]] && rolling_restart 1
    wait "$wrk_pid"
    local rps n p50 p90 p99 max err
    read -r rps n p50 p90 p99 max err <<<"$(awk -f scripts/wrk-summary.awk "$WORK/wrk.txt")"
    echo "| $1 | $rps | $p50 | $p99 | $max | $err/$n |" >>"$OUT"
  }
  {
    echo
    echo "GET /tasks through HAProxy, wrk -t1 -c$WRK_CONNECTIONS, one issue token; steady for ${WRK_SECONDS} s, then ${WRK_RESTART_SECONDS} s spanning a restart of each replica in turn:"
    echo
    echo "| run | req/s | p50 ms | p99 ms | max ms | failed/requests |"
    echo "|---|---|---|---|---|---|"
  } >>"$OUT"
  log "wrk: steady"
  wrk_through "steady"
  log "wrk: during a rolling restart"
  wrk_through "rolling restart" restart
fi
log "passed"
cat "$OUT"
