#!/bin/sh
# Runs one libFuzzer target as a meson test (suite fuzz):
#   run_fuzzer.sh FUZZER CORPUS_DIR REGRESSIONS_DIR ARTIFACT_DIR SECONDS
# 1. every input in REGRESSIONS_DIR (crashes found earlier) once;
# 2. fuzzing for SECONDS (KVMDBG_FUZZ_SECONDS overrides it) from the seed
#    corpus, new inputs going to a temporary directory so the source tree
#    is never written. A crash, leak, sanitizer report, timeout or
#    out-of-memory makes libFuzzer exit non-zero, and the test fails; the
#    input is kept in ARTIFACT_DIR.
set -u
fuzzer=$1 corpus=$2 regressions=$3 artifacts=$4 seconds=${KVMDBG_FUZZ_SECONDS:-$5}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
mkdir -p "$artifacts" || exit 1
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

set -- "$regressions"/*
if [ -e "$1" ]; then
  echo "== $# regression input(s) from $regressions"
  "$fuzzer" -artifact_prefix="$artifacts/" "$@" || exit 1
fi

echo "== fuzzing for ${seconds}s from $corpus"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$corpus"
