#!/usr/bin/env bash
# Formatting check: C and C++ sources must be formatted as the repository's
# .clang-format says.
#
#   scripts/check_format.sh [FILE...]
#
# Without FILEs it checks every tracked source: `git ls-files '*.c' '*.cc'
# '*.h'` minus subprojects/ (third-party code fetched by Meson). FILEs may
# lie outside the repository; they are checked against the repository's
# .clang-format all the same.
#
# clang-format's output changes between major versions, so the check pins
# one: clang-format 14 (Debian 12's clang-format; scripts/setup.sh installs
# it). It uses clang-format-14, or clang-format when that is version 14, or
# $CLANG_FORMAT when set.
#
# Exit status: 0 when every file is formatted; 1 when one is not (clang-format
# names the first differing lines of each file); 77 (Meson's SKIP) with the reason when
# clang-format 14 or git is missing.
set -uo pipefail

readonly wanted_major=14
repo=$(cd "$(dirname "$0")/.." && pwd)
style="$repo/.clang-format"

major_of() {
    "$1" --version 2>/dev/null | sed -n 's/.*clang-format version \([0-9]*\)\..*/\1/p' | head -n 1
}

find_clang_format() {
    local candidate
    for candidate in ${CLANG_FORMAT:-} clang-format-$wanted_major clang-format; do
        if command -v "$candidate" >/dev/null 2>&1 && [ "$(major_of "$candidate")" = "$wanted_major" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! clang_format=$(find_clang_format); then
    echo "check_format: SKIP: clang-format $wanted_major not found (apt-get install clang-format-$wanted_major)" >&2
    exit 77
fi
if [ ! -f "$style" ]; then
    echo "check_format: $style is missing" >&2
    exit 1
fi

files=("$@")
if ((${#files[@]} == 0)); then
    if ! command -v git >/dev/null 2>&1 || ! git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
        echo "check_format: SKIP: no git checkout at $repo to list the sources" >&2
        exit 77
    fi
    mapfile -t files < <(git -C "$repo" ls-files '*.c' '*.cc' '*.h' | grep -v '^subprojects/' |
        sed "s|^|$repo/|")
fi

failed=0
for f in "${files[@]}"; do
    if ! out=$("$clang_format" --style="file:$style" --dry-run -Werror "$f" 2>&1); then
        failed=$((failed + 1))
        echo "not formatted: $f" >&2
        # The first differences are enough to see what is wrong.
        printf '%s\n' "$out" | head -n 12 >&2
    fi
done
if ((failed)); then
    echo "check_format: $failed of ${#files[@]} file(s) not formatted; fix with:" \
        "$clang_format --style=file -i FILE..." >&2
    exit 1
fi
echo "check_format: ${#files[@]} file(s) formatted ($clang_format)"
