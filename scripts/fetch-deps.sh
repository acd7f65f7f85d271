#!/usr/bin/env bash
# Fetches the sources of Debian 12's libspng and zlib, for the build to compile libspng at -O3
# and the libFuzzer build both with the sanitizers and fuzzer coverage (worker/input/deps; the
# configure step runs this into BUILD/deps).
#   scripts/fetch-deps.sh DIR
# Leaves DIR/libspng-0.7.3 and DIR/zlib-1.2.13.dfsg. The upstream (.orig) tarballs come from
# Debian's source packages (apt-get source --download-only, through a private deb-src list
# made from this machine's own apt sources, so no system file changes and no root is
# needed), and must match the SHA-256 pinned in deps.sha256 beside this script. Debian's
# patches to both touch only their build systems, so the .orig sources are the code Debian
# ships. Where apt cannot fetch sources (a mirror or proxy that serves no Sources indexes),
# the same .orig files are taken from the pool/ of each Debian URI the machine's apt uses.
# Tarballs already in DIR/dl with the pinned checksums are not fetched again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: fetch-deps.sh DIR}
mkdir -p "$dir/dl"
dir=$(cd "$dir" && pwd)
cd "$dir/dl"

pinned() { (cd "$dir/dl" && sha256sum --quiet -c "$here/deps.sha256" >/dev/null 2>&1); }

# The machine's Debian archive URIs (deb822 and one-line sources), one per line.
archive_uris() {
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p'
}

# Each pinned tarball from the first archive whose pool/ has it.
from_pool() {
  local f path uri
  for f in libspng_0.7.3.orig.tar.gz zlib_1.2.13.dfsg.orig.tar.bz2; do
    case $f in libspng*) path=pool/main/libs/libspng ;; *) path=pool/main/z/zlib ;; esac
    for uri in $(archive_uris | grep -v -- '-security' | sort -u); do
      curl -fsSL --retry 2 -o "$f.part" "${uri%/}/$path/$f" && mv "$f.part" "$f" && break
    done
    rm -f "$f.part"
  done
}

if ! pinned; then
  apt="$dir/apt"
  rm -rf "$apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
  # deb-src twins of the machine's Debian entries (deb822 .sources and one-line .list)
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/sources.list.d/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb[[:space:]]/deb-src /p' "$f" >"$apt/sources.list.d/$(basename "$f").list"
  done
  opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt/sources.list.d"
        -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Debug::NoLocking=1
        -o APT::Sandbox::User="$(id -un)")
  # a repository without sources (a third-party one) only warns; the download below is
  # what must succeed
  apt-get "${opts[@]}" -qq update || echo "fetch-deps: apt-get update reported errors" >&2
  # the release's versions (a security update's source may sit where this mirror has none;
  # zlib's touches only minizip, which we do not build)
  if ! apt-get "${opts[@]}" -qq source --download-only libspng=0.7.3-3 zlib=1:1.2.13.dfsg-1; then
    echo "fetch-deps: apt-get source failed; trying the archives' pool/ directly" >&2
    from_pool
  fi
  if ! (cd "$dir/dl" && sha256sum -c "$here/deps.sha256"); then
    echo "fetch-deps: the pinned Debian sources (scripts/deps.sha256) could not be fetched or do not match" >&2
    exit 1
  fi
fi

for t in libspng_0.7.3.orig.tar.gz zlib_1.2.13.dfsg.orig.tar.bz2; do
  tar -xf "$t" -C "$dir"
done
echo "fetch-deps: libspng 0.7.3 and zlib 1.2.13 sources in $dir"
