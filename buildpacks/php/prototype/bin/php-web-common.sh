# Shared by heroku-php-apache2 and heroku-php-nginx (sourced, not run).
# Prototype for a Toolforge PHP buildpack: PHP, FPM and the web servers live in the layer $L,
# the root filesystem is read-only, /tmp is writable, the uid has no passwd entry.

L=${TOOLFORGE_PHP_LAYER:-/layers/toolforge_php/php}
PHPV=8.4
prog=$(basename "$0")

die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }
verbose() { if [ -n "${verbose:-}" ]; then echo "$prog: $*" >&2; fi; return 0; }

print_help() {
  cat >&2 <<HELP
Boots PHP-FPM together with $server_name, in the foreground, on Toolforge.

Usage: $prog [options] [DOCUMENT_ROOT]

DOCUMENT_ROOT is relative to the current directory (the app, /workspace) or absolute;
it must exist. Default: the current directory.

Options:
  -C FILE   $server_name config file to include in the server/vhost section
  -F FILE   PHP-FPM config file to include at the end of the [www] pool section
  -i FILE   php.ini for PHP-FPM instead of the buildpack's (the conf.d scan dir still applies)
  -l FILE   log file to tail to stderr (created if missing; repeatable)
  -p PORT   port to listen on (default: \$PORT, else 8000)
  -v        verbose
  -h        this help
Accepted and ignored (Heroku compatibility): -c FILE, -f FILE (full config replacement), -t.
Environment: WEB_CONCURRENCY (PHP-FPM workers; default from the memory limit / ${PHP_FPM_WORKER_MIB:-128} MiB).
HELP
}

