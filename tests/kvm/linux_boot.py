#!/usr/bin/env python3
"""Boots Debian 12's real x86-64 kernel (the bzImage of the package
linux-image-cloud-amd64 depends on, e.g. linux-image-6.1.0-57-cloud-amd64)
under kvmdbg through the Linux 64-bit boot protocol, the way one boots it
with qemu-system-x86_64 -kernel:

  kvmdbg -M pc-lite -m 512M -no-reboot -nographic -serial stdio \\
         -kernel vmlinuz -append "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 ..."

  linux_boot.py KVMDBG CACHE_DIR boot        the boot (PASS: the console shows
                                             the kernel's "Linux version 6.1" line)
  linux_boot.py KVMDBG CACHE_DIR bad-input   the loader's refusals, end to end:
                                             a truncated bzImage, -append longer
                                             than the kernel's cmdline_size

The package is fetched with apt-get download into CACHE_DIR (the build
directory's cache/linux) once and reused; only boot/vmlinuz-* is unpacked.
The boot runs for at most RUN_SECONDS; the test prints how far the kernel got
(time, last console lines, kvmdbg's own last words) whether it passes or not.
That line proves the decompressor ran, entered the kernel and the kernel
reached early printk on COM1.

Exit 0 pass, 1 fail, 77 SKIP with the reason: /dev/kvm unusable (boot
only: the loader refuses bad input before the accelerator opens /dev/kvm);
the package cannot be found or downloaded (apt-get, package lists); or,
before the banner, the decompressor had printed its progress and the kernel
was still running when the time was up (a slow host), or kvmdbg stopped on an
emulation failure at an instruction
the PVM hosts' KVM emulator is known to fail (CMPXCHG16B, XRSTOR, XRSTORS:
docs/hosts.md), the SKIP naming the instruction and RIP.
"""
import fcntl
import glob
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import tiny_guest  # noqa: E402  (beside this script)

META_PACKAGE = "linux-image-cloud-amd64"
RUN_SECONDS = 90
# Console lines the decompressor prints before it enters the kernel proper
# (Debian's kernel prints only the first, for nokaslr, before it
# decompresses; the others come with CONFIG_X86_VERBOSE_BOOTUP builds).
DECOMPRESSOR_LINES = ("KASLR disabled", "Decompressing Linux", "Booting the kernel")
EXPECT = "Linux version 6.1"
APPEND = ("console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 nokaslr "
          "no_timer_check tsc=reliable")


EMULATION_FAILURE = re.compile(
    r"KVM internal error on vCPU \d+: suberror 1 \(emulation failure\) at RIP=(0x[0-9a-f]+)\n"
    r"code bytes at RIP:((?: [0-9a-f]{2})+)")


class Skip(Exception):
    pass


def unemulated_instruction(code):
    """The name of the instruction at the start of `code` if it is one the
    PVM hosts' KVM emulator is known to fail (docs/hosts.md): CMPXCHG16B
    (0F C7 /1 with REX.W) or the XSAVE family's XRSTOR (0F AE /5) and
    XRSTORS (0F C7 /3); else None."""
    i = 0
    while i < len(code) and code[i] in (0xF0, 0x66, 0xF2, 0xF3):
        i += 1
    rex_w = i < len(code) and 0x40 <= code[i] <= 0x4F and bool(code[i] & 0x08)
    if i < len(code) and 0x40 <= code[i] <= 0x4F:
        i += 1
    if len(code) < i + 3 or code[i] != 0x0F:
        return None
    op, reg, mod = code[i + 1], (code[i + 2] >> 3) & 7, code[i + 2] >> 6
    if op == 0xC7 and reg == 1 and rex_w and mod != 3:
        return "cmpxchg16b"
    if op == 0xC7 and reg == 3 and mod != 3:
        return "xrstors"
    if op == 0xAE and reg == 5 and mod != 3:
        return "xrstor"
    return None


