#!/usr/bin/env bash
# Installs what the aarch64 cross build (cross/aarch64.ini) needs on a
# Debian 12 x86-64 host, when missing (root):
#   g++-aarch64-linux-gnu             the cross compiler
#   libglib2.0-dev:arm64 libcunit1-dev:arm64 libfdt1:arm64 libstdc++6:arm64
#                                     the arm64 libraries (dpkg --add-architecture arm64)
#   qemu-user-static                  the exe_wrapper running cross-built unit tests
# and makes /usr/local/lib/aarch64-linux-gnu/libfdt.so: libfdt-dev is not
# Multi-Arch: same in Debian 12 (libfdt-dev:arm64 would remove the native
# libfdt-dev), so the cross link uses the native package's headers and this
# link to libfdt1:arm64's libfdt.so.1.
#
#   tests/nested/arm64/cross-deps.sh [EXTRA_PACKAGE...]
#
# Extra packages (the nested rig's: qemu-system-arm, gdb-multiarch) are
# installed the same way. Exit 0 when everything is there; 1 (after naming
# what is missing) when something could not be installed.
set -uo pipefail

packages=(g++-aarch64-linux-gnu libglib2.0-dev:arm64 libcunit1-dev:arm64 libfdt1:arm64
          libstdc++6:arm64 qemu-user-static "$@")

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "cross-deps: missing and not root: ${missing[*]}" >&2
  else
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      dpkg --add-architecture arm64
      apt-get update -qq >/dev/null 2>&1
    fi
    echo "cross-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    install=(apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}")
    if ! "${install[@]}" >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1
      "${install[@]}" >/dev/null 2>&1 || true
    fi
  fi
fi

status=0
for p in "${packages[@]}"; do
  if ! installed "$p"; then
    echo "cross-deps: package $p is not installed" >&2
    status=1
  fi
done

if installed libfdt1:arm64; then
  if [ -w /usr/local/lib ] || [ "$(id -u)" -eq 0 ]; then
    mkdir -p /usr/local/lib/aarch64-linux-gnu
    ln -sfn /usr/lib/aarch64-linux-gnu/libfdt.so.1 /usr/local/lib/aarch64-linux-gnu/libfdt.so
  fi
  if [ ! -e /usr/local/lib/aarch64-linux-gnu/libfdt.so ]; then
    echo "cross-deps: /usr/local/lib/aarch64-linux-gnu/libfdt.so is missing (needs root)" >&2
    status=1
  fi
fi
exit $status
