#!/usr/bin/env bash
# Unpacks Debian's syslog-ng-core into a private directory for the integration
# tests (tests/integration/test_syslog_ng.py), quietly and only if missing.
#
#   scripts/install_syslog_ng.sh [DIR]     DIR defaults to $SLUICE_SYSLOG_NG_DIR,
#                                          else /opt/sluice-test/syslog-ng
#
# syslog-ng-core conflicts with rsyslog (both are "the system logger"), and the
# tests need both, so syslog-ng is not installed as a package: its .deb is
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into DIR, and
# only its shared-library dependencies are installed with apt. Nothing is
# registered with dpkg, no service is set up, and DIR can simply be deleted.
#
# Layout after it ran (what tests/integration/clients.py expects):
#   DIR/usr/sbin/syslog-ng              the daemon
#   DIR/usr/lib/syslog-ng/              its private libraries (LD_LIBRARY_PATH)
#   DIR/usr/lib/syslog-ng/3.38/         its modules (--module-path)
#   DIR/VERSION                         the unpacked package version
set -euo pipefail

dest=${1:-${SLUICE_SYSLOG_NG_DIR:-/opt/sluice-test/syslog-ng}}
package=syslog-ng-core
# The Depends of syslog-ng-core on Debian 12 that are libraries (the others,
# lsb-base and sysvinit-utils, only serve its init script).
lib_packages=(libc6 libcap2 libglib2.0-0 libivykis0 libjson-c5 libnet1 libpcre3 libssl3
              libsystemd0 libwrap0)

missing=()
for lib in "${lib_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$lib" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$lib")
done

candidate() { apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
want=$(candidate)
if [[ -z "$want" || "$want" == "(none)" ]]; then
  want=""  # the package lists are not there yet; decided after an update below
fi

if [[ ${#missing[@]} -eq 0 && -x "$dest/usr/sbin/syslog-ng" && -f "$dest/VERSION" ]] &&
   [[ -z "$want" || "$(cat "$dest/VERSION")" == "$want" ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install_syslog_ng.sh: needs root (libraries: ${missing[*]:-none}; unpack into $dest)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [[ -z "$want" || ${#missing[@]} -ne 0 ]]; then
  apt-get update -qq >/dev/null
  want=$(candidate)
fi
if [[ -z "$want" || "$want" == "(none)" ]]; then
  echo "install_syslog_ng.sh: apt knows no package $package" >&2
  exit 1
fi
if [[ ${#missing[@]} -ne 0 ]]; then
  echo "installing: ${missing[*]}" >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ -x "$dest/usr/sbin/syslog-ng" && -f "$dest/VERSION" && "$(cat "$dest/VERSION")" == "$want" ]]; then
  exit 0
fi
echo "unpacking $package $want into $dest" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt's sandbox user must be able to write the download directory.
chmod 755 "$work"
(cd "$work" && apt-get download -qq "$package=$want" >/dev/null 2>&1) || {
  echo "install_syslog_ng.sh: apt-get download $package=$want failed" >&2
  exit 1
}
staging="$dest.new"
rm -rf "$staging"
mkdir -p "$staging"
dpkg-deb -x "$work"/"$package"_*.deb "$staging"

# Every library the daemon and its modules need must resolve now, not when a
# test starts it.
unresolved=$(for file in "$staging/usr/sbin/syslog-ng" "$staging"/usr/lib/syslog-ng/*/*.so; do
  LD_LIBRARY_PATH="$staging/usr/lib/syslog-ng" ldd "$file" 2>/dev/null | grep 'not found' || true
done | sort -u)
if [[ -n "$unresolved" ]]; then
  echo "install_syslog_ng.sh: unresolved libraries:" >&2
  echo "$unresolved" >&2
  exit 1
fi
echo "$want" > "$staging/VERSION"
rm -rf "$dest"
mv "$staging" "$dest"
exit 0
