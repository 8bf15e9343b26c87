#!/usr/bin/env bash
# Stage: the aarch64 cross build (build-aarch64/, cross/aarch64.ini) and
#   meson test --suite unit --suite nested-arm64
# The unit suite runs under qemu-aarch64-static; nested-arm64 boots Debian's
# arm64 cloud kernel under qemu-system-aarch64 (TCG, virtualization=on) with
# the cross-built kvmdbg in its initramfs and drives it with gdb-multiarch
# (tests/nested/arm64/README.md). The kernel and busybox packages are
# downloaded (apt-get download, never installed) into
# build-aarch64/nested-cache/ by the first case that needs them.
#
# Packages (installed when missing, root): g++-aarch64-linux-gnu,
# libglib2.0-dev:arm64, libcunit1-dev:arm64, libfdt1:arm64,
# libstdc++6:arm64, qemu-user-static (tests/nested/arm64/cross-deps.sh),
# qemu-system-arm, gdb-multiarch. When a rig package is missing, every
# nested case still runs and SKIPs naming it; without the cross toolchain
# there is no aarch64 build to test, and the stage says so and fails.
set -uo pipefail
cd "$(dirname "$0")/../.."

tests/nested/arm64/cross-deps.sh qemu-system-arm gdb-multiarch ||
  echo "nested-arm64: some packages are missing (named above); the tests that need them SKIP" >&2

dir=build-aarch64
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$dir/build.ninja" ]; then
  if ! meson setup "$dir" --cross-file cross/aarch64.ini >"$log" 2>&1; then
    cat "$log" >&2
    echo "nested-arm64: meson setup $dir failed" >&2
    exit 1
  fi
fi
if ! ninja -C "$dir" >"$log" 2>&1; then
  cat "$log" >&2
  echo "nested-arm64: build of $dir failed" >&2
  exit 1
fi
meson test -C "$dir" --suite unit --suite nested-arm64 --print-errorlogs --num-processes 2
