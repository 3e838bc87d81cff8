#!/usr/bin/env bash
# Configures and builds sluice in ./build (Release), or ./build-asan with
# --sanitize (AddressSanitizer + UndefinedBehaviorSanitizer), or
# ./build-tsan with --tsan (ThreadSanitizer). Quiet unless the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  build_dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=ON)
elif [[ "${1:-}" == "--tsan" ]]; then
  build_dir=build-tsan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON)
fi
mkdir -p "$build_dir"
log="$build_dir/build.log"
if ! { cmake -S . -B "$build_dir" "${flags[@]}" && cmake --build "$build_dir" -j"$(nproc)"; } >"$log" 2>&1; then
  grep -E -B2 -A8 'error|Error' "$log" | head -80 >&2 || tail -40 "$log" >&2
  echo "build failed; full log in $log" >&2
  exit 1
fi
