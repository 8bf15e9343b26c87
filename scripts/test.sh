#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs
# every suite, then every suite but style (the sources' format) again under
# ASan+UBSan.
#
# Build directories: build/ (the normal build), build-asan/ and
# build-static/ (-Daccel_static=true: the KVM accelerator linked into the
# binary instead of loaded as a module; its kvm suite runs the guests).
# Further stages (cross builds, nested arm64 KVM, fuzzing, ThreadSanitizer,
# benchmarks in short mode) are scripts in scripts/test.d/, run in name order
# after the core suites; each installs what it needs, builds its own build
# directory and runs `meson test` there, so its testlog.json is counted by
# .ci/run. A stage exits non-zero only when a test failed.
# Exit status: non-zero if any test or stage failed.
set -uo pipefail

cd "$(dirname "$0")/.."

# Packages the tests fetch at test time (Debian's kernel, its -dbg vmlinux,
# busybox) are kept once for every build directory, not once per directory.
export KVMDBG_TEST_CACHE="$PWD/build/cache"

# Stale logs from an earlier run must not be counted by .ci/run.
rm -f build*/meson-logs/testlog.json

scripts/setup.sh build || exit 1
# The checking builds compile without optimisation (-O0, line tables only):
# about twice as fast to build, and they exist to run tests, not to be fast.
scripts/setup.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=plain -Dc_args=-g1 -Dcpp_args=-g1 || exit 1
KVMDBG_BUILD_SUITES=kvm scripts/setup.sh build-static -Daccel_static=true -Dbuildtype=plain || exit 1

# Optional test packages: only a few tests use them, and those SKIP with the
# reason when the package is missing, so a failed install is reported and
# the run goes on. demo.sh does not install them. KVMDBG_NO_OPTIONAL_PACKAGES=1
# skips this step.
#   xen-hypervisor-4.17-amd64   tests/kvm/xen_boot.py boots /boot/xen-4.17-amd64.gz,
#                               a multiboot kernel no one here wrote. Installs
#                               only /boot/xen-4.17-amd64.*; on a machine with
#                               /boot/grub its postinst runs update-grub, which
#                               adds Xen menu entries after the normal ones.
#   lldb                        tests/e2e lldb_session: lldb's gdb-remote client
optional_packages=(xen-hypervisor-4.17-amd64 lldb)
install_optional_packages() {
  local missing=() p
  for p in "${optional_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "test: optional test packages missing and not root: ${missing[*]} (their tests SKIP)" >&2
    return 0
  fi
  echo "test: installing optional test packages ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  local install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
  if ! "${install[@]}" >/dev/null 2>&1; then
    # Stale package lists are the usual reason; refresh once and retry.
    if ! { apt-get update -qq >/dev/null 2>&1 && "${install[@]}" >/dev/null 2>&1; }; then
      echo "test: could not install optional test packages ${missing[*]}; their tests SKIP" >&2
    fi
  fi
}
if [ "${KVMDBG_NO_OPTIONAL_PACKAGES:-0}" != 1 ]; then
  install_optional_packages
fi

status=0
echo "== all suites (build/)"
meson test -C build --print-errorlogs --num-processes 2 || status=1
echo "== all suites under ASan+UBSan (build-asan/)"
# Not style: the sources' format does not depend on the build. Not
# linux-guest: whole Linux boots take minutes where kernel-mode code is slow,
# and build/ runs them; the ASan and static builds run every other test.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --no-suite style --no-suite linux-guest --print-errorlogs --num-processes 2 || status=1
echo "== kvm suite with the accelerator linked in (build-static/)"
meson test -C build-static --suite kvm --no-suite linux-guest --no-rebuild --print-errorlogs --num-processes 2 || status=1
for stage in scripts/test.d/*.sh; do
  [ -e "$stage" ] || continue
  echo "== stage $(basename "$stage" .sh)"
  bash "$stage" || status=1
done
exit $status
