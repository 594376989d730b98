#!/usr/bin/env bash
# Sets up whatever is missing, then runs the app under `cargo leptos watch`, whose bin-package is
# `forge-devhost`: one process with the remote on http://127.0.0.1:3000 and the local Forge host
# on http://127.0.0.1:3100 (Jira issue view and Confluence page with the app live).
#
# `cargo leptos watch` builds one site, the main resource (target/site). The macro's config
# view (resource `config`, target/site-config) is built once here, in debug, so the host can
# open it; rerun this script to pick up a change to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# manifest.yml's remote baseUrl has no default (a deploy without it must fail); the local host
# resolves the manifest as the Forge CLI does but sends invocations to this process's remote.
export REMOTE_BASE_URL=${REMOTE_BASE_URL:-https://team-tasks-remote.invalid}
LEPTOS_SITE_ROOT=target/site-config cargo leptos build --frontend-only --lib-features config-view
exec cargo leptos watch "$@"
