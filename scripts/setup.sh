#!/usr/bin/env bash
# Shared install-and-build step of the README's two commands.
#
#   scripts/setup.sh [BUILD_DIR [MESON_OPTIONS...]]
#
# Installs the Debian packages kvmdbg needs when they are missing (needs
# root, as the README says), then configures and builds BUILD_DIR (default
# build/) with Meson. Idempotent: re-running only rebuilds what changed.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  meson ninja-build g++ gcc binutils pkg-config python3
  libglib2.0-dev libfdt-dev libcunit1-dev linux-libc-dev
  gdb gdb-multiarch
  device-tree-compiler
  clang-format-14  # scripts/check_format.sh (suite style) pins clang-format 14
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages and not root: run as root or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir=${1:-build}
shift || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$build_dir/build.ninja" ]; then
  if ! meson setup "$build_dir" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: meson setup $build_dir failed" >&2
    exit 1
  fi
fi
# KVMDBG_BUILD_SUITES="kvm ...": build only what those suites' tests run.
targets=()
if [ -n "${KVMDBG_BUILD_SUITES:-}" ]; then
  # The suites are read from Meson's introspection data, which is stale in
  # an existing build directory until build.ninja is regenerated (a test
  # added since its last build would be missing from the list).
  if ! ninja -C "$build_dir" build.ninja >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: regenerating $build_dir failed" >&2
    exit 1
  fi
  # shellcheck disable=SC2086
  mapfile -t targets < <(python3 scripts/suite_targets.py "$build_dir" $KVMDBG_BUILD_SUITES)
  if ((${#targets[@]} == 0)); then
    echo "setup: no tests of suites '$KVMDBG_BUILD_SUITES' in $build_dir" >&2
    exit 1
  fi
fi
if ! ninja -C "$build_dir" "${targets[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: build of $build_dir failed" >&2
  exit 1
fi
