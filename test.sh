#!/usr/bin/env bash
# Runs the whole test suite against a real, throwaway PostgreSQL and removes it afterwards.
# The last line printed is always "N passed, N failed, N skipped" (CI reads only that line).
#
#   ./test.sh                                   # everything
#   ./test.sh --filter-class 'ComputeLedger.*'  # extra args go to `dotnet test` (xunit.v3 MTP filters)
#
# Database for the tests (C# fixture reads LEDGER_TEST_POSTGRES):
#   - LEDGER_TEST_POSTGRES already set by the caller: used as is, nothing is started;
#   - a Docker engine answers: left unset, the fixture starts PostgreSQL with Testcontainers;
#   - otherwise: a temporary local cluster on a free port, removed on exit whatever happens.
#
# Browser for the dashboard tests: Debian's Chromium (scripts/chromium.sh apt-installs it when missing; LEDGER_CHROMIUM
# overrides the path). The front end's chart library is npm-installed by the host's build from web/dashboard's lock file.
#
# Message broker for the tests (C# tests read LEDGER_TEST_RABBITMQ, an amqp:// URI, and skip without it):
#   - LEDGER_TEST_RABBITMQ already set by the caller: used as is, nothing is started;
#     LEDGER_TEST_RABBITMQ=none: no broker, the broker tests are skipped;
#   - otherwise: a throwaway local RabbitMQ (scripts/rabbitmq.sh; apt-installs `rabbitmq-server` if missing)
#     on a free port, removed on exit; if it cannot be had, the broker tests are skipped (said on stderr).
# shellcheck disable=SC2317  # functions only called from traps look unreachable to shellcheck
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/rabbitmq.sh
source scripts/rabbitmq.sh
# shellcheck source=scripts/chromium.sh
source scripts/chromium.sh

# The summary parser reads English labels; keep the CLI quiet and off the network.
export DOTNET_CLI_UI_LANGUAGE=en DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

RESULTS_DIR=TestResults
LOG=$RESULTS_DIR/test.log
mkdir -p "$RESULTS_DIR"

PG_TMP=""
SUMMARY_PRINTED=0

teardown_pg() {
  [[ -n $PG_TMP ]] || return 0
  stop_cluster "$PG_TMP/data" immediate
  # Keep the server log next to the test log: it is the only trace left of the cluster.
  cp -f "$PG_TMP/postgres.log" "$RESULTS_DIR/postgres.log" 2>/dev/null || true
  rm -rf "$PG_TMP"
  PG_TMP=""
}

teardown_rabbitmq() {
  [[ -n $RMQ_TMP ]] || return 0
  # Killed outright like the cluster: its data goes anyway. The node's log is kept next to the test log.
  rmq_stop_throwaway "$RMQ_TMP" immediate "$RESULTS_DIR/rabbitmq.log"
}

