#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest
# (unit tests and end-to-end tests against the real binary): first on the
# Release build in ./build, then on an ASan+UBSan build in ./build-asan.
#   scripts/test.sh               both
#   scripts/test.sh --release     the Release build only
#   scripts/test.sh --sanitize    the sanitizer build only
#   scripts/test.sh --tsan        not part of "both": the unit tests (the
#                                 store's concurrent flush, the queue, the
#                                 workers) on a ThreadSanitizer build in
#                                 ./build-tsan; a data race fails its test
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
case "$mode" in
  all|--release|--sanitize|--tsan) ;;
  *) echo "test.sh: unknown option '$mode'" >&2; exit 2 ;;
esac
scripts/install_deps.sh --test

run_suite() {  # build_dir, build flags...
  local build_dir=$1
  shift
  scripts/build.sh "$@"
  (cd "$build_dir" && ctest --output-on-failure -j"$(nproc)")
}

if [[ "$mode" == --tsan ]]; then
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  scripts/build.sh --tsan
  (cd build-tsan && ctest --output-on-failure -j"$(nproc)" -LE integration)
  exit 0
fi
if [[ "$mode" != --sanitize ]]; then
  run_suite build
fi
if [[ "$mode" != --release ]]; then
  # Leaks, memory errors and undefined behaviour fail the test that hits them.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan --sanitize
fi
