#!/usr/bin/env python3
"""pc-lite's legacy PC surface under the real /dev/kvm, with tiny ELF64
guests built here (tiny_guest.py):

  bios_data_area   the guest reads the BDA words kernels use (0x413 = 639,
                   0x40e = 0x9fc0, 0x400 = 0x3f8, 0x410 = 0x0202) -> status 33
  i8042_reset      kb_wait on port 0x64 then 0xfe: kvmdbg exits 0 and says
                   once that machine reset is not supported
  i8042_no_reboot  the same with -no-reboot: exit 0, nothing said
  port92_reset     port 0x92 reads 0x02, then bit 0 set: exit 0 + the line
  port92_no_reboot the same with -no-reboot: exit 0, nothing said

  pc_lite_legacy.py KVMDBG
Exit 0 all passed, 1 a failure (both streams printed), 77 no usable /dev/kvm.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tiny_guest  # noqa: E402  (beside this script)
from tiny_guest import exit_with  # noqa: E402

RESET_LINE = ("kvmdbg: guest requested a reset ({}); machine reset is not supported, "
              "exiting")
I8042_REASON = "keyboard controller command 0xfe on port 0x64"
PORT92_REASON = "fast reset through port 0x92 (bit 0)"


def check_word(addr, value, fail_code):
    """movzwl addr, %eax; cmp $value, %eax; je over; exit_with(fail_code)."""
    return (bytes([0x0F, 0xB7, 0x04, 0x25]) + addr.to_bytes(4, "little") +
            bytes([0x3D]) + value.to_bytes(4, "little") +
            bytes([0x74, 0x05]) + exit_with(fail_code))


BDA_CHECKS = [  # (address, value, what)
    (0x413, 639, "0x413 base memory KiB"),
    (0x40E, 0x9FC0, "0x40e EBDA segment"),
    (0x400, 0x3F8, "0x400 COM1 port"),
    (0x410, 0x0202, "0x410 equipment word"),
]


def bda_guest():
    code = b"".join(check_word(a, v, 0x20 + i) for i, (a, v, _) in enumerate(BDA_CHECKS))
    return code + exit_with(0x10)


def i8042_guest():
    # wait: in $0x64,%al; test $2,%al; jnz wait; mov $0xfe,%al; out %al,$0x64
    return bytes([0xE4, 0x64, 0xA8, 0x02, 0x75, 0xFA, 0xB0, 0xFE, 0xE6, 0x64]) + exit_with(0x11)


def port92_guest():
    # in $0x92,%al; cmp $2,%al; je +5; <exit 0x12>; or $1,%al; out %al,$0x92
    return (bytes([0xE4, 0x92, 0x3C, 0x02, 0x74, 0x05]) + exit_with(0x12) +
            bytes([0x0C, 0x01, 0xE6, 0x92]) + exit_with(0x11))


def poweroff_guest():
    # mov $0x604,%dx; mov $0x2000,%ax; out %ax,%dx  (PM1a_CNT: SLP_EN)
    return bytes([0x66, 0xBA, 0x04, 0x06, 0x66, 0xB8, 0x00, 0x20, 0x66, 0xEF]) + exit_with(0x11)


def triple_fault_guest():
    # ud2 with the entry state's empty IDT: #UD -> #GP -> #DF -> triple fault.
    return bytes([0x0F, 0x0B]) + exit_with(0x11)


def status_meaning(status):
    if status & 1 and (status >> 1) >= 0x20 and (status >> 1) - 0x20 < len(BDA_CHECKS):
        return f" (BDA check failed: {BDA_CHECKS[(status >> 1) - 0x20][2]})"
    return {35: " (the guest ran on after its reset request)",
            37: " (port 0x92 did not read 0x02)"}.get(status, "")


CASES = [
    # name, guest, extra args, status, stderr must have, stderr must not have
    ("bios_data_area", bda_guest, [], 33, [], ["reset"]),
    ("i8042_no_reboot", i8042_guest, ["-no-reboot"], 0, [], ["reset"]),
    ("port92_no_reboot", port92_guest, ["-no-reboot"], 0, [], ["reset"]),
    ("acpi_poweroff", poweroff_guest, [], 0, [], ["reset", "powered off"]),
    ("triple_fault_no_reboot", triple_fault_guest, ["-no-reboot"], 1, [], ["resetting"]),
]

NO_SHUTDOWN_LINE = "kvmdbg: guest powered off (ACPI power-off); -no-shutdown keeps kvmdbg running"


def run_reboot(kvmdbg, tmp, name, guest, reason):
    """Without -no-reboot a reset request reboots the machine as QEMU does:
    the guest runs again from its entry (and asks again). Seen in the
    -d exits log: at least three resets (within 15 s); SIGTERM then ends
    kvmdbg with status 0."""
    image = tiny_guest.write_elf64(tmp, name + ".elf", guest())
    log = os.path.join(tmp, name + ".log")
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "64M", "-kernel", image, "-d", "exits", "-D", log] + \
        tiny_guest.ISA_DEBUG_EXIT
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Three resets take well under a second on a normal build; a sanitizer
    # build (TSan, 50-tsan.sh) is several times slower, so wait for them
    # with a deadline instead of a fixed second.
    started = time.time()
    while time.time() - started < 15 and p.poll() is None:
        time.sleep(0.2)
        text = open(log).read() if os.path.exists(log) else ""
        if text.count("machine reset (" + reason + ")") >= 3:
            break
    elapsed = time.time() - started
    alive = p.poll() is None
    p.terminate()
    out, err = p.communicate(timeout=10)
    text = open(log).read() if os.path.exists(log) else ""
    resets = text.count("machine reset (" + reason + ")")
    if not alive or resets < 3 or p.returncode != 0:
        print(f"FAIL {name}: alive={alive} resets={resets} status={p.returncode}\n--- log\n{text[-2000:]}"
              f"--- stderr\n{err.decode(errors='replace')}")
        return False
    print(f"PASS {name} ({resets} reboots in {elapsed:.1f} s)")
    return True


def run_no_shutdown(kvmdbg, tmp):
    """-no-shutdown: the power-off stops the guest but kvmdbg stays up until
    a signal ends it (then status 0, as QEMU)."""
    image = tiny_guest.write_elf64(tmp, "no_shutdown.elf", poweroff_guest())
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "64M", "-kernel", image, "-no-shutdown"] + tiny_guest.ISA_DEBUG_EXIT
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.wait(timeout=2)
        print(f"FAIL no_shutdown: kvmdbg exited ({p.returncode}) although -no-shutdown was given")
        return False
    except subprocess.TimeoutExpired:
        pass
    p.terminate()
    out, err = p.communicate(timeout=10)
    err = err.decode(errors="replace")
    if p.returncode != 0 or err.count(NO_SHUTDOWN_LINE + "\n") != 1:
        print(f"FAIL no_shutdown: status {p.returncode}, stderr:\n{err}")
        return False
    print("PASS no_shutdown")
    return True


def run_case(kvmdbg, tmp, case):
    name, guest, extra, want_status, want_err, not_err = case
    image = tiny_guest.write_elf64(tmp, name + ".elf", guest())
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "64M", "-kernel", image, "-serial", "stdio"] + \
        tiny_guest.ISA_DEBUG_EXIT + extra
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        print(f"FAIL {name}: timed out: {' '.join(cmd)}")
        return False
    err = p.stderr.decode(errors="replace")
    problems = []
    if p.returncode != want_status:
        problems.append(f"exit status {p.returncode}{status_meaning(p.returncode)}, "
                        f"expected {want_status}")
    for text in want_err:
        if err.count(text + "\n") != 1:
            problems.append(f"stderr does not have exactly one line {text!r}")
    for text in not_err:
        if text in err:
            problems.append(f"stderr mentions {text!r}")
    if problems:
        print(f"FAIL {name}: {'; '.join(problems)}\n  command: {' '.join(cmd)}\n"
              f"--- stdout\n{p.stdout.decode(errors='replace')}--- stderr\n{err}---")
        return False
    print(f"PASS {name}")
    return True


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    reason = tiny_guest.kvm_unusable()
    if reason:
        print(f"SKIP: {reason}")
        return 77
    with tempfile.TemporaryDirectory(prefix="kvmdbg-legacy-") as tmp:
        results = [run_case(sys.argv[1], tmp, c) for c in CASES]
        results.append(run_no_shutdown(sys.argv[1], tmp))
        results.append(run_reboot(sys.argv[1], tmp, "i8042_reboot", i8042_guest, I8042_REASON))
        results.append(run_reboot(sys.argv[1], tmp, "port92_reboot", port92_guest, PORT92_REASON))
        results.append(run_reboot(sys.argv[1], tmp, "triple_fault_reboot", triple_fault_guest, "triple fault"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
