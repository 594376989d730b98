#!/usr/bin/env bash
# Load test of GET /whoami with valid Forge Invocation Tokens, on loopback only: the former
# interface of scripts/load.sh whoami (one connection count, no logging-cost run).
#
#   scripts/load-whoami.sh                 # 10 s max throughput (wrk), then 1,000 req/s for 10 s
#   RATE=2000 SECONDS_PER_RUN=5 scripts/load-whoami.sh
set -euo pipefail
CONNECTIONS="${CONNECTIONS:-32}" LOG_COST="${LOG_COST:-0}" exec "$(dirname "$0")/load.sh" whoami
