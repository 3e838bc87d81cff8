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

say() { echo "[query_bench] $*" >&2; }
die() { echo "[query_bench] error: $*" >&2; exit 1; }

# Whatever happens, leave no process of ours behind: query_bench.py stops its
# own children on SIGTERM.
CHILD=""
TMP_BIN=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  [[ -n "$TMP_BIN" ]] && rm -rf "$TMP_BIN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- dependencies ---------------------------------------------------------------
# Debian packages, installed quietly and only when missing: ripgrep (the
# peer), python3 (the driver), coreutils (split deals the stream to the
# connections; uniq counts rg's histogram buckets).
# For the viewer's first paint: chromium, and node to run playwright-core.
packages=(python3 ripgrep coreutils)
[[ $VIEWER -eq 1 ]] && packages+=(chromium nodejs)
missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
  done
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ $(id -u) -eq 0 ]] || die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get -qq update >/dev/null && apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
command -v rg >/dev/null || die "rg not found (Debian package ripgrep)"
if [[ $VIEWER -eq 1 ]]; then
  # playwright-core (pinned) into .tools/node, quietly, if missing.
  scripts/install_node_tools.sh >/dev/null || die "scripts/install_node_tools.sh failed"
fi

# --- build --------------------------------------------------------------------
# Never benchmark a Debug or sanitizer tree (with --no-build neither), nor
# reconfigure someone's tree into Release behind their back.
if [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
  sanitize=$(sed -n 's/^SLUICE_SANITIZE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
  if [[ "$build_type" != "Release" || "$sanitize" == "ON" ]]; then
    die "$BUILD_DIR is configured as '${build_type:-?}' (SLUICE_SANITIZE=${sanitize:-OFF}); benchmark a Release tree: --build-dir build-release"
  fi
elif [[ $BUILD -eq 1 ]]; then
  say "configuring $BUILD_DIR (Release)"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [[ $BUILD -eq 1 ]]; then
  say "building sluice and sluice_gen_logs in $BUILD_DIR"
  cmake --build "$BUILD_DIR" -j2 --target sluice sluice_gen_logs >/dev/null
fi

BIN_DIR="$ROOT/$BUILD_DIR"
[[ "$BUILD_DIR" == /* ]] && BIN_DIR="$BUILD_DIR"
[[ -x "$BIN_DIR/sluice" ]] || die "$BIN_DIR/sluice not found (build it, or drop --no-build)"
# Private copies: a rebuild of the tree during the benchmark must neither pull
# a binary from under a run nor mix two versions in one report.
TMP_BIN=$(mktemp -d -t sluice-query-bench-bin.XXXXXX)
cp -p "$BIN_DIR/sluice" "$TMP_BIN/sluice"  # -p: the report gives its build time
if [[ -x "$BIN_DIR/sluice_gen_logs" ]]; then
  cp -p "$BIN_DIR/sluice_gen_logs" "$TMP_BIN/sluice_gen_logs"
else
  # The generator is standalone C++: build it aside rather than fail.
  say "$BIN_DIR/sluice_gen_logs not found; compiling bench/gen_logs.cc"
  g++ -O2 -std=c++20 bench/gen_logs.cc -o "$TMP_BIN/sluice_gen_logs"
fi

# --- run ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
if [[ "$OUT" == bench/results/* && ! -f bench/results/.gitignore ]]; then
  printf '*\n!.gitignore\n' > bench/results/.gitignore
fi
WORK=$(mktemp -d -t sluice-query-bench.XXXXXX)
python3 bench/query_bench.py --root "$ROOT" --sluice "$TMP_BIN/sluice" --gen "$TMP_BIN/sluice_gen_logs" \
  --work "$WORK" --events "$EVENTS" --out "$OUT" --command "$COMMAND" ${PASS[@]+"${PASS[@]}"} &
CHILD=$!
wait "$CHILD"
