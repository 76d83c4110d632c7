#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster and a throwaway Redis.
#
#   scripts/test-services.sh COMMAND [ARGS...]
#   scripts/test-services.sh .venv/bin/python -m pytest -q tests/
#
# What it does:
#   1. installs postgresql / redis-server from Debian's packages if missing
#      (one `apt-get update`, then `apt-get install -y`; needs root or sudo);
#   2. starts a PostgreSQL cluster (initdb into a temp dir, trust auth,
#      127.0.0.1 only, fsync off) and a Redis (no persistence) on free high
#      ports, and creates the database `propensity_test`;
#   3. exports
#        PROPENSITY_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/propensity_test
#        PROPENSITY_TEST_REDIS_URL=redis://127.0.0.1:PORT/0
#      (plus PROPENSITY_TEST_PG_PORT / PROPENSITY_TEST_REDIS_PORT) and runs COMMAND;
#   4. ALWAYS stops both servers and deletes their temp dir (EXIT/INT/TERM/HUP
#      trap), then exits with COMMAND's exit code.
#
# The `postgres` role is a superuser, so tests may CREATE DATABASE freely
# (e.g. one database per pytest-xdist worker).
#
# Tunables (environment):
#   PROPENSITY_TEST_PG_PORT, PROPENSITY_TEST_REDIS_PORT  fixed ports instead of random free ones
#   PROPENSITY_TEST_PG_DBNAME   database to create (default propensity_test)
#   PG_OS_USER                  OS user that owns the cluster when run as root (default postgres)
#   SERVICES_VERBOSE=1          print more while starting/stopping
set -euo pipefail

log() { printf '[test-services] %s\n' "$*" >&2; }
vlog() { if [[ "${SERVICES_VERBOSE:-0}" == 1 ]]; then log "$@"; fi; }
die() { log "ERROR: $*"; exit 1; }

