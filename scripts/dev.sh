#!/usr/bin/env bash
# Sets up whatever is missing, then runs the app under `cargo leptos watch`: the remote on
# http://127.0.0.1:3000 and, in this debug build, the local Forge host on
# http://127.0.0.1:3100 (Jira issue view and Confluence page with the app live).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec cargo leptos watch "$@"
