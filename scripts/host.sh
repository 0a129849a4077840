# shellcheck shell=bash
# How run.sh and ledger build and launch the ledger host. Source this file; it expects ROOT (repo root).

HOST_PROJECT=$ROOT/src/Host/Host.csproj
HOST_OUT=$ROOT/src/Host/bin/Release/net10.0
HOST_DLL=$HOST_OUT/ComputeLedger.Host.dll

# build_host [extra dotnet build args]: restore + Release build. Output goes to stderr so that a CLI
# command's stdout (e.g. `./ledger db-dump > x.sql`) carries only what the command prints.
build_host() {
  command -v dotnet >/dev/null 2>&1 || { echo "dotnet SDK not found on PATH (global.json wants 10.0.401+)" >&2; return 1; }
  dotnet build "$HOST_PROJECT" -c Release -nologo "$@" >&2
  [[ -f $HOST_DLL ]] || { echo "build produced no $HOST_DLL" >&2; return 1; }
}

# host_env: environment the host expects. The content root is the build output, where the SDK copies
# appsettings*.json and Seed/; setting it explicitly lets the working directory be anything (ledger keeps
# the caller's, so relative file arguments work).
host_env() {
  export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
  export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
  export ASPNETCORE_CONTENTROOT=$HOST_OUT
  export ASPNETCORE_URLS=${LEDGER_URLS:-http://127.0.0.1:5080}
  export LEDGER_POSTGRES
}