if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
  [[ $# -eq 0 ]] && exit 2 || exit 0
fi
[[ "$1" == "--" ]] && shift

DBNAME="${PROPENSITY_TEST_PG_DBNAME:-propensity_test}"
PG_OS_USER="${PG_OS_USER:-postgres}"
PG_SUPERUSER=postgres

# ---------------------------------------------------------------- helpers ---
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

pg_bindir() {
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_isready" ]]; then
    printf '%s\n' "$d"
  fi
}

ensure_packages() {
  local missing=()
  [[ -n "$(pg_bindir)" ]] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null 2>&1 \
    || die "missing ${missing[*]} and no apt-get; install them yourself"
  log "installing ${missing[*]} from the Debian packages (one-time)..."
  # Keep the distro's own postgresql/redis services from starting on install:
  # we only want the throwaway servers this script starts. (Docker images
  # usually ship this file already; if we create it, we remove it again.)
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    made_policy=1
  fi
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
  if ((rc == 0)); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null || rc=$?
  fi
  ((made_policy)) && as_root rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get failed (exit $rc) installing ${missing[*]}"
  [[ -n "$(pg_bindir)" ]] || die "postgresql installed but no /usr/lib/postgresql/*/bin found"
  command -v redis-server >/dev/null 2>&1 || die "redis-server installed but not on PATH"
}

# Print N distinct TCP ports in 20000-32767 (below Linux's ephemeral range, so
# outgoing connections will not grab them) that are free on 127.0.0.1 right now.
free_ports() {
  local n="$1" picked=() p tries=0
  while ((${#picked[@]} < n)); do
    ((++tries > 500)) && die "could not find $n free ports"
    p=$((20000 + RANDOM % 12768))
    [[ " ${picked[*]-} " == *" $p "* ]] && continue
    # If something accepts a connection there, the port is taken.
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
    picked+=("$p")
  done
  printf '%s\n' "${picked[@]}"
}

# Run a PostgreSQL server-side command as the cluster owner (initdb and
# postgres refuse to run as root), from inside the temp dir so the owner can
# always read its working directory. `setpriv` execs without forking, so `$!`
# of a backgrounded as_pg_exec is the server's own pid.
as_pg_exec() {
  cd "$PG_DIR"
  if [[ $EUID -eq 0 ]]; then
    exec setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "$@"
  else
    exec "$@"
  fi
}
as_pg() { (as_pg_exec "$@"); }

redis_ping() {
  local reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 1 reply <&3 || true
  exec 3<&- 3>&-
  [[ "$reply" == "+PONG"* ]]
}

# ---------------------------------------------------------------- cleanup ---
WORK_DIR=""
PG_DIR=""
PGBIN=""
PG_PID=""
REDIS_PID=""

# shellcheck disable=SC2317  # invoked by trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  local t0=$SECONDS
  if [[ -n "$REDIS_PID" ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
    vlog "stopping redis (pid $REDIS_PID)"
    kill -TERM "$REDIS_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
  fi
  if [[ -n "$PG_PID" ]] && kill -0 "$PG_PID" 2>/dev/null; then
    vlog "stopping postgresql (pid $PG_PID)"
    # SIGQUIT = immediate shutdown: no checkpoint, the cluster is thrown away.
    kill -QUIT "$PG_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$PG_PID" 2>/dev/null
    wait "$PG_PID" 2>/dev/null
  fi
  if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then
    rm -rf -- "$WORK_DIR"
  fi
  vlog "services stopped and cleaned up in $((SECONDS - t0))s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------ start ---
ensure_packages
PGBIN="$(pg_bindir)"
command -v setpriv >/dev/null 2>&1 || [[ $EUID -ne 0 ]] || die "setpriv (util-linux) not found"
if [[ $EUID -eq 0 ]] && ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
  die "OS user '$PG_OS_USER' does not exist (initdb refuses to run as root); set PG_OS_USER"
fi

# Short base path: the PostgreSQL unix socket path must stay under ~100 chars.
WORK_DIR="$(mktemp -d /tmp/propensity-svc.XXXXXX)"
chmod 755 "$WORK_DIR"
PG_DIR="$WORK_DIR/pg"
REDIS_DIR="$WORK_DIR/redis"
mkdir -p "$PG_DIR" "$REDIS_DIR"
if [[ $EUID -eq 0 ]]; then chown "$PG_OS_USER" "$PG_DIR"; fi

t_start=$(date +%s.%N)

mapfile -t ports < <(free_ports 2)
PG_PORT="${PROPENSITY_TEST_PG_PORT:-${ports[0]}}"
REDIS_PORT="${PROPENSITY_TEST_REDIS_PORT:-${ports[1]}}"

# --- PostgreSQL
vlog "initdb with $PGBIN"
as_pg "$PGBIN/initdb" -D "$PG_DIR/data" -U "$PG_SUPERUSER" -A trust -E UTF8 \
  --no-locale --no-sync >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
vlog "starting postgresql on 127.0.0.1:$PG_PORT"
# The postmaster runs as a direct child of this script (not daemonized by
# pg_ctl), so we can wait for it and no orphan/zombie is left behind even in
# containers whose PID 1 does not reap.
as_pg_exec "$PGBIN/postgres" -D "$PG_DIR/data" \
  -c listen_addresses=127.0.0.1 -p "$PG_PORT" -k "$PG_DIR" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=200 </dev/null >"$PG_DIR/server.log" 2>&1 &
PG_PID=$!
for _ in $(seq 1 600); do
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" && break
  kill -0 "$PG_PID" 2>/dev/null || break
  sleep 0.05
done
if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER"; then
  tail -n 30 "$PG_DIR/server.log" >&2 || true
  die "postgresql failed to start on port $PG_PORT"
fi
"$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" "$DBNAME" \
  || die "createdb $DBNAME failed"

# --- Redis
vlog "starting redis on 127.0.0.1:$REDIS_PORT"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
  --daemonize no --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" \
  --protected-mode yes </dev/null >/dev/null 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do
  redis_ping && break
  kill -0 "$REDIS_PID" 2>/dev/null || break
  sleep 0.05
done
if ! redis_ping; then
  tail -n 30 "$REDIS_DIR/redis.log" >&2 || true
  die "redis failed to start on port $REDIS_PORT"
fi

t_ready=$(date +%s.%N)
export PROPENSITY_TEST_DATABASE_URL="postgresql+psycopg://${PG_SUPERUSER}@127.0.0.1:${PG_PORT}/${DBNAME}"
export PROPENSITY_TEST_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
export PROPENSITY_TEST_PG_PORT="$PG_PORT" PROPENSITY_TEST_REDIS_PORT="$REDIS_PORT"
log "PostgreSQL $(basename "$(dirname "$PGBIN")") at 127.0.0.1:$PG_PORT, Redis at 127.0.0.1:$REDIS_PORT" \
  "(ready in $(awk -v a="$t_start" -v b="$t_ready" 'BEGIN{printf "%.1f", b-a}')s)"
log "PROPENSITY_TEST_DATABASE_URL=$PROPENSITY_TEST_DATABASE_URL"
log "PROPENSITY_TEST_REDIS_URL=$PROPENSITY_TEST_REDIS_URL"

# ------------------------------------------------------------------- run ---
# Run COMMAND in the background (keeping our stdin) and wait for it, so a
# SIGTERM/SIGHUP sent to this script alone (e.g. a CI timeout) is forwarded
# to COMMAND at once instead of waiting for it to finish. Ctrl-C reaches
# COMMAND directly from the terminal (same process group); we then let it
# finish its own teardown before stopping the servers.
CHILD_PID=""
# shellcheck disable=SC2317  # invoked by trap
on_signal() {
  if [[ -n "$CHILD_PID" ]] && kill -0 "$CHILD_PID" 2>/dev/null; then
    [[ "$1" != INT ]] && kill -"$1" "$CHILD_PID" 2>/dev/null
    wait "$CHILD_PID" 2>/dev/null
  fi
  exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP
set +e
if env --default-signal=INT true 2>/dev/null; then
  # A background job of a non-interactive shell starts with SIGINT/SIGQUIT
  # ignored; restore them so Ctrl-C still interrupts pytest.
  env --default-signal=INT,QUIT "$@" <&0 &
  CHILD_PID=$!
  wait "$CHILD_PID"
  rc=$?
  # wait returns early (>128) when a trapped signal arrives; the trap exits.
else
  "$@"  # old coreutils: plain foreground (signals to this script are handled after COMMAND ends)
  rc=$?
fi
set -e
exit "$rc"
