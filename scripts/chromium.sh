# shellcheck shell=bash
# Debian's Chromium for the dashboard's browser tests (Playwright drives it; its own browser download is never used).
# Source this file, then call ensure_chromium: installs the 'chromium' package when missing (as root, or with sudo), the
# way scripts/pg.sh installs PostgreSQL, and exports LEDGER_CHROMIUM for the tests.

ensure_chromium() {
  local path=${LEDGER_CHROMIUM:-/usr/bin/chromium}
  if [[ ! -x $path ]]; then
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
      command -v sudo >/dev/null || { echo "chromium.sh: Chromium is missing and we are not root: install the 'chromium' package" >&2; return 1; }
      sudo=(sudo)
    fi
    echo "chromium.sh: $path not found; installing the Debian 'chromium' package" >&2
    # apt's progress goes to stderr so that callers' stdout (the test summary) stays clean.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core </dev/null >&2
    [[ -x $path ]] || { echo "chromium.sh: installed 'chromium' but found no $path" >&2; return 1; }
  fi
  export LEDGER_CHROMIUM=$path
  echo "chromium.sh: using $("$path" --version 2>/dev/null || echo "$path")" >&2
}
