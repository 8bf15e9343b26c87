#!/usr/bin/env python3
"""Reference boot of the arm64 guests under qemu-system-aarch64 (TCG).

Usage: qemu_boot.py BUILD_DIR   (the build directory of tests/guests/arm64)

Proves the guests themselves on QEMU's own `-M virt` (GICv3, PSCI over HVC),
independently of kvmdbg: serial output and exit status are compared with
README.md. QEMU has no test-exit device (kvmdbg's own), so exit_code.elf is
left to the nested arm64 suite. QEMU enters ELF kernels with x0 = 0, so
hello prints "dtb 0x0 no fdt" here (kvmdbg passes the DTB: "fdt ok").
Exits 77 (SKIP) when qemu-system-aarch64 is not installed. `-nic none`: the
default virtio NIC needs ipxe-qemu's efi-virtio.rom, which Debian installs
only as a recommendation of qemu-system-arm.
"""

import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 60

CASES = [
    # image, -smp, expected serial output (exact), expected status
    ('hello.elf', 1, 'Hello from kvmdbg arm64 guest\ndtb 0x0 no fdt\n', 0),
    ('debug_target.elf', 1, 'debug_target done ticks=100 watched=99\n', 0),
    ('debug_target.elf', 2, 'debug_target done ticks=100 watched=99\n', 0),
    ('guest_self_brk.elf', 1, 'self_brk count=3 imm=1,2,3 elr_ok=1\n', 0),
    ('smp.elf', 1, 'cpu 0 online\nall 1 cpus online\n', 0),
    ('smp.elf', 3, 'cpu 0 online\ncpu 1 online\ncpu 2 online\nall 3 cpus online\n', 0),
]


def boot(qemu, kernel, smp):
    with tempfile.TemporaryDirectory() as tmp:
        serial = os.path.join(tmp, 'serial.out')
        cmd = [qemu, '-M', 'virt,gic-version=3', '-cpu', 'cortex-a57', '-accel', 'tcg',
               '-smp', str(smp), '-m', '128M', '-display', 'none', '-monitor', 'none',
               '-nic', 'none', '-serial', 'file:' + serial, '-kernel', kernel]
        try:
            status = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            status = 'timeout'
        with open(serial, 'rb') as f:
            return status, f.read().decode('latin-1')


def main():
    qemu = shutil.which('qemu-system-aarch64')
    if qemu is None:
        print('SKIP: qemu-system-aarch64 is not installed (Debian: qemu-system-arm)')
        return 77
    failures = 0
    for image, smp, want_out, want_status in CASES:
        status, out = boot(qemu, os.path.join(sys.argv[1], image), smp)
        ok = status == want_status and out == want_out
        print(f'{"ok  " if ok else "FAIL"} {image} -smp {smp}: status {status} output {out!r}')
        if not ok:
            print(f'     want status {want_status} output {want_out!r}')
            failures += 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
