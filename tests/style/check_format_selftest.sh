#!/usr/bin/env bash
# Proves scripts/check_format.sh can fail: it must accept a file in the
# house style and reject the same code with a 2-space indent, `Type &name`
# and a case body on its own line, naming the file it rejects.
#
#   tests/style/check_format_selftest.sh
#
# Exit 77 (SKIP) when check_format.sh skips (no clang-format 14).
set -uo pipefail

check="$(cd "$(dirname "$0")/../.." && pwd)/scripts/check_format.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/formatted.cc" <<'CODE'
#include "common/result.h"

#include <string>

namespace kvmdbg {

namespace {

const char* kind_name(int kind) {
    switch (kind) {
    case 0: return "breakpoint";
    default: break;
    }
    return "watchpoint";
}

}  // namespace

std::string describe(const std::string& what, int kind) { return what + ": " + kind_name(kind); }

}  // namespace kvmdbg
CODE

cat >"$tmp/misformatted.cc" <<'CODE'
#include "common/result.h"

#include <string>

namespace kvmdbg {

namespace {

const char *kind_name(int kind) {
  switch (kind) {
    case 0:
      return "breakpoint";
    default: break;
  }
  return "watchpoint";
}

}  // namespace

std::string describe(const std::string &what, int kind) { return what + ": " + kind_name(kind); }

}  // namespace kvmdbg
CODE

"$check" "$tmp/formatted.cc"
status=$?
if [ "$status" -eq 77 ]; then
    exit 77
fi
if [ "$status" -ne 0 ]; then
    echo "FAIL: check_format.sh rejected a file in the house style (exit $status)" >&2
    exit 1
fi

out=$("$check" "$tmp/misformatted.cc" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 1 ]; then
    echo "FAIL: check_format.sh accepted a misformatted file (exit $status, expected 1)" >&2
    exit 1
fi
if ! grep -q "not formatted: $tmp/misformatted.cc" <<<"$out"; then
    echo "FAIL: check_format.sh did not name the misformatted file" >&2
    exit 1
fi

# Both at once: one bad file fails the whole check.
"$check" "$tmp/formatted.cc" "$tmp/misformatted.cc" >/dev/null 2>&1
status=$?
if [ "$status" -ne 1 ]; then
    echo "FAIL: check_format.sh passed a list holding a misformatted file (exit $status)" >&2
    exit 1
fi
echo "PASS: check_format.sh accepts the house style and rejects a misformatted file"
