# bench_lib.sh: helpers for the digitd-bench tests (sourced). Needs FAILS, fail() and ok()
# (server_lib.sh has them; bench_lib defines them if not yet).
if ! declare -F fail >/dev/null; then
    FAILS=0
    fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
    ok() { echo "ok: $*"; }
fi

# jcheck FILE 'python expression over j' [what]: fails unless the expression is true for
# the JSON document j in FILE (unparsable JSON fails too).
jcheck() {
    python3 - "$1" "$2" <<'PY' || fail "${3:-$2}"
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    ok = eval("(" + sys.argv[2] + ")", {"j": j, "isnum": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)})
except Exception as e:
    print("  %s: %r" % (sys.argv[2], e))
    ok = False
sys.exit(0 if ok else 1)
PY
}
