#!/usr/bin/env python3
"""Boots the real Xen 4.17 hypervisor (Debian's xen-hypervisor-4.17-amd64, a
QEMU-style multiboot v1 ELF32 kernel no one here wrote) under kvmdbg the way
one boots it under QEMU, and checks what it prints:

  kvmdbg -M pc-lite -m 512M -no-reboot -kernel xen.elf \\
         -append "console=com1 no-real-mode" -serial stdio

Xen, with no dom0 given, prints its banner and command line, panics with
"dom0 kernel not specified", and resets through the keyboard controller;
with -no-reboot kvmdbg then exits 0, as QEMU does.

  xen_boot.py KVMDBG [XEN_GZ]      (default /boot/xen-4.17-amd64.gz)

Exit 0 pass, 1 fail (both streams printed), 77 SKIP with the reason:
  - the Xen image is not installed (it is an optional test package), or
  - /dev/kvm is unusable, or
  - this host's KVM cannot run the instruction Xen stopped at: Xen's early
    boot executes RDSSP (F3 [REX.W] 0F 1E /1, a NOP while CET shadow stacks
    are off); some hosts (the page-table-based "PVM" KVM the project's
    x86 development and CI machines have, see docs/hosts.md) trap it into
    KVM's instruction emulator, which fails (KVM_EXIT_INTERNAL_ERROR,
    emulation failure); QEMU 7.2 with -enable-kvm stops at the same RIP
    there. The SKIP requires both: kvmdbg reported exactly that failure at
    an RDSSP encoding, and a tiny guest running only RDSSP fails the same
    way on this host. Anything else is a failure.
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tiny_guest  # noqa: E402  (beside this script)
from tiny_guest import exit_with  # noqa: E402

DEFAULT_XEN = "/boot/xen-4.17-amd64.gz"
APPEND = "console=com1 no-real-mode"
EXPECT_STDOUT = [  # in this order
    "(XEN) Xen version 4.17",
    "(XEN) Bootloader: kvmdbg",
    "(XEN) Command line: " + APPEND,
    "dom0 kernel not specified",
]
TIMEOUT = 60

EMULATION_FAILURE = re.compile(
    r"KVM internal error on vCPU \d+: suberror 1 \(emulation failure\) at RIP=(0x[0-9a-f]+)\n"
    r"code bytes at RIP:((?: [0-9a-f]{2})+)")


def is_rdssp(code):
    """F3, an optional REX, 0F 1E, ModRM mod=11 reg=001: RDSSPD/RDSSPQ r."""
    i = 1 if code[:1] == b"\xf3" else None
    if i is None:
        return False
    if i < len(code) and 0x40 <= code[i] <= 0x4F:
        i += 1
    return code[i:i + 2] == b"\x0f\x1e" and len(code) > i + 2 and (code[i + 2] & 0xF8) == 0xC8


def emulation_failure_at_rdssp(stderr):
    """(rip, code bytes text) if kvmdbg stopped on an RDSSP emulation failure."""
    m = EMULATION_FAILURE.search(stderr)
    if not m:
        return None
    code = bytes(int(b, 16) for b in m.group(2).split())
    return (m.group(1), m.group(2).strip()) if is_rdssp(code) else None


def host_fails_rdssp(kvmdbg, tmp):
    """Runs `mov $1,%esi; rdsspq %rsi; cmp $1,%esi` alone. Returns (True,
    kvmdbg's first stderr line) when this host's KVM fails to emulate it,
    (False, description) otherwise."""
    code = (bytes.fromhex("be01000000" "f3480f1ece" "83fe01" "7405") + exit_with(0x11) +
            exit_with(0x10))
    image = tiny_guest.write_elf64(tmp, "rdssp_probe.elf", code)
    cmd = [kvmdbg, "-M", "pc-lite", "-kernel", image] + tiny_guest.ISA_DEBUG_EXIT
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    err = p.stderr.decode(errors="replace")
    if p.returncode == 1 and emulation_failure_at_rdssp(err):
        return True, err.splitlines()[0]
    if p.returncode == 33:
        return False, "a guest running only RDSSP works here (it acted as a NOP)"
    return False, f"the RDSSP probe guest ended with status {p.returncode}: {err.strip()}"


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    kvmdbg = sys.argv[1]
    xen_gz = sys.argv[2] if len(sys.argv) == 3 else DEFAULT_XEN
    if not os.path.exists(xen_gz):
        print(f"SKIP: {xen_gz} is not installed (optional test package: apt-get install "
              "--no-install-recommends xen-hypervisor-4.17-amd64; scripts/test.sh tries it)")
        return 77
    reason = tiny_guest.kvm_unusable()
    if reason:
        print(f"SKIP: {reason}")
        return 77
    with tempfile.TemporaryDirectory(prefix="kvmdbg-xen-") as tmp:
        xen = os.path.join(tmp, "xen.elf")
        with gzip.open(xen_gz, "rb") as src, open(xen, "wb") as dst:
            shutil.copyfileobj(src, dst)
        cmd = [kvmdbg, "-M", "pc-lite", "-m", "512M", "-no-reboot", "-kernel", xen,
               "-append", APPEND, "-serial", "stdio"]
        print("command:", " ".join(cmd))
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as e:
            print(f"FAIL: timed out after {TIMEOUT} s")
            print("--- stdout\n" + (e.stdout or b"").decode(errors="replace"))
            print("--- stderr\n" + (e.stderr or b"").decode(errors="replace"))
            return 1
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        print(f"--- stdout\n{out}--- stderr\n{err}--- exit status {p.returncode}")

        problems = []
        if p.returncode != 0:
            problems.append(f"exit status {p.returncode}, expected 0")
        pos = 0
        for text in EXPECT_STDOUT:
            i = out.find(text, pos)
            if i < 0:
                problems.append(f"stdout lacks {text!r} (in order)")
            else:
                pos = i + len(text)
        if not problems:
            print("PASS")
            return 0

        at = emulation_failure_at_rdssp(err)
        if at:
            host, detail = host_fails_rdssp(kvmdbg, tmp)
            if host:
                print(f"SKIP: this host's KVM cannot run RDSSP in a 64-bit guest: Xen stopped "
                      f"at RIP={at[0]} (code bytes {at[1]}) with KVM_EXIT_INTERNAL_ERROR "
                      f"suberror 1 (emulation failure), and a guest running only "
                      f"'rdsspq %rsi' fails the same way here ({detail}). The host's KVM traps "
                      f"it into its instruction emulator, which does not know it; on "
                      f"hardware KVM the CPU runs it (a NOP while CET shadow stacks are "
                      f"off).")
                return 77
            problems.append(f"Xen stopped at an RDSSP at RIP={at[0]}, but {detail}")
        for pr in problems:
            print("FAIL:", pr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
