#!/usr/bin/env bash
# Stage: ThreadSanitizer over the kvm and e2e suites (vCPU threads, the gdb
# stub on the main loop, run-on-vCPU queues and kicks) in build-tsan/
# (gcc, -Db_sanitize=thread). Only what those suites run is built: the
# emulator binary, the accel-kvm module, the kvm test programs and the
# guests (which are built without sanitizers); the e2e tests run the TSan
# kvmdbg binary of build-tsan/.
#
# TSan reports make the instrumented process exit non-zero (exitcode 66),
# so a race fails the test that ran it. Deliberate exceptions, each with
# the reason, are in tests/tsan/suppressions.txt.
#
# ASLR: TSan needs its fixed shadow layout; kernels with more mmap
# randomization bits (vm.mmap_rnd_bits > 28) place mappings where gcc 12's
# TSan runtime aborts with "unexpected memory mapping". The tests then run
# under `setarch -R` (no randomization for them and their children).
set -uo pipefail
cd "$(dirname "$0")/../.."

dir=build-tsan
if [ ! -f "$dir/build.ninja" ]; then
  if ! meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dbuildtype=plain -Dc_args=-g1 -Dcpp_args=-g1 >"$dir.setup.log" 2>&1; then
    cat "$dir.setup.log" >&2
    rm -f "$dir.setup.log"
    echo "tsan: meson setup $dir failed" >&2
    exit 1
  fi
  rm -f "$dir.setup.log"
fi

# The build targets the tests of those suites need (programs and depends).
# KVMDBG_TSAN_SUITES overrides the suites (e.g. "reliability"; see
# docs/reliability.md for what that suite does under TSan).
suites=(${KVMDBG_TSAN_SUITES:-kvm e2e})
mapfile -t targets < <(python3 scripts/suite_targets.py "$dir" "${suites[@]}")
if ((${#targets[@]} == 0)); then
  echo "tsan: found no ${suites[*]} tests in $dir" >&2
  exit 1
fi
if ! ninja -C "$dir" "${targets[@]}" >"$dir/tsan-build.log" 2>&1; then
  cat "$dir/tsan-build.log" >&2
  echo "tsan: build of $dir failed" >&2
  exit 1
fi

wrapper=()
rnd=$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null || echo 0)
bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
if [ "$rnd" != 0 ] && [ "$bits" -gt 28 ]; then
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    wrapper=(--wrapper "setarch $(uname -m) -R")
  else
    echo "tsan: vm.mmap_rnd_bits=$bits and setarch -R is not allowed here; TSan may abort" >&2
  fi
fi

export TSAN_OPTIONS="suppressions=$PWD/tests/tsan/suppressions.txt second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"
suite_args=()
for s in "${suites[@]}"; do
  suite_args+=(--suite "$s")
done
meson test -C "$dir" "${suite_args[@]}" --no-rebuild --print-errorlogs --num-processes 2 "${wrapper[@]}"
