#!/usr/bin/env bash
# JSON ingest benchmark: syslog TCP vs JSON lines over TCP vs HTTP NDJSON vs ES bulk on
# the same events. See bench/json_bench.py and bench/README.md ("JSON ingest").
#
#   bench/json_bench.sh [--build-dir DIR] [--events N] [--runs R] [--transports LIST] [--out FILE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=build
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR=${2:?--build-dir needs a value}; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[[ -x "$BUILD_DIR/sluice" ]] || { echo "json_bench: no $BUILD_DIR/sluice; build Release first" >&2; exit 1; }
exec python3 bench/json_bench.py --sluice "$BUILD_DIR/sluice" "${ARGS[@]}"
