#!/usr/bin/env python3
"""Runs a command on a real x86 KVM on a machine that has no /dev/kvm.

  scripts/kvm_under_tcg.py [--timeout SECONDS] [--memory SIZE] -- COMMAND [ARG...]

Debian's generic amd64 kernel (linux-image-amd64; the cloud flavour has no
9p) boots under qemu-system-x86_64 with TCG and `-cpu max`, which emulates
AMD SVM with nested paging, so the kernel's kvm_amd module gives a working
/dev/kvm. The machine's own root file system is shared read-only over 9p
and becomes the root inside (with tmpfs on /tmp and /run), the repository
is shared read-write at its own path, and COMMAND runs as root in the
repository directory with the same programs and libraries as outside:
`meson test -C build ...` and kvmdbg run unchanged. The script exits with
COMMAND's status.

What this KVM can and cannot do for a debugger (measured; docs/hosts.md):
Linux guests boot (Debian's cloud kernel reaches userspace with -smp 2 in
about 30 s), real mode runs, single-step works. Under Debian's QEMU, int3
is not intercepted and hardware breakpoints and data watchpoints do not
fire (gaps in QEMU's emulation of SVM), so it serves the machine, device,
loader and boot tests only. Under the QEMU that scripts/build_debug_qemu.py
builds with those gaps closed, which this script runs when it exists
(--qemu chooses another), the breakpoint tests run too.

The kernel and busybox-static are fetched with apt-get download into
build/cache/kvm-under-tcg once (needs the package lists); the guest has no
network. Needs root (9p with security_model=none, chroot inside) and the
package qemu-system-x86.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.dont_write_bytecode = True
from debian_package import FileLock, Unavailable, apt_download, extract  # noqa: E402
from newc_cpio import Cpio  # noqa: E402

CACHE = os.path.join(ROOT, "build", "cache", "kvm-under-tcg")
KERNEL_META = "linux-image-amd64"
# Loaded in this order: virtio-pci for the 9p transport, then KVM.
MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "netfs",
           "fscache", "9pnet", "9pnet_virtio", "9p", "irqbypass", "ccp", "kvm", "kvm-amd"]
EXIT_MARK = "KVM-UNDER-TCG-EXIT"
# Built by scripts/build_debug_qemu.py: with it, the nested KVM's hardware
# breakpoints, watchpoints and int3 intercepts work.
DEBUG_QEMU = os.path.join(CACHE, "qemu", "qemu-system-x86_64")

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
ip link set lo up
for m in %(modules)s; do insmod /modules/$m.ko 2>/dev/null; done
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $opts,ro hostroot /newroot && mount -t 9p -o $opts repo /newroot%(repo)s || echo "9p mounts failed"
mount -t proc proc /newroot/proc; mount -t sysfs sysfs /newroot/sys; mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts; mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmp /newroot/tmp; mount -t tmpfs run /newroot/run
[ -c /dev/kvm ] || echo "no /dev/kvm: kvm_amd did not load"
script=$(sed -n 's/.*kvm_under_tcg.command=\([^ ]*\).*/\1/p' /proc/cmdline)
chroot /newroot /bin/sh -c "cd %(repo)s && mkdir -p /tmp/home && HOME=/tmp/home \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh $script; echo \"%(mark)s \$?\""
poweroff -f
"""


def versioned_kernel_package(debs):
    meta = apt_download(KERNEL_META, debs)
    depends = subprocess.run(["dpkg-deb", "-f", meta, "Depends"], capture_output=True, text=True,
                             check=True).stdout
    m = re.search(r"(linux-image-[0-9][^\s,(]*-amd64)", depends)
    if not m:
        raise SystemExit(f"{meta}: no versioned linux-image in Depends: {depends.strip()}")
    return m.group(1)


