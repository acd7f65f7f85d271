#!/bin/bash
# bench_answers.sh BENCH MNIST_DIR: the answer checks, against a fake HTTP server that answers
# every request with digit 0 (on /bad, with probabilities that do not back the digit: a
# malformed answer). Wrong digits are errors of kind "wrong" (and lower accuracy)
# but do not fail --fail-on-error; answers that differ from the in-process answer at rest
# are mismatches and do; without the answers at rest, mismatches are null, not 0.
BENCH=$1 MNIST=$2
. "$(dirname "$0")/lib/bench_lib.sh"
T=$(mktemp -d /tmp/digitd-bench-test.XXXXXX)
SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

python3 - "$T/port" <<'PY' &
import http.server, json, os, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx
    disable_nagle_algorithm = True  # headers and body go out in two writes
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        probs = [0.91] + [0.01] * 9
        if self.path == "/bad":  # digit 3, but 0 is the likeliest
            a = {"prediction": 3, "confidence": 0.01, "probabilities": probs}
        else:
            a = {"prediction": 0, "confidence": 0.91, "probabilities": probs}
        b = json.dumps(a).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])  # whole, or not there yet
s.serve_forever()
PY
SRV=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { echo "fake server did not start"; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")/api/predict"

# 100 MNIST digits, each sent once: about 90 are not 0, so wrong and mismatched
"$BENCH" "$URL" --requests 100 --count 100 --connections 2 --fail-on-error --json \
    --mnist "$MNIST" >"$T/rest.json"
[ $? = 1 ] || fail "--fail-on-error did not exit 1 on mismatches"
cat "$T/rest.json"
jcheck "$T/rest.json" 'j["answered"] == 100 and j["failed"] == 0'
jcheck "$T/rest.json" 'j["errors"]["wrong"] == 100 - j["correct"] > 50' "wrong digits not counted"
jcheck "$T/rest.json" 'j["errors"]["total"] == j["errors"]["wrong"]'
jcheck "$T/rest.json" 'j["accuracy"] == j["correct"] < 50' "accuracy not lowered"
# mismatches count digits at rest other than 0, wrong ones labels other than 0: they differ
# by at most the digits the engine gets wrong at rest
jcheck "$T/rest.json" 'j["compared"] == 100 and j["mismatches"] > 50 and
    abs(j["mismatches"] - j["errors"]["wrong"]) <= j["at_rest"]["labelled"] - j["at_rest"]["correct"]' \
    "mismatches vs at rest not counted"

# without answers at rest: no mismatch check, so wrong digits alone do not fail the run
"$BENCH" "$URL" --requests 50 --count 50 --connections 2 --fail-on-error --no-at-rest --json \
    --mnist "$MNIST" >"$T/norest.json" || fail "--fail-on-error failed on wrong digits alone"
jcheck "$T/norest.json" 'j["mismatches"] is None and j["compared"] == 0 and "at_rest" not in j'
jcheck "$T/norest.json" 'j["errors"]["wrong"] > 25 and j["failed"] == 0'

# answers whose numbers do not hold together are malformed, never counted as answered
"$BENCH" "${URL%/api/predict}/bad" --requests 20 --count 20 --no-at-rest --fail-on-error --json \
    --mnist "$MNIST" >"$T/bad.json"
[ $? = 1 ] || fail "malformed answers did not fail the run"
jcheck "$T/bad.json" 'j["answered"] == 0 and j["errors"]["json"] == 20' "inconsistent answers not counted as malformed"

# --min-accuracy is what fails on wrong digits
"$BENCH" "$URL" --requests 20 --count 20 --no-at-rest --min-accuracy 50 --json \
    --mnist "$MNIST" >/dev/null
[ $? = 1 ] || fail "--min-accuracy 50 did not exit 1"
[ "$FAILS" = 0 ] && ok "bench answer checks" || exit 1
