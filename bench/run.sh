#!/usr/bin/env bash
# The end-to-end benchmark: sluice vs rsyslog on the same syslog stream.
#
#   bench/run.sh [--events N] [--runs R] [--quick] [options]
#
# Builds Release if needed, installs rsyslog if missing, runs bench/macro.py,
# prints a markdown report on stdout and writes bench/results/latest.json.
# See bench/README.md for what each figure means and how it is measured.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run.sh [--events N] [--runs R] [--quick] [options]

  --events N         events per run (default 1000000)
  --runs R           runs per system; medians are reported (default 3)
  --quick            smoke test: --events 20000 --runs 1
  --connections C    TCP connections used by the load generator (default 1)
  --systems LIST     comma list of sluice,rsyslog (default both)
  --build-dir DIR    CMake build directory (default build)
  --no-build         use the binaries in the build directory as they are
  --out FILE         JSON results (default bench/results/latest.json)
  --keep             keep the temporary data directories
  -h, --help         this text
EOF
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
COMMAND="bench/run.sh${*:+ $*}"

EVENTS=1000000
RUNS=3
CONNECTIONS=1
SYSTEMS=sluice,rsyslog
BUILD_DIR=build
BUILD=1
OUT=bench/results/latest.json
KEEP=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS=${2:?--events needs a value}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --quick) EVENTS=20000; RUNS=1; shift ;;
    --connections) CONNECTIONS=${2:?--connections needs a value}; shift 2 ;;
    --systems) SYSTEMS=${2:?--systems needs a value}; shift 2 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a value}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --keep) KEEP=(--keep); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

# Whatever happens, leave no process of ours behind: macro.py stops its own
# children on SIGTERM; anything still in our process group gets the same.
CHILD=""
TMP_BUILD=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  [[ -n "$TMP_BUILD" ]] && rm -rf "$TMP_BUILD"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_sluice=0
[[ ",$SYSTEMS," == *",sluice,"* ]] && need_sluice=1

# --- build --------------------------------------------------------------------
if [[ $BUILD -eq 1 ]]; then
  if [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
    # Never silently benchmark a Debug or sanitizer tree, nor reconfigure
    # someone's tree into Release behind their back.
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
    sanitize=$(sed -n 's/^SLUICE_SANITIZE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
    if [[ "$build_type" != "Release" || "$sanitize" == "ON" ]]; then
      die "$BUILD_DIR is configured as '${build_type:-?}' (SLUICE_SANITIZE=${sanitize:-OFF}); benchmark a Release tree: --build-dir build-release"
    fi
  else
    say "configuring $BUILD_DIR (Release)"
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
  fi
  targets=(sluice_loadgen)
  [[ $need_sluice -eq 1 ]] && targets+=(sluice)
  say "building ${targets[*]} in $BUILD_DIR"
  cmake --build "$BUILD_DIR" -j2 --target "${targets[@]}" >&2
fi

SLUICE="$ROOT/$BUILD_DIR/sluice"
[[ "$BUILD_DIR" == /* ]] && SLUICE="$BUILD_DIR/sluice"
LOADGEN="${SLUICE%/sluice}/sluice_loadgen"
if [[ $need_sluice -eq 1 && ! -x "$SLUICE" ]]; then
  die "$SLUICE not found (build it, or drop --no-build)"
fi
# Run private copies: a rebuild of the tree during the benchmark must neither
# pull a binary from under a run nor mix two versions in one report.
TMP_BUILD=$(mktemp -d -t sluice-bench-bin.XXXXXX)
if [[ $need_sluice -eq 1 ]]; then
  cp "$SLUICE" "$TMP_BUILD/sluice"
  SLUICE="$TMP_BUILD/sluice"
fi
if [[ -x "$LOADGEN" ]]; then
  cp "$LOADGEN" "$TMP_BUILD/sluice_loadgen"
else
  # The load generator is standalone C++: build it aside rather than fail.
  say "$LOADGEN not found; compiling bench/loadgen.cc"
  g++ -O2 -std=c++20 -pthread bench/loadgen.cc -o "$TMP_BUILD/sluice_loadgen"
fi
LOADGEN="$TMP_BUILD/sluice_loadgen"

# --- peer ---------------------------------------------------------------------
if [[ ",$SYSTEMS," == *",rsyslog,"* ]] && ! command -v rsyslogd >/dev/null && [[ ! -x /usr/sbin/rsyslogd ]]; then
  say "installing rsyslog"
  # Only the binary is wanted: keep the package from starting the system daemon.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    POLICY_ADDED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -qq install -y rsyslog >/dev/null ||
    { apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y rsyslog >/dev/null; }
  [[ "${POLICY_ADDED:-0}" -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
fi
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)

# --- run ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
if [[ "$OUT" == bench/results/* && ! -f bench/results/.gitignore ]]; then
  printf '*\n!.gitignore\n' > bench/results/.gitignore
fi
python3 bench/macro.py --events "$EVENTS" --runs "$RUNS" --connections "$CONNECTIONS" \
  --systems "$SYSTEMS" --sluice "$SLUICE" --loadgen "$LOADGEN" --rsyslogd "$RSYSLOGD" \
  --out "$OUT" --command "$COMMAND" "${KEEP[@]}" &
CHILD=$!
wait "$CHILD"
