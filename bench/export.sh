#!/usr/bin/env bash
# FOCUS export benchmark, one command:
#
#   bench/export.sh                    # 1,000,000 usage records
#   bench/export.sh --records 200000
#
# Starts a throwaway PostgreSQL cluster (the settings of ./run.sh's, scripts/pg.sh) and the Release host as a process of its own
# (Development keys, demo data), posts N usage records (NDJSON batches of 10,000, two at a time) and waits until the
# async projections have folded them. Then it restarts the host, so its peak RSS (VmHWM) counts start-up and the export
# only, exports the whole range over HTTP (GET /api/export/focus.csv?from=2000-01-01&to=2100-12-31) and prints the
# duration, rows/s and the host's peak RSS; then the same export through the CLI (`export focus --out`). Removes the
# cluster and stops the host at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../scripts/pg.sh
source scripts/pg.sh
# shellcheck source=../scripts/host.sh
source scripts/host.sh

HOST_PID=""
stop_host() {
  [[ -n $HOST_PID ]] || return 0
  kill -TERM "$HOST_PID" 2>/dev/null || true
  wait "$HOST_PID" 2>/dev/null || true
  HOST_PID=""
}

ensure_pg_binaries
PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ledger-bench-pg.XXXXXX")
chmod 700 "$PG_TMP"
pg_own "$PG_TMP"
cleanup() { stop_host; stop_cluster "$PG_TMP/data" fast; rm -rf "$PG_TMP"; }
trap cleanup EXIT
init_cluster "$PG_TMP/data" --no-sync
PORT=$(pick_free_port $((40000 + RANDOM % 20000)))
start_cluster "$PG_TMP/data" "$PORT" "$PG_TMP" "$PG_TMP/postgres.log" "${LEDGER_PG_SETTINGS[@]}"
"$PG_BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -c "create database ledger" postgres

build_host -v quiet
dotnet build bench/Export/Export.csproj -c Release -v quiet -nologo >&2
LEDGER_POSTGRES="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=ledger"
HTTP_PORT=$(pick_free_port $((40000 + RANDOM % 20000)))
LEDGER_URLS=http://127.0.0.1:$HTTP_PORT
host_env
mkdir -p bench/results

start_host() {
  # A session of its own: a signal meant for the terminal's process group (Ctrl-C) reaches it only through cleanup.
  (cd "$HOST_OUT" && exec setsid "${HOST_DLL%.dll}") >> bench/results/export-host.log 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 300); do
    if curl -fsS "$LEDGER_URLS/health/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$HOST_PID" 2>/dev/null || { echo "bench: the host exited; see bench/results/export-host.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "bench: the host did not become ready" >&2
  exit 1
}

BENCH="dotnet bench/Export/bin/Release/net10.0/bench-export.dll"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), $("$PG_BIN/postgres" --version)"
: > bench/results/export-host.log
start_host
$BENCH load --url "$LEDGER_URLS" --database "$LEDGER_POSTGRES" "$@"
stop_host
start_host
$BENCH export --url "$LEDGER_URLS" --database "$LEDGER_POSTGRES" --host-pid "$HOST_PID" --host-dll "$HOST_DLL" "$@"
