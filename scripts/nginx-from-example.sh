#!/usr/bin/env bash
# Writes a private nginx config from nginx.conf.example, so that scripts/run.sh and the
# tests run the production file itself with only these rewritten: the listen address, the
# upstream socket, the web root, and pid/log/temp paths (into RUN_DIR, so no root needed).
#   scripts/nginx-from-example.sh RUN_DIR PORT SOCKET [WEB_ROOT [HOST]]   -> RUN_DIR/nginx.conf
# WEB_ROOT empty or absent: web/ of this tree. HOST: the address to listen on (default
# 127.0.0.1; an IPv6 address with or without brackets, 0.0.0.0 or :: for every interface).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { echo "usage: $0 RUN_DIR PORT SOCKET [WEB_ROOT [HOST]]" >&2; exit 2; }
run=$(cd "$1" && pwd)
port=$2 sock=$3 web=${4:-$root/web} host=${5:-127.0.0.1}
case "$port" in ''|*[!0-9]*) echo "$0: port '$port' is not a number" >&2; exit 2 ;; esac
# Goes into the config as is: letters, digits and . _ - : only (a name, IPv4 or IPv6).
host=${host#\[} host=${host%\]}
case "$host" in ''|*[!A-Za-z0-9._:-]*) echo "$0: host '$host' is not an address or host name" >&2; exit 2 ;; esac
case "$host" in *:*) listen="[$host]:$port" ;; *) listen="$host:$port" ;; esac
mkdir -p "$run/tmp"
# Who nginx's workers run as. Not root: as root, nginx runs them as NGINX_USER (default
# nobody), who must be able to connect to the pool's socket (scripts/run.sh runs the pool as
# that user too). Tests, whose pools sit in private 0700 temp dirs, say NGINX_USER=root
# explicitly. Not root: the workers stay the invoking user (nginx cannot switch).
user_line="# user: the invoking user (private instance)"
if [ "$(id -u)" -eq 0 ]; then
  nuser=${NGINX_USER:-nobody}
  id "$nuser" >/dev/null 2>&1 || { echo "$0: user '$nuser' does not exist" >&2; exit 1; }
  user_line="user $nuser $(id -gn "$nuser");"
fi

# Every rewritten line must exist in the example: a changed example fails here, loudly.
for s in 'user www-data;' 'pid /run/nginx.pid;' 'error_log /var/log/nginx/error.log warn;' \
         'access_log /var/log/nginx/digitd.access.log' 'server unix:/run/digitd/digitd.sock' \
         'listen 80 default_server;' 'listen [::]:80 default_server;' 'root /srv/digitd/web;' \
         '/var/lib/nginx/body;'; do
  grep -qF -- "$s" "$root/nginx.conf.example" || {
    echo "$0: nginx.conf.example no longer contains '$s'" >&2; exit 1; }
done

sed -e "s|^user www-data;.*|$user_line|" \
    -e "s|pid /run/nginx.pid;|pid $run/nginx.pid;|" \
    -e "s|error_log /var/log/nginx/error.log warn;|error_log $run/error.log warn;|" \
    -e "s|access_log /var/log/nginx/digitd.access.log|access_log $run/access.log|" \
    -e "s|/var/lib/nginx/\([a-z]*\);|$run/tmp/\1;|" \
    -e "s|server unix:/run/digitd/digitd.sock|server unix:$sock|" \
    -e "s|listen 80 default_server;|listen $listen;|" \
    -e "s|listen \[::\]:80 default_server;||" \
    -e "s|root /srv/digitd/web;|root $web;|" \
    -e "s|worker_processes auto;|worker_processes ${NGINX_WORKERS:-auto};|" \
    "$root/nginx.conf.example" > "$run/nginx.conf"