def fetch():
    """(vmlinuz, initramfs path) in CACHE, made once."""
    os.makedirs(CACHE, exist_ok=True)
    with FileLock(os.path.join(CACHE, ".lock")):
        kernel_root = os.path.join(CACHE, "kernel")
        busybox_root = os.path.join(CACHE, "busybox")
        debs = os.path.join(CACHE, "debs")
        if not os.path.isdir(os.path.join(kernel_root, "boot")):
            extract(apt_download(versioned_kernel_package(debs), debs), kernel_root)
        if not os.path.isdir(busybox_root):
            extract(apt_download("busybox-static", debs), busybox_root)
        boot = os.path.join(kernel_root, "boot")
        vmlinuz = os.path.join(boot, next(n for n in sorted(os.listdir(boot)) if n.startswith("vmlinuz-")))
        release = os.path.basename(vmlinuz)[len("vmlinuz-"):]
        modules = {}
        for dirpath, _, files in os.walk(os.path.join(kernel_root, "lib", "modules", release)):
            for f in files:
                if f.endswith(".ko"):
                    modules[f[:-3]] = os.path.join(dirpath, f)
        c = Cpio()
        for d in ["bin", "dev", "proc", "sys", "newroot", "modules"]:
            c.dir(d)
        c.chardev("dev/console", 5, 1)
        c.copy("/bin/busybox", os.path.join(busybox_root, "bin", "busybox"), 0o755)
        for m in MODULES:
            if m not in modules:
                raise SystemExit(f"kernel {release} has no module {m}")
            c.copy(f"/modules/{m}.ko", modules[m], 0o644)
        c.file("/init", (INIT % {"modules": " ".join(MODULES), "repo": ROOT, "mark": EXIT_MARK}).encode())
        initrd = os.path.join(CACHE, "initrd.cpio")
        with open(initrd + ".tmp", "wb") as f:
            f.write(c.bytes())
        os.rename(initrd + ".tmp", initrd)
        return vmlinuz, initrd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--memory", default="6G")
    ap.add_argument("--qemu", default=DEBUG_QEMU if os.access(DEBUG_QEMU, os.X_OK) else "qemu-system-x86_64",
                    help="the qemu-system-x86_64 to run (default: scripts/build_debug_qemu.py's when it "
                    "was built, else the one on the PATH)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("no COMMAND given")
    try:
        vmlinuz, initrd = fetch()
    except Unavailable as e:
        print(f"kvm_under_tcg: {e}", file=sys.stderr)
        return 2
    # One command file per run, named on the kernel command line, so that two
    # runs from one checkout at the same time do not swap commands.
    fd, command_file = tempfile.mkstemp(prefix="command-", suffix=".sh", dir=CACHE)
    with os.fdopen(fd, "w") as f:
        f.write(" ".join(shlex.quote(a) for a in command) + "\n")
    qemu = [args.qemu, "-accel", "tcg,thread=multi", "-cpu", "max", "-m", args.memory,
            "-smp", str(os.cpu_count() or 2), "-nographic", "-nic", "none", "-no-reboot",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", f"console=ttyS0 panic=-1 quiet kvm_under_tcg.command={command_file}",
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs", f"local,path={ROOT},mount_tag=repo,security_model=none,multidevs=remap"]
    status = 1
    try:
        try:
            proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                                    errors="replace")
        except FileNotFoundError:
            print(f"kvm_under_tcg: {args.qemu} not found (apt-get install qemu-system-x86)", file=sys.stderr)
            return 2
        print(f"kvm_under_tcg: {args.qemu}", file=sys.stderr, flush=True)
        timer = threading.Timer(args.timeout, proc.kill)
        timer.start()
        for line in proc.stdout:
            if line.startswith(EXIT_MARK):
                status = int(line.split()[1])
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        proc.wait()
        if not timer.is_alive():
            print(f"kvm_under_tcg: stopped after {args.timeout} s", file=sys.stderr)
        timer.cancel()
    finally:
        os.unlink(command_file)
    return status


if __name__ == "__main__":
    sys.exit(main())
