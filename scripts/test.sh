#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what is missing, build, run ctest.
#   scripts/test.sh [extra ctest args]
# MNIST_DIR (default ../shared/mnist) and KERAS_MODELS_DIR (default ../shared/keras-models)
# say where the data sets are; BUILD_DIR (default build) where to build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-build}
mnist=${MNIST_DIR:-$root/../shared/mnist}
keras=${KERAS_MODELS_DIR:-$root/../shared/keras-models}

scripts/install-deps.sh --test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDIGITD_WERROR=ON \
      -DMNIST_DIR="$mnist" -DKERAS_MODELS_DIR="$keras"
cmake --build "$build" -j"$(nproc)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
ctest --test-dir "$build" --output-on-failure -j2 "$@"