def versioned_package():
    """The linux-image-<version>-cloud-amd64 the meta package depends on."""
    try:
        p = subprocess.run(["apt-cache", "depends", META_PACKAGE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip(f"apt-cache is not usable here ({e}); needs the package {META_PACKAGE}")
    m = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-cloud-amd64)", p.stdout)
    if p.returncode != 0 or not m:
        raise Skip(f"apt-cache depends {META_PACKAGE} names no versioned kernel package "
                   f"(package lists missing? apt-get update): {(p.stderr or p.stdout).strip()[:200]}")
    return m.group(1)


def fetch_vmlinuz(cache):
    """CACHE/boot/vmlinuz-*: downloaded and unpacked once (under a lock: the
    boot and bad-input tests may run at the same time)."""
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return fetch_vmlinuz_locked(cache)


def fetch_vmlinuz_locked(cache):
    found = sorted(glob.glob(os.path.join(cache, "boot", "vmlinuz-*")))
    if found:
        return found[-1]
    package = versioned_package()
    p = subprocess.run(["apt-get", "download", package], cwd=cache, capture_output=True, text=True, timeout=600)
    debs = sorted(glob.glob(os.path.join(cache, package + "_*.deb")))
    if p.returncode != 0 or not debs:
        raise Skip(f"the package {package} cannot be downloaded: apt-get download said: "
                   + (p.stderr.strip().splitlines() or ["(nothing)"])[-1])
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", debs[-1]], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", cache, "--wildcards", "./boot/vmlinuz-*"], stdin=tar.stdout, check=True)
    tar.stdout.close()
    if tar.wait() != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {debs[-1]} failed")
    found = sorted(glob.glob(os.path.join(cache, "boot", "vmlinuz-*")))
    if not found:
        raise RuntimeError(f"{debs[-1]} has no boot/vmlinuz-*")
    return found[-1]


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


def boot(kvmdbg, vmlinuz):
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "512M", "-no-reboot", "-nographic", "-serial", "stdio",
           "-kernel", vmlinuz, "-append", APPEND]
    print("command:", " ".join(cmd))
    out, err, status, elapsed = run_bounded(cmd, RUN_SECONDS)
    lines = [l for l in out.replace("\r", "").splitlines() if l.strip()]
    ended = f"exit status {status}" if status is not None else f"stopped by the test after {RUN_SECONDS} s"
    print(f"--- how far it got: {len(lines)} console lines in {elapsed:.1f} s, kvmdbg {ended}")
    print("--- last console lines")
    print("\n".join(lines[-15:]))
    print("--- kvmdbg stderr (last lines)")
    print("\n".join(err.splitlines()[-10:]))
    banner = next((l for l in lines if EXPECT in l), None)
    if banner is None:
        m = EMULATION_FAILURE.search(err)
        insn = unemulated_instruction(bytes(int(b, 16) for b in m.group(2).split())) if m else None
        if insn:
            print(f"SKIP: this host's KVM cannot run the kernel: it stopped at RIP={m.group(1)} on "
                  f"{insn} (code bytes{m.group(2)}) with KVM_EXIT_INTERNAL_ERROR suberror 1 "
                  f"(emulation failure) before {EXPECT!r}; the host traps it into KVM's "
                  f"instruction emulator, which cannot run it (docs/hosts.md)")
            return 77
        progress = [l for l in lines if any(d in l for d in DECOMPRESSOR_LINES)]
        if status is None and progress:
            # Still running, past our entry and into the kernel's own code:
            # the boot protocol did its part; the host is too slow for the
            # rest within the time this test may take.
            print(f"SKIP: after {RUN_SECONDS} s the kernel was still running and had printed "
                  f"{progress[-1].strip()!r} but not yet {EXPECT!r}: kernel-mode code runs slowly "
                  f"on this host's KVM (docs/hosts.md)")
            return 77
        print(f"FAIL: the console never showed {EXPECT!r}")
        return 1
    print(f"PASS: {banner.strip()}")
    return 0


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
    if len(sys.argv) != 4 or sys.argv[3] not in ("boot", "bad-input"):
        print(__doc__)
        return 2
    kvmdbg, cache, mode = sys.argv[1:]
    # The loader refuses bad input before the accelerator opens /dev/kvm.
    reason = tiny_guest.kvm_unusable() if mode == "boot" else None
    if reason:
        print(f"SKIP: {reason}")
        return 77
    try:
        vmlinuz = fetch_vmlinuz(cache)
    except Skip as e:
        print(f"SKIP: {e}")
        return 77
    print("kernel:", vmlinuz)
    return boot(kvmdbg, vmlinuz) if mode == "boot" else bad_input(kvmdbg, vmlinuz, cache)


if __name__ == "__main__":
    sys.exit(main())
