#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest
# (unit tests and end-to-end tests against the real binary): first on the
# Release build in ./build, then on an ASan+UBSan build in ./build-asan.
#   scripts/test.sh               both
#   scripts/test.sh --release     the Release build only
#   scripts/test.sh --sanitize    the sanitizer build only
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
case "$mode" in
  all|--release|--sanitize) ;;
  *) echo "test.sh: unknown option '$mode'" >&2; exit 2 ;;
esac
scripts/install_deps.sh --test

run_suite() {  # build_dir, build flags...
  local build_dir=$1
  shift
  scripts/build.sh "$@"
  (cd "$build_dir" && ctest --output-on-failure -j"$(nproc)")
}

if [[ "$mode" != --sanitize ]]; then
  run_suite build
fi
if [[ "$mode" != --release ]]; then
  # Leaks, memory errors and undefined behaviour fail the test that hits them.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan --sanitize
fi
