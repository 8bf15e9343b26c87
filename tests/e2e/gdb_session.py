#!/usr/bin/env python3
"""End-to-end: the real kvmdbg binary, a real guest, and real gdb.

  gdb_session.py KVMDBG GUEST_DIR CASE

Starts `kvmdbg -S -gdb tcp:127.0.0.1:0 ...` (an ephemeral loopback port read
back from kvmdbg's "gdb server listening on" line, or a unix socket / stdio
for the transport cases), runs `gdb -batch -nx` with the case's commands
against it and checks what gdb printed, then checks how kvmdbg ended.
Exit 0 pass, 1 fail (gdb's and kvmdbg's output printed), 77 SKIP with the
reason (no usable /dev/kvm, no gdb, or a host limit the start-up probe found).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import e2e_cases  # noqa: E402
from kvm_host import kvm_unusable  # noqa: E402


class Emulator:
    """One kvmdbg process with its gdb endpoint."""

    def __init__(self, kvmdbg, args, transport="tcp", tmp=None):
        self.transport = transport
        self.endpoint = None
        cmd = [kvmdbg] + args
        if transport == "tcp":
            cmd += ["-gdb", "tcp:127.0.0.1:0"]
        elif transport == "unix":
            self.socket_path = os.path.join(tmp, "gdb.sock")
            cmd += ["-gdb", "unix:" + self.socket_path]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            m = re.search(r"gdb server listening on (tcp (\S+):(\d+)|unix (\S+))", line)
            if m:
                if m.group(2):
                    self.endpoint = f"{m.group(2)}:{m.group(3)}"
                else:
                    self.endpoint = m.group(4)
                break
        if self.endpoint is None:
            self.finish(5)
            raise RuntimeError("kvmdbg did not start its gdb server:\n" + "".join(self.stderr_lines))

    def target_command(self):
        return f"target remote {self.endpoint}"

    def finish(self, timeout=20):
        """Waits for exit (kills after `timeout`); returns (status, stdout, stderr)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            err += "\n[killed by the test after %ss]\n" % timeout
        return self.proc.returncode, out, "".join(self.stderr_lines) + err


def run_gdb(commands, timeout=60, target=None, file=None):
    cmd = ["gdb", "-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off"]
    if file:
        cmd += ["-ex", "file " + file]
    if target:
        cmd += ["-ex", target]
    for c in commands:
        cmd += ["-ex", c]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    kvmdbg, guest_dir, case_name = sys.argv[1:]
    reason = kvm_unusable()
    if reason:
        print(f"SKIP: {reason}")
        return 77
    if shutil.which("gdb") is None:
        print("SKIP: gdb is not installed")
        return 77
    case = e2e_cases.CASES.get(case_name)
    if case is None:
        print(f"unknown case {case_name}")
        return 2
    with tempfile.TemporaryDirectory(prefix="kvmdbg-e2e-") as tmp:
        ctx = e2e_cases.Context(kvmdbg, guest_dir, tmp, Emulator, run_gdb)
        return case(ctx)


if __name__ == "__main__":
    sys.exit(main())
