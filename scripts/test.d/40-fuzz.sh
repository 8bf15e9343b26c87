#!/usr/bin/env bash
# Stage: libFuzzer targets (tests/fuzz/, suite 'fuzz') in build-fuzz/,
# built with clang and ASan+UBSan; each target first re-runs its regression
# inputs, then fuzzes for a short bounded time from its seed corpus
# (KVMDBG_FUZZ_SECONDS, default 20 s per target, two targets at a time).
# A crash, leak, sanitizer report or timeout fails the target's test.
#
# Packages: clang-14 and libclang-rt-14-dev (the libFuzzer runtime). When
# they cannot be installed, build-fuzz/ is configured with the default
# compiler and -Dfuzzing=enabled, so every fuzz test is still run and
# SKIPs (77) printing why.
set -uo pipefail
cd "$(dirname "$0")/../.."

packages=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: ${missing[*]} missing and not root; the fuzz tests SKIP" >&2
  else
    echo "fuzz: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
    if ! "${install[@]}" >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 && "${install[@]}" >/dev/null 2>&1 ||
        echo "fuzz: could not install ${missing[*]}; the fuzz tests SKIP" >&2
    fi
  fi
fi

dir=build-fuzz
if command -v clang++-14 >/dev/null 2>&1; then
  compiler=(CC=clang-14 CXX=clang++-14)
  want=clang
else
  compiler=()
  want=gcc
fi
# A build directory configured with the other compiler is set up afresh.
if [ -f "$dir/build.ninja" ]; then
  have=gcc
  grep -q 'clang++' "$dir/build.ninja" && have=clang
  [ "$have" = "$want" ] || rm -rf "$dir"
fi
if [ ! -f "$dir/build.ninja" ]; then
  if ! env "${compiler[@]}" meson setup "$dir" -Dfuzzing=enabled \
      -Db_sanitize=address,undefined -Db_lundef=false >"$dir.setup.log" 2>&1; then
    cat "$dir.setup.log" >&2
    rm -f "$dir.setup.log"
    echo "fuzz: meson setup $dir failed" >&2
    exit 1
  fi
  rm -f "$dir.setup.log"
fi

# Build only the fuzz targets (not the whole tree again under clang).
targets=()
if [ "$want" = clang ]; then
  for f in tests/fuzz/fuzz_*.cc; do
    targets+=("tests/fuzz/$(basename "$f" .cc)")
  done
  if ! ninja -C "$dir" "${targets[@]}" >"$dir/fuzz-build.log" 2>&1; then
    cat "$dir/fuzz-build.log" >&2
    echo "fuzz: build of the fuzz targets in $dir failed" >&2
    exit 1
  fi
fi

meson test -C "$dir" --suite fuzz --no-rebuild --print-errorlogs --num-processes 2
