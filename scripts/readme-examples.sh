#!/usr/bin/env bash
# Runs every `curl` and `./ledger` example of README.md, in order, against a fresh demo ledger, and fails on an error
# status or an empty answer where one is not expected.
#
#   scripts/readme-examples.sh                      # own throwaway PostgreSQL + ./run.sh on free ports, removed after
#   LEDGER_EXAMPLES_URL=http://127.0.0.1:5080 LEDGER_POSTGRES='Host=…' scripts/readme-examples.sh   # an already running fresh demo
#
# An example passes when its status is below 400 and its body is not empty. A trailing comment naming a status
# (`# 409: already released`) expects exactly that status instead. Placeholders are filled from earlier answers:
# `{id}` with the id of the webhook created before, NEXT_OF_THE_PAGE_BEFORE with the previous page's `next`.
# Examples run from the repository root (so `@samples/usage.ndjson` resolves), with `Q`, `A`, `I` defined as in the README.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ledger-readme.XXXXXX")
chmod 755 "$WORK"
RUN_PID=""
OWN_PG=""

cleanup() {
  local rc=$?
  if [[ -n $RUN_PID ]] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  [[ -z $OWN_PG ]] || stop_cluster "$OWN_PG"
  rm -rf "$WORK" "$ROOT/july.csv"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${LEDGER_EXAMPLES_URL:-} ]]; then
  ensure_pg_binaries
  pg_own "$WORK"
  pg_assert_reachable "$WORK"
  init_cluster "$WORK/data" --no-sync
  port=$(pick_free_port 56300)
  start_cluster "$WORK/data" "$port" "$WORK" "$WORK/postgres.log" fsync=off synchronous_commit=off "${LEDGER_PG_SETTINGS[@]}"
  OWN_PG="$WORK/data"
  "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qAtc 'create database ledger' >/dev/null
  export LEDGER_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=ledger"
  http_port=$(pick_free_port 5300)
  LEDGER_EXAMPLES_URL="http://127.0.0.1:$http_port"
  echo "readme-examples: starting ./run.sh at $LEDGER_EXAMPLES_URL on a fresh database (log $WORK/host.log)" >&2
  LEDGER_URLS=$LEDGER_EXAMPLES_URL "$ROOT/run.sh" >"$WORK/host.log" 2>&1 </dev/null &
  RUN_PID=$!
fi
BASE=$LEDGER_EXAMPLES_URL

# Ready when the host answers (the demo is recorded before it listens) and every view has caught up with it.
started=$SECONDS
until [[ $(curl -s -o /dev/null -w '%{http_code}' -H X-Api-Key:dev-analyst "$BASE/api/reconciliation" || true) == 200 ]] &&
      curl -s -H X-Api-Key:dev-analyst "$BASE/api/reconciliation" | grep -q '"balanced":true'; do
  if (( SECONDS - started > 600 )); then
    echo "readme-examples: the ledger at $BASE was not ready and balanced within 600 s" >&2
    [[ -f $WORK/host.log ]] && tail -n 30 "$WORK/host.log" >&2
    exit 1
  fi
  if [[ -n $RUN_PID ]] && ! kill -0 "$RUN_PID" 2>/dev/null; then
    echo "readme-examples: ./run.sh exited" >&2
    tail -n 30 "$WORK/host.log" >&2
    exit 1
  fi
  sleep 2
done
echo "readme-examples: ledger ready after $((SECONDS - started)) s" >&2

# The README's examples as logical commands (continuation lines and multi-line quotes joined), one per NUL.
extract() {
  awk '
    function quotes(s,   n, i) { n = 0; for (i = 1; i <= length(s); i++) if (substr(s, i, 1) == "\047") n++; return n }
    /^```bash/ { inblock = 1; next }
    /^```/     { inblock = 0; next }
    !inblock   { next }
    {
      if (cmd != "") { cmd = cmd "\n" $0 }
      else if ($0 ~ /^(curl |\.\/ledger |for [a-z]+ in |[AIQ]=)/) { cmd = $0 }
      else { next }
      if (quotes(cmd) % 2 == 1 || cmd ~ /\\$/) next
      printf "%s%c", cmd, 0
      cmd = ""
    }' "$ROOT/README.md"
}

