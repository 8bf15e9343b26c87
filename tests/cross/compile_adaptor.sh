#!/usr/bin/env bash
# Compiles one ISA's *_kvm.cc adaptor, or the accel/kvm guest-debug hooks
# built on it, with that ISA's Debian cross g++ against its real uapi
# headers (/usr/<triplet>/include from linux-libc-dev-<arch>-cross),
# warnings as errors: every static_assert on a kernel struct's size, offset
# or constant must hold, and the hooks must compile on that ISA's ABI.
#
#   compile_adaptor.sh TRIPLET SOURCE_ROOT SOURCE [--expect-fail]
#
# --expect-fail: the file is a deliberate wrong assertion; the test passes
# only if the compiler rejects it (proof that the check can fail).
# Exit 77 (SKIP) when the cross compiler is not installed.
set -uo pipefail
triplet=$1 root=$2 src=$3 expect=${4:-}
cxx=$triplet-g++
if ! command -v "$cxx" >/dev/null; then
  echo "SKIP: $cxx not installed (Debian package g++-$triplet; scripts/test.d/20-cross.sh installs it)"
  exit 77
fi
if [ ! -f "/usr/$triplet/include/asm/kvm.h" ]; then
  echo "SKIP: /usr/$triplet/include/asm/kvm.h missing (linux-libc-dev-*-cross)"
  exit 77
fi
obj=$(mktemp)
trap 'rm -f "$obj"' EXIT
"$cxx" -std=c++20 -Wall -Wextra -Werror -I"$root" -c "$root/$src" -o "$obj" 2>&1
rc=$?
if [ "$expect" = --expect-fail ]; then
  if [ $rc -eq 0 ]; then
    echo "FAIL: $src compiled, but its static_assert is wrong on purpose"
    exit 1
  fi
  echo "ok: $cxx rejected $src as it must"
  exit 0
fi
[ $rc -eq 0 ] && echo "ok: $src compiles with $cxx against /usr/$triplet/include"
exit $rc
