# Shared steps of the benchmark scripts that drive bench/*.py against a
# private copy of the sluice binary. Source it after setting BENCH_NAME (the
# prefix of messages, e.g. query_bench); it defines say, die, the cleanup
# traps (CHILD: the driver's pid, TMP_BIN: the private binaries) and:
#
#   bench_install_packages PKG...   apt-get install the missing ones, quietly
#                                   (as root; otherwise name them and stop)
#   bench_build BUILD_DIR BUILD [TARGET...]
#                                   refuse a Debug or sanitizer tree, configure
#                                   a missing one as Release, build the targets
#                                   (sluice and sluice_gen_logs by default) when
#                                   BUILD is 1
#   bench_private_binaries BUILD_DIR
#                                   copy both into TMP_BIN (a mktemp -d)
#   bench_results_dir OUT           create OUT's directory (bench/results/ is
#                                   git-ignored)

say() { echo "[$BENCH_NAME] $*" >&2; }
die() { echo "[$BENCH_NAME] error: $*" >&2; exit 1; }

# Whatever happens, leave no process of ours behind: the Python drivers stop
# their own children on SIGTERM.
CHILD=""
TMP_BIN=""
POLICY_ADDED=0
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  [[ -n "$TMP_BIN" ]] && rm -rf "$TMP_BIN"
  [[ $POLICY_ADDED -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_install_packages() {
  local package status missing=()
  if command -v dpkg-query >/dev/null; then
    for package in "$@"; do
      status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
      [[ "$status" == "install ok installed" ]] || missing+=("$package")
    done
  fi
  [[ ${#missing[@]} -eq 0 ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  say "installing ${missing[*]}"
  # Only the binaries are wanted: keep packages (rsyslog) from starting
  # system services (the cleanup removes the policy file whatever happens).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    POLICY_ADDED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get -qq update >/dev/null && apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  if [[ $POLICY_ADDED -eq 1 ]]; then
    rm -f /usr/sbin/policy-rc.d
    POLICY_ADDED=0
  fi
}

bench_build() {
  local build_dir=$1 build=$2 build_type sanitize
  shift 2
  local targets=("$@")
  [[ ${#targets[@]} -eq 0 ]] && targets=(sluice sluice_gen_logs)
  # Never benchmark a Debug or sanitizer tree (with --no-build neither), nor
  # reconfigure someone's tree into Release behind their back.
  if [[ -f "$build_dir/CMakeCache.txt" ]]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
    sanitize=$(sed -n 's/^SLUICE_SANITIZE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
    if [[ "$build_type" != "Release" || "$sanitize" == "ON" ]]; then
      die "$build_dir is configured as '${build_type:-?}' (SLUICE_SANITIZE=${sanitize:-OFF}); benchmark a Release tree: --build-dir build-release"
    fi
  elif [[ $build -eq 1 ]]; then
    say "configuring $build_dir (Release)"
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  if [[ $build -eq 1 ]]; then
    say "building ${targets[*]} in $build_dir"
    cmake --build "$build_dir" -j2 --target "${targets[@]}" >/dev/null
  fi
}

bench_private_binaries() {
  local bin_dir="$ROOT/$1"
  [[ "$1" == /* ]] && bin_dir="$1"
  [[ -x "$bin_dir/sluice" ]] || die "$bin_dir/sluice not found (build it, or drop --no-build)"
  # Private copies: a rebuild of the tree during the benchmark must neither
  # pull a binary from under a run nor mix two versions in one report.
  TMP_BIN=$(mktemp -d -t "sluice-$BENCH_NAME-bin.XXXXXX")
  cp -p "$bin_dir/sluice" "$TMP_BIN/sluice"  # -p: the report gives its build time
  if [[ -x "$bin_dir/sluice_gen_logs" ]]; then
    cp -p "$bin_dir/sluice_gen_logs" "$TMP_BIN/sluice_gen_logs"
  else
    # The generator is standalone C++: build it aside rather than fail.
    say "$bin_dir/sluice_gen_logs not found; compiling bench/gen_logs.cc"
    g++ -O2 -std=c++20 bench/gen_logs.cc -o "$TMP_BIN/sluice_gen_logs"
  fi
}

bench_results_dir() {
  mkdir -p "$(dirname "$1")"
  if [[ "$1" == bench/results/* && ! -f bench/results/.gitignore ]]; then
    printf '*\n!.gitignore\n' > bench/results/.gitignore
  fi
}