# Splits a trailing "# comment" (outside quotes) off a command.
split_comment() {
  local text=$1 i c quote="" out=""
  for (( i = 0; i < ${#text}; i++ )); do
    c=${text:i:1}
    if [[ -n $quote ]]; then
      [[ $c == "$quote" ]] && quote=""
    elif [[ $c == "'" || $c == '"' ]]; then
      quote=$c
    elif [[ $c == "#" && ( $i -eq 0 || ${text:i-1:1} == " " ) ]]; then
      COMMAND=$out
      COMMENT=${text:i}
      return
    fi
    out+=$c
  done
  COMMAND=$text
  COMMENT=""
}

STATUSES="$WORK/statuses"
BODY="$WORK/body"
# Every curl of an example goes through this: the status is kept, the body both kept and written to stdout (so
# `> file` in an example still works).
curl() {
  command curl -sS -o "$BODY" -w '%{http_code}\n' "$@" >>"$STATUSES"
  cat "$BODY"
}

cd "$ROOT"
failures=0 ran=0 webhook_id="" next=""
while IFS= read -r -d '' example; do
  split_comment "$example"
  command_text=${COMMAND//http:\/\/127.0.0.1:5080/$BASE}
  if [[ $command_text =~ ^[AIQ]= ]]; then
    eval "$command_text"
    continue
  fi

  command_text=${command_text//\{id\}/$webhook_id}
  command_text=${command_text//NEXT_OF_THE_PAGE_BEFORE/$next}
  expected=""
  [[ $COMMENT =~ ^\#[[:space:]]*([1-5][0-9][0-9])([^0-9]|$) ]] && expected=${BASH_REMATCH[1]}
  ran=$((ran + 1))
  : >"$STATUSES"
  : >"$BODY"
  problem=""
  if [[ $command_text == ./ledger* ]]; then
    if ! output=$(export LEDGER_NO_BUILD=1; eval "$command_text" 2>"$WORK/ledger.err"); then
      problem="exit status $? ($(tail -n 3 "$WORK/ledger.err" | tr '\n' ' '))"
    elif [[ -z $output && ! ( $command_text =~ --out\ ([^ ]+) && -s ${BASH_REMATCH[1]} ) ]]; then
      problem="empty output"
    fi
    printf '%s' "$output" >"$BODY"
  else
    eval "$command_text" >/dev/null || problem="curl failed ($?)"
    while read -r status; do
      if [[ -n $expected ]]; then
        [[ $status == "$expected" ]] || problem+="status $status, expected $expected; "
      elif (( status >= 400 || status < 200 )); then
        problem+="status $status; "
      elif [[ $status != 204 && ! -s $BODY ]]; then
        problem+="empty answer; "
      fi
    done <"$STATUSES"
    [[ -s $STATUSES ]] || problem+="no request was sent; "
  fi

  body=$(head -c 300 "$BODY" | tr '\n' ' ')
  if [[ -n $problem ]]; then
    failures=$((failures + 1))
    printf 'FAIL  %s\n      %s\n      answer: %s\n' "${command_text//$'\n'/ }" "$problem" "$body" >&2
  else
    printf 'ok    %s\n' "$(head -c 150 <<<"${command_text//$'\n'/ }")"
  fi

  if [[ $command_text == *"/api/webhooks -d"* ]]; then
    webhook_id=$(grep -o '"id":"[^"]*"' "$BODY" | head -n 1 | cut -d'"' -f4 || true)
  fi
  next=$(grep -o '"next":"[^"]*"' "$BODY" | head -n 1 | cut -d'"' -f4 || true)
done < <(extract)

echo "readme-examples: $ran examples, $failures failed" >&2
(( ran > 0 && failures == 0 ))
