#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs
# every suite, then the unit and KVM suites again under ASan+UBSan.
#
# Build directories: build/ (the normal build) and build-asan/.
# Exit status: non-zero if any test failed.
set -uo pipefail

cd "$(dirname "$0")/.."

scripts/setup.sh build || exit 1
scripts/setup.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false || exit 1

status=0
echo "== all suites (build/)"
meson test -C build --print-errorlogs --num-processes 2 || status=1
echo "== unit and kvm suites under ASan+UBSan (build-asan/)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --suite kvm --print-errorlogs --num-processes 2 || status=1
exit $status
