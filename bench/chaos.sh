#!/usr/bin/env bash
# chaos.sh [chaos.py options]: runs the kill storm, the idle FastCGI connections and the
# slow-body attack (bench/chaos.py says what each does and measures) against a running
# stack, by default the one scripts/run.sh started (RUN_DIR, default run/; nginx on
# PORT, default 8080), and prints one table. Any option given replaces the default:
#   bench/chaos.sh                                  # all three, run.sh's stack
#   bench/chaos.sh --only storm --storm-seconds 60
#   bench/chaos.sh --url http://127.0.0.1:9000 --pid-file A.pid --pid-file B.pid --log A.log ...
# Needs python3, and digitd-bench in the build dir (BUILD_DIR, default build/) for the storm.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${RUN_DIR:-$root/run}
build=${BUILD_DIR:-$root/build}
have() { local o; for o in "${@:2}"; do [ "$o" = "$1" ] && return 0; done; return 1; }
args=()
have --url "$@" || args+=(--url "http://127.0.0.1:${PORT:-8080}")
have --pid-file "$@" || args+=(--pid-file "$run/digitd.pid")
have --log "$@" || have --pid-file "$@" || args+=(--log "$run/digitd.log")
have --socket "$@" || args+=(--socket "$run/digitd.sock")
have --nginx-pid "$@" || args+=(--nginx-pid "$run/nginx.pid")
have --bench "$@" || args+=(--bench "$build/digitd-bench")
have --png "$@" || args+=(--png "$root/tests/server_digit.png")
exec python3 "$root/bench/chaos.py" "${args[@]}" "$@"
