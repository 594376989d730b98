# Reads `wrk --latency` output and prints one line, "req/s requests p50 p90 p99 max errors",
# latencies in ms (wrk prints us, ms or s); errors are non-2xx answers plus socket errors.
# Used by scripts/load.sh and scripts/replicas.sh.
function ms(v) {
  if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
  if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
  if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
  return v
}
/^ +Latency +[0-9]/ { max = ms($4) }
/^ +50%/ { p50 = ms($2) } /^ +90%/ { p90 = ms($2) } /^ +99%/ { p99 = ms($2) }
/ requests in / { n = $1 }
/Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
/Non-2xx/ { err += $NF }
/^Requests\/sec:/ { rps = $2 }
END { printf "%.0f %d %.2f %.2f %.2f %.2f %d", rps, n, p50, p90, p99, max, err }
