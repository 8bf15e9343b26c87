#!/usr/bin/env python3
"""Reliability and security cases against the real kvmdbg, /dev/kvm and
sockets (tests/reliability/README.md).

  reliability.py KVMDBG REL_BUILD_DIR GUEST_DIR CASE

REL_BUILD_DIR holds integrity.elf64 and kvm_run_fault.so. Exit 0 pass,
1 fail (with the outputs), 77 SKIP with the reason (no usable /dev/kvm, or
no gdb for the cases that drive real gdb).
"""
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kvm_host import kvm_unusable  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rel_support import Context, Failure, Skip  # noqa: E402




def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    kvmdbg, rel_dir, guest_dir, name = sys.argv[1:]
    reason = kvm_unusable()
    if reason:
        print(f"SKIP: {reason}")
        return 77
    import integrity_cases
    import fault_cases
    import security_cases
    cases = {}
    for module in (integrity_cases, fault_cases, security_cases):
        cases.update(module.CASES)
    fn = cases.get(name)
    if fn is None:
        print(f"unknown case {name}")
        return 2
    with tempfile.TemporaryDirectory(prefix="kvmdbg-rel-") as tmp:
        ctx = Context(kvmdbg, rel_dir, guest_dir, tmp)
        started = time.time()
        try:
            fn(ctx)
        except Skip as s:
            print(f"SKIP: {s}")
            return 77
        except Failure as f:
            print(f"FAIL: {f}")
            return 1
        print(f"PASS ({time.time() - started:.1f} s)")
        return 0


if __name__ == "__main__":
    sys.exit(main())