# Heroku's arguments. Files are relative to the app directory (the current directory).
parse_args() {
  fpm_include= server_include= php_ini= verbose= logs=()
  local opt
  OPTIND=1
  while getopts ":C:c:F:f:i:l:p:tvh" opt; do
    case $opt in
      C) server_include=$(realpath -e -- "$OPTARG" 2>/dev/null) || die "cannot read -C '$OPTARG'";;
      F) fpm_include=$(realpath -e -- "$OPTARG" 2>/dev/null) || die "cannot read -F '$OPTARG'";;
      i) php_ini=$(realpath -e -- "$OPTARG" 2>/dev/null) || die "cannot read -i '$OPTARG'";;
      l) logs+=("$OPTARG");;
      p) PORT=$OPTARG;;
      v) verbose=1;;
      c|f) note "-$opt '$OPTARG' (replace the whole config) is not supported; ignored, use -C/-F to add to it";;
      t) note "-t (config test) is not supported; ignored";;
      h) print_help; exit 0;;
      :) die "option -$OPTARG requires an argument";;
      \?) die "invalid option -$OPTARG (see -h)";;
    esac
  done
  shift $((OPTIND - 1))
  [ $# -le 1 ] || die "too many arguments: one DOCUMENT_ROOT at most, after the options"
  PORT=${PORT:-8000}
  [[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "invalid port '$PORT'"
  local root=${1:-.}
  [ -d "$root" ] || die "document root '$root' does not exist (in $(pwd))"
  DOCUMENT_ROOT=$(realpath -e -- "$root")
  APP_DIR=$(pwd -P)
  export PORT DOCUMENT_ROOT
}

# Memory limit of this container in bytes (cgroup v2, then v1), empty when unlimited.
# CGROUP_ROOT only for tests.
cgroup_memory_limit() {
  local cg=${CGROUP_ROOT:-/sys/fs/cgroup} v
  if [ -r "$cg/memory.max" ]; then                       # cgroup v2 (unified)
    v=$(cat "$cg/memory.max"); [ "$v" = max ] || echo "$v"
  elif [ -r "$cg/memory/memory.limit_in_bytes" ]; then   # cgroup v1
    v=$(cat "$cg/memory/memory.limit_in_bytes")
    # "unlimited" is a huge page-rounded number (9223372036854771712)
    [ "${#v}" -ge 19 ] || echo "$v"
  fi
}

# CPUs this container may use: cgroup quota (v2 cpu.max, v1 cfs), else nproc. At least 1.
cgroup_cpus() {
  local cg=${CGROUP_ROOT:-/sys/fs/cgroup} q p n
  if [ -r "$cg/cpu.max" ]; then read -r q p < "$cg/cpu.max"
  elif [ -r "$cg/cpu/cpu.cfs_quota_us" ]; then q=$(cat "$cg/cpu/cpu.cfs_quota_us"); p=$(cat "$cg/cpu/cpu.cfs_period_us")
  fi
  n=$(nproc)
  if [[ ${q:-max} =~ ^[0-9]+$ ]] && [ "$q" -gt 0 ]; then
    q=$(( (q + p - 1) / p )); [ "$q" -lt "$n" ] && n=$q
  fi
  echo $(( n < 1 ? 1 : n ))
}

# PHP-FPM workers: WEB_CONCURRENCY, else memory limit / PHP_FPM_WORKER_MIB (128), clamped to [2, 32].
fpm_workers() {
  local per=${PHP_FPM_WORKER_MIB:-128} limit n
  if [[ ${WEB_CONCURRENCY:-} =~ ^[0-9]+$ ]] && [ "$WEB_CONCURRENCY" -ge 1 ]; then
    echo "$WEB_CONCURRENCY"; return
  fi
  limit=$(cgroup_memory_limit)
  if [ -z "$limit" ]; then   # no limit: the machine's memory
    limit=$(( $(awk '/^MemTotal:/{print $2}' /proc/meminfo) * 1024 ))
  fi
  n=$(( limit / (per * 1024 * 1024) ))
  [ "$n" -lt 2 ] && n=2; [ "$n" -gt 32 ] && n=32
  echo "$n"
}

setup_runtime() {
  RUN=${TMPDIR:-/tmp}/php-web.$PORT
  mkdir -p "$RUN" || die "cannot create $RUN"
  FPM_SOCK=$RUN/php-fpm.sock
  WORKERS=$(fpm_workers)
  CPUS=$(cgroup_cpus)
  local mem; mem=$(cgroup_memory_limit)
  verbose "memory limit ${mem:-none}, cpus $CPUS, PHP-FPM workers $WORKERS"
  for f in "${logs[@]}"; do
    touch "$f" 2>/dev/null || die "cannot create log file '$f'"
    tail -n 0 -q -F "$f" >&2 &
  done
}

write_fpm_conf() {
  local max=$WORKERS start min_spare max_spare
  start=$(( max < 2 ? max : 2 )); min_spare=1; max_spare=$(( max / 2 > start ? max / 2 : start ))
  cat > "$RUN/php-fpm.conf" <<FPM
; Generated by $prog
[global]
pid = $RUN/php-fpm.pid
error_log = /proc/self/fd/2
log_level = notice
; a line per message, not split at 1024 bytes
log_limit = 8192
daemonize = no
; restart if children keep crashing
emergency_restart_threshold = 10
emergency_restart_interval = 1m
; FPM is built with systemd support; there is no systemd here
systemd_interval = 0

[www]
; no user/group: FPM is not root, and the uid has no name
listen = $FPM_SOCK
listen.mode = 0600
pm = dynamic
pm.max_children = $max
pm.start_servers = $start
pm.min_spare_servers = $min_spare
pm.max_spare_servers = $max_spare
pm.max_requests = 1000
; the tool's environment (TOOL_*, secrets from envvars) reaches PHP's getenv()/\$_SERVER
clear_env = no
catch_workers_output = yes
decorate_workers_output = no
; the pool's own php.ini overrides could go here (php_admin_value[...])
FPM
  if [ -n "$fpm_include" ]; then echo "include = $fpm_include" >> "$RUN/php-fpm.conf"; fi
}

start_fpm() {
  local args=(--nodaemonize --fpm-config "$RUN/php-fpm.conf")
  if [ -n "$php_ini" ]; then args+=(-c "$php_ini"); fi
  "$L/usr/sbin/php-fpm$PHPV" "${args[@]}" &
  FPM_PID=$!
  local i
  for i in $(seq 50); do
    [ -S "$FPM_SOCK" ] && return 0
    kill -0 "$FPM_PID" 2>/dev/null || { wait "$FPM_PID"; die "PHP-FPM failed to start"; }
    sleep 0.1
  done
  die "PHP-FPM did not open $FPM_SOCK within 5 s"
}

# Runs the server ($@) in the background next to FPM; exits when either exits.
# SIGTERM/SIGINT: graceful stop of the server ($STOP_SIGNAL), then of FPM (SIGQUIT).
supervise() {
  "$@" &
  SERVER_PID=$!
  trap 'stop' TERM INT
  note "PHP $PHPV-FPM ($WORKERS workers) and $server_name on port $PORT, document root $DOCUMENT_ROOT"
  local status=0
  wait -n "$FPM_PID" "$SERVER_PID" || status=$?
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then note "$server_name exited ($status)"; else note "PHP-FPM exited ($status)"; fi
  stop "$status"
}

stop() {
  trap - TERM INT
  kill -"$STOP_SIGNAL" "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
  kill -QUIT "$FPM_PID" 2>/dev/null; wait "$FPM_PID" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null   # log tails
  exit "${1:-0}"
}
