#!/bin/bash
# End-to-end checks of heroku-php-apache2 / heroku-php-nginx in the run image:
# uid 52503 without passwd entry, read-only root, tmpfs /tmp, published on 127.0.0.1.
set -u
cd /tmp/php-proto
pass=0; fail=0
ok() { echo "ok   - $*"; pass=$((pass+1)); }
ko() { echo "FAIL - $*"; fail=$((fail+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }
run() { # NAME HOSTPORT WORKSPACE [docker opts...] -- COMMAND
  local name=$1 hp=$2 ws=$3; shift 3; local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done; shift
  docker rm -f "$name" >/dev/null 2>&1
  docker run -d --name "$name" --read-only --tmpfs /tmp --user 52503:52503 -e PORT=8000 -p 127.0.0.1:$hp:8000 \
    -v /tmp/php-proto/layer:/layers/toolforge_php/php:ro -v "$ws":/workspace:ro -w /workspace "${opts[@]}" \
    toolforge/run:trixie bash -c '. /layers/toolforge_php/php/env.sh; exec "$@"' bash "$@" >/dev/null
  for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$hp/" 2>/dev/null && return 0; curl -s -o /dev/null "http://127.0.0.1:$hp/" && return 0; sleep 0.1; done
}
WS=/tmp/php-proto/workspace APP=/tmp/php-proto/composer-app
for srv in apache2 nginx; do
  hp=$([ $srv = apache2 ] && echo 18080 || echo 18081)
  # 1. a missing document root: one line, exit 1
  out=$(docker run --rm --read-only --tmpfs /tmp --user 52503:52503 -v /tmp/php-proto/layer:/layers/toolforge_php/php:ro -v $WS:/workspace:ro -w /workspace toolforge/run:trixie bash -c ". /layers/toolforge_php/php/env.sh; heroku-php-$srv public_htm" 2>&1); rc=$?
  check "$srv: missing docroot fails with one line (rc=$rc): $out" test $rc = 1 -a "$(echo "$out" | wc -l)" = 1
  out=$(docker run --rm --user 52503:52503 -v /tmp/php-proto/layer:/layers/toolforge_php/php:ro toolforge/run:trixie bash -c ". /layers/toolforge_php/php/env.sh; heroku-php-$srv -x" 2>&1); rc=$?
  check "$srv: unknown option fails (rc=$rc): $out" test $rc = 1
  # 2. -p, -C, -F, -i, -l, -c (ignored)
  run t-$srv $hp $WS -e PORT=9999 -- heroku-php-$srv -p 8000 -C conf/$([ $srv = apache2 ] && echo httpd || echo nginx).inc.conf -F conf/fpm.inc.conf -i conf/php.ini -l /tmp/app.log -c ignored.conf public_html/
  body=$(curl -s http://127.0.0.1:$hp/settings.php)
  check "$srv: -p 8000 overrides PORT=9999; -F and -i applied: $body" grep -q '"memory_limit":"96M","short_open_tag":"1","FROM_FPM_INCLUDE":"from-include"' <<<"$body"
  check "$srv: extensions still loaded with -i" grep -q '"mbstring":true' <<<"$body"
  if [ $srv = apache2 ]; then
    body=$(curl -s http://127.0.0.1:$hp/fc/some/pretty/url)
    check "$srv: .htaccess mod_rewrite front controller: $body" grep -q 'front controller: /fc/some/pretty/url' <<<"$body"
  fi
  check "$srv: -C include applied" bash -c "curl -sI http://127.0.0.1:$hp/ | grep -qi '^X-Custom-Include: $([ $srv = apache2 ] && echo apache || echo nginx)'"
  docker exec t-$srv sh -c 'echo "line-from-app-log" >> /tmp/app.log'; sleep 1.5
  check "$srv: -l tails a log to stderr" bash -c "docker logs t-$srv 2>&1 | grep -q line-from-app-log"
  check "$srv: -c noted as ignored" bash -c "docker logs t-$srv 2>&1 | grep -q 'not supported; ignored'"
  # 3. FPM dies -> the container stops (non-zero)
  docker exec t-$srv sh -c 'kill -9 $(cat /tmp/php-web.8000/php-fpm.pid)'; sleep 2
  st=$(docker inspect -f '{{.State.Running}} {{.State.ExitCode}}' t-$srv)
  check "$srv: container exits when PHP-FPM dies ($st)" test "${st%% *}" = false -a "${st##* }" != 0
  docker rm -f t-$srv >/dev/null
  # 4. the Composer app with the app directory as document root: vendor/ and composer.* are not served
  run c-$srv $hp $APP -- heroku-php-$srv
  check "$srv: composer app's index.php via docroot '.'/public_html" bash -c "curl -s http://127.0.0.1:$hp/public_html/ | grep -q 'Hello, Toolforge, from PHP 8.4'"
  for p in vendor/autoload.php composer.json composer.lock; do
    code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$hp/$p)
    check "$srv: /$p hidden when docroot is the app dir ($code)" test "$code" = 404
  done
  docker rm -f c-$srv >/dev/null
  # 5. SIGTERM: graceful, exit 0
  run g-$srv $hp $WS -- heroku-php-$srv public_html
  start=$(date +%s%N); docker stop -t 10 g-$srv >/dev/null; ms=$(( ($(date +%s%N) - start) / 1000000 ))
  check "$srv: docker stop is graceful: exit $(docker inspect -f '{{.State.ExitCode}}' g-$srv) in ${ms} ms" test "$(docker inspect -f '{{.State.ExitCode}}' g-$srv)" = 0 -a $ms -lt 5000
  docker rm -f g-$srv >/dev/null
done
echo "$pass passed, $fail failed"
