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

say() { echo "[store_bench] $*" >&2; }
die() { echo "[store_bench] error: $*" >&2; exit 1; }

# Whatever happens, leave no process of ours behind: store_bench.py stops its
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
# Debian packages, installed quietly and only when missing: zstd (the -19
# reference), python3 (the driver), coreutils (split, deals the stream to
# the connections).
packages=(python3 zstd coreutils)
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
command -v zstd >/dev/null || die "zstd not found"

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
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  say "building sluice and sluice_gen_logs in $BUILD_DIR"
  cmake --build "$BUILD_DIR" -j2 --target sluice sluice_gen_logs >/dev/null
fi

BIN_DIR="$ROOT/$BUILD_DIR"
[[ "$BUILD_DIR" == /* ]] && BIN_DIR="$BUILD_DIR"
[[ -x "$BIN_DIR/sluice" ]] || die "$BIN_DIR/sluice not found (build it, or drop --no-build)"
# Private copies: a rebuild of the tree during the benchmark must neither pull
# a binary from under a run nor mix two versions in one report.
TMP_BIN=$(mktemp -d -t sluice-store-bench-bin.XXXXXX)
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
WORK=$(mktemp -d -t sluice-store-bench.XXXXXX)
python3 bench/store_bench.py --root "$ROOT" --sluice "$TMP_BIN/sluice" --gen "$TMP_BIN/sluice_gen_logs" \
  --work "$WORK" --events "$EVENTS" --runs "$RUNS" --loghub "$LOGHUB" --out "$OUT" \
  --command "$COMMAND" ${PASS[@]+"${PASS[@]}"} &
CHILD=$!
wait "$CHILD"
