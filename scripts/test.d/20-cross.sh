#!/usr/bin/env bash
# Stage "cross": the ppc, s390x and riscv64 backends on their real ABIs.
#
#  1. Installs the Debian cross compilers (g++-s390x-linux-gnu,
#     g++-powerpc-linux-gnu, g++-riscv64-linux-gnu, which bring
#     linux-libc-dev-<arch>-cross: the real uapi headers) and
#     qemu-user-static.
#  2. Unpacks Debian 12's s390x glib/CUnit/libfdt packages (and their
#     library dependencies) into build-cross-s390x.sysroot/ with
#     `apt-get download` + `dpkg-deb -x` (see cross/s390x.ini for why they
#     are not installed with dpkg).
#  3. Configures build-cross-s390x/ (cross/s390x.ini: s390x is BIG-endian),
#     builds only the test programs of suite 'cross' and runs that suite:
#     the cross-ISA arch tests, the s390x adaptor test and the gdbstub tests
#     run under qemu-s390x-static (the byte-order proof), the adaptor
#     compile checks for powerpc/s390x/riscv64, and the SKIPs naming the
#     -dev packages Debian 12 lacks for powerpc and riscv64.
# Exits non-zero when a test failed or the s390x build failed. Without the
# s390x toolchain, qemu or packages it falls back to a native build-cross/.
set -uo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
packages=(g++-s390x-linux-gnu g++-powerpc-linux-gnu g++-riscv64-linux-gnu qemu-user-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "cross: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ] ||
     ! { apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
         { apt-get update -qq >/dev/null 2>&1 &&
           apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; }; then
    echo "cross: could not install ${missing[*]}; the tests that need them SKIP" >&2
  fi
fi

# The :s390x packages kvmdbg's unit tests link, with their run-time
# library dependencies and the -dev packages pkg-config's Requires name.
s390x_debs=(
  libglib2.0-0 libglib2.0-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libpcre2-dev
  libffi8 libffi-dev zlib1g zlib1g-dev libmount1 libmount-dev libblkid1 libblkid-dev
  libselinux1 libselinux1-dev libsepol2 libsepol-dev
  libcunit1 libcunit1-dev libfdt1 libfdt-dev
)
sysroot=$PWD/build-cross-s390x.sysroot
make_sysroot() {
  [ -f "$sysroot/.complete" ] && return 0
  rm -rf "$sysroot"
  mkdir -p "$sysroot/debs" || return 1
  # apt-get download of :s390x packages needs the architecture in dpkg's
  # list (nothing is installed for it: the packages are only unpacked).
  if ! dpkg --print-foreign-architectures | grep -qx s390x; then
    [ "$(id -u)" -eq 0 ] || return 1
    dpkg --add-architecture s390x && apt-get update -qq >/dev/null 2>&1
  fi
  (cd "$sysroot/debs" && apt-get download -qq "${s390x_debs[@]/%/:s390x}" >/dev/null 2>&1) || {
    apt-get update -qq >/dev/null 2>&1
    (cd "$sysroot/debs" && apt-get download -qq "${s390x_debs[@]/%/:s390x}") || return 1
  }
  local d
  for d in "$sysroot"/debs/*.deb; do
    dpkg-deb -x "$d" "$sysroot" || return 1
  done
  rm -rf "$sysroot/debs"
  touch "$sysroot/.complete"
}

# Without the s390x toolchain, qemu or packages nothing can be cross-built:
# a native build-cross/ still runs suite 'cross' (script tests only, nothing
# to compile), whose adaptor checks SKIP naming the missing compilers.
fallback() {
  echo "cross: $1; the s390x unit suites are NOT run, the script tests of suite 'cross' run natively in build-cross/" >&2
  if [ ! -f build-cross/build.ninja ]; then
    meson setup build-cross >/dev/null || { echo "cross: meson setup build-cross failed" >&2; exit 1; }
  fi
  meson test -C build-cross --no-rebuild --suite cross --print-errorlogs --num-processes 2
  exit $?
}
command -v s390x-linux-gnu-g++ >/dev/null || fallback "s390x-linux-gnu-g++ (g++-s390x-linux-gnu) is not installed"
command -v qemu-s390x-static >/dev/null || fallback "qemu-s390x-static (qemu-user-static) is not installed"
make_sysroot || fallback "could not unpack the s390x packages ${s390x_debs[*]/%/:s390x} (is s390x added with dpkg --add-architecture?)"
printf "[constants]\nsysroot = '%s'\n" "$sysroot" > "$sysroot/paths.ini"

dir=build-cross-s390x
if [ ! -f "$dir/build.ninja" ]; then
  rm -rf "$dir"
  meson setup "$dir" -Dbuildtype=plain --cross-file "$sysroot/paths.ini" --cross-file cross/s390x.ini >/dev/null || {
    echo "cross: meson setup of $dir failed" >&2
    exit 1
  }
fi
# Build only the programs suite 'cross' runs, as the current meson.build
# files declare them: regenerate first, or a test added since the last
# configure would be missing from the list and then from the build.
ninja -C "$dir" build.ninja >/dev/null 2>&1 || true
targets=$(cd "$dir" && meson introspect --tests | python3 -c '
import json, os, sys
root = os.getcwd() + "/"
out = set()
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "cross" for s in t["suite"]):
        out.update(c[len(root):] for c in t["cmd"] if c.startswith(root))
print(" ".join(sorted(out)))')
if [ -n "$targets" ]; then
  # shellcheck disable=SC2086
  ninja -C "$dir" $targets >/dev/null || { echo "cross: build of $targets failed" >&2; exit 1; }
fi
meson test -C "$dir" --no-rebuild --suite cross --print-errorlogs --num-processes 2
