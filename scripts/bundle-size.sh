#!/usr/bin/env bash
# Reports the Forge resource's size, per file, raw and gzip -9 (what a browser downloads inside
# every Jira issue view). Reads the directory `cargo leptos build --release` wrote.
#
#   scripts/bundle-size.sh [resource-dir]     (default target/site)
# Writes the table to stdout and to target/bundle-size.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/site}
[ -f "$dir/index.html" ] || { echo "no $dir/index.html: build the resource first (cargo leptos build --release)" >&2; exit 1; }

{
  printf '%-32s %10s %10s\n' file raw gzip
  total_raw=0; total_gz=0
  while IFS= read -r f; do
    raw=$(stat -c %s "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    printf '%-32s %10d %10d\n' "${f#"$dir"/}" "$raw" "$gz"
  # wasm-bindgen's TypeScript declarations (*.d.ts) sit next to the JS but no browser ever
  # downloads them, so they are not part of what the resource costs.
  done < <(find "$dir" -type f ! -name '*.d.ts' | sort)
  printf '%-32s %10d %10d\n' TOTAL "$total_raw" "$total_gz"
} | tee target/bundle-size.txt
