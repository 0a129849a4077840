#!/usr/bin/env bash
# Builds the ledger and serves it at http://127.0.0.1:5080 (LEDGER_URLS overrides). Ctrl-C stops it.
#
#   ./run.sh              # serve; extra args go to the host (e.g. JasperFx subcommands)
#
# Database: LEDGER_POSTGRES (Npgsql connection string) if set; otherwise a project-local cluster in
# .data/postgres on 127.0.0.1:55432 (LEDGER_PG_PORT overrides), created on first run and kept between
# runs. A cluster this script starts is stopped when it exits; one that was already running is left alone.
# The host creates its schema and demo data itself.
# shellcheck disable=SC2317  # functions only called from traps look unreachable to shellcheck
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"
# shellcheck source=scripts/host.sh
source "$ROOT/scripts/host.sh"

HOST_PID=""

stop_host() {
  [[ -n $HOST_PID ]] || return 0
  local pid=$HOST_PID i
  HOST_PID=""
  kill -0 "$pid" 2>/dev/null || return 0
  echo "run.sh: stopping the host (pid $pid)" >&2
  kill -TERM "$pid" 2>/dev/null || true
  # Give Wolverine/Marten time to drain; after 30s it is stuck and gets killed.
  for (( i = 0; i < 300; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: host did not stop within 30s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

on_exit() {
  local rc=$?
  # The host first: it must not see its database disappear under it.
  stop_host
  stop_dev_database
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Build before touching the database: a compile error should not leave a cluster starting for nothing.
# shellcheck disable=SC2119  # no extra build args here
build_host
ensure_dev_database "$ROOT"
host_env

echo "run.sh: starting the ledger at $ASPNETCORE_URLS (environment $ASPNETCORE_ENVIRONMENT)" >&2
# The host runs in the background so that this shell can react to Ctrl-C/TERM at once (bash defers traps
# while a foreground child runs) and stop the host before the cluster. <&0 keeps stdin, which bash would
# otherwise replace with /dev/null for a background job.
cd "$HOST_OUT"
dotnet "$HOST_DLL" "$@" <&0 &
HOST_PID=$!

rc=0
wait "$HOST_PID" || rc=$?
HOST_PID=""
exit "$rc"
