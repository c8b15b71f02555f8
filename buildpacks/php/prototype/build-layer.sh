#!/bin/bash
# The whole build-time flow, as the unprivileged build user in toolforge/build:trixie:
#   1. apt with private state, resolving against the run image's dpkg status (+ stubs)
#   2. download exactly the resolved packages
#   3. dpkg-deb -x each into the layer (no maintainer scripts), drop docs/man/locales
#   4. configure-php.sh: ini files, conf.d, php.ini, composer paths, env, start scripts
# usage (in the build image, /proto = /tmp/php-proto): build-layer.sh [LAYER]
set -euo pipefail
L=${1:-/layers/toolforge_php/php}
A=(/proto/apt-private.sh /proto/apt)
PACKAGES=(php8.4-cli php8.4-fpm php8.4-opcache php8.4-mysql php8.4-intl php8.4-curl php8.4-mbstring
          php8.4-xml php8.4-zip php8.4-gd php8.4-sqlite3 php8.4-pgsql php8.4-bcmath php-apcu php-redis
          composer apache2-bin nginx)
t0=$(date +%s)
"${A[@]}" apt-get -q update >/dev/null
/proto/stub-status.sh /tmp/run-image-status
apt() { "${A[@]}" apt-get -o Dir::State::status=/tmp/run-image-status "$@"; }
mapfile -t resolved < <(apt install --simulate -q "${PACKAGES[@]}" | awk '/^Inst /{for (i = 3; i <= NF; i++) if ($i ~ /^\(/) {print $2 "=" substr($i, 2); break}}')
echo "resolved ${#resolved[@]} packages against the run image"
apt install --download-only --yes -q "${resolved[@]}" >/dev/null
rm -rf "${L:?}"/*; mkdir -p "$L"
bytes=0
for pv in "${resolved[@]}"; do
  p=${pv%%=*}; v=${pv#*=}
  f=$(ls /proto/apt/archives/"${p}_${v//:/%3a}"_*.deb)   # apt writes an epoch "2:" as "2%3a"
  bytes=$((bytes + $(stat -c %s "$f")))
  dpkg-deb -x "$f" "$L"
done
echo "downloaded $((bytes / 1024 / 1024)) MiB of .deb files"
find "$L/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
find "$L/usr/share/doc" -depth -type d -empty -delete 2>/dev/null || true
rm -rf "$L"/usr/share/{man,info,lintian,linda} "$L"/var   # var/: empty Debian state dirs (sessions, nginx)
find "$L/usr/share/locale" -mindepth 1 ! -name locale.alias -delete 2>/dev/null || true
ln -sfn php8.4 "$L/usr/bin/php"                 # the php alternative (php8.4-cli's postinst)
ln -sfn php-fpm8.4 "$L/usr/sbin/php-fpm"
/proto/configure-php.sh "$L"
echo "layer: $(du -sh "$L" | cut -f1) in $(( $(date +%s) - t0 )) s"
