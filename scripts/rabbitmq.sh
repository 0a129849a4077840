# shellcheck shell=bash
# A throwaway local RabbitMQ broker for the tests (test.sh). Source this file for the functions, or run it:
#
#   eval "$(bash scripts/rabbitmq.sh start)"   # stdout: export LEDGER_TEST_RABBITMQ=amqp://... RMQ_TMP=...
#   bash scripts/rabbitmq.sh stop "$RMQ_TMP"   # stops that broker and deletes its directory
#   bash scripts/rabbitmq.sh install           # only make sure the package is installed
#
# Like scripts/pg.sh it drives the raw server script from Debian's `rabbitmq-server` package (installed
# with apt-get when missing), never systemd or the init script: the node runs in its own session with
# everything (data, logs, config, Erlang cookie, pid files) in one temporary directory, on free ports
# (AMQP on 127.0.0.1 and ::1, Erlang distribution, and a private epmd), with no plugins enabled. The URI
# uses the default guest/guest account, which RabbitMQ only accepts from loopback, which is all we need.
# All progress messages go to stderr: stdout stays clean for test summaries and the `start` output.
# shellcheck disable=SC2317,SC2034  # trap-only functions look unreachable; RMQ_* results are read by callers

rmq_log() { printf '[rabbitmq] %s\n' "$*" >&2; }
# rmq_fail REASON: records REASON in RMQ_ERROR (one line, for the caller's "unavailable (...)" message).
rmq_fail() { RMQ_ERROR=$*; printf '[rabbitmq] ERROR: %s\n' "$*" >&2; return 1; }

# Results for the callers (see rmq_start_throwaway).
RMQ_ERROR="" RMQ_PORT="" RMQ_NODE=""
RMQ_TMP=""
RMQ_URI=""

# Directory holding the unwrapped server script. /usr/sbin/rabbitmq-server is a wrapper that su's to the
# rabbitmq user and forces the package's paths, so it is not used. RMQ_BIN may point at another install.
_rmq_default_bin=/usr/lib/rabbitmq/bin

_rmq_have_binaries() { [[ -x ${RMQ_BIN:-$_rmq_default_bin}/rabbitmq-server ]]; }

# rmq_ensure_binaries: sets RMQ_BIN; installs the Debian package (non-interactively) when it is missing.
rmq_ensure_binaries() {
  RMQ_BIN=${RMQ_BIN:-$_rmq_default_bin}
  if _rmq_have_binaries; then return 0; fi
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    # -n: never prompt (CI has no stdin); failing at once is better than hanging.
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      rmq_fail "rabbitmq-server is not installed and we are neither root nor allowed passwordless sudo"
      return 1
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || { rmq_fail "rabbitmq-server is not installed and there is no apt-get"; return 1; }
  rmq_log "rabbitmq-server not found; installing the Debian 'rabbitmq-server' package"
  # Without systemd the package's postinst would start a system-wide broker on 5672 through its init
  # script. policy-rc.d (exit 101 = "not allowed") stops that; Docker-style images already ship one.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    if printf '#!/bin/sh\n# temporary, from ComputeLedger scripts/rabbitmq.sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null \
       && "${sudo[@]}" chmod 755 "$policy"; then
      made_policy=1
    fi
  fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=120)
  local rc=0
  # apt's output goes to stderr so that the callers' stdout stays clean. The package lists are only
  # refreshed when the install fails with the ones we have (stale or missing lists).
  if ! "${apt[@]}" install --no-install-recommends rabbitmq-server </dev/null >&2; then
    rmq_log "apt-get install failed; running apt-get update and trying again"
    # (update is bounded: with no route to the mirrors it could otherwise wait on every one of them.)
    if ! timeout 300 "${apt[@]}" update >&2 </dev/null || ! "${apt[@]}" install --no-install-recommends rabbitmq-server </dev/null >&2; then
      rc=1
    fi
  fi
  if (( made_policy )); then "${sudo[@]}" rm -f "$policy" || true; fi
  (( rc == 0 )) || { rmq_fail "apt-get install rabbitmq-server failed"; return 1; }
  _rmq_have_binaries || { rmq_fail "installed rabbitmq-server but $RMQ_BIN/rabbitmq-server is missing"; return 1; }
  rmq_log "installed rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || true)"
}

