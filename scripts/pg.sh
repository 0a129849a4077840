# shellcheck shell=bash
# PostgreSQL helpers shared by test.sh, run.sh, ledger and .ci/run. Source this file; don't run it.
#
# Everything talks to PostgreSQL over TCP on 127.0.0.1 with trust auth, so the calling scripts need no
# password handling and no Debian cluster wrappers (pg_ctlcluster); we drive the raw binaries in $PG_BIN.
# All progress messages go to stderr: stdout stays clean for test summaries and CLI output.

pg_log() { printf '[pg] %s\n' "$*" >&2; }
pg_die() { printf '[pg] ERROR: %s\n' "$*" >&2; return 1; }

# PostgreSQL refuses to run as root. As root we switch to the `postgres` user the Debian package creates;
# as anyone else the server simply runs as that user. `cd /` because postgres may not be allowed to read
# the caller's working directory (e.g. /root), which makes initdb/pg_ctl warn or fail.
# The start lock's descriptor is closed first: a postmaster inheriting it would hold the lock for its
# whole life and block every later run.sh/ledger.
as_pg() {
  (
    cd /
    if [[ -n ${PG_LOCK_FD:-} ]]; then exec {PG_LOCK_FD}>&-; fi
    if [[ $EUID -eq 0 ]]; then
      exec runuser -u postgres -- "$@"
    else
      exec "$@"
    fi
  )
}

# Give a directory to the server account (no-op when not root: we own what we create).
pg_own() {
  if [[ $EUID -eq 0 ]]; then chown postgres:postgres "$@"; fi
}

# The server opens its data dir by absolute path, so every ancestor must be traversable by the server
# account. Checking up front turns an obscure "could not change directory" failure into a clear message.
pg_assert_reachable() {
  local dir=$1 path="" part
  local -a parts
  [[ $EUID -eq 0 ]] || return 0
  IFS=/ read -r -a parts <<<"${dir#/}"
  for part in "${parts[@]}"; do
    path+="/$part"
    if ! as_pg test -x "$path" 2>/dev/null; then
      pg_die "user postgres cannot traverse $path (needed for $dir). Run 'chmod o+x $path', or point the script at another database (LEDGER_POSTGRES)."
      return 1
    fi
  done
}

_pg_find_bin() {
  local f found=()
  for f in /usr/lib/postgresql/*/bin/initdb; do [[ -x $f ]] && found+=("${f%/initdb}"); done
  (( ${#found[@]} )) || return 1
  # The newest major version wins (sort -V: 9.6 < 15).
  printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

# Sets and exports PG_BIN (directory with initdb, pg_ctl, psql, pg_isready). A fresh CI machine has no
# server binaries, so we install the Debian package then. PG_BIN may be preset to use another build.
ensure_pg_binaries() {
  if [[ -n ${PG_BIN:-} && -x $PG_BIN/initdb ]]; then export PG_BIN; return 0; fi
  PG_BIN=$(_pg_find_bin || true)
  if [[ -z $PG_BIN ]]; then
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
      command -v sudo >/dev/null || { pg_die "PostgreSQL server binaries are missing and we are not root: install the 'postgresql' package"; return 1; }
      sudo=(sudo)
    fi
    pg_log "PostgreSQL server binaries not found; installing the Debian 'postgresql' package"
    # The package would otherwise create (and maybe start) a 'main' cluster on 5432 that we never use.
    "${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    if [[ ! -e /etc/postgresql-common/createcluster.d/50-no-main-cluster.conf ]]; then
      echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/50-no-main-cluster.conf >/dev/null
    fi
    # apt's progress goes to stderr so that callers' stdout (CLI output, test summary) stays clean.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql </dev/null >&2
    PG_BIN=$(_pg_find_bin || true)
    [[ -n $PG_BIN ]] || { pg_die "installed 'postgresql' but found no /usr/lib/postgresql/*/bin/initdb"; return 1; }
  fi
  export PG_BIN
  pg_log "using PostgreSQL binaries in $PG_BIN"
}

