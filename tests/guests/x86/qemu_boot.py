#!/usr/bin/env python3
"""Reference boot of the multiboot guests under qemu-system-x86_64 (TCG).

Usage: qemu_boot.py BUILD_DIR   (the build directory of tests/guests/x86)

Proves the guests themselves against the loader they imitate, independently
of kvmdbg: each multiboot guest is booted with -kernel and isa-debug-exit,
and its serial output and exit status are compared with README.md. The ELF64
guests cannot be booted by QEMU (it has no direct long-mode entry); they are
covered by check_images.py and by the kvm suite. Exits 77 (SKIP) when
qemu-system-x86_64 is not installed. Under TCG the guest's own int3, TF and
DR0/DR7 work as on hardware, so the guest_self_debug cases are the reference
for its expected counts.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 30
# Everything the BIOS prints on COM1 comes before this; the guest after it.
BANNER_END = 'Booting from ROM..'


def boot(qemu, kernel, extra):
    with tempfile.TemporaryDirectory() as tmp:
        serial = os.path.join(tmp, 'serial.out')
        cmd = [qemu, '-accel', 'tcg', '-m', '128M', '-display', 'none', '-no-reboot',
               '-monitor', 'none', '-serial', 'file:' + serial,
               '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
               '-kernel', kernel] + extra
        try:
            status = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            status = 'timeout'
        with open(serial, 'rb') as f:
            out = f.read().decode('latin-1')
    if BANNER_END in out:
        out = out[out.rindex(BANNER_END) + len(BANNER_END):]
    return status, out


def smp_expect(n, online):
    """Matcher: cpu 0 first, every other index once in any order, then the verdict."""
    def match(out):
        lines = out.splitlines()
        if not lines or lines[0] != 'cpu 0 online':
            return False
        cpus = sorted(int(m.group(1)) for m in
                      (re.fullmatch(r'cpu (\d+) online', l) for l in lines[:-1]) if m)
        if len(cpus) != len(lines) - 1 or cpus != list(range(online)):
            return False
        if online == n:
            return lines[-1] == f'all {n} cpus online' and out.endswith('\n')
        return lines[-1] == f'timeout: only {online} of {n} cpus'
    return match


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    qemu = shutil.which('qemu-system-x86_64')
    if not qemu:
        print('SKIP: qemu-system-x86_64 not installed (Debian: qemu-system-x86)')
        return 77
    d = sys.argv[1]
    hello_elf = os.path.join(d, 'hello.mb.elf')
    hello_bin = os.path.join(d, 'hello.mb.bin')
    smp = os.path.join(d, 'smp.mb.elf')
    target = os.path.join(d, 'debug_target.mb.elf')
    selfdbg = os.path.join(d, 'guest_self_debug.mb.elf')

    def hello(kernel):
        return re.compile(r'Hello from kvmdbg guest\n'
                          r'cmdline: ' + re.escape(kernel) + r' greeting=kvm\n'
                          r'mem_upper: \d+\n').fullmatch

    cases = [
        ('hello.mb.elf', hello_elf, ['-append', 'greeting=kvm'], 65, hello(hello_elf)),
        ('hello.mb.bin', hello_bin, ['-append', 'greeting=kvm'], 65, hello(hello_bin)),
        ('smp.mb.elf cpus=2', smp, ['-smp', '2', '-append', 'cpus=2'], 67, smp_expect(2, 2)),
        ('smp.mb.elf cpus=4', smp, ['-smp', '4', '-append', 'x cpus=4 y'], 67, smp_expect(4, 4)),
        ('smp.mb.elf no cpus=', smp, [], 67, smp_expect(1, 1)),
        ('smp.mb.elf cpus=3 on 2', smp, ['-smp', '2', '-append', 'cpus=3'], 125,
         smp_expect(3, 2)),
        ('smp.mb.elf cpus=0', smp, ['-append', 'cpus=0'], 121,
         lambda out: out == 'bad cpus= on the command line (want 1..64)\n'),
        ('debug_target.mb.elf', target, [], 69,
         lambda out: out == 'debug_target done ticks=100 watched=99\n'),
        ('debug_target.mb.elf loops=7 cpus=2', target,
         ['-smp', '2', '-append', 'loops=7 cpus=2'], 69,
         lambda out: out == 'debug_target done ticks=7 watched=6\n'),
        ('debug_target.mb.elf loops=0', target, ['-append', 'loops=0'], 69,
         lambda out: out == 'debug_target done ticks=0 watched=0\n'),
        ('debug_target.mb.elf loops=x', target, ['-append', 'loops=x'], 121,
         lambda out: out == 'bad loops= on the command line (want 0..1000000)\n'),
        # The architectural reference for the counts guest_self_debug expects.
        ('guest_self_debug.mb.elf', selfdbg, [], 71,
         lambda out: out == 'self_debug bp=3 tf=5 dr0=2 dr6_b0=1\n'),
        ('guest_self_debug.mb.elf parts=bp', selfdbg, ['-append', 'parts=bp'], 71,
         lambda out: out == 'self_debug bp=3\n'),
        ('guest_self_debug.mb.elf parts=tf', selfdbg, ['-append', 'parts=tf'], 71,
         lambda out: out == 'self_debug tf=5\n'),
        ('guest_self_debug.mb.elf parts=dr0,tf', selfdbg, ['-append', 'parts=dr0,tf'], 71,
         lambda out: out == 'self_debug tf=5 dr0=2 dr6_b0=1\n'),
        ('guest_self_debug.mb.elf parts=bp,x', selfdbg, ['-append', 'parts=bp,x'], 121,
         lambda out: out == 'bad parts= on the command line (want a comma-separated '
                            'subset of bp,tf,dr0)\n'),
    ]
    failed = 0
    for name, kernel, extra, want_status, match in cases:
        status, out = boot(qemu, kernel, extra)
        ok = status == want_status and match(out)
        print(f'{"ok  " if ok else "FAIL"} {name}: status {status} (want {want_status})')
        if not ok:
            print('     serial output: ' + repr(out))
            failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
