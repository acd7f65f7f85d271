#!/usr/bin/env bash
# browser_run.sh DIGITD [--screenshot OUT.png]: starts the real stack (tests/lib/stack_lib.sh:
# nginx running nginx.conf.example in front of a digitd pool) and runs the Chromium test
# tests/browser/draw.test.mjs against it; with --screenshot, makes the README's pictures of
# the page instead (tests/browser/screenshot.mjs: OUT.png and OUT-phone.png), e.g.
#   bash tests/browser_run.sh build/digitd --screenshot web/screenshot.png
# The test also drives a headed Chromium (the pen-up-to-answer check), so it runs under
# xvfb-run unless a DISPLAY is already set. Its photo checks upload phone photos made by
# tests/tools/photo_set.c: PHOTO_SET (the binary) and MNIST_DIR name what makes them (ctest
# sets both: tests/CMakeLists.txt).
# Needs nginx, node, curl, /usr/bin/chromium, xvfb-run (scripts/install-deps.sh --test installs
# them) and playwright-core + axe-core (npm ci in tests/browser); a missing one fails the
# test, by name.
set -u
DIGITD=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
shot=""
[ "${2:-}" = --screenshot ] && shot=$(realpath -m "${3:?--screenshot needs a file}")

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=("nginx (package nginx-light)")
command -v node >/dev/null 2>&1 || missing+=("node (package nodejs)")
command -v curl >/dev/null 2>&1 || missing+=("curl")
[ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium (package chromium)")
[ -x "$DIGITD" ] || missing+=("the digitd binary $DIGITD (build it first)")
[ -n "${DISPLAY:-}" ] || [ -n "$shot" ] || command -v xvfb-run >/dev/null 2>&1 || missing+=("xvfb-run (package xvfb)")
[ -n "$shot" ] || { [ -x "${PHOTO_SET:-}" ] && [ -f "${MNIST_DIR:-}/t10k-images-idx3-ubyte.gz" ]; } ||
    missing+=("the photos' maker: PHOTO_SET=build/photo_set and MNIST_DIR=DIR (ctest sets them)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "FAIL: the browser test cannot run: missing ${missing[*]}."
    echo "      Install them with: scripts/install-deps.sh --test   (scripts/test.sh does it)"
    exit 1
fi
for m in playwright-core axe-core; do [ -d "$ROOT/tests/browser/node_modules/$m" ] || {
    echo "FAIL: the browser test cannot run: tests/browser/node_modules/$m is missing."
    echo "      Install it with: (cd tests/browser && npm ci)   (scripts/test.sh does it)"
    exit 1; }; done

. "$ROOT/tests/lib/stack_lib.sh"
pool_start --workers 2
nginx_start
if [ -n "$shot" ]; then
    node "$ROOT/tests/browser/screenshot.mjs" "$BASE" "$shot" || { STACK_FAILED=1; exit 1; }
else
    # four phone photos (2-3 MP, one stored upside down with an EXIF orientation) and a
    # 12 MP one, from the photos the photo tests use (5000 on)
    photos="$STACK_DIR/photos"
    mkdir -p "$photos/phone" "$photos/big"
    "$PHOTO_SET" "$MNIST_DIR" "$photos/phone" jpeg 5000 4 &&
        "$PHOTO_SET" "$MNIST_DIR" "$photos/big" jpeg 5000 1 4000 3000 ||
        { echo "FAIL: photo_set exit status $?"; STACK_FAILED=1; exit 1; }
    headed=()
    [ -n "${DISPLAY:-}" ] || headed=(xvfb-run -a -s "-screen 0 1280x1024x24")
    "${headed[@]}" node "$ROOT/tests/browser/draw.test.mjs" "$BASE" "$STACK_DIR/digitd.pid" "$photos" ||
        { STACK_FAILED=1; exit 1; }
fi
