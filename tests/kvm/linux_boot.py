#!/usr/bin/env python3
"""Boots Debian 12's real x86-64 kernel (the bzImage of the package
linux-image-cloud-amd64 depends on, e.g. linux-image-6.1.0-57-cloud-amd64)
with a busybox initramfs under kvmdbg through the Linux 64-bit boot
protocol, the way one boots it with qemu-system-x86_64 -kernel -initrd:

  kvmdbg -M pc-lite -m 512M -smp 2 -no-reboot -nographic -serial stdio \\
         -kernel vmlinuz -initrd initrd.cpio \\
         -append "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 nokaslr loglevel=6 ..."

  linux_boot.py KVMDBG CACHE_DIR boot        the boot to userspace and power-off
  linux_boot.py KVMDBG CACHE_DIR panic-reboot  -smp 1, an /init that exits: the kernel
                                             panics, panic=-1 reboots at once through
                                             the FADT's reset register (i8042 0xfe), and
                                             -no-reboot ends kvmdbg with status 0
  linux_boot.py KVMDBG CACHE_DIR seabios     the same kernel, initramfs and -smp 2 booted by
                                             Debian's SeaBIOS: -bios bios-256k.bin with
                                             -kernel/-initrd/-append, handed over through
                                             fw_cfg and QEMU's option ROM linuxboot_dma.bin
                                             (package qemu-system-data, given with -L);
                                             the ACPI tables reach Linux through SeaBIOS
                                             (fw_cfg's BIOS linker/loader)
  linux_boot.py KVMDBG CACHE_DIR bad-input   the loader's refusals, end to end:
                                             a truncated bzImage, -append longer
                                             than the kernel's cmdline_size

The packages (the kernel and busybox-static) are fetched with apt-get
download into CACHE_DIR (the build directory's cache/linux) once and reused;
only boot/vmlinuz-* and bin/busybox are unpacked. The initramfs is built
here: busybox and an /init that prints "KVMDBG-USERSPACE cpus=N" (N from
/proc/cpuinfo) and powers off (`poweroff -f`: ACPI S5 through the FADT's
PM1a control block, which ends kvmdbg with status 0).

The boot's milestones, in order (each a console line, the last kvmdbg's exit):
  decompressor   "KASLR disabled": the boot protocol's entry ran
  start_kernel   "Linux version 6.1"
  userspace      "KVMDBG-USERSPACE cpus=2": /init ran and both CPUs are up
                 (the MADT listed the AP, which came up through INIT/SIPI)
  power-off      kvmdbg exited 0 after "reboot: Power down"
Under SeaBIOS three come first: firmware ("SeaBIOS (version" on the serial
console, its sercon), option-rom ("Booting from ROM..."), setup ("Probing
EDD": the kernel's real-mode setup code ran, calling the BIOS); and
/init also prints /proc/cmdline, which must be the -append text.
PASS: all of them within RUN_SECONDS. The test prints the milestones
reached, the time, the last console lines and kvmdbg's stderr (where the
CPUID notice says what the host's KVM made kvmdbg hide) whether it passes
or not.

Exit 0 pass, 1 fail, 77 SKIP with the reason: /dev/kvm unusable (boot
only: the loader refuses bad input before the accelerator opens /dev/kvm);
a package cannot be found or downloaded (apt-get, package lists); or, once
the kernel's own code ran (at least the decompressor milestone), the host
stopped it: kvmdbg stopped on an emulation failure at an instruction the
PVM hosts' KVM emulator is known to fail (CMPXCHG16B, XRSTOR, XRSTORS:
docs/hosts.md), or the kernel was still running when the time was up (a
slow host); the SKIP names the furthest milestone and why.
"""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tiny_guest  # noqa: E402  (beside this script)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from debian_linux import cache_dir, busybox_initramfs, fetch_vmlinuz  # noqa: E402
from debian_package import Unavailable, fetch_file  # noqa: E402
from emulation_failure import EMULATION_FAILURE, unemulated_instruction  # noqa: E402

