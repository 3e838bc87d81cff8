#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest
# (unit tests and end-to-end tests against the real binary).
#   scripts/test.sh              Release build in ./build
#   scripts/test.sh --sanitize   ASan+UBSan build in ./build-asan
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test
build_dir=build
if [[ "${1:-}" == "--sanitize" ]]; then
  build_dir=build-asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
scripts/build.sh "$@"
cd "$build_dir"
exec ctest --output-on-failure -j"$(nproc)"
