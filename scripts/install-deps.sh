#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages digitd needs, only those missing.
#   scripts/install-deps.sh            build + run (what scripts/run.sh needs)
#   scripts/install-deps.sh --test     also what the test suite needs (browser, FastCGI client)
# Uses sudo when not root. Does nothing (and needs no privileges) when all are present.
set -euo pipefail

build_pkgs=(build-essential cmake ninja-build pkg-config zlib1g-dev libhdf5-dev libcjson-dev libfcgi-dev libzip-dev
            libspng-dev libsodium-dev libturbojpeg0-dev)
run_pkgs=(nginx-light curl)
test_pkgs=(libfcgi-bin chromium nodejs npm hdf5-tools python3 xvfb hershey-fonts-data clang libclang-rt-14-dev)  # python3: a free port, a stand-in server; xvfb: a headed browser; hershey-fonts-data: letters for the verdict test; clang, libclang-rt-14-dev: the libFuzzer build (tests/fuzz)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${want[@]}"; do
  case "$p" in
    nginx-light) # any nginx flavour will do
      command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx) ;;
    nodejs|npm) # a Node.js from elsewhere (nvm, NodeSource) is fine too
      command -v "${p/nodejs/node}" >/dev/null 2>&1 || missing+=("$p") ;;
    *) installed "$p" || missing+=("$p") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
