#!/usr/bin/env bash
# Installs the Debian 12 packages sluice needs, quietly and only if missing.
#   scripts/install_deps.sh           build and run
#   scripts/install_deps.sh --test    also what the test suite drives, including
#                                     syslog-ng unpacked by install_syslog_ng.sh and
#                                     the npm tools of install_node_tools.sh
#   scripts/install_deps.sh --bench   also the peers of the benchmark
set -euo pipefail

build_packages=(
  cmake g++ make pkg-config
  libuv1-dev libre2-dev libsimdjson-dev librocksdb-dev libzstd-dev
  libyaml-cpp-dev libhttp-parser-dev doctest-dev libssl-dev libbenchmark-dev
  libcurl4-openssl-dev zlib1g-dev
)
# rsyslog with its RELP and TLS (OpenSSL and GnuTLS) stream drivers, and the
# openssl CLI for the test CA. syslog-ng conflicts with rsyslog as a package:
# install_syslog_ng.sh unpacks it privately instead. nodejs runs s3rver (the
# S3 stand-in, installed by install_node_tools.sh) and awscli is the peer that
# checks what the S3 client wrote. chromium is the browser the viewer's tests
# drive through playwright-core. collectd-core (no service of its own; tests run
# a private `collectd -f`) with libyajl2, which its write_http plugin needs.
test_packages=(python3 curl bsdutils prometheus openssl tzdata zstd
               rsyslog rsyslog-relp rsyslog-openssl rsyslog-gnutls nodejs awscli chromium
               collectd-core libyajl2)
bench_packages=(python3 curl procps openssl rsyslog rsyslog-relp rsyslog-openssl)

wanted=("${build_packages[@]}")
with_test_tools=0
for arg in "$@"; do
  case "$arg" in
    --test) wanted+=("${test_packages[@]}"); with_test_tools=1 ;;
    --bench) wanted+=("${bench_packages[@]}") ;;
    *) echo "install_deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
install_test_tools() {
  [[ $with_test_tools -eq 1 ]] || return 0
  "$(dirname "${BASH_SOURCE[0]}")/install_syslog_ng.sh"
  "$(dirname "${BASH_SOURCE[0]}")/install_node_tools.sh"
}
if [[ ${#missing[@]} -eq 0 ]]; then
  install_test_tools
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install_deps.sh: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# Services must not start from a package install (prometheus, rsyslog):
# tests and benchmarks start private instances of their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[[ $created_policy -eq 1 ]] && rm -f "$policy"
install_test_tools
exit 0