# pick_free_port [FIRST]: prints the first port >= FIRST (default 55000) nothing listens on.
# There is a window between the probe and the server's bind; callers retry start_cluster on failure.
# No python or ss required: minimal CI images may lack both, bash's /dev/tcp is always there.
pick_free_port() {
  local port=${1:-55000} last=$(( ${1:-55000} + 2000 ))
  for (( ; port < last; port++ )); do
    if command -v ss >/dev/null 2>&1; then
      [[ -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]] || continue
    fi
    # A refused connection means no listener on the loopback address the server will bind.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  pg_die "no free TCP port in ${1:-55000}..$((last - 1))"
}

# init_cluster DATADIR [extra initdb args...]: creates the cluster unless DATADIR already holds one.
init_cluster() {
  local data=$1; shift
  [[ -f $data/PG_VERSION ]] && return 0
  mkdir -p "$data"
  chmod 700 "$data"
  pg_own "$data"
  pg_assert_reachable "$data" || return 1
  local locale out
  # C.UTF-8 sorts by code point like C but keeps UTF-8 character semantics; a libc without it gets C.
  for locale in C.UTF-8 C; do
    if out=$(as_pg "$PG_BIN/initdb" -D "$data" --auth=trust -U postgres --encoding=UTF8 --locale="$locale" "$@" 2>&1); then
      pg_log "initialised cluster in $data (locale $locale)"
      return 0
    fi
    pg_log "initdb with locale $locale failed"
    # initdb empties the directory it failed in, but be sure before the next attempt.
    find "$data" -mindepth 1 -delete 2>/dev/null || true
  done
  printf '%s\n' "$out" >&2
  pg_die "initdb failed for $data"
}

# cluster_running DATADIR: true when a live postmaster owns DATADIR (pg_ctl validates postmaster.pid).
cluster_running() {
  [[ -f $1/postmaster.pid ]] && as_pg "$PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1
}

# cluster_port DATADIR: the port a running cluster listens on (line 4 of postmaster.pid).
cluster_port() { sed -n 4p "$1/postmaster.pid"; }

# wait_ready PORT [SECONDS]: until the server on 127.0.0.1:PORT accepts connections.
wait_ready() {
  local port=$1 timeout=${2:-60} i
  for (( i = 0; i < timeout * 4; i++ )); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 && return 0
    sleep 0.25
  done
  pg_die "PostgreSQL on 127.0.0.1:$port not ready after ${timeout}s"
}

# The ledger's server settings, for every cluster the project's scripts start. Batch events are jsonb values of
# ~100 KB that PostgreSQL compresses when it stores them (TOAST): lz4 instead of the default pglz took about 3 µs of
# PostgreSQL CPU off every ingested usage record in bench/ingest.sh (README, "Usage at scale"). A server of your own
# should set default_toast_compression = lz4 too (PostgreSQL 14+, built with lz4, as Debian's and the official images are).
LEDGER_PG_SETTINGS=(max_connections=200 default_toast_compression=lz4)