on_exit() {
  local rc=$?
  teardown_pg
  teardown_rabbitmq
  # Dying before the tests ran (cluster failed to start, Ctrl-C, ...) must still end with a summary line.
  if [[ $SUMMARY_PRINTED == 0 ]]; then
    echo "test.sh: aborted before a test summary was available (exit code $rc)" >&2
    echo "0 passed, 1 failed, 0 skipped"
    (( rc != 0 )) || rc=1
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_throwaway_pg() {
  ensure_pg_binaries
  PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ledger-test-pg.XXXXXX")
  chmod 700 "$PG_TMP"
  pg_own "$PG_TMP"
  pg_assert_reachable "$PG_TMP"
  # --no-sync: nothing here has to survive a crash, and initdb's fsyncs are most of its run time.
  init_cluster "$PG_TMP/data" --no-sync
  # Durability is pointless for a database deleted in a minute; the tests run many clients in parallel.
  local settings=(fsync=off synchronous_commit=off full_page_writes=off
                  max_connections=300 shared_buffers=256MB default_toast_compression=lz4)
  local port=55000 attempt
  # Another process can grab the port between the probe and the bind; then try the next one.
  for attempt in 1 2 3 4 5; do
    port=$(pick_free_port "$port")
    if start_cluster "$PG_TMP/data" "$port" "$PG_TMP" "$PG_TMP/postgres.log" "${settings[@]}"; then
      export LEDGER_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=100"
      return 0
    fi
    port=$((port + 1))
  done
  echo "test.sh: could not start a throwaway PostgreSQL (attempts: $attempt)" >&2
  return 1
}

# The dashboard's browser tests drive Debian's Chromium; they fail (never skip) without it.
ensure_chromium

if [[ -n ${LEDGER_TEST_POSTGRES:-} ]]; then
  echo "test.sh: using LEDGER_TEST_POSTGRES from the environment" >&2
elif command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
  echo "test.sh: Docker engine available; the tests start PostgreSQL with Testcontainers" >&2
  unset LEDGER_TEST_POSTGRES
else
  start_throwaway_pg
fi

case ${LEDGER_TEST_RABBITMQ:-} in
  none)
    echo "test.sh: LEDGER_TEST_RABBITMQ=none: broker tests will be skipped" >&2
    unset LEDGER_TEST_RABBITMQ
    ;;
  ?*)
    echo "test.sh: using LEDGER_TEST_RABBITMQ from the environment" >&2
    export LEDGER_TEST_RABBITMQ
    ;;
  *)
    # A missing broker is not a test failure: the broker tests skip, visibly, and the rest still runs.
    if rmq_start_throwaway 60; then
      export LEDGER_TEST_RABBITMQ=$RMQ_URI
      echo "test.sh: LEDGER_TEST_RABBITMQ=$LEDGER_TEST_RABBITMQ (throwaway broker)" >&2
    else
      echo "test.sh: RabbitMQ unavailable (${RMQ_ERROR:-see the messages above}): broker tests will be skipped" >&2
      unset LEDGER_TEST_RABBITMQ
    fi
    ;;
esac

args=(--solution ComputeLedger.sln -c Release --no-ansi)
# With a filter some test projects match nothing; MTP reports those with exit code 8 ("zero tests ran")
# and fails the run. Only a filtered run tolerates that; the total is still checked below.
if (( $# > 0 )); then args+=(--ignore-exit-code 8); fi

echo "test.sh: dotnet test ${args[*]} $*" >&2
# stdin from /dev/null: CI runs us without stdin, and no test may wait for input.
set +e
dotnet test "${args[@]}" "$@" </dev/null 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

# Stop the cluster and the broker before reporting so that nothing is printed after the summary line.
teardown_pg
teardown_rabbitmq

# MTP ends with one block per `dotnet test` invocation:
#   Test run summary: Passed!      (or Failed! / Zero tests ran)
#     <one line per test module>
#     error: N                     (only when a module crashed or ran no tests)
#     total: N / failed: N / succeeded: N / skipped: N / duration: ...
# Sum every block in case there are several. Only lines inside a block count, so test output that
# happens to contain "total: 3" cannot skew the numbers. ANSI escapes are stripped in case colours leak.
read -r blocks total failed succeeded skipped errors < <(
  sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$LOG" | awk '
    /^Test run summary:/ { inblock = 1; blocks++; next }
    inblock && /^[[:space:]]*[a-z]+:[[:space:]]*[0-9]+[[:space:]]*$/ {
      key = $1; sub(/:$/, "", key); n[key] += $2; next
    }
    inblock && /^[[:space:]]*duration:/ { inblock = 0 }
    END { printf "%d %d %d %d %d %d\n", blocks, n["total"], n["failed"], n["succeeded"], n["skipped"], n["error"] + n["errors"] }
  ')

status=0
if (( blocks == 0 )); then
  echo "test.sh: no test summary found in $LOG (build failure or crash?); dotnet test exit code $rc" >&2
  succeeded=0 skipped=0 failed=1 status=1
else
  if (( errors > 0 )); then
    echo "test.sh: $errors test module(s) errored (crashed or ran no tests); counted as failed" >&2
    failed=$((failed + errors))
  fi
  if (( total == 0 )); then
    echo "test.sh: no test ran" >&2
    (( failed > 0 )) || failed=1
    status=1
  fi
  if (( rc != 0 )); then
    echo "test.sh: dotnet test exited with code $rc" >&2
    (( failed > 0 )) || failed=1
    status=1
  fi
  (( failed == 0 )) || status=1
fi
echo "test.sh: full log in $LOG" >&2

SUMMARY_PRINTED=1
echo "$succeeded passed, $failed failed, $skipped skipped"
exit "$status"
