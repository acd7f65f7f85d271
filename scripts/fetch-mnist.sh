#!/usr/bin/env bash
# Downloads the four MNIST IDX .gz files and verifies their SHA-256.
#   scripts/fetch-mnist.sh [DIR]
# DIR defaults to $MNIST_DIR, else data/mnist. Files already present with the right
# checksum are kept. Mirrors are tried in order; MNIST_MIRRORS (space-separated base URLs,
# file:// works too) replaces the built-in list.
set -euo pipefail

dir=${1:-${MNIST_DIR:-data/mnist}}
mirrors=${MNIST_MIRRORS:-"https://ossci-datasets.s3.amazonaws.com/mnist/
https://storage.googleapis.com/cvdf-datasets/mnist/
http://yann.lecun.com/exdb/mnist/"}

# The published checksums (the same as ../shared/mnist/SHA256SUMS).
declare -A sha=(
  [train-images-idx3-ubyte.gz]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
  [train-labels-idx1-ubyte.gz]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
  [t10k-images-idx3-ubyte.gz]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
  [t10k-labels-idx1-ubyte.gz]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
)
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz
       t10k-labels-idx1-ubyte.gz)

say() { echo "fetch-mnist: $*" >&2; }
command -v curl >/dev/null || { say "curl is needed (apt-get install curl)"; exit 1; }
command -v sha256sum >/dev/null || { say "sha256sum is needed (coreutils)"; exit 1; }

checksum_ok() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

mkdir -p "$dir" || { say "$dir: cannot create directory"; exit 1; }
failed=0
for f in "${files[@]}"; do
  dest="$dir/$f"
  if [ -f "$dest" ] && checksum_ok "$dest" "${sha[$f]}"; then
    say "$dest: present, checksum ok"
    continue
  fi
  got=0
  for m in $mirrors; do
    tmp="$dest.part"
    if curl -fsSL --retry 2 --connect-timeout 15 -o "$tmp" "${m%/}/$f"; then
      if checksum_ok "$tmp" "${sha[$f]}"; then
        mv -f "$tmp" "$dest"
        say "$dest: downloaded from ${m%/}/, checksum ok"
        got=1
        break
      fi
      say "${m%/}/$f: SHA-256 mismatch (expected ${sha[$f]}), trying the next mirror"
    else
      say "${m%/}/$f: download failed, trying the next mirror"
    fi
    rm -f "$tmp"
  done
  if [ "$got" = 0 ]; then
    say "$dest: no mirror gave a file with the right checksum"
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
say "all four files in $dir verified"
