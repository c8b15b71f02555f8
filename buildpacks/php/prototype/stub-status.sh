#!/bin/bash
# Writes a copy of the run image's dpkg status with stub entries for packages that only matter to
# maintainer scripts or init systems, so that apt treats them as installed and neither they nor
# their dependencies are downloaded. A version suffix keeps apt from "repairing" the stub with
# the archive's dependencies of the same version.
# usage: stub-status.sh OUT_FILE
set -euo pipefail
out=$1
cp /usr/local/lib/toolforge-stack/run-image/dpkg-status "$out"
for p in systemd ucf psmisc iproute2; do
  v=$(/proto/apt-private.sh /proto/apt apt-cache policy "$p" | awk '/Candidate:/{print $2}')
  printf '\nPackage: %s\nStatus: install ok installed\nPriority: optional\nMaintainer: toolforge-php stub\nArchitecture: amd64\nVersion: %s+toolforge-stub\nDescription: stub, never installed: not needed in a container\n' "$p" "$v" >> "$out"
done
