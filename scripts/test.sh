#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what is missing, build, run ctest.
#   scripts/test.sh [--sanitize] [extra ctest args]
# MNIST_DIR (default ../shared/mnist) and KERAS_MODELS_DIR (default ../shared/keras-models)
# say where the data sets are; BUILD_DIR (default build) where to build.
# Before the suite, a fuzz smoke run: every libFuzzer target built with its sanitizers in
# build-fuzz and fuzzed for FUZZ_SECONDS (default 10) each; a crash fails the run
# (tests/fuzz/smoke.sh, tests/fuzz/README.md). FUZZ_SMOKE=0 leaves it out.
# --sanitize: the same suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DDIGITD_SANITIZE=ON), in BUILD_DIR (default build-sanitize), less the tests labelled
# heavy (tests/CMakeLists.txt: the same paths at 10,000-digit scale, the browser, a second
# build tree), which the main build runs. Every finding fails the run,
# also one in a process no test looks at (a pool's child, a daemon): the sanitizers write
# their reports to files under the build dir, and any report there fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sanitize=OFF
if [ "${1:-}" = --sanitize ]; then
  sanitize=ON
  shift
fi
build=${BUILD_DIR:-$([ $sanitize = ON ] && echo build-sanitize || echo build)}
mnist=${MNIST_DIR:-$root/../shared/mnist}
keras=${KERAS_MODELS_DIR:-$root/../shared/keras-models}

scripts/install-deps.sh --test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDIGITD_WERROR=ON \
      -DDIGITD_SANITIZE=$sanitize -DMNIST_DIR="$mnist" -DKERAS_MODELS_DIR="$keras"
cmake --build "$build" -j"$(nproc)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
if [ $sanitize = OFF ]; then
  fuzz_rc=0
  if [ "${FUZZ_SMOKE:-1}" != 0 ]; then
    tests/fuzz/smoke.sh || fuzz_rc=$?
  fi
  rc=0
  ctest --test-dir "$build" --output-on-failure -j2 "$@" || rc=$?
  [ $fuzz_rc -eq 0 ] || echo "the fuzz smoke run failed (above, before the suite)" >&2
  exit $(( rc || fuzz_rc ))
fi

reports=$(cd "$build" && pwd)/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
rc=0
ctest --test-dir "$build" --output-on-failure -j2 -LE heavy "$@" || rc=$?
if [ -n "$(ls -A "$reports")" ]; then
  echo "sanitizer reports ($reports):" >&2
  for f in "$reports"/*; do echo "--- $f" >&2; cat "$f" >&2; done
  rc=1
fi
exit $rc
