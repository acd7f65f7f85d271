#!/usr/bin/env bash
# Builds the libFuzzer tree and fuzzes each target for a short fixed time on its corpus; any
# crash, sanitizer report, leak or timeout fails the run (README.md here).
#   tests/fuzz/smoke.sh [TARGET...]        (default: every target)
# FUZZ_BUILD_DIR (default build-fuzz): the build tree (clang, -DDG_FUZZ=ON); FUZZ_SECONDS
# (default 10): the time per target; FUZZ_JOBS (default nproc): build jobs; FUZZ_PARALLEL
# (default nproc): targets fuzzed at once. New inputs the
# fuzzer finds go to $FUZZ_BUILD_DIR/fuzz-corpus/<target> (tests/corpus is only read), a
# crashing input to $FUZZ_BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${FUZZ_BUILD_DIR:-build-fuzz}
secs=${FUZZ_SECONDS:-10}
jobs=${FUZZ_JOBS:-$(nproc)}
targets=("$@")
# h5 and fcgi first: after their time they judge what they found (below), so started last
# they would run alone at the end
[ ${#targets[@]} -gt 0 ] || targets=(h5 fcgi input preprocess jpeg strokes json)

t0=$(date +%s)
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release -DDG_FUZZ=ON \
      -DDIGITD_WERROR=ON -DMNIST_DIR="${MNIST_DIR:-$root/../shared/mnist}" \
      -DKERAS_MODELS_DIR="${KERAS_MODELS_DIR:-$root/../shared/keras-models}" >/dev/null
programs=()
for t in "${targets[@]}"; do programs+=("fuzz_${t}_libfuzzer"); done
if ! cmake --build "$build" -j"$jobs" --target "${programs[@]}" >"$build/fuzz-build.log" 2>&1; then
  tail -n 60 "$build/fuzz-build.log" >&2
  echo "fuzz smoke: the build failed ($build/fuzz-build.log)" >&2
  exit 1
fi
echo "fuzz smoke: built in $(( $(date +%s) - t0 )) s"
if ! grep -q '^DG_ZLIB_FROM_SOURCE:INTERNAL=ON' "$build/CMakeCache.txt"; then
  echo "fuzz smoke: WARNING: libspng and zlib are NOT instrumented in this build (their Debian" \
       "sources could not be fetched: see the configure output); the fuzzer is blind inside them"
fi

# the regression corpus of each target (tests/corpus/<dir>)
corpus_of() {
  case "$1" in
    input) echo png ;;
    preprocess) echo canvas ;;
    *) echo "$1" ;;
  esac
}

# An artifact of the h5 and fcgi targets (fork mode, which keeps going past crashes) is run
# again and judged by its first frame of real code, past the sanitizers' and the C library's
# (a libc frame may be named by libc.so or by its source file, sysdeps/...): inside libhdf5
# or libfcgi (Debian's, which those targets hand the bytes to) it is that library's bug, not
# ours, and is listed (README.md says which were found); anywhere else it fails the run. (A
# timeout is run again for 3 s, not the fuzzing's 10: where it loops shows as soon.) One
# that shows no stack when run again (a timeout that was the machine's load, a state no
# single input recreates) is listed as not reproduced: nothing to judge it by.
judge() (
  set +o pipefail # the crashing program's status is not what is asked
  local frame
  frame=$("$1" -timeout=3 -rss_limit_mb=2048 "$2" 2>&1 | grep -E '^ +#[0-9]+ ' |
    grep -v -E '__interceptor_|__asan|__sanitizer|libclang_rt|fuzzer::|libc\.so|sysdeps/| in (malloc|calloc|realloc|free) ' |
    head -n 1)
  if [ -z "$frame" ]; then echo none
  elif grep -q -E 'libhdf5|libfcgi' <<<"$frame"; then echo library
  else echo ours
  fi
)

# fuzz_one TARGET: fuzzes one target; its verdict lines go to stdout, what fails it to
# stderr; returns non-zero if it failed.
fuzz_one() {
  local t=$1 new="$build/fuzz-corpus/$1" art="$build/fuzz-artifacts" log="$build/fuzz-$1.log"
  local rc=0 execs c
  mkdir -p "$new" "$art"
  local keep_going=()
  case "$t" in h5|fcgi) keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1) ;; esac
  rm -f "$art/$t-"*
  "$build/fuzz_${t}_libfuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    "${keep_going[@]}" -print_final_stats=1 -artifact_prefix="$art/$t-" "$new" \
    "tests/corpus/$(corpus_of "$t")" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" || true)
  if [ ${#keep_going[@]} -gt 0 ]; then
    rc=0 # fork mode's status counts ignored crashes too: each artifact is judged below
    execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1 || true) # fork mode's lines
    for c in "$art/$t-"*; do
      [ -e "$c" ] || continue
      case $(judge "$build/fuzz_${t}_libfuzzer" "$c") in
        library) echo "fuzz smoke: $t: a crash inside libhdf5 or libfcgi, not ours: $c" ;;
        none) echo "fuzz smoke: $t: did not reproduce when run again (no stack): $c" ;;
        *) echo "fuzz smoke: $t: a crash in our code: $c" >&2
           rc=1 ;;
      esac
    done
  fi
  if [ $rc -ne 0 ]; then
    echo "fuzz smoke: $t FAILED (exit $rc, ${execs:-?} executions); the end of $log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
  echo "fuzz smoke: $t ok, ${execs:-?} executions in $secs s"
}

# FUZZ_PARALLEL targets at a time (default nproc: each fuzzer is one process, one core);
# each one's lines are printed together, in the targets' order.
parallel=${FUZZ_PARALLEL:-$(nproc)}
declare -A pid_of
failed=0
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  fuzz_one "$t" >"$build/fuzz-$t.out" 2>&1 &
  pid_of[$t]=$!
done
for t in "${targets[@]}"; do
  wait "${pid_of[$t]}" || failed=$((failed + 1))
  cat "$build/fuzz-$t.out"
done
echo "fuzz smoke: ${#targets[@]} targets, $failed failed, $(( $(date +%s) - t0 )) s in all"
[ $failed -eq 0 ]