# start_cluster DATADIR PORT SOCKETDIR LOGFILE [name=value ...]: starts the server listening on
# 127.0.0.1:PORT only, with extra settings passed as -c options (nothing is written to postgresql.conf,
# so settings and port can differ from one start to the next). Fails, showing the log, if it won't start.
start_cluster() {
  local data=$1 port=$2 sockdir=$3 logfile=$4; shift 4
  mkdir -p "$sockdir" "$(dirname "$logfile")"
  touch "$logfile"
  pg_own "$sockdir" "$logfile"
  # A unix socket path is limited to ~107 bytes; deep checkouts would break the start, so they get TCP only.
  local socket_dirs=$sockdir
  if (( ${#sockdir} + 16 > 107 )); then socket_dirs=""; fi
  # pg_ctl hands -o to /bin/sh, hence the %q quoting.
  local opts kv
  opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$(printf %q "$socket_dirs")"
  for kv in "$@"; do opts+=" -c $(printf %q "$kv")"; done
  local out
  if ! out=$(as_pg "$PG_BIN/pg_ctl" start -D "$data" -l "$logfile" -w -t 60 -o "$opts" 2>&1); then
    printf '%s\n' "$out" >&2
    pg_log "last lines of $logfile:"
    tail -n 20 "$logfile" >&2 || true
    pg_die "could not start PostgreSQL in $data on port $port"
    return 1
  fi
  wait_ready "$port" 30
  pg_log "PostgreSQL running on 127.0.0.1:$port (data $data)"
}

# stop_cluster DATADIR [MODE]: stops the server if it runs (MODE: fast (default), immediate, smart).
# Never fails, because it runs from exit traps; if pg_ctl cannot stop it, the postmaster is killed.
stop_cluster() {
  local data=$1 mode=${2:-fast} pid=""
  [[ -f $data/postmaster.pid ]] || return 0
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  if ! as_pg "$PG_BIN/pg_ctl" stop -D "$data" -m "$mode" -w -t 60 >/dev/null 2>&1; then
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      pg_log "pg_ctl stop failed; killing postmaster $pid"
      kill -QUIT "$pid" 2>/dev/null || true
      sleep 1
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  return 0
}

# --- The developer database used by run.sh and ledger (.data/postgres, persistent) -------------------

# ensure_dev_database ROOT: exports LEDGER_POSTGRES. A caller-supplied LEDGER_POSTGRES wins and no
# cluster is touched. Otherwise starts ROOT/.data/postgres if it is not already up (an instance started
# by another run.sh/ledger is reused) and creates database `ledger`. Sets DEV_PG_STARTED=1 only when this
# process started the server, so that only the starter stops it (stop_dev_database).
DEV_PG_STARTED=0
DEV_PG_DATA=""
ensure_dev_database() {
  local root=$1
  if [[ -n ${LEDGER_POSTGRES:-} ]]; then
    pg_log "using LEDGER_POSTGRES from the environment; not starting a local cluster"
    export LEDGER_POSTGRES
    return 0
  fi
  ensure_pg_binaries || return 1
  local dotdata=$root/.data
  local data=$dotdata/postgres port=${LEDGER_PG_PORT:-55432}
  DEV_PG_DATA=$data
  mkdir -p "$dotdata"
  chmod o+x "$dotdata" 2>/dev/null || true
  # run.sh and ledger may start at the same moment; only one of them must initdb/start.
  PG_LOCK_FD=""
  if command -v flock >/dev/null 2>&1; then
    exec {PG_LOCK_FD}>"$dotdata/pg.lock"
    flock "$PG_LOCK_FD"
  fi
  local rc=0
  _ensure_dev_cluster "$dotdata" "$data" "$port" || rc=$?
  if [[ -n $PG_LOCK_FD ]]; then exec {PG_LOCK_FD}>&-; PG_LOCK_FD=""; fi
  return "$rc"
}

_ensure_dev_cluster() {
  local dotdata=$1 data=$2 port=$3
  init_cluster "$data" || return 1
  if cluster_running "$data"; then
    port=$(cluster_port "$data")
    pg_log "reusing the PostgreSQL already running on 127.0.0.1:$port ($data); it will be left running"
    wait_ready "$port" 30 || return 1
  else
    start_cluster "$data" "$port" "$dotdata/run" "$dotdata/postgres.log" "${LEDGER_PG_SETTINGS[@]}" || {
      pg_log "hint: is port $port taken by something else? Set LEDGER_PG_PORT to use another port."
      return 1
    }
    DEV_PG_STARTED=1
  fi
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
  if [[ $("${psql[@]}" -tAc "select 1 from pg_database where datname = 'ledger'") != 1 ]]; then
    "${psql[@]}" -c 'create database ledger' >&2 || return 1
    pg_log "created database ledger"
  fi
  # The ledger reaches its own cluster through the unix socket when there is one: a round trip through it costs the
  # kernel less than one over loopback TCP (bench/ingest.sh, alternating runs: ~3% more records/s). Other clients can
  # still use 127.0.0.1:$port.
  if [[ -S $dotdata/run/.s.PGSQL.$port ]]; then
    export LEDGER_POSTGRES="Host=$dotdata/run;Port=$port;Username=postgres;Database=ledger"
  else
    export LEDGER_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=ledger"
  fi
}

# stop_dev_database: stops the developer cluster only if this process started it (safe in traps).
stop_dev_database() {
  if [[ ${DEV_PG_STARTED:-0} == 1 && -n $DEV_PG_DATA ]]; then
    DEV_PG_STARTED=0
    pg_log "stopping the PostgreSQL this script started"
    stop_cluster "$DEV_PG_DATA" fast
  fi
  return 0
}
