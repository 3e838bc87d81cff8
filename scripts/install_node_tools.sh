#!/usr/bin/env bash
# Installs the pinned npm tools the test suite drives into <repo>/.tools/node,
# quietly and only if missing. Nothing is installed globally: deleting
# .tools/ undoes it.
#
#   scripts/install_node_tools.sh
#
# Layout after it ran:
#   .tools/node/node_modules/.bin/s3rver    the S3-compatible server of
#                                           storage/s3/s3_client_s3rver_test.cc
#   .tools/node/node_modules/playwright-core
#                                           drives Debian's chromium in
#                                           tests/web/viewer_test.js (no browser
#                                           download: playwright-core has none)
#   .tools/node/node_modules/gelf-pro       the GELF client of tests/gelf/send.js
#   .tools/node/node_modules/@elastic/elasticsearch
#                                           the official ES client whose bulk helper
#                                           tests/es/bulk_helper.js drives
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix="$root/.tools/node"
# name@version, pinned: a test that passes today must pass on the next checkout.
packages=(s3rver@3.7.1 playwright-core@1.65.1 gelf-pro@1.4.0 @elastic/elasticsearch@8.19.1)

installed_version() {  # name
  local manifest="$prefix/node_modules/$1/package.json"
  [[ -f "$manifest" ]] || return 0
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$manifest" 2>/dev/null || true
}

missing=()
for spec in "${packages[@]}"; do
  name=${spec%@*}
  version=${spec##*@}
  [[ "$(installed_version "$name")" == "$version" ]] || missing+=("$spec")
done

if [[ ${#missing[@]} -ne 0 ]]; then
  if ! command -v node >/dev/null; then
    echo "install_node_tools.sh: node is not installed; run scripts/install_deps.sh --test" >&2
    exit 1
  fi
  # NodeSource's nodejs bundles npm; Debian's does not.
  if ! command -v npm >/dev/null; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "install_node_tools.sh: npm is missing; run as root or install it" >&2
      exit 1
    fi
    echo "installing: npm" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "installing into $prefix: ${missing[*]}" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --save-exact --no-audit --no-fund --no-update-notifier \
    --loglevel=error "${missing[@]}" >/dev/null
fi

# s3rver 3.7.1 answers a PUT (object or multipart part) when its own hashing
# stream ends, before the file stream has written the bytes: a GET or a
# CompleteMultipartUpload right after can read a short file, and a loaded
# machine sees that. Its store is made to answer once the file stream has
# finished instead (idempotent; the install is pinned, so the text is known).
s3rver_store="$prefix/node_modules/s3rver/lib/stores/filesystem.js"
node - "$s3rver_store" <<'NODE'
const fs = require('fs');
const file = process.argv[2];
let text = fs.readFileSync(file, 'utf8');
const patterns = [
  [/\.on\('finish', \(\) => resolve\(\[totalLength, md5Context\.digest\('hex'\)\]\)\)\n(\s*)\.pipe\(writeStream\);/,
   ".pipe(writeStream)\n$1.on('error', reject)\n$1.on('finish', () => resolve([totalLength, md5Context.digest('hex')]));"],
  [/\.on\('finish', \(\) => \{\n(\s*)resolve\(\[totalLength, md5Context\.digest\('hex'\)\]\);\n(\s*)\}\)\n(\s*)\.pipe\(writeStream\);/,
   ".pipe(writeStream)\n$3.on('error', reject)\n$3.on('finish', () => {\n$1resolve([totalLength, md5Context.digest('hex')]);\n$2});"],
  [/writeStream\.end\(object\.content\);\n(\s*)md5Context\.update\(object\.content\);\n\s*resolve\(\[object\.content\.length, md5Context\.digest\('hex'\)\]\);/,
   "md5Context.update(object.content);\n$1writeStream.on('error', reject);\n$1writeStream.end(object.content, () => resolve([object.content.length, md5Context.digest('hex')]));"],
];
let changed = 0;
for (const [pattern, replacement] of patterns) {
  if (pattern.test(text)) {
    text = text.replace(pattern, replacement);
    changed++;
  }
}
const fixed = (text.match(/\.pipe\(writeStream\)\n\s*\.on\('error', reject\)\n\s*\.on\('finish'/g) || []).length;
const ended = (text.match(/writeStream\.end\(object\.content, \(\) => resolve/g) || []).length;
if (fixed !== 2 || ended !== 1) {
  console.error(`install_node_tools.sh: cannot make ${file} answer after writing (found ${fixed + ended} of 3 places)`);
  process.exit(1);
}
if (changed) fs.writeFileSync(file, text);
NODE

# A package can unpack and still not run (a missing native dependency, an
# engine mismatch): find out now, not in the middle of a test.
if ! "$prefix/node_modules/.bin/s3rver" --help >/dev/null 2>&1; then
  echo "install_node_tools.sh: $prefix/node_modules/.bin/s3rver --help fails" >&2
  exit 1
fi
if ! node -e 'require(process.argv[1]).chromium.executablePath' \
    "$prefix/node_modules/playwright-core" >/dev/null 2>&1; then
  echo "install_node_tools.sh: node cannot load $prefix/node_modules/playwright-core" >&2
  exit 1
fi
if ! node -e 'require(process.argv[1])' "$prefix/node_modules/gelf-pro" >/dev/null 2>&1; then
  echo "install_node_tools.sh: node cannot load $prefix/node_modules/gelf-pro" >&2
  exit 1
fi
if ! node -e 'new (require(process.argv[1]).Client)({node: "http://127.0.0.1:9"}).helpers.bulk' \
    "$prefix/node_modules/@elastic/elasticsearch" >/dev/null 2>&1; then
  echo "install_node_tools.sh: node cannot load $prefix/node_modules/@elastic/elasticsearch" >&2
  exit 1
fi
exit 0
