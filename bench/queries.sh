#!/usr/bin/env bash
# Time-travel query benchmark, one command:
#
#   bench/queries.sh                 # histories of 10,000 and 1,000,000 usage events
#   bench/queries.sh 10000 100000    # other sizes
#   bench/queries.sh --spread        # the earlier shape: every size's known times over the same 100 days
#
# Starts a throwaway PostgreSQL cluster (the settings of ./run.sh's, scripts/pg.sh), hosts the ledger in-process per size with a
# simulated clock, adds records at a steady rate per known and valid day (see bench/Queries/Program.cs for why), and
# prints p50/p95 of eligibility and chip-spend queries with asOf and knownAt in the past (whole days and instants), the
# first page of a lineage, and the restatements of one known day. Removes the cluster at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../scripts/pg.sh
source scripts/pg.sh

ensure_pg_binaries
PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ledger-bench-pg.XXXXXX")
chmod 700 "$PG_TMP"
pg_own "$PG_TMP"
cleanup() { stop_cluster "$PG_TMP/data" fast; rm -rf "$PG_TMP"; }
trap cleanup EXIT
init_cluster "$PG_TMP/data" --no-sync
PORT=$(pick_free_port 56000)
start_cluster "$PG_TMP/data" "$PORT" "$PG_TMP" "$PG_TMP/postgres.log" "${LEDGER_PG_SETTINGS[@]}"

dotnet build bench/Queries/Queries.csproj -c Release -v quiet -nologo >&2
LEDGER_BENCH_SERVER="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=postgres" \
  dotnet bench/Queries/bin/Release/net10.0/bench-queries.dll "$@"
