"""Debian 12's x86-64 cloud kernel for the tests, fetched at test time into a
cache directory (the build directory's cache/linux) and never installed:

  fetch_vmlinuz(cache)            cache/boot/vmlinuz-<release>: the bzImage of
                                  the linux-image-<release> package the meta
                                  package linux-image-cloud-amd64 depends on
  fetch_debug_files(cache)        (vmlinux, System.map) from the matching
                                  linux-image-<release>-dbg package (DWARF,
                                  the real System.map: the one in the image
                                  package is a placeholder); only
                                  usr/lib/debug/boot/ is unpacked (590 MB)
  fetch_debug_package(cache, release, arch)
                                  the same for any kernel release and dpkg
                                  architecture (the nested arm64 suite's)
  busybox_initramfs(cache, name, init)
                                  cache/<name>.cpio: Debian's busybox-static
                                  and `init` as /init

  cache_dir(default)              $KVMDBG_TEST_CACHE/linux when that is set
                                  (scripts/test.sh sets it so that its build
                                  directories share one download), else
                                  `default`

Each step runs once under a lock on cache/.lock (tests using them may run
at the same time) and raises debian_package.Unavailable, naming the
package, when apt cannot provide it.
"""
import glob
import os
import re
import subprocess

from debian_package import FileLock, Unavailable, apt_download, extract, extract_members
from newc_cpio import Cpio

META_PACKAGE = "linux-image-cloud-amd64"
# Ten functions of Debian 12's 6.1 kernels (amd64 and arm64 alike) that
# start_kernel's callees run many times: a kernel developer's `break`s, more
# than the hardware breakpoint slots of either ISA.
HOT_KERNEL_FUNCTIONS = ["_printk", "vprintk_emit", "memblock_alloc_try_nid", "memblock_reserve",
                        "kmem_cache_alloc", "__kmalloc", "kfree", "__alloc_pages", "mutex_lock", "kstrdup"]
BUSYBOX_PACKAGE = "busybox-static"


def cache_dir(default):
    shared = os.environ.get("KVMDBG_TEST_CACHE")
    return os.path.join(shared, "linux") if shared else default


def versioned_package():
    """The linux-image-<release> the meta package depends on."""
    try:
        p = subprocess.run(["apt-cache", "depends", META_PACKAGE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Unavailable(f"apt-cache is not usable here ({e}); needs the package {META_PACKAGE}")
    m = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-cloud-amd64)", p.stdout)
    if p.returncode != 0 or not m:
        raise Unavailable(f"apt-cache depends {META_PACKAGE} names no versioned kernel package "
                          f"(package lists missing? apt-get update): {(p.stderr or p.stdout).strip()[:200]}")
    return m.group(1)


def _found(pattern):
    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def fetch_vmlinuz(cache):
    os.makedirs(cache, exist_ok=True)
    with FileLock(os.path.join(cache, ".lock")):
        vmlinuz = _found(os.path.join(cache, "boot", "vmlinuz-*"))
        if vmlinuz:
            return vmlinuz
        deb = apt_download(versioned_package(), os.path.join(cache, "debs"))
        extract_members(deb, cache, "./boot/vmlinuz-*")
        vmlinuz = _found(os.path.join(cache, "boot", "vmlinuz-*"))
        if not vmlinuz:
            raise RuntimeError(f"{deb} has no boot/vmlinuz-*")
        return vmlinuz


def fetch_debug_files(cache):
    vmlinuz = fetch_vmlinuz(cache)
    return fetch_debug_package(cache, os.path.basename(vmlinuz)[len("vmlinuz-"):])


def fetch_debug_package(cache, release, arch=""):
    """(vmlinux, System.map) of kernel `release` from Debian's
    linux-image-<release>-dbg (`arch`: ":arm64" for another dpkg
    architecture's package): only usr/lib/debug/boot/ is unpacked, into
    cache/dbg, and the .deb (260-290 MB) removed; under the lock on
    cache/.lock."""
    boot = os.path.join(cache, "dbg", "usr", "lib", "debug", "boot")
    vmlinux = os.path.join(boot, "vmlinux-" + release)
    system_map = os.path.join(boot, "System.map-" + release)
    with FileLock(os.path.join(cache, ".lock")):
        if not (os.path.exists(vmlinux) and os.path.exists(system_map)):
            deb = apt_download(f"linux-image-{release}-dbg{arch}", os.path.join(cache, "debs"))
            extract_members(deb, os.path.join(cache, "dbg"), "./usr/lib/debug/boot/*")
            os.unlink(deb)  # the unpacked files are what is kept
        if not (os.path.exists(vmlinux) and os.path.exists(system_map)):
            raise RuntimeError(f"linux-image-{release}-dbg has no {vmlinux} or {system_map}")
    return vmlinux, system_map


def system_map_address(system_map, symbol):
    """The address of `symbol` in a System.map, or None."""
    with open(system_map) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == symbol:
                return int(parts[0], 16)
    return None


def busybox_initramfs(cache, name, init):
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, name + ".cpio")
    with FileLock(os.path.join(cache, ".lock")):
        busybox = os.path.join(cache, "busybox", "bin", "busybox")
        if not os.path.exists(busybox):
            extract(apt_download(BUSYBOX_PACKAGE, os.path.join(cache, "debs")), os.path.join(cache, "busybox"))
        c = Cpio()
        for d in ["bin", "dev", "proc"]:
            c.dir(d)
        c.chardev("dev/console", 5, 1)
        c.copy("/bin/busybox", busybox, 0o755)
        c.file("/init", init.encode())
        with open(path + ".tmp", "wb") as f:
            f.write(c.bytes())
        os.rename(path + ".tmp", path)
    return path
