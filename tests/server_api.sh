#!/bin/bash
# server_api.sh DIGITD SERVER_PNGS MNIST_DIR: predict (PNG body and JSON data URL, both
# routes) on real MNIST digits rendered as canvas PNGs, health and metrics, through FastCGI.
DIGITD=$1
. "$(dirname "$0")/server_lib.sh"
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
for k in status model source params sha256 keras_version version isa uptime_s pid; do
    echo "$h" | body_of | grep -q "\"$k\":" || fail "health lacks $k"
done
[ "$(echo "$h" | body_of | json_field pid)" = "$(master)" ] || fail "health pid is not the master's"

m=$(req GET /api/metrics </dev/null | body_of)
n=$(echo "$m" | sed -n 's/^digitd_requests_total{route="predict",code="200"} //p')
[ "$n" = "$answered" ] || fail "metrics count $n predictions, expected $answered (from any child)"
for k in digitd_request_duration_seconds_bucket digitd_in_flight digitd_child_restarts_total \
    digitd_model_info 'digitd_workers 2'; do
    echo "$m" | grep -q "$k" || fail "metrics lack $k"
done
[ $FAILS = 0 ] && ok "api" || exit 1
