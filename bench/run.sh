#!/usr/bin/env bash
# The end-to-end benchmark: sluice vs rsyslog on the same syslog stream, per
# transport (TCP octet-counted, TCP LF-framed, UDP, TLS, RELP).
#
#   bench/run.sh [--transports LIST] [--events N] [--runs R] [--quick] [options]
#
# Builds Release if needed, installs rsyslog (and its TLS and RELP modules) if
# missing, runs bench/macro.py, prints a markdown report on stdout and writes
# bench/results/latest.json.
# See bench/README.md for what each figure means and how it is measured.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run.sh [--transports LIST] [--events N] [--runs R] [--quick] [options]

  --transports LIST  comma list of tcp,tcp-lf,udp,tls,relp (default: all)
  --events N         events per run and transport (default 1000000)
  --runs R           runs per transport and system; medians are reported (default 3)
  --quick            smoke test: --events 20000 --runs 1
  --connections C    connections used by the load generator (default 1)
  --udp-rate R       UDP events/s sent, 0 = as fast as possible (default 150000)
  --relp-window W    RELP messages in flight per connection (default 1024)
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

EVENTS=()
RUNS=3
TRANSPORTS=tcp,tcp-lf,udp,tls,relp
CONNECTIONS=1
UDP_RATE=150000
RELP_WINDOW=1024
SYSTEMS=sluice,rsyslog
BUILD_DIR=build
BUILD=1
OUT=bench/results/latest.json
KEEP=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS=(--events "${2:?--events needs a value}"); shift 2 ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --quick) EVENTS=(--events 20000); RUNS=1; shift ;;
    --transports) TRANSPORTS=${2:?--transports needs a value}; shift 2 ;;
    --connections) CONNECTIONS=${2:?--connections needs a value}; shift 2 ;;
    --udp-rate) UDP_RATE=${2:?--udp-rate needs a value}; shift 2 ;;
    --relp-window) RELP_WINDOW=${2:?--relp-window needs a value}; shift 2 ;;
    --systems) SYSTEMS=${2:?--systems needs a value}; shift 2 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a value}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --keep) KEEP=(--keep); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

BENCH_NAME=bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

need_sluice=0
[[ ",$SYSTEMS," == *",sluice,"* ]] && need_sluice=1
has_transport() { [[ ",$TRANSPORTS," == *",$1,"* ]]; }

# --- dependencies ---------------------------------------------------------------
# Debian packages, installed quietly and only when missing (keep in step with
# the bench list of scripts/install_deps.sh).
packages=(libssl-dev)  # the load generator links OpenSSL
has_transport tls && packages+=(openssl)  # the CLI makes the run's CA and server certificate
if [[ ",$SYSTEMS," == *",rsyslog,"* ]]; then
  packages+=(rsyslog)
  has_transport tls && packages+=(rsyslog-openssl)  # lmnsd_ossl, imtcp's TLS driver
  has_transport relp && packages+=(rsyslog-relp)    # imrelp
fi
bench_install_packages "${packages[@]}"

# --- build --------------------------------------------------------------------
targets=(sluice_loadgen)
[[ $need_sluice -eq 1 ]] && targets+=(sluice)
if [[ $BUILD -eq 1 || -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  bench_build "$BUILD_DIR" "$BUILD" "${targets[@]}"
fi

SLUICE="$ROOT/$BUILD_DIR/sluice"
[[ "$BUILD_DIR" == /* ]] && SLUICE="$BUILD_DIR/sluice"
LOADGEN="${SLUICE%/sluice}/sluice_loadgen"
if [[ $need_sluice -eq 1 && ! -x "$SLUICE" ]]; then
  die "$SLUICE not found (build it, or drop --no-build)"
fi
# Run private copies: a rebuild of the tree during the benchmark must neither
# pull a binary from under a run nor mix two versions in one report.
TMP_BIN=$(mktemp -d -t sluice-bench-bin.XXXXXX)
if [[ $need_sluice -eq 1 ]]; then
  cp "$SLUICE" "$TMP_BIN/sluice"
  SLUICE="$TMP_BIN/sluice"
fi
if [[ -x "$LOADGEN" ]]; then
  cp "$LOADGEN" "$TMP_BIN/sluice_loadgen"
else
  # The load generator is standalone C++: build it aside rather than fail.
  say "$LOADGEN not found; compiling bench/loadgen.cc"
  g++ -O2 -std=c++20 -pthread bench/loadgen.cc -o "$TMP_BIN/sluice_loadgen" -lssl -lcrypto
fi
LOADGEN="$TMP_BIN/sluice_loadgen"

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)

# --- run ----------------------------------------------------------------------
bench_results_dir "$OUT"
python3 bench/macro.py "${EVENTS[@]}" --runs "$RUNS" --transports "$TRANSPORTS" \
  --connections "$CONNECTIONS" --udp-rate "$UDP_RATE" --relp-window "$RELP_WINDOW" \
  --systems "$SYSTEMS" --sluice "$SLUICE" --loadgen "$LOADGEN" --rsyslogd "$RSYSLOGD" \
  --out "$OUT" --command "$COMMAND" "${KEEP[@]}" &
CHILD=$!
wait "$CHILD"
