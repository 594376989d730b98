#!/usr/bin/env bash
# Reports the Forge resources' sizes, per file, raw and gzip -9. Reads the directories
# scripts/release.sh wrote: the main resource (what a browser downloads inside every Jira issue
# view), then the macro's config view (downloaded only when a macro's settings are opened).
#
#   scripts/bundle-size.sh [main-dir [config-dir]]     (default target/site target/site-config)
# Writes the tables to stdout and to target/bundle-size.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/site}
config_dir=${2:-target/site-config}
for d in "$dir" "$config_dir"; do
  [ -f "$d/index.html" ] || { echo "no $d/index.html: build the resources first (scripts/release.sh)" >&2; exit 1; }
done

table() {
  local dir=$1 total_raw=0 total_gz=0 raw gz f
  printf '%-32s %10s %10s\n' file raw gzip
  while IFS= read -r f; do
    raw=$(stat -c %s "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-32s %10d %10d\n' "${f#"$dir"/}" "$raw" "$gz"
  # wasm-bindgen's TypeScript declarations (*.d.ts) sit next to the JS but no browser ever
  # downloads them, so they are not part of what the resource costs.
  done < <(find "$dir" -type f ! -name '*.d.ts' | sort)
  printf '%-32s %10d %10d\n' TOTAL "$total_raw" "$total_gz"
}

{
  table "$dir"
  echo
  echo "config resource ($config_dir):"
  table "$config_dir"
} | tee target/bundle-size.txt
