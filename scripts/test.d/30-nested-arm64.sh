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
# nested case still runs and SKIPs naming it. When the cross build itself
# cannot be made for want of a package, build-aarch64/ is set up from
# tests/nested/arm64/unavailable/ instead: the same nested-arm64 cases, each
# SKIPping with the missing packages named.
set -uo pipefail
cd "$(dirname "$0")/../.."

dir=build-aarch64
log=$(mktemp)
trap 'rm -f "$log"' EXIT

deps_missing=
if ! tests/nested/arm64/cross-deps.sh qemu-system-arm gdb-multiarch 2>"$log"; then
  cat "$log" >&2
  deps_missing=$(sed -n 's/^cross-deps: package \(.*\) is not installed$/\1/p' "$log" | tr '\n' ' ')
  echo "nested-arm64: missing packages: ${deps_missing:-see above}; the tests that need them SKIP" >&2
fi

source_of() {  # the source directory build-aarch64/ was configured from
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
    "$dir/meson-info/meson-info.json" 2>/dev/null
}

cross_ok=1
if [ ! -f "$dir/build.ninja" ] || [ "$(source_of)" != "$PWD" ]; then
  rm -rf "$dir"
  if ! meson setup "$dir" -Dbuildtype=plain --cross-file cross/aarch64.ini >"$log" 2>&1; then
    cross_ok=0
    if [ -z "$deps_missing" ]; then
      cat "$log" >&2
      echo "nested-arm64: meson setup $dir failed" >&2
      exit 1
    fi
  fi
fi

if [ $cross_ok = 0 ]; then
  reason="the aarch64 cross build needs packages that could not be installed: $deps_missing"
  rm -rf "$dir"
  meson setup "$dir" tests/nested/arm64/unavailable -Dreason="$reason" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  meson test -C "$dir" --suite nested-arm64 --print-errorlogs
  exit $?
fi

if ! ninja -C "$dir" >"$log" 2>&1; then
  cat "$log" >&2
  echo "nested-arm64: build of $dir failed" >&2
  exit 1
fi
meson test -C "$dir" --suite unit --suite nested-arm64 --print-errorlogs --num-processes 2
