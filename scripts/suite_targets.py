#!/usr/bin/env python3
"""Prints the ninja targets that the tests of some Meson suites need.

    scripts/suite_targets.py BUILD_DIR SUITE...

One path per line, relative to BUILD_DIR: every program a test of one of the
suites runs and every target it depends on. Lets a stage build only what its
suites run (`ninja -C BUILD_DIR $(...)`, then `meson test --no-rebuild`).
"""
import json
import os
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    wanted = set(sys.argv[2:])

    def introspect(what):
        return json.loads(subprocess.check_output(["meson", "introspect", build, what]))

    tests, targets = introspect("--tests"), introspect("--targets")
    by_id = {t["id"]: t for t in targets}
    outputs = {f for t in targets for f in t["filename"]}
    need = set()
    for test in tests:
        # Suites appear as "project:suite+suite2".
        if not any(s.split(":")[-1].split("+")[0] in wanted for s in test["suite"]):
            continue
        for dep in test["depends"]:
            need.update(by_id[dep]["filename"] if dep in by_id else [])
        need.update(c for c in test["cmd"] if c in outputs)
    for path in sorted(need):
        print(os.path.relpath(path, build))
    return 0 if need else 1


if __name__ == "__main__":
    sys.exit(main())
