# stack_lib.sh: start the real stack for a test (sourced): a digitd pool on a unix socket
# and nginx running nginx.conf.example (rewritten by scripts/nginx-from-example.sh) on a
# free loopback port, both in a private temp dir, both stopped on exit.
# Needs DIGITD (binary) and ROOT (source tree). Sets STACK_DIR, PORT, BASE, POOL_PID (and B,
# the second pool's dir, after second_pool_start).
set -u
STACK_DIR=$(mktemp -d /tmp/digitd-stack.XXXXXX)
POOL_PID="" NGINX_PID="" PORT="" BASE=""
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# Run as root, the private nginx keeps root workers: its pools' sockets are in 0700 temp dirs
# (scripts/run.sh instead runs pool and workers as nobody).
export NGINX_USER=root

stack_stop() {
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
    [ -s "$STACK_DIR/digitd.pid" ] && kill -TERM "$(cat "$STACK_DIR/digitd.pid")" 2>/dev/null
    wait 2>/dev/null
    if [ "${STACK_FAILED:-0}" -ne 0 ]; then
        echo "--- digitd log:"; cat "$STACK_DIR/digitd.log" 2>/dev/null
        echo "--- nginx error log:"; tail -20 "$STACK_DIR/error.log" 2>/dev/null
    fi
    rm -rf "$STACK_DIR"
}
trap stack_stop EXIT

# pool_start [digitd options]: (re)starts the pool on $STACK_DIR/digitd.sock.
pool_start() {
    rm -f "$STACK_DIR/digitd.pid"
    "$DIGITD" --listen "unix:$STACK_DIR/digitd.sock" --pid-file "$STACK_DIR/digitd.pid" "$@" \
        2>>"$STACK_DIR/digitd.log" &
    POOL_PID=$!
    for _ in $(seq 100); do [ -s "$STACK_DIR/digitd.pid" ] && return 0; sleep 0.1; done
    echo "digitd did not start"; STACK_FAILED=1; exit 1
}

pool_stop() {
    kill -TERM "$(cat "$STACK_DIR/digitd.pid")" 2>/dev/null
    wait "$POOL_PID" 2>/dev/null
    rm -f "$STACK_DIR/digitd.pid"
}

# nginx_start: picks a free port (retrying if another process takes it first).
nginx_start() {
    for _ in $(seq 20); do
        PORT=$((20000 + RANDOM % 20000))
        "$ROOT/scripts/nginx-from-example.sh" "$STACK_DIR" "$PORT" "$STACK_DIR/digitd.sock"
        "$NGINX" -p "$STACK_DIR" -c "$STACK_DIR/nginx.conf" \
            -e "$STACK_DIR/error.log" -g 'daemon off;' 2>>"$STACK_DIR/error.log" &
        NGINX_PID=$!
        BASE="http://127.0.0.1:$PORT"
        for _ in $(seq 50); do
            curl -s -o /dev/null "$BASE/" && return 0
            kill -0 "$NGINX_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=""
    done
    echo "nginx did not start"; STACK_FAILED=1; exit 1
}

# second_pool_start: a second pool of 2 children in $STACK_DIR/b (socket digitd.sock, pid,
# log), added to nginx's upstream beside the first (as a second host would be); nginx
# reloaded. Call after nginx_start.
second_pool_start() {
    B=$STACK_DIR/b
    mkdir -p "$B"
    "$DIGITD" --listen "unix:$B/digitd.sock" --pid-file "$B/pid" --workers 2 2>>"$B/log" &
    for _ in $(seq 100); do [ -s "$B/pid" ] && break; sleep 0.1; done
    [ -s "$B/pid" ] || { echo "second pool did not start"; STACK_FAILED=1; exit 1; }
    sed -i "s|^\(\s*server unix:$STACK_DIR/digitd.sock\)\(.*\)$|&\n        server unix:$B/digitd.sock\2|" "$STACK_DIR/nginx.conf"
    [ "$(grep -c '^\s*server unix:' "$STACK_DIR/nginx.conf")" = 2 ] ||
        { echo "upstream not rewritten"; STACK_FAILED=1; exit 1; }
    kill -HUP "$NGINX_PID"
    sleep 1 # new nginx workers with both pools
}
