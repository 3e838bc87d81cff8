#!/usr/bin/env bash
# The store benchmark: ingest rate into the store, peak RSS, bytes on disk per
# event (against zstd -19 of the same text), time to searchable, time to drop
# an expired day partition and search latency, on a generated multi-day
# stream; then bytes on disk for each Loghub sample file.
#
#   bench/store_bench.sh [--events N] [--runs R] [--loghub DIR] [--quick] [options]
#
# Builds Release if needed, installs zstd if missing, runs bench/store_bench.py,
# prints a markdown report on stdout and writes bench/results/store_latest.json.
# See bench/README.md, "Store: ingest, bytes on disk, time to searchable,
# retention".
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/store_bench.sh [--events N] [--runs R] [--loghub DIR] [--quick] [options]

  --events N             events in the generated stream (default 10000000)
  --runs R               runs; medians are reported (default 3)
  --loghub DIR           Loghub samples, read in place: DIR/<System>/*.log
                         (default ../shared/corpora/loghub from the repository root;
                         "" skips them)
  --quick                smoke test: --events 200000 --runs 1
  --days D               days the stream spans, ending now (default 4)
  --seed S               generator seed (default 42)
  --connections C        parallel TCP connections of the bulk sender (default 4)
  --retention-days K     store.retention_days of the restart (default D - 2)
  --probe-interval-ms M  one probe line every M ms during ingest (default 50)
  --build-dir DIR        CMake build directory (default build)
  --no-build             use the binaries in the build directory as they are
  --out FILE             JSON results (default bench/results/store_latest.json)
  --keep                 keep the temporary directory (stream, data directories)
  --no-zstd-cache        compute zstd -19 of the stream even if a cached figure
                         for the same stream (bench/results/store_zstd_cache.json) exists
  -h, --help             this text
EOF
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
COMMAND="bench/store_bench.sh"
[[ $# -gt 0 ]] && COMMAND+=$(printf ' %q' "$@")

EVENTS=10000000
RUNS=3
LOGHUB="$ROOT/../shared/corpora/loghub"
BUILD_DIR=build
BUILD=1
OUT=bench/results/store_latest.json
PASS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS=${2:?--events needs a value}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --loghub) LOGHUB=${2?--loghub needs a value}; shift 2 ;;
    --quick) EVENTS=200000; RUNS=1; shift ;;
    --days|--seed|--connections|--retention-days|--probe-interval-ms)
      PASS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a value}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --keep) PASS+=(--keep); shift ;;
    --no-zstd-cache) PASS+=(--zstd-cache ""); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/store_bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -n "$LOGHUB" && "$LOGHUB" != /* ]]; then
  LOGHUB="$ROOT/$LOGHUB"
fi

BENCH_NAME=store_bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

# --- dependencies ---------------------------------------------------------------
# Debian packages, installed quietly and only when missing: zstd (the -19
# reference), python3 (the driver), coreutils (split, deals the stream to
# the connections).
packages=(python3 zstd coreutils)
bench_install_packages "${packages[@]}"
command -v zstd >/dev/null || die "zstd not found"

# --- build --------------------------------------------------------------------
bench_build "$BUILD_DIR" "$BUILD"
bench_private_binaries "$BUILD_DIR"

# --- run ----------------------------------------------------------------------
bench_results_dir "$OUT"
WORK=$(mktemp -d -t sluice-store-bench.XXXXXX)
python3 bench/store_bench.py --root "$ROOT" --sluice "$TMP_BIN/sluice" --gen "$TMP_BIN/sluice_gen_logs" \
  --work "$WORK" --events "$EVENTS" --runs "$RUNS" --loghub "$LOGHUB" --out "$OUT" \
  --command "$COMMAND" ${PASS[@]+"${PASS[@]}"} &
CHILD=$!
wait "$CHILD"