# The account the broker runs as: as root, the `rabbitmq` user the package creates (as with PostgreSQL, a
# network server has no business running as root); otherwise the caller itself. Sets _rmq_as (a command
# prefix, possibly empty).
_rmq_server_account() {
  _rmq_as=()
  if [[ $EUID -eq 0 ]] && id rabbitmq >/dev/null 2>&1; then _rmq_as=(runuser -u rabbitmq --); fi
}

# _rmq_port_free PORT: nothing listens on PORT (any address). /dev/tcp covers machines without ss.
_rmq_port_free() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]] || return 1
  fi
  ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# _rmq_pick_port FIRST: prints the first free port >= FIRST.
_rmq_pick_port() {
  local port=$1
  for (( ; port < $1 + 2000 && port < 65536; port++ )); do
    if _rmq_port_free "$port"; then echo "$port"; return 0; fi
  done
  return 1
}

# _rmq_amqp_answers PORT: the broker on 127.0.0.1:PORT answers an AMQP 0-9-1 protocol header with a
# method frame (first byte 1: connection.start), i.e. it is booted and accepting clients.
_rmq_amqp_answers() {
  local first
  first=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'AMQP\x00\x00\x09\x01' >&3
    timeout 2 head -c 1 <&3 | od -An -tu1
  ) || return 1
  [[ ${first// /} == 1 ]]
}

# _rmq_group_alive SID: some live process of the broker's session (process group) still exists. Zombies
# don't count: once killed, processes whose parent died too wait for init to reap them, which can take a
# while (kill -0 would still see them).
_rmq_group_alive() {
  kill -0 -- "-$1" 2>/dev/null || return 1
  [[ -r /proc/self/stat ]] || return 0
  local f line state pgrp
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    # Fields after "pid (comm) ": state ppid pgrp ...; comm may contain spaces and parentheses.
    read -r state _ pgrp _ <<<"${line##*) }"
    [[ $pgrp == "$1" && $state != Z ]] && return 0
  done
  return 1
}

_rmq_epmd() {
  local e
  if e=$(command -v epmd 2>/dev/null); then echo "$e"; return 0; fi
  for e in /usr/lib/erlang/erts-*/bin/epmd; do [[ -x $e ]] && { echo "$e"; return 0; }; done
  return 1
}

# rmq_stop_throwaway [DIR [MODE [LOGCOPY]]]: stops the broker started in DIR (default RMQ_TMP) and its
# private epmd, then deletes DIR. MODE: fast (default; SIGTERM, the node shuts down cleanly, ~4s) or
# immediate (SIGKILL at once: the data is deleted anyway). LOGCOPY, if given, receives the node's log
# first. Never fails (runs from exit traps).
rmq_stop_throwaway() {
  local dir=${1:-$RMQ_TMP} mode=${2:-fast} logcopy=${3:-} sid="" epmd_port="" i epmd
  [[ -n $dir && -d $dir ]] || return 0
  sid=$(cat "$dir/session.pid" 2>/dev/null || true)
  epmd_port=$(cat "$dir/epmd.port" 2>/dev/null || true)
  if [[ $sid =~ ^[0-9]+$ ]] && _rmq_group_alive "$sid"; then
    if [[ $mode == immediate ]]; then
      kill -KILL -- "-$sid" 2>/dev/null || true
    else
      kill -TERM -- "-$sid" 2>/dev/null || true
    fi
    for (( i = 0; i < 100; i++ )); do
      _rmq_group_alive "$sid" || break
      sleep 0.1
    done
    if _rmq_group_alive "$sid"; then
      rmq_log "broker (session $sid) did not stop within 10s; killing it"
      kill -KILL -- "-$sid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  # The node started epmd on a port private to it, so this epmd is ours and nobody else's.
  if [[ $epmd_port =~ ^[0-9]+$ ]] && ! _rmq_port_free "$epmd_port" && epmd=$(_rmq_epmd); then
    ERL_EPMD_PORT=$epmd_port "$epmd" -kill >/dev/null 2>&1 || true
  fi
  if [[ -n $logcopy ]]; then
    cat "$dir"/log/*.log "$dir/console.log" >"$logcopy" 2>/dev/null || true
  fi
  rm -rf "$dir"
  [[ $dir != "$RMQ_TMP" ]] || RMQ_TMP=""
  return 0
}

# rmq_start_throwaway [TIMEOUT_SECONDS]: installs if needed, starts a broker and waits until it accepts
# AMQP clients (default 60s). On success sets RMQ_TMP, RMQ_PORT, RMQ_NODE and RMQ_URI
# (amqp://guest:guest@localhost:PORT). On failure leaves nothing behind, sets RMQ_ERROR and returns 1.
rmq_start_throwaway() {
  local timeout=${1:-60} _
  RMQ_ERROR=""
  rmq_ensure_binaries || return 1
  command -v setsid >/dev/null 2>&1 || { rmq_fail "setsid (util-linux) is missing"; return 1; }
  # A port can be taken between the probe and the bind; then start over with the next ones.
  for _ in 1 2 3; do
    if _rmq_start_once "$timeout"; then return 0; fi
    [[ ${_rmq_retry:-0} == 1 ]] || return 1
    rmq_log "a port was taken during start-up; trying other ports"
  done
  return 1
}

_rmq_start_once() {
  local timeout=$1 dir port dist epmd_port sid="" i log
  _rmq_retry=0
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ledger-test-rabbitmq.XXXXXX") || { rmq_fail "mktemp failed"; return 1; }
  RMQ_TMP=$dir
  # Three distinct free ports: AMQP, Erlang distribution (its default, AMQP+20000, would be out of range
  # here and clash with a system broker on 25672), and an epmd of our own so that stopping it is safe.
  # The random start keeps parallel runs (several checkouts, CI agents) from racing for the same ports.
  if ! { port=$(_rmq_pick_port "$(( 56720 + RANDOM % 500 ))") \
         && dist=$(_rmq_pick_port $(( port + 1 ))) \
         && epmd_port=$(_rmq_pick_port $(( dist + 1 ))); }; then
    rmq_stop_throwaway "$dir" immediate
    rmq_fail "no free TCP ports near 56720"
    return 1
  fi
  echo "$epmd_port" >"$dir/epmd.port"
  RMQ_NODE="ledgertest-$$@localhost"

  mkdir -p "$dir/mnesia" "$dir/log"
  # Loopback only; ::1 too when the machine has it, since clients may resolve localhost to it first.
  {
    echo "listeners.tcp.local = 127.0.0.1:$port"
    if grep -qs '^0\{31\}1 .* lo$' /proc/net/if_inet6; then echo "listeners.tcp.local_v6 = ::1:$port"; fi
    echo "loopback_users.guest = true"
    echo "log.file.level = info"
    echo "log.console = false"
  } >"$dir/rabbitmq.conf"
  echo '[].' >"$dir/enabled_plugins"          # no management plugin (nor any other)
  : >"$dir/rabbitmq-env.conf"                 # ignore /etc/rabbitmq/rabbitmq-env.conf
  # The Erlang cookie lives in HOME=$dir (erl and the CLI tools read $HOME/.erlang.cookie), readable by
  # its owner only, as Erlang demands. Nothing is written to /var/lib/rabbitmq or the caller's home.
  ( umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/.erlang.cookie" )
  chmod 400 "$dir/.erlang.cookie"
  _rmq_server_account
  if (( ${#_rmq_as[@]} )); then chown -R rabbitmq:rabbitmq "$dir"; fi
  chmod 700 "$dir"
  # The server opens its files by absolute path: every ancestor of $dir must be traversable by its account.
  if ! (cd / && "${_rmq_as[@]}" test -w "$dir/mnesia") 2>/dev/null; then
    rmq_stop_throwaway "$dir" immediate
    rmq_fail "user ${_rmq_as[2]:-$(id -un)} cannot write to $dir (set TMPDIR to a directory it can reach)"
    return 1
  fi

  local env=(
    HOME="$dir"
    LANG=C.UTF-8 LC_ALL=C.UTF-8
    RABBITMQ_NODENAME="$RMQ_NODE"
    RABBITMQ_DIST_PORT="$dist"
    ERL_EPMD_PORT="$epmd_port"
    ERL_EPMD_ADDRESS=127.0.0.1
    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
    RABBITMQ_MNESIA_BASE="$dir/mnesia"
    RABBITMQ_LOG_BASE="$dir/log"
    RABBITMQ_PID_FILE="$dir/rabbit.pid"
    # Distribution (used by rabbitmqctl/diagnostics) on loopback only.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  )
  # setsid: the node gets a session (and process group) of its own, so that stopping it can signal every
  # process it spawned, and Ctrl-C in the caller's terminal does not reach it. The shell records its pid,
  # which is the session id. All descriptors are redirected: a node holding the caller's stdout would keep
  # `$(...)` or CI's pipe open forever.
  # `cd /` because the server account may not be allowed into the caller's working directory (/root).
  # shellcheck disable=SC2016  # $$ and $1 belong to the inner shell
  setsid bash -c 'echo $$ >"$1/session.pid"; shift; cd / && exec "$@"' _ "$dir" \
    "${_rmq_as[@]}" env "${env[@]}" "$RMQ_BIN/rabbitmq-server" </dev/null >"$dir/console.log" 2>&1 &
  # Not a job of ours: bash would otherwise report "Killed ..." when it is stopped.
  disown $!
  for (( i = 0; i < 50; i++ )); do
    [[ -s $dir/session.pid ]] && break
    sleep 0.1
  done
  sid=$(cat "$dir/session.pid" 2>/dev/null || true)
  [[ $sid =~ ^[0-9]+$ ]] || { rmq_stop_throwaway "$dir" immediate; rmq_fail "the broker process did not start"; return 1; }

  rmq_log "starting node $RMQ_NODE on 127.0.0.1:$port (dist $dist, epmd $epmd_port, dir $dir)"
  for (( i = 0; i < timeout * 4; i++ )); do
    if _rmq_amqp_answers "$port"; then
      RMQ_PORT=$port RMQ_ERROR=""
      RMQ_URI="amqp://guest:guest@localhost:$port"
      rmq_log "RabbitMQ $(_rmq_version) answering on $RMQ_URI after $(( i / 4 ))s"
      return 0
    fi
    _rmq_group_alive "$sid" || break
    sleep 0.25
  done

  log=$(cat "$dir"/log/*.log "$dir/console.log" 2>/dev/null || true)
  if [[ -n $log ]]; then
    rmq_log "last lines of the broker's log:"
    tail -n 25 <<<"$log" >&2
  fi
  local why="broker did not answer on port $port within ${timeout}s"
  _rmq_group_alive "$sid" || why="broker exited during start-up"
  grep -qi 'eaddrinuse' <<<"$log" && _rmq_retry=1
  rmq_stop_throwaway "$dir" immediate
  rmq_fail "$why"
}

_rmq_version() { dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || true; }

# --- Command line --------------------------------------------------------------------------------------

_rmq_main() {
  set -euo pipefail
  case ${1:-} in
    start)
      if rmq_start_throwaway "${2:-60}"; then
        printf 'export LEDGER_TEST_RABBITMQ=%q\nexport RMQ_TMP=%q\n' "$RMQ_URI" "$RMQ_TMP"
      else
        exit 1
      fi
      ;;
    stop)
      local dir=${2:-${RMQ_TMP:-}}
      [[ -n $dir ]] || { echo "usage: $0 stop DIR [fast|immediate] (DIR: the RMQ_TMP printed by start)" >&2; exit 2; }
      [[ $(basename "$dir") == ledger-test-rabbitmq.* ]] || { echo "$0: $dir is not a directory made by start" >&2; exit 2; }
      rmq_stop_throwaway "$dir" "${3:-fast}"
      ;;
    install)
      rmq_ensure_binaries
      ;;
    *)
      echo "usage: $0 start [TIMEOUT_SECONDS] | stop DIR [fast|immediate] | install" >&2
      exit 2
      ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then _rmq_main "$@"; fi
