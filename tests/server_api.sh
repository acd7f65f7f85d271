#!/bin/bash
# server_api.sh DIGITD SERVER_PNGS MNIST_DIR: predict (PNG body and JSON data URL, both
# routes) on real MNIST digits rendered as canvas PNGs, health and metrics, through FastCGI;
# data URLs with line-wrapped base64 and with media-type parameters.
DIGITD=$1
. "$(dirname "$0")/lib/server_lib.sh"
N=20
mkdir "$T/png"
"$2" "$3" "$T/png" $N || { echo "cannot render test digits"; exit 1; }
start_pool --workers 2

right=0 answered=0
for f in "$T"/png/*.png; do
    label=$(basename "$f" .png | cut -d_ -f2)
    i=$(basename "$f" .png | cut -d_ -f1)
    if [ $((i % 2)) = 0 ]; then # even: raw PNG on /api/predict; odd: JSON on /predict
        a=$(post_png "$f")
    else
        { printf '{"imageData":"data:image/png;base64,'; base64 -w0 "$f"; printf '"}'; } >"$T/j"
        a=$(req POST /predict application/json "$(stat -c %s "$T/j")" <"$T/j")
    fi
    st=$(echo "$a" | status_of)
    b=$(echo "$a" | body_of)
    [ "$st" = 200 ] || { fail "$f: status $st: $b"; continue; }
    answered=$((answered + 1))
    p=$(echo "$b" | json_field prediction)
    [ "$p" = "$label" ] && right=$((right + 1))
    for k in confidence probabilities top3 '"input":"data:image/png;base64,' timing_us decode \
        preprocess inference; do
        echo "$b" | grep -q "$k" || fail "$f: answer lacks $k: $b"
    done
    [ "$(echo "$b" | grep -o '"probabilities":\[[^]]*\]' | tr ',' '\n' | wc -l)" = 10 ] ||
        fail "$f: probabilities is not 10 numbers"
done
echo "predicted $right of $answered right"
[ "$answered" = $N ] || fail "only $answered of $N answered"
[ $((right * 100)) -ge $((N * 95)) ] || fail "accuracy $right/$N below 95 %"

h=$(req GET /api/health </dev/null)
[ "$(echo "$h" | status_of)" = 200 ] || fail "health status"
for k in status model source params sha256 keras_version input_scale version isa nondigit_detector uptime_s; do
    echo "$h" | body_of | grep -q "\"$k\":" || fail "health lacks $k"
done
echo "$h" | body_of | grep -q '"pid":' && fail "health shows process ids without ?pids=1"
# the shipped model is the one worker/verdict_model.h was trained with
echo "$h" | body_of | grep -q '"nondigit_detector":true' || fail "health: the not-a-digit detector is off"
[ "$(health | json_field pid)" = "$(master)" ] || fail "health?pids=1: pid is not the master's"

m=$(req GET /api/metrics </dev/null | body_of)
n=$(echo "$m" | sed -n 's/^digitd_requests_total{route="predict",code="200"} //p')
[ "$n" = "$answered" ] || fail "metrics count $n predictions, expected $answered (from any child)"
for k in digitd_request_duration_seconds_bucket digitd_in_flight digitd_child_restarts_total \
    digitd_model_info 'digitd_workers 2'; do
    echo "$m" | grep -q "$k" || fail "metrics lack $k"
done

# data URLs as other encoders write them: base64 wrapped in lines (CRLF, as MIME does; LF;
# spaces), media-type parameters before ;base64 (RFC 2397). Each must give the raw PNG's answer.
f=$(ls "$T"/png/*.png | head -1)
want=$(post_png "$f" | body_of | json_field prediction)
b64=$(base64 -w0 "$f")
post_url() { # HEADER B64-TEXT (JSON-escaped) -> status and prediction
    printf '{"imageData":"data:%s,%s"}' "$1" "$2" >"$T/u"
    local a
    a=$(req POST /api/predict application/json "$(stat -c %s "$T/u")" <"$T/u")
    echo "$(echo "$a" | status_of) $(echo "$a" | body_of | json_field prediction)"
}
crlf=$(base64 -w76 "$f" | sed 's/$/\\r\\n/' | tr -d '\n')
lf=$(base64 -w64 "$f" | sed 's/$/\\n/' | tr -d '\n')
spaced=$(echo "$b64" | sed 's/.\{40\}/& /g')
for v in "image/png;base64 $crlf" "image/png;base64 $lf" "image/png;base64 $spaced" \
    "image/png;charset=utf-8;base64 $b64" "image/png;name=digit.png;charset=x;base64 $b64" \
    "IMAGE/PNG;Base64 $b64"; do
    head=${v%% *} text=${v#* }
    got=$(post_url "$head" "$text")
    [ "$got" = "200 $want" ] || fail "data:$head,${text:0:90}...: '$got', want '200 $want'"
done
[ $FAILS = 0 ] && ok "data URLs: wrapped base64 and media-type parameters accepted"
[ $FAILS = 0 ] && ok "api" || exit 1