RUN_SECONDS = 240
CPUS = 2
# loglevel=6 keeps KERN_NOTICE and above (the banner, warnings) and drops
# KERN_INFO: every console byte is a port write that exits to kvmdbg.
APPEND = "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 nokaslr loglevel=6"
# (name, console text). Debian's decompressor prints only "KASLR disabled"
# (for nokaslr); the other two come with CONFIG_X86_VERBOSE_BOOTUP builds.
MILESTONES = [
    ("decompressor", ("KASLR disabled", "Decompressing Linux", "Booting the kernel")),
    ("start_kernel", ("Linux version 6.1",)),
    ("userspace", (f"KVMDBG-USERSPACE cpus={CPUS}",)),
    ("power-off", ("reboot: Power down",)),
]
PANIC_INIT = r"""#!/bin/busybox sh
echo KVMDBG-INIT-EXITS
exit 1
"""
PANIC = "Kernel panic - not syncing: Attempted to kill init!"
INIT = r"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "KVMDBG-USERSPACE cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"
echo "KVMDBG-CMDLINE $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
"""
FIRMWARE_MILESTONES = [
    ("firmware", ("SeaBIOS (version",)),
    ("option-rom", ("Booting from ROM",)),
    # With earlyprintk=serial the setup code writes each character to the
    # UART itself and through the BIOS (SeaBIOS's sercon on the same port).
    ("setup", ("Probing EDD", "PPrroobbiinngg  EEDDDD")),
]
SEABIOS = ("seabios", "usr/share/seabios/bios-256k.bin")
OPTION_ROM = ("qemu-system-data", "usr/share/qemu/linuxboot_dma.bin")




def run_bounded(cmd, seconds):
    """Runs cmd for at most `seconds`; returns (stdout, stderr, status or None
    if it was stopped, elapsed seconds)."""
    start = time.monotonic()
    with open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(cmd, stdin=devnull, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=seconds)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            status = None
    return out.decode(errors="replace"), err.decode(errors="replace"), status, time.monotonic() - start


def milestones_reached(lines, status, milestones=MILESTONES):
    """The names of the milestones the console shows, in order, stopping at
    the first one missing (power-off also needs exit status 0)."""
    reached = []
    for name, texts in milestones:
        if not any(t in l for l in lines for t in texts):
            break
        if name == "power-off" and status != 0:
            break
        reached.append(name)
    return reached


def boot(kvmdbg, vmlinuz, initrd, firmware=()):
    """The boot to userspace and power-off; `firmware`: the -bios and -L
    arguments when SeaBIOS boots the kernel."""
    milestones = (FIRMWARE_MILESTONES if firmware else []) + MILESTONES
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "512M", "-smp", str(CPUS), "-no-reboot", "-nographic",
           "-serial", "stdio"] + list(firmware) + ["-kernel", vmlinuz, "-initrd", initrd, "-append", APPEND]
    print("command:", " ".join(cmd))
    out, err, status, elapsed = run_bounded(cmd, RUN_SECONDS)
    lines = [l for l in out.replace("\r", "").splitlines() if l.strip()]
    ended = f"exit status {status}" if status is not None else f"stopped by the test after {RUN_SECONDS} s"
    reached = milestones_reached(lines, status, milestones)
    if firmware and len(reached) == len(milestones) and not any(l.endswith("KVMDBG-CMDLINE " + APPEND)
                                                                for l in lines):
        reached.remove("power-off")
        print(f"--- /proc/cmdline is not the -append text {APPEND!r}")
    print(f"--- how far it got: {len(lines)} console lines in {elapsed:.1f} s, kvmdbg {ended}")
    print("--- milestones reached:", ", ".join(reached) or "none")
    print("--- first console lines")
    print("\n".join(l[-300:] for l in lines[:6]))
    print("--- last console lines")
    print("\n".join(lines[-15:]))
    print("--- kvmdbg stderr (last lines)")
    print("\n".join(err.splitlines()[-10:]))
    if len(reached) == len(milestones):
        by = "SeaBIOS (fw_cfg, linuxboot_dma.bin)" if firmware else "kvmdbg's Linux loader"
        print(f"PASS: Debian's kernel, booted by {by}, came up with {CPUS} CPUs, ran userspace and powered off "
              f"in {elapsed:.1f} s")
        return 0
    missing = milestones[len(reached)][0]
    furthest = reached[-1] if reached else "none"
    if set(reached) - {name for name, _ in FIRMWARE_MILESTONES}:
        m = EMULATION_FAILURE.search(err)
        insn = unemulated_instruction(bytes(int(b, 16) for b in m.group(2).split())) if m else None
        if insn:
            print(f"SKIP: this host's KVM cannot run the kernel: after milestone {furthest!r} it stopped at "
                  f"RIP={m.group(1)} on {insn} (code bytes{m.group(2)}) with KVM_EXIT_INTERNAL_ERROR "
                  f"suberror 1 (emulation failure); the host traps it into KVM's instruction emulator, "
                  f"which cannot run it (docs/hosts.md)")
            return 77
        if status is None:
            # Still running, past our entry and into the kernel's own code:
            # the boot protocol did its part; the host is too slow for the
            # rest within the time this test may take.
            print(f"SKIP: after {RUN_SECONDS} s the kernel was still running: furthest milestone "
                  f"{furthest!r}, not yet {missing!r}: kernel-mode code runs slowly on this host's KVM "
                  f"(docs/hosts.md)")
            return 77
    print(f"FAIL: furthest milestone {furthest!r}; {missing!r} never came (kvmdbg {ended})")
    return 1


def panic_reboot(kvmdbg, vmlinuz, initrd):
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "512M", "-no-reboot", "-nographic", "-d", "exits", "-serial", "stdio",
           "-kernel", vmlinuz, "-initrd", initrd, "-append", APPEND]
    print("command:", " ".join(cmd))
    out, err, status, elapsed = run_bounded(cmd, RUN_SECONDS)
    lines = [l for l in out.replace("\r", "").splitlines() if l.strip()]
    reached = milestones_reached(lines, status)
    print(f"--- {len(lines)} console lines in {elapsed:.1f} s, kvmdbg exit status {status}; milestones: "
          + (", ".join(reached) or "none"))
    print("\n".join(lines[-8:]))
    print("--- kvmdbg stderr (last lines)")
    print("\n".join(err.splitlines()[-6:]))
    panicked = any(PANIC in l for l in lines)
    reset = "guest requested a reset" in err
    if panicked and reset and status == 0:
        print(f"PASS: /init exited, the kernel panicked and rebooted (panic=-1); -no-reboot ended kvmdbg "
              f"with status 0 after {elapsed:.1f} s")
        return 0
    if reached and status is None and not panicked:
        print(f"SKIP: after {RUN_SECONDS} s the kernel was still running (furthest milestone {reached[-1]!r}), "
              f"not yet at its panic: kernel-mode code runs slowly on this host's KVM (docs/hosts.md)")
        return 77
    print(f"FAIL: panic seen {panicked}, reset requested {reset}, kvmdbg status {status}")
    return 1


def expect_refusal(kvmdbg, args, part):
    p = subprocess.run([kvmdbg, "-M", "pc-lite", "-m", "512M"] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    err = p.stderr.strip()
    print(f"kvmdbg {' '.join(args)[:100]}...: status {p.returncode}: {err}")
    if p.returncode == 0 or part not in err:
        print(f"FAIL: expected a non-zero exit and {part!r} on stderr")
        return False
    return True


def bad_input(kvmdbg, vmlinuz, cache):
    truncated = os.path.join(cache, "vmlinuz-truncated")
    with open(vmlinuz, "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read(1 << 20))
    ok = expect_refusal(kvmdbg, ["-kernel", truncated], truncated + ": truncated bzImage: the protected-mode kernel")
    ok &= expect_refusal(kvmdbg, ["-kernel", vmlinuz, "-append", "x" * 4096],
                         vmlinuz + ": -append is 4096 bytes, longer than the kernel's cmdline_size (2047)")
    os.unlink(truncated)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("boot", "seabios", "panic-reboot", "bad-input"):
        print(__doc__)
        return 2
    kvmdbg, cache, mode = sys.argv[1:]
    cache = cache_dir(cache)
    # The loader refuses bad input before the accelerator opens /dev/kvm.
    reason = tiny_guest.kvm_unusable() if mode != "bad-input" else None
    if reason:
        print(f"SKIP: {reason}")
        return 77
    try:
        vmlinuz = fetch_vmlinuz(cache)
        initrd = None
        if mode != "bad-input":
            init = PANIC_INIT if mode == "panic-reboot" else INIT
            initrd = busybox_initramfs(cache, ("boot" if mode == "seabios" else mode) + "-initrd", init)
        if mode == "seabios":
            # Firmware packages share the cache with seabios.py's.
            firmware_cache = os.path.join(os.path.dirname(cache), "firmware")
            bios = fetch_file(firmware_cache, *SEABIOS)
            option_rom = fetch_file(firmware_cache, *OPTION_ROM)
    except Unavailable as e:
        print(f"SKIP: {e}")
        return 77
    print("kernel:", vmlinuz)
    if mode == "boot":
        return boot(kvmdbg, vmlinuz, initrd)
    if mode == "seabios":
        return boot(kvmdbg, vmlinuz, initrd, ["-bios", bios, "-L", os.path.dirname(option_rom)])
    if mode == "panic-reboot":
        return panic_reboot(kvmdbg, vmlinuz, initrd)
    return bad_input(kvmdbg, vmlinuz, cache)


if __name__ == "__main__":
    sys.exit(main())
