#!/usr/bin/env bash
# The search benchmark: latency of sluice's search, histogram and fields
# endpoints on a store at rest (ingested, stopped, restarted), next to ripgrep
# over the same raw text, on the generated multi-day stream of the store
# benchmark.
#
#   bench/query_bench.sh [--events N] [--repeats R] [--rg-repeats K] [options]
#
# Builds Release if needed, installs ripgrep if missing, runs
# bench/query_bench.py, prints a markdown report on stdout and writes
# bench/results/query_latest.json. See bench/README.md, "Search: latency
# against ripgrep".
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/query_bench.sh [--events N] [--repeats R] [--rg-repeats K] [options]

  --events N             events in the generated stream (default 10000000)
  --repeats R            timed rounds of the sluice requests, round-robin over
                         the jobs, after one warm-up round (default 20)
  --rg-repeats K         timed rg runs per job, after one warm-up run (default 5)
  --days D               days the stream spans, ending now (default 4)
  --seed S               generator seed (default 42)
  --connections C        parallel TCP connections of the ingest (default 4)
  --build-dir DIR        CMake build directory (default build)
  --no-build             use the binaries in the build directory as they are
  --out FILE             JSON results (default bench/results/query_latest.json)
  --keep                 keep the temporary directory (stream, data directory)
  --viewer-runs V        cold navigations of the web viewer per query, timed to
                         its first results paint in Debian's chromium (default 5)
  --no-viewer            skip the viewer's first paint (no chromium, node or
                         playwright-core needed)
  -h, --help             this text
EOF
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
COMMAND="bench/query_bench.sh"
[[ $# -gt 0 ]] && COMMAND+=$(printf ' %q' "$@")

EVENTS=10000000
BUILD_DIR=build
BUILD=1
VIEWER=1
OUT=bench/results/query_latest.json
PASS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS=${2:?--events needs a value}; shift 2 ;;
    --repeats|--rg-repeats|--days|--seed|--connections)
      PASS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a value}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --keep) PASS+=(--keep); shift ;;
    --viewer-runs) PASS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --no-viewer) VIEWER=0; PASS+=(--no-viewer); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/query_bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

BENCH_NAME=query_bench
# shellcheck source=bench/lib.sh
source bench/lib.sh

# --- dependencies ---------------------------------------------------------------
# Debian packages, installed quietly and only when missing: ripgrep (the
# peer), python3 (the driver), coreutils (split deals the stream to the
# connections; uniq counts rg's histogram buckets).
# For the viewer's first paint: chromium, and node to run playwright-core.
packages=(python3 ripgrep coreutils)
[[ $VIEWER -eq 1 ]] && packages+=(chromium nodejs)
bench_install_packages "${packages[@]}"
command -v rg >/dev/null || die "rg not found (Debian package ripgrep)"
if [[ $VIEWER -eq 1 ]]; then
  # playwright-core (pinned) into .tools/node, quietly, if missing.
  scripts/install_node_tools.sh >/dev/null || die "scripts/install_node_tools.sh failed"
fi

# --- build --------------------------------------------------------------------
bench_build "$BUILD_DIR" "$BUILD"
bench_private_binaries "$BUILD_DIR"

# --- run ----------------------------------------------------------------------
bench_results_dir "$OUT"
WORK=$(mktemp -d -t sluice-query-bench.XXXXXX)
python3 bench/query_bench.py --root "$ROOT" --sluice "$TMP_BIN/sluice" --gen "$TMP_BIN/sluice_gen_logs" \
  --work "$WORK" --events "$EVENTS" --out "$OUT" --command "$COMMAND" ${PASS[@]+"${PASS[@]}"} &
CHILD=$!
wait "$CHILD"
