#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs `sluice serve` on
# its built-in defaults (data in ./data, syslog on 5514 tcp+udp, HTTP on
# 8080). Extra arguments go to `sluice serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
exec build/sluice serve "$@"
