#!/usr/bin/env python3
"""One case of the nested-arm64 suite: a real arm64 KVM under TCG.

  nested_case.py BUILD_DIR CACHE_DIR CASE

BUILD_DIR is the aarch64 cross build (its kvmdbg, accel/kvm/accel-kvm.so,
tests/nested/arm64/kvm_probe and tests/guests/arm64/*); CACHE_DIR keeps the
downloaded kernel and busybox and the base initramfs (rig.py). Boots the rig
once per kvmdbg run; gdb-multiarch on this side talks to kvmdbg's
`-gdb stdio` inside through a virtio-serial port.

Exit 0 pass, 1 fail (console, gdb and kvmdbg output printed), 77 SKIP with
the reason when a package the rig needs is missing and cannot be installed.
"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rig  # noqa: E402
import nested_cases  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    build_dir, cache, name = sys.argv[1:]
    case = nested_cases.CASES.get(name)
    if case is None:
        print(f"unknown case {name}; cases: {', '.join(nested_cases.CASES)}")
        return 2
    try:
        the_rig = rig.Rig(build_dir, cache)
    except rig.Skip as s:
        print(f"SKIP: {s}")
        return 77
    except (rig.RigError, OSError) as e:
        print(f"FAIL: the rig could not be prepared: {e}")
        return 1
    tmp = tempfile.mkdtemp(prefix="kvmdbg-nested-")
    try:
        ctx = nested_cases.Context(the_rig, tmp)
        return case(ctx)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
