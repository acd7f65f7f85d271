#!/bin/bash
# server_explain.sh DIGITD SERVER_PNGS MNIST_DIR: "why this digit" (POST /api/predict?explain=1)
# through FastCGI: the map is there only when asked, is 784 finite numbers, changes nothing
# else in the answer, and lies on the ink that made the digit (blanking the stroke of a drawn
# 1, or of real MNIST digits drawn on a canvas, lowers the answer's score there).
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"
command -v python3 >/dev/null || { echo "FAIL: python3 not found (scripts/install-deps.sh --test)"; exit 1; }
N=10
mkdir "$T/png"
"$2" "$3" "$T/png" $N || { echo "FAIL: cannot render test digits"; exit 1; }
start_pool --workers 1
ONE=$(dirname "$0")/server_digit.png # a drawn 1

ask() { # URI FILE OUT: the answer's body to OUT, its status printed
    local a
    a=$(req POST "$1" image/png "$(stat -c %s "$2")" <"$2")
    echo "$a" | body_of >"$3"
    echo "$a" | status_of
}

# Not asked (or asked otherwise than explain=1): no map, no cost.
for q in "" "?explain=0" "?explainx=1" "?xexplain=1" "?explain=1x"; do
    st=$(ask "/api/predict$q" "$ONE" "$T/plain")
    [ "$st" = 200 ] || fail "/api/predict$q: status $st"
    grep -q '"explain"' "$T/plain" && fail "/api/predict$q: an explain map nobody asked for"
done

# Asked: the map, and the rest of the answer as without it.
check() { # PLAIN EXPLAINED LABEL: python3 asserts, one line of failure each
    python3 - "$@" <<'PY'
import base64, json, math, sys, zlib
plain, ex = (json.load(open(f)) for f in sys.argv[1:3])
label = sys.argv[3]
def grey28(url):  # the answer's 28x28 8-bit grey preview (a PNG): 784 values
    png = base64.b64decode(url.split(",", 1)[1])
    i, idat = 8, b""
    while i < len(png):
        n = int.from_bytes(png[i:i + 4], "big")
        if png[i + 4:i + 8] == b"IDAT": idat += png[i + 8:i + 8 + n]
        i += 12 + n
    raw, prev, out = zlib.decompress(idat), [0] * 28, []
    for r in range(28):
        f, row = raw[r * 29], list(raw[r * 29 + 1:r * 29 + 29])
        for x in range(28):
            a = row[x - 1] if x else 0
            b, c = prev[x], prev[x - 1] if x else 0
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            pred = [0, a, b, (a + b) // 2, a if pa <= pb and pa <= pc else (b if pb <= pc else c)][f]
            row[x] = (row[x] + pred) & 255
        out += row
        prev = row
    return out
m = ex.get("explain")
if not isinstance(m, list) or len(m) != 784 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in m):
    sys.exit(f"explain is not 784 finite numbers: {str(m)[:120]}")
for k in ("prediction", "probabilities", "top3", "input"):
    if ex[k] != plain[k]: sys.exit(f"{k} differs with explain=1: {ex[k]} vs {plain[k]}")
if not isinstance(ex["timing_us"].get("explain"), (int, float)): sys.exit("no timing_us.explain")
if str(ex["prediction"]) != label: sys.exit(f"read as {ex['prediction']}, not {label}: the map explains another digit")
g = grey28(ex["input"])
ink = [v for v, p in zip(m, g) if p >= 128]
rest = [v for v, p in zip(m, g) if p < 128]
mi, mr = sum(ink) / len(ink), sum(rest) / len(rest)
# Some ink made the answer: blanking it lowers the answer's log-odds by more than a nat.
if max(m) < 1: sys.exit(f"no ink supports the answer: the map's largest value is {max(m):.3g}")
# A drawn 1 is one bar: blanking any of it speaks against a 1, so the map is positive on the
# ink, on average, and more there than off it. (Not so for every digit: the loop of a 5 that
# leans towards a 6 speaks against the 5.)
if label == "1" and not (mi > 0 and mi > mr):
    sys.exit(f"the map is not on the stroke of the 1: mean {mi:.3g} on ink, {mr:.3g} off it")
# Far from any ink (more than a square's side), no square hid anything the preview shows:
# at most ink too faint for an 8-bit preview, which can change the answer very little.
near = lambda i: any(g[y * 28 + x] > 0 for y in range(max(0, i // 28 - 3), min(28, i // 28 + 4))
                     for x in range(max(0, i % 28 - 3), min(28, i % 28 + 4)))
top = max(abs(v) for v in m)
far = [i for i in range(784) if not near(i) and abs(m[i]) > 0.01 * top]
if far: sys.exit(f"the map is large far from the ink at pixels {far[:8]}")
print(f"{label}: mean {mi:.3g} on ink, {mr:.3g} off it, {ex['timing_us']['explain']} us")
PY
}

ask /api/predict "$ONE" "$T/p1" >/dev/null
for q in "?explain=1" "?a=b&explain=1" "?explain=1&a=b"; do
    st=$(ask "/api/predict$q" "$ONE" "$T/e1")
    [ "$st" = 200 ] || { fail "/api/predict$q: status $st"; continue; }
    out=$(check "$T/p1" "$T/e1" 1) || fail "/api/predict$q on a drawn 1: $out"
done
echo "$out"
for f in "$T"/png/*.png; do
    label=$(basename "$f" .png | cut -d_ -f2)
    ask /api/predict "$f" "$T/p" >/dev/null
    st=$(ask "/api/predict?explain=1" "$f" "$T/e")
    [ "$st" = 200 ] || { fail "$f: status $st"; continue; }
    out=$(check "$T/p" "$T/e" "$label") || fail "$f: $out"
done
[ $FAILS = 0 ] && ok "the map lies on the ink of a drawn 1 and of $N MNIST digits on a canvas"

# The seed's route and JSON body take the option too; a blank canvas stays a 422.
{ printf '{"imageData":"data:image/png;base64,'; base64 -w0 "$ONE"; printf '"}'; } >"$T/j"
a=$(req POST "/predict?explain=1" application/json "$(stat -c %s "$T/j")" <"$T/j")
[ "$(echo "$a" | status_of)" = 200 ] && echo "$a" | body_of | grep -q '"explain":\[' ||
    fail "/predict?explain=1 with a JSON body: no map: $(echo "$a" | head -c 300)"
python3 -c 'import struct,sys,zlib
def c(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + c(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0))
  + c(b"IDAT", zlib.compress(b"".join(b"\0" + b"\xff" * 64 for _ in range(64)))) + c(b"IEND", b""))' >"$T/blank.png"
st=$(ask "/api/predict?explain=1" "$T/blank.png" "$T/b")
[ "$st" = 422 ] || fail "a blank canvas with explain=1: status $st, not 422: $(cat "$T/b")"
[ $FAILS = 0 ] && ok "explain" || exit 1
