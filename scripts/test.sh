#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what is missing, build, run everything CI
# runs (.ci/run calls exactly this).
#   scripts/test.sh [--sanitize] [extra ctest args]
# MNIST_DIR (default ../shared/mnist) and KERAS_MODELS_DIR (default ../shared/keras-models)
# say where the data sets are.
# Three passes, each failing the run on its own:
#  1. the fuzz smoke run: every libFuzzer target built with its sanitizers in build-fuzz and
#     fuzzed for FUZZ_SECONDS (default 10) each; a crash fails the run (tests/fuzz/smoke.sh,
#     tests/fuzz/README.md). FUZZ_SMOKE=0 leaves it out.
#  2. the suite, Release build in BUILD_DIR (default build).
#  3. the same suite built with AddressSanitizer and UndefinedBehaviorSanitizer
#     (-DDIGITD_SANITIZE=ON) in SANITIZE_BUILD_DIR (default build-sanitize; built at idle
#     priority while passes 1 and 2 run), less the tests labelled heavy (tests/CMakeLists.txt:
#     the same paths at 10,000-digit scale, the browser, a second build tree), which pass 2
#     runs. Every finding fails the run, also one in a
#     process no test looks at (a pool's child, a daemon): the sanitizers write their reports
#     to files under the build dir, and any report there fails the run. SANITIZE=0 leaves it
#     out; --sanitize runs only this pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
only_sanitize=0
if [ "${1:-}" = --sanitize ]; then
  only_sanitize=1
  shift
fi
mnist=${MNIST_DIR:-$root/../shared/mnist}
# New build trees use Ninja (install-deps.sh installs it): make's recursion costs a process
# tree per target, and the suite's trees hold hundreds of targets (an engine per test model
# and ISA). A tree configured before keeps its generator; CMAKE_GENERATOR chooses another.
export CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja}
# The tests run side by side, more of them than cores. An OpenMP thread that reaches a
# barrier spins for a while by default (GOMP), on a core that a thread of its own team or
# another test needs: the trainer's tests took twice the CPU and several times as long in
# the suite as alone. Passive waiting gives the core back.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# step NAME: says which step starts, and when, so that a slow CI run shows where it went
step() { echo "== scripts/test.sh: $1, at $SECONDS s"; }
keras=${KERAS_MODELS_DIR:-$root/../shared/keras-models}

# configure_build DIR SANITIZE(ON|OFF) [cmake options]
configure_build() {
  local dir=$1 sanitize=$2
  shift 2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDIGITD_WERROR=ON \
        -DDIGITD_SANITIZE="$sanitize" -DMNIST_DIR="$mnist" -DKERAS_MODELS_DIR="$keras" "$@"
  cmake --build "$dir" -j"$(nproc)"
}

# configure_sanitized DIR: the sanitizer tree. It runs the engine's kernel sets this CPU
# runs: on one without AVX-512 the AVX-512 builds (one per test model) would only be compiled,
# as the Release tree already compiles them.
configure_sanitized() {
  local isa=() avx512=OFF
  case "$(uname -m)" in
    x86_64 | amd64 | i?86) # passed either way: a tree made on another CPU keeps its choice
      grep -qw avx512f /proc/cpuinfo && avx512=ON
      isa=(-DDG_ENGINE_AVX512=$avx512) ;;
  esac
  configure_build "$1" ON "${isa[@]}"
}

