#!/usr/bin/env bash
# Ingestion benchmark, one command:
#
#   bench/ingest.sh                                   # 1,000,000 records, batch 1000, concurrency 2
#   bench/ingest.sh --records 200000 --batch 2000 --concurrency 4
#   bench/ingest.sh --warmup 0                        # measure from a cold host (default: 20,000 records first, untimed)
#   LEDGER_BENCH_TELEMETRY=off bench/ingest.sh         # the host without OpenTelemetry (default on: traces + metrics)
#
# Starts ./run.sh (Release host + its project-local PostgreSQL, demo data loaded) in the background, waits until it
# is ready, posts the records over HTTP as the dev ingest key, waits for the projections, then COPYs the same rows
# into a plain table for the ratio. Stops what it started. To measure a host that is already running instead, set
# LEDGER_BENCH_URL (and LEDGER_POSTGRES for its database). On a shared machine, LEDGER_URLS and LEDGER_PG_PORT give the
# host and its cluster other ports, as they do for ./run.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

URL=${LEDGER_BENCH_URL:-}
RUN_PID=""
cleanup() {
  if [[ -n $RUN_PID ]] && kill -0 "$RUN_PID" 2>/dev/null; then
    # TERM, not INT: a background job ignores SIGINT, and run.sh must stop the host and its cluster.
    kill -TERM "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

TELEMETRY=${LEDGER_BENCH_TELEMETRY:-on}
if [[ -z $URL ]]; then
  URL=${LEDGER_URLS:-http://127.0.0.1:5080}
  # Telemetry off is the host's own switch (src/Host/Infrastructure/Telemetry/Configuration.cs): no tracer, no meters.
  if [[ $TELEMETRY == off ]]; then export Ledger__Telemetry__Enabled=false; fi
  if curl -fsS "$URL/health/ready" >/dev/null 2>&1; then
    echo "bench: something already answers at $URL; stop it, or set LEDGER_BENCH_URL to benchmark it" >&2
    exit 1
  fi
  mkdir -p bench/results
  echo "bench: starting ./run.sh (log: bench/results/run.log)" >&2
  ./run.sh > bench/results/run.log 2>&1 &
  RUN_PID=$!
  for _ in $(seq 1 600); do
    if curl -fsS "$URL/health/ready" >/dev/null 2>&1; then break; fi
    kill -0 "$RUN_PID" 2>/dev/null || { echo "bench: run.sh exited; see bench/results/run.log" >&2; exit 1; }
    sleep 1
  done
  curl -fsS "$URL/health/ready" >/dev/null || { echo "bench: the host did not become ready" >&2; exit 1; }
fi

dotnet build bench/Ingest/Ingest.csproj -c Release -v quiet -nologo >&2
echo "telemetry: $TELEMETRY"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), $(psql --version 2>/dev/null | head -1)"
DATABASE=${LEDGER_POSTGRES:-Host=127.0.0.1;Port=${LEDGER_PG_PORT:-55432};Username=postgres;Database=ledger}
dotnet bench/Ingest/bin/Release/net10.0/bench-ingest.dll --url "$URL" --database "$DATABASE" --concurrency 2 "$@"
