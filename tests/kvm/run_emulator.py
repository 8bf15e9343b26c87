#!/usr/bin/env python3
"""Runs build/kvmdbg once and checks what it did.

  run_emulator.py [--needs-kvm] [--status N] [--stdout TEXT]... [--stderr TEXT]...
                  [--no-stdout TEXT]... [--timeout S] -- KVMDBG ARGS...

--status N      the exit status that must come back
--stdout TEXT   TEXT must appear in stdout (repeatable, in order)
--stderr TEXT   TEXT must appear in stderr (repeatable)
--no-stdout T   T must not appear in stdout
--needs-kvm     exit 77 (SKIP) with the reason when /dev/kvm is unusable
Prints both streams on failure. Exit 0 on success, 1 on failure.
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kvm_host import kvm_unusable  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--needs-kvm", action="store_true")
    ap.add_argument("--status", type=int, required=True)
    ap.add_argument("--stdout", action="append", default=[])
    ap.add_argument("--stderr", action="append", default=[])
    ap.add_argument("--no-stdout", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if args.needs_kvm:
        reason = kvm_unusable()
        if reason:
            print(f"SKIP: {reason}")
            return 77
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=args.timeout)
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: timed out after {args.timeout}s: {' '.join(cmd)}")
        print("stdout:", (e.stdout or b"").decode(errors="replace"))
        print("stderr:", (e.stderr or b"").decode(errors="replace"))
        return 1
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    problems = []
    if p.returncode != args.status:
        problems.append(f"exit status {p.returncode}, expected {args.status}")
    pos = 0
    for text in args.stdout:
        i = out.find(text, pos)
        if i < 0:
            problems.append(f"stdout lacks {text!r} (in order)")
        else:
            pos = i + len(text)
    for text in args.stderr:
        if text not in err:
            problems.append(f"stderr lacks {text!r}")
    for text in args.no_stdout:
        if text in out:
            problems.append(f"stdout has {text!r}")
    print("command:", " ".join(cmd))
    print("--- stdout\n" + out + "--- stderr\n" + err + "---")
    if problems:
        for pr in problems:
            print("FAIL:", pr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
