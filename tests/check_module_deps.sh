#!/usr/bin/env bash
# Enforces the module dependency table of docs/ARCHITECTURE.md on #include
# lines, so a forbidden dependency fails even where CMake's link graph would
# not notice (a header-only use compiles fine through a transitive include path).
#
#   folder         may include (of ours)
#   server/base/   server/base/
#   config/        server/base/, config/
#   parsers/       server/base/, config/, parsers/
#   storage/       server/base/, config/, storage/
#   server/        anything
#   web/           (no C++ at all)
#
# Tests (*_test.cc) and benchmarks inside a folder obey the same rules; tests
# may also include the shared test support in tests/ (e.g. tests/temp_dir.h).
# "Ours" means a path inside the source tree: a quoted include is resolved
# relative to the including file first, then to the source root; an angled
# include counts only if it names a file under the source root.
#
# Usage: check_module_deps.sh [SOURCE_DIR]   (default: the parent of this script)
# Prints each violation as file:line: message; exits 1 if there are any,
# 2 if SOURCE_DIR is not a sluice source tree.

set -u -o pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
root=${root%/}
if [[ ! -d $root/server || ! -f $root/CMakeLists.txt ]]; then
  echo "check_module_deps: $root is not the sluice source dir (no server/ or CMakeLists.txt)" >&2
  exit 2
fi

cxx_pattern='.*\.\(cc\|h\|cpp\|cxx\|hh\|hpp\|hxx\|ipp\|inc\)'
violations=0
files_checked=0

# Collapses "a/./b/../c" into "a/c" (no filesystem access, no subprocess).
normalize() {
  local path=$1 part
  local -a out=()
  local IFS=/
  for part in $path; do
    case $part in
      '' | .) ;;
      ..) if ((${#out[@]})); then unset 'out[${#out[@]}-1]'; else out+=(..); fi ;;
      *) out+=("$part") ;;
    esac
  done
  printf '%s' "${out[*]}"
}

# The module (table row) a source-relative path belongs to, or "" if none.
module_of() {
  case $1 in
    server/base/*) echo server/base ;;
    server/*) echo server ;;
    config/*) echo config ;;
    parsers/*) echo parsers ;;
    storage/*) echo storage ;;
    web/*) echo web ;;
    bench/*) echo bench ;;
    tests/*) echo tests ;;
    *) echo "" ;;
  esac
}

# Modules that files of module $1 may include.
allowed_for() {
  case $1 in
    server/base) echo "server/base" ;;
    config) echo "server/base config" ;;
    parsers) echo "server/base config parsers" ;;
    storage) echo "server/base config storage" ;;
    *) echo "*" ;;
  esac
}

report() {
  echo "$1:$2: $3"
  violations=$((violations + 1))
}

# web/ holds the viewer only: no C++ sources or headers.
while IFS= read -r -d '' file; do
  report "${file#"$root"/}" 1 "web/ contains no C++; move this file to server/ (web assets are embedded by web/embed.cmake)"
done < <(find "$root/web" -type f -regex "$cxx_pattern" -print0 2>/dev/null)

include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]+)[">]'

for dir in server config parsers storage; do
  [[ -d $root/$dir ]] || continue
  while IFS= read -r -d '' file; do
    rel=${file#"$root"/}
    module=$(module_of "$rel")
    allowed=$(allowed_for "$module")
    [[ $allowed == "*" ]] && { files_checked=$((files_checked + 1)); continue; }
    # Unit tests may also use the shared test support in tests/.
    [[ $rel == *_test.cc ]] && allowed="$allowed tests"
    files_checked=$((files_checked + 1))
    file_dir=$(dirname "$rel")
    line_number=0
    in_block_comment=0
    while IFS= read -r line || [[ -n $line ]]; do
      line_number=$((line_number + 1))
      # Skip lines inside /* ... */ so commented-out includes do not count.
      if ((in_block_comment)); then
        [[ $line == *'*/'* ]] && in_block_comment=0
        continue
      fi
      if [[ $line =~ ^[[:space:]]*/\* && $line != *'*/'* ]]; then
        in_block_comment=1
        continue
      fi
      [[ $line =~ $include_re ]] || continue
      delimiter=${BASH_REMATCH[1]}
      target=${BASH_REMATCH[2]}
      resolved=""
      if [[ $delimiter == '"' ]]; then
        relative=$(normalize "$file_dir/$target")
        if [[ -e $root/$relative ]]; then
          resolved=$relative
        elif [[ -e $root/$(normalize "$target") ]]; then
          resolved=$(normalize "$target")
        elif [[ -n $(module_of "$(normalize "$target")") ]]; then
          resolved=$(normalize "$target")  # a root-relative path not written yet
        elif [[ -n $(module_of "$relative") ]]; then
          resolved=$relative  # a sibling not written yet
        fi
      elif [[ -e $root/$(normalize "$target") ]]; then
        resolved=$(normalize "$target")
      fi
      [[ -z $resolved ]] && continue  # a system or third-party header
      if [[ $resolved == ../* ]]; then
        report "$rel" "$line_number" "#include ${delimiter}${target} leaves the source tree"
        continue
      fi
      target_module=$(module_of "$resolved")
      ok=0
      for allowed_module in $allowed; do
        [[ $target_module == "$allowed_module" ]] && ok=1
      done
      if ((!ok)); then
        shown=${target_module:-$resolved}
        report "$rel" "$line_number" \
          "$module/ may not include $shown/ (${resolved}); allowed: ${allowed// /, }"
      fi
    done <"$file"
  done < <(find "$root/$dir" -type f -regex "$cxx_pattern" -print0 | sort -z)
done

if ((violations)); then
  echo "check_module_deps: $violations violation(s) of the module table (docs/ARCHITECTURE.md)" >&2
  exit 1
fi
echo "check_module_deps: $files_checked files obey the module table"
exit 0