# sanitized_suite DIR [ctest args]: pass 3; returns its status
sanitized_suite() {
  local build=$1 rc=0
  shift
  step "the sanitizer build ($build)"
  configure_sanitized "$build"
  local reports
  reports=$(cd "$build" && pwd)/sanitizer-reports
  rm -rf "$reports"
  mkdir -p "$reports"
  step "the suite under ASan and UBSan"
  ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1" \
  UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1" \
    ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -LE heavy "$@" || rc=$?
  if [ -n "$(ls -A "$reports")" ]; then
    echo "sanitizer reports ($reports):" >&2
    for f in "$reports"/*; do echo "--- $f" >&2; cat "$f" >&2; done
    rc=1
  fi
  return $rc
}

# install_test_deps: what only the tests need (the browser, clang, the FastCGI client...).
# The tests' python3 (their JSON checks, FastCGI client and stand-in servers: the standard
# library only) is Debian's, which install-deps.sh installs, also where a version manager's
# shim comes first in PATH: pyenv's is a shell script that starts a dozen processes at each
# of the suite's calls, far more CPU than the interpreter's own start.
install_test_deps() {
  scripts/install-deps.sh --test || return
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || return
  if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
    pybin=$(mktemp -d)
    trap 'rm -rf "$pybin"' EXIT
    ln -s /usr/bin/python3 "$pybin/python3"
    PATH=$pybin:$PATH
  fi
}

step "installing what is missing to build"
scripts/install-deps.sh
if [ $only_sanitize = 1 ]; then
  install_test_deps
  sanitized_suite "${SANITIZE_BUILD_DIR:-${BUILD_DIR:-build-sanitize}}" "$@"
  exit
fi

build=${BUILD_DIR:-build}
# On a new machine the test packages take a while to download and unpack, mostly waiting on
# the network and the disk: the Release build goes on meanwhile.
step "the Release build ($build), while the test packages install ($build/release-build.log)"
mkdir -p "$build"
configure_build "$build" OFF >"$build/release-build.log" 2>&1 &
build_bg=$!
if ! install_test_deps; then
  echo "installing the test packages failed (above); waiting for the build to stop" >&2
  wait "$build_bg" || true
  exit 1
fi
step "installed; waiting for the Release build"
build_rc=0
wait "$build_bg" || build_rc=$?
cat "$build/release-build.log"
[ $build_rc -eq 0 ] || { echo "the Release build failed (above)" >&2; exit 1; }
# The sanitizer tree is built while the fuzz smoke run and the suite go on, at SCHED_IDLE
# (chrt --idle): it gets only the CPU they leave unused (servers, browsers and fuzzers wait a
# lot), so it takes nothing from them, and pass 3 finds most of its build done.
# sanitized_suite builds it again in the foreground: what is left, and any error, shows there.
san_build=${SANITIZE_BUILD_DIR:-build-sanitize}
san_bg=""
if [ "${SANITIZE:-1}" != 0 ]; then
  step "the sanitizer build, in the background at idle priority ($san_build/background-build.log)"
  mkdir -p "$san_build"
  ( chrt --idle -p 0 "$BASHPID" >/dev/null && configure_sanitized "$san_build" ) \
    >"$san_build/background-build.log" 2>&1 &
  san_bg=$!
fi
fuzz_rc=0
if [ "${FUZZ_SMOKE:-1}" != 0 ]; then
  step "the fuzz smoke run"
  tests/fuzz/smoke.sh || fuzz_rc=$?
fi
rc=0
step "the suite"
# Two tests more than cores: the browser test and the servers' tests wait more than they
# compute (the browser's checks use a fraction of a core), and with one test a core the
# other core idles beside them. (The sanitized tests compute nearly all the time: one a core.)
ctest --test-dir "$build" --output-on-failure -j"$(( $(nproc) + 2 ))" "$@" || rc=$?
san_rc=0
if [ "${SANITIZE:-1}" != 0 ]; then
  wait "$san_bg" || echo "the background sanitizer build failed; building it again here"
  sanitized_suite "$san_build" "$@" || san_rc=$?
fi
step "done"
[ $fuzz_rc -eq 0 ] || echo "the fuzz smoke run failed (above, before the suite)" >&2
[ $rc -eq 0 ] || echo "the suite failed (above)" >&2
[ $san_rc -eq 0 ] || echo "the suite under ASan and UBSan failed (above)" >&2
exit $(( rc || fuzz_rc || san_rc ))
