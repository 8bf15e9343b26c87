#!/usr/bin/env python3
"""Prints 'N passed, N failed, N skipped' over Meson testlog.json files.

Each argument is a testlog.json (one JSON object per line). OK and
EXPECTEDFAIL count as passed; SKIP as skipped; everything else (FAIL,
TIMEOUT, ERROR, UNEXPECTEDPASS) as failed. Exits 1 if any failed or if no
test ran at all.
"""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"test_summary: {path} is missing", file=sys.stderr)
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
