#!/bin/bash
# Resolve (simulate) package groups against the run image's status; print Inst lines.
set -euo pipefail
A="/proto/apt-private.sh /proto/apt"
PHP="php8.4-cli php8.4-fpm php8.4-opcache php8.4-mysql php8.4-intl php8.4-curl php8.4-mbstring php8.4-xml php8.4-zip php8.4-gd php8.4-sqlite3 php8.4-pgsql php8.4-bcmath php-apcu php-redis"
for g in "ALL:$PHP composer apache2-bin nginx" "PHP:$PHP" "COMPOSER:composer" "APACHE:apache2-bin" "NGINX:nginx" "CLI:php8.4-cli"; do
  name=${g%%:*}; pk=${g#*:}
  echo "== $name: $pk"
  $A apt-get install --simulate -q $pk | awk '/^Inst /{print $2, $3}' | tr -d '()[]'
done
