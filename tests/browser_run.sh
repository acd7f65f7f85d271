#!/usr/bin/env bash
# browser_run.sh DIGITD: starts the real stack (tests/stack_lib.sh) and runs the Chromium
# test tests/browser/draw.test.mjs against it (npm ci must have run in tests/browser).
set -u
DIGITD=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/stack_lib.sh"
[ -d "$ROOT/tests/browser/node_modules/playwright-core" ] || {
    echo "tests/browser/node_modules missing: run 'npm ci' in tests/browser"; exit 1; }
pool_start --workers 2
nginx_start
node "$ROOT/tests/browser/draw.test.mjs" "$BASE" "$STACK_DIR/digitd.pid" || { STACK_FAILED=1; exit 1; }
