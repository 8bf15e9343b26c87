#!/usr/bin/env python3
"""Runs the debugging guests under kvmdbg on the real /dev/kvm, no debugger.

Usage: kvm_boot.py BUILD_DIR KVMDBG   (the build directory of tests/guests/x86)

Checks the serial output and exit status that README.md documents for
debug_target, guest_self_debug and stepper. A guest_self_debug part that this
host's KVM cannot run (README.md, "What the host can run") must fail exactly
as documented: kvmdbg reports a KVM emulation failure at the documented
instruction (int3_site_0, or the iret that ends self_debug_db_entry). Such a
case is reported as "host cannot" and not counted as a pass. Exits 77 (SKIP)
when /dev/kvm is unusable or when no case could be checked.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_images import Elf  # noqa: E402

TIMEOUT = 60
EMULATION_FAILURE = re.compile(
    r'KVM internal error on vCPU 0: suberror 1 \(emulation failure\) at RIP=(0x[0-9a-f]+)')


def run(kvmdbg, kernel, extra, timeout=TIMEOUT):
    cmd = [kvmdbg, '-kernel', kernel, '-serial', 'stdio'] + extra
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode('latin-1'), p.stderr.decode('latin-1')
    except subprocess.TimeoutExpired as e:
        return 'timeout', (e.stdout or b'').decode('latin-1'), (e.stderr or b'').decode('latin-1')


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        print('SKIP: /dev/kvm is missing or not accessible')
        return 77
    d, kvmdbg = sys.argv[1], sys.argv[2]
    p = lambda n: os.path.join(d, n)  # noqa: E731

    def iret_of_db_entry(elf):
        """Address of the iret that ends self_debug_db_entry (its last byte)."""
        return elf.symbols['self_debug_bp_entry'] - 1

    # (name, image, extra args, status, exact stdout, {RIP: why} the host may stop at)
    cases = [
        ('debug_target.elf64', 'debug_target.elf64', [], 69,
         'debug_target done ticks=100 watched=99\n', {}),
        ('debug_target.elf64 -smp 2', 'debug_target.elf64', ['-smp', '2'], 69,
         'debug_target done ticks=100 watched=99\n', {}),
        ('debug_target.mb.elf loops=5', 'debug_target.mb.elf', ['-append', 'loops=5'], 69,
         'debug_target done ticks=5 watched=4\n', {}),
        ('debug_target.mb.elf -smp 2 cpus=2', 'debug_target.mb.elf',
         ['-smp', '2', '-append', 'cpus=2'], 69, 'debug_target done ticks=100 watched=99\n', {}),
    ]
    elf64_lines = {'': 'bp=3 tf=5 dr0=2 dr6_b0=1', '_nobp': 'tf=5 dr0=2 dr6_b0=1',
                   '_bp': 'bp=3', '_tf': 'tf=5', '_dr0': 'dr0=2 dr6_b0=1'}
    for suffix, line in elf64_lines.items():
        image = f'guest_self_debug{suffix}.elf64'
        elf = Elf(p(image))
        may_stop = {elf.symbols['int3_site_0']: 'int3 in long mode'} if 'bp' in line else {}
        cases.append((image, image, [], 71, f'self_debug {line}\n', may_stop))
    mb = Elf(p('guest_self_debug.mb.elf'))
    mb_stops = {'bp': {mb.symbols['int3_site_0']: 'int3 in 32-bit protected mode'},
                'tf': {iret_of_db_entry(mb): 'iret in 32-bit protected mode'},
                'dr0': {iret_of_db_entry(mb): 'iret in 32-bit protected mode'}}
    for parts, line in [('bp', 'bp=3'), ('tf', 'tf=5'), ('dr0', 'dr0=2 dr6_b0=1')]:
        cases.append((f'guest_self_debug.mb.elf parts={parts}', 'guest_self_debug.mb.elf',
                      ['-append', f'parts={parts}'], 71, f'self_debug {line}\n', mb_stops[parts]))

    passed = failed = cannot = 0
    for name, image, extra, want_status, want_out, may_stop in cases:
        status, out, err = run(kvmdbg, p(image), extra)
        m = EMULATION_FAILURE.search(err)
        if status == want_status and out == want_out:
            print(f'ok   {name}: status {status}')
            passed += 1
        elif status == 1 and m and int(m.group(1), 16) in may_stop and out == '':
            print(f'host cannot: {name}: {may_stop[int(m.group(1), 16)]} '
                  f'(emulation failure at {m.group(1)})')
            cannot += 1
        else:
            print(f'FAIL {name}: status {status} (want {want_status})')
            print('     stdout: ' + repr(out))
            print('     stderr: ' + repr(err[:600]))
            failed += 1

    # stepper never exits: it must still be running, silently, after 2 s.
    status, out, err = run(kvmdbg, p('stepper.elf64'), ['-smp', '2'], timeout=2)
    if status == 'timeout' and out == '' and 'error' not in err.lower():
        print('ok   stepper.elf64 -smp 2: still running after 2 s')
        passed += 1
    else:
        print(f'FAIL stepper.elf64: status {status}, stdout {out!r}, stderr {err[:600]!r}')
        failed += 1

    print(f'{passed} passed, {failed} failed, {cannot} not runnable on this host')
    if failed:
        return 1
    return 0 if passed else 77


if __name__ == '__main__':
    sys.exit(main())
