"""The nested arm64 KVM rig: a real arm64 KVM on an x86-64 machine.

An arm64 Debian kernel (linux-image-*-cloud-arm64, unpacked into a cache,
never installed) boots under qemu-system-aarch64 (TCG) with
virtualization=on, so its KVM runs in VHE mode at the emulated EL2. An
initramfs made here holds busybox, the virtio modules the kernel lacks
built in, the cross-built kvmdbg with its accelerator module and libraries,
kvm_probe and the arm64 test guests. Each boot runs one shell script
(/run.sh, packed as a second cpio archive appended to the base one: the
kernel unpacks both) and powers off. A boot may carry extra files in that
second archive: the linux_boot case's guest kernel and guest initramfs
(guest_linux()), kept out of the base archive so the other cases' boots do
not grow.

gdb's channel: a virtio-serial port (virtio-mmio) named org.kvmdbg.gdb. On
the x86 side it is QEMU's unix socket chardev, which gdb-multiarch opens with
`target remote PATH`; inside, kvmdbg runs with `-gdb stdio` redirected to
the port's /dev/vportNpM (a plain character device: no tty line discipline).

Console protocol (ttyAMA0, read by Boot): /init prints NESTED-BOOTED, the
run script's own markers follow, and /init prints NESTED-EXIT <status> of
the run script before `poweroff -f` (PSCI SYSTEM_OFF ends QEMU).
"""
import gzip
import hashlib
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from debian_linux import fetch_debug_package  # noqa: E402
from debian_package import FileLock, PackageError, Unavailable, apt_download, extract, fetch_file  # noqa: E402
from newc_cpio import Cpio  # noqa: E402

KERNEL_PACKAGE = "linux-image-cloud-arm64:arm64"
BUSYBOX_PACKAGE = "busybox-static:arm64"
# virtio_console needs virtio and virtio_ring; virtio_mmio is the transport
# QEMU's virt machine offers. All four are modules in Debian's cloud kernel.
VIRTIO_MODULES = [
    "kernel/drivers/virtio/virtio_ring.ko",
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_mmio.ko",
    "kernel/drivers/char/virtio_console.ko",
]
# Kernel options the rig relies on being built in (=y).
KERNEL_CONFIG = ["CONFIG_KVM", "CONFIG_BLK_DEV_INITRD", "CONFIG_DEVTMPFS",
                 "CONFIG_SERIAL_AMBA_PL011_CONSOLE", "CONFIG_ARM_PSCI_FW"]
# Host tools: program -> Debian package.
HOST_TOOLS = {
    "qemu-system-aarch64": "qemu-system-arm",
    "gdb-multiarch": "gdb-multiarch",
    "dpkg-deb": "dpkg",
    "apt-get": "apt",
    "aarch64-linux-gnu-nm": "binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-readelf": "binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-strip": "binutils-aarch64-linux-gnu",
}
ARM64_LIB_DIRS = ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]
GDB_PORT_NAME = "org.kvmdbg.gdb"


# A package the rig needs is missing and could not be installed: SKIP.
Skip = Unavailable
# The rig itself failed (boot, kernel, packing): a test failure.
RigError = PackageError


def missing_tools():
    return [f"{tool} (package {pkg})" for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None]


class Kernel:
    def __init__(self, root):
        self.root = root
        boot = os.path.join(root, "boot")
        names = sorted(os.listdir(boot))
        self.vmlinuz = os.path.join(boot, next(n for n in names if n.startswith("vmlinuz-")))
        self.config = os.path.join(boot, next(n for n in names if n.startswith("config-")))
        self.release = os.path.basename(self.vmlinuz)[len("vmlinuz-"):]
        self.modules = os.path.join(root, "lib", "modules", self.release)

    def check(self):
        with open(self.config) as f:
            text = f.read()
        missing = [c for c in KERNEL_CONFIG if not re.search(r"^%s=y$" % c, text, re.M)]
        if missing:
            raise RigError(f"{self.vmlinuz}: not built in: {', '.join(missing)}")
        for m in VIRTIO_MODULES:
            if not os.path.exists(os.path.join(self.modules, m)):
                raise RigError(f"kernel {self.release} has no {m}")


def fetch_kernel(cache):
    """The cloud-arm64 kernel unpacked in cache/kernel (downloaded once)."""
    os.makedirs(cache, exist_ok=True)
    with FileLock(os.path.join(cache, ".kernel.lock")):
        root = os.path.join(cache, "kernel")
        if not os.path.isdir(os.path.join(root, "boot")):
            debs = os.path.join(cache, "debs")
            meta = apt_download(KERNEL_PACKAGE, debs)
            depends = subprocess.run(["dpkg-deb", "-f", meta, "Depends"], capture_output=True, text=True,
                                     check=True).stdout
            m = re.search(r"(linux-image-[0-9][^\s,(]*-cloud-arm64)", depends)
            if not m:
                raise RigError(f"{meta}: no versioned linux-image in Depends: {depends.strip()}")
            extract(apt_download(m.group(1) + ":arm64", debs), root)
        kernel = Kernel(root)
        kernel.check()
        return kernel


def fetch_debug_files(cache, kernel):
    """(vmlinux with DWARF, System.map) of `kernel` from Debian's
    linux-image-<release>-dbg:arm64 (262 MB) in cache/dbg. Skip
    (Unavailable) when it cannot be downloaded."""
    return fetch_debug_package(cache, kernel.release, ":arm64")


def fetch_busybox(cache):
    os.makedirs(cache, exist_ok=True)
    with FileLock(os.path.join(cache, ".busybox.lock")):
        root = os.path.join(cache, "busybox")
        binary = os.path.join(root, "bin", "busybox")
        if not os.path.exists(binary):
            extract(apt_download(BUSYBOX_PACKAGE, os.path.join(cache, "debs")), root)
        return binary


INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ip link set lo up 2>/dev/null
for m in %(modules)s; do insmod /modules/$m || echo "NESTED-INIT insmod $m failed"; done
# The gdb port: the virtio-serial port named %(port)s, once udev-less
# devtmpfs has its node.
GDB_PORT=
i=0
while [ $i -lt 200 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ -e "$p/name" ] && [ "$(cat $p/name)" = %(port)s ] && GDB_PORT=/dev/${p##*/}
  done
  [ -n "$GDB_PORT" ] && [ -e "$GDB_PORT" ] && break
  GDB_PORT=
  i=$((i+1))
  sleep 0.05
done
export GDB_PORT
echo "NESTED-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime) gdb_port=${GDB_PORT:-none}"
sh /run.sh
echo "NESTED-EXIT $?"
poweroff -f
"""


def _needed(path):
    out = subprocess.run(["aarch64-linux-gnu-readelf", "-d", path], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def _interp(path):
    out = subprocess.run(["aarch64-linux-gnu-readelf", "-l", path], capture_output=True, text=True).stdout
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return m.group(1) if m else None


def _stripped(path):
    with tempfile.TemporaryDirectory(prefix="kvmdbg-strip-") as tmp:
        out = os.path.join(tmp, "stripped")
        subprocess.run(["aarch64-linux-gnu-strip", "--strip-debug", "-o", out, path], check=True)
        with open(out, "rb") as f:
            return f.read()


def _add_libraries(cpio, binaries):
    """Every shared library the binaries need, from the :arm64 packages."""
    todo = list(binaries)
    done = set()
    interps = {i for i in (_interp(b) for b in binaries) if i}
    while todo:
        for lib in _needed(todo.pop()):
            if lib in done:
                continue
            done.add(lib)
            for d in ARM64_LIB_DIRS:
                p = os.path.join(d, lib)
                if os.path.exists(p):
                    real = os.path.realpath(p)
                    cpio.copy("/lib/aarch64-linux-gnu/" + lib, real, 0o755)
                    todo.append(real)
                    break
            else:
                raise Skip(f"arm64 library {lib} is not installed (its :arm64 package is missing)")
    for interp in interps:
        real = os.path.realpath(interp)
        if not os.path.exists(real):
            raise Skip(f"arm64 dynamic loader {interp} is missing (package libc6:arm64)")
        cpio.copy("/lib/aarch64-linux-gnu/" + os.path.basename(interp), real, 0o755)
        cpio.symlink(interp, "/lib/aarch64-linux-gnu/" + os.path.basename(interp))


class Payload:
    """What the base initramfs carries from the aarch64 build directory."""

    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.kvmdbg = os.path.join(build_dir, "kvmdbg")
        self.accel = os.path.join(build_dir, "accel", "kvm", "accel-kvm.so")
        self.probe = os.path.join(build_dir, "tests", "nested", "arm64", "kvm_probe")
        self.guest_dir = os.path.join(build_dir, "tests", "guests", "arm64")

    def guests(self):
        if not os.path.isdir(self.guest_dir):
            return []
        return sorted(f for f in os.listdir(self.guest_dir)
                      if f.endswith((".elf", ".elf64", ".bin", ".img")) and
                      os.path.isfile(os.path.join(self.guest_dir, f)))

    def files(self):
        """[(path in the initramfs, host path)] of everything present."""
        files = []
        if os.path.exists(self.probe):
            files.append(("/bin/kvm_probe", self.probe))
        if os.path.exists(self.kvmdbg):
            files.append(("/kvmdbg/kvmdbg", self.kvmdbg))
        if os.path.exists(self.accel):
            files.append(("/kvmdbg/accel/kvm/accel-kvm.so", self.accel))
        for g in self.guests():
            files.append(("/guests/" + g, os.path.join(self.guest_dir, g)))
        return files


def base_initramfs(cache, kernel, busybox, payload):
    """The base archive, rebuilt only when an input changed."""
    files = payload.files()
    key = hashlib.sha256()
    for src in [busybox, kernel.vmlinuz, __file__] + [f for _, f in files]:
        st = os.stat(src)
        key.update(f"{src}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    digest = key.hexdigest()[:16]
    path = os.path.join(cache, f"base-{digest}.cpio")
    with FileLock(os.path.join(cache, ".initramfs.lock")):
        if os.path.exists(path):
            return path
        c = Cpio()
        for d in ["bin", "dev", "proc", "sys", "tmp", "modules", "guests", "lib/aarch64-linux-gnu"]:
            c.dir(d)
        c.chardev("dev/console", 5, 1)
        c.copy("/bin/busybox", busybox, 0o755)
        c.file("/init", (INIT % {
            "modules": " ".join(os.path.basename(m) for m in VIRTIO_MODULES),
            "port": GDB_PORT_NAME}).encode())
        for m in VIRTIO_MODULES:
            c.copy("/modules/" + os.path.basename(m), os.path.join(kernel.modules, m), 0o644)
        dynamic = []
        for dest, src in files:
            if dest.startswith("/kvmdbg/"):
                # Debug info is for gdb on this side; a smaller archive boots faster.
                c.file(dest, _stripped(src))
                dynamic.append(src)
            else:
                c.copy(dest, src)
        _add_libraries(c, dynamic)
        for old in os.listdir(cache):
            if old.startswith("base-") and old.endswith(".cpio"):
                os.unlink(os.path.join(cache, old))
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(c.bytes())
        os.rename(tmp, path)
        return path


GUEST_INIT = r"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "GUEST-INIT-REACHED uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
/bin/busybox poweroff -f
"""
# Where the linux_boot case finds the guest's files inside the rig.
GUEST_KERNEL = "/linux/Image.gz"
GUEST_INITRD = "/linux/guest-initrd.cpio"


def guest_initramfs(busybox):
    """The guest kernel's initramfs: busybox and an /init that prints
    GUEST-INIT-REACHED and powers off (PSCI SYSTEM_OFF)."""
    c = Cpio()
    for d in ["bin", "dev", "proc"]:
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.copy("/bin/busybox", busybox, 0o755)
    c.file("/init", GUEST_INIT.encode())
    return c.bytes()


def gzipped_kernel(cache, kernel):
    """The kernel's Image gzip-compressed (an `Image.gz`), cached: Debian
    12's arm64 vmlinuz is an uncompressed Image, so the gzip'd form is made
    here. Returns its path."""
    st = os.stat(kernel.vmlinuz)
    path = os.path.join(cache, f"Image-{kernel.release}-{st.st_size}-{st.st_mtime_ns}.gz")
    with FileLock(os.path.join(cache, ".image-gz.lock")):
        if not os.path.exists(path):
            with open(kernel.vmlinuz, "rb") as f:
                data = f.read()
            for old in os.listdir(cache):
                if old.startswith("Image-") and old.endswith(".gz"):
                    os.unlink(os.path.join(cache, old))
            tmp = path + ".tmp"
            with open(tmp, "wb") as out:
                # mtime 0: the same bytes every time.
                out.write(gzip.compress(data, compresslevel=6, mtime=0))
            os.rename(tmp, path)
        return path


def guest_linux(cache, kernel, busybox):
    """[(path in the rig, bytes)]: the guest kernel (gzip'd Image) and the
    guest initramfs, for Boot's `extra`."""
    with open(gzipped_kernel(cache, kernel), "rb") as f:
        image = f.read()
    return [(GUEST_KERNEL, image), (GUEST_INITRD, guest_initramfs(busybox))]


# Debian's U-Boot for QEMU's arm64 virt machine (package u-boot-qemu,
# architecture all), for the uboot_* cases, and where they find it inside.
UBOOT = ("u-boot-qemu", "usr/lib/u-boot/qemu_arm64/u-boot.bin")
GUEST_UBOOT = "/firmware/u-boot.bin"


def guest_uboot(cache):
    """([(path in the rig, bytes)] for Boot's `extra`, the image's path here)."""
    path = fetch_file(cache, *UBOOT)
    with open(path, "rb") as f:
        return [(GUEST_UBOOT, f.read())], path


class _GdbRelay(threading.Thread):
    """Holds this side of the gdb port open from boot on, and relays one gdb
    connection at a time from `listen_path` to it.

    A virtio-serial port polls POLLHUP inside while nobody is connected to
    its chardev here; kvmdbg's `-gdb stdio` takes that as the debugger
    leaving, so the port must already be connected when kvmdbg starts, and
    stay connected between gdb sessions."""

    def __init__(self, qemu_path, listen_path):
        super().__init__(daemon=True)
        self.qemu_path = qemu_path
        self.listen_path = listen_path
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(listen_path)
        self.listener.listen(1)
        self.listener.settimeout(0.2)
        self.qemu = None
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.start()

    def _connect(self):
        end = time.monotonic() + 30
        while not self.stopped.is_set() and time.monotonic() < end:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(self.qemu_path)
                self.qemu = s
                self.connected.set()
                return True
            except OSError:
                s.close()
                time.sleep(0.02)
        return False

    def run(self):
        if not self._connect():
            return
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self._pump(client)
            finally:
                client.close()

    def _pump(self, client):
        client.setblocking(True)
        while not self.stopped.is_set():
            ready, _, _ = select.select([client, self.qemu], [], [], 0.2)
            for src in ready:
                dst = self.qemu if src is client else client
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    if src is self.qemu:
                        self.stopped.set()
                    return
                dst.sendall(data)

    def close(self):
        self.stopped.set()
        self.join(2)
        for s in (self.listener, self.qemu):
            if s is not None:
                s.close()


class Boot:
    """One boot of the rig running `script` as /run.sh.

    gdb_socket is QEMU's unix socket of the gdb port, held open by a relay
    from boot on; gdb connects to gdb_endpoint, the relay's socket.
    lines() holds the console so far; wait_for(regex) blocks for a line."""

    def __init__(self, kernel, base, script, tmp, timeout=180, memory="1G", extra=(), kernel_args=""):
        self.tmp = tmp
        self.gdb_socket = os.path.join(tmp, "gdb.sock")
        self.gdb_endpoint = os.path.join(tmp, "gdb-relay.sock")
        c = Cpio()
        c.file("/run.sh", script.encode(), 0o755)
        for name, data in extra:
            c.file(name, data, 0o644)
        initrd = os.path.join(tmp, "initramfs.cpio")
        with open(initrd, "wb") as out:
            with open(base, "rb") as b:
                shutil.copyfileobj(b, out)
            out.write(c.bytes())
        self.cmd = [
            "qemu-system-aarch64",
            "-M", "virt,virtualization=on,gic-version=3", "-cpu", "max,pauth-impdef=on",
            "-m", memory, "-smp", "1", "-display", "none", "-monitor", "none", "-serial", "stdio",
            # No NIC: the default virtio one needs ipxe-qemu's efi-virtio.rom,
            # only a recommendation of Debian's qemu-system-arm.
            "-nic", "none",
            "-no-reboot", "-kernel", kernel.vmlinuz, "-initrd", initrd,
            "-append", ("console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=3 " + kernel_args).strip(),
            "-device", "virtio-serial-device",
            "-chardev", f"socket,id=gdb,path={self.gdb_socket},server=on,wait=off",
            "-device", f"virtserialport,chardev=gdb,name={GDB_PORT_NAME}",
        ]
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._lines = []
        self._cond = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._relay = _GdbRelay(self.gdb_socket, self.gdb_endpoint)

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def lines(self):
        with self._cond:
            return list(self._lines)

    def console(self):
        return "\n".join(self.lines())

    def wait_for(self, regex, timeout=None):
        """The first match of regex in a console line, or None at EOF/timeout."""
        end = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        pattern = re.compile(regex)
        seen = 0
        with self._cond:
            while True:
                for line in self._lines[seen:]:
                    m = pattern.search(line)
                    if m:
                        return m
                seen = len(self._lines)
                if self._eof:
                    return None
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def finish(self):
        """Waits for power-off (kills at the deadline); returns the run
        script's status (None if /init never printed NESTED-EXIT)."""
        try:
            self.proc.wait(timeout=max(1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            with self._cond:
                self._lines.append("[rig: qemu killed at the time limit]")
        self._reader.join(5)
        self._relay.close()
        self.elapsed = time.monotonic() - self.started
        m = self.wait_for(r"^NESTED-EXIT (\d+)", timeout=0)
        return int(m.group(1)) if m else None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish()


class Rig:
    """Kernel + base initramfs, ready to boot scripts."""

    def __init__(self, build_dir, cache):
        missing = missing_tools()
        if missing:
            raise Skip("missing host tools: " + ", ".join(missing))
        self.payload = Payload(build_dir)
        self.cache = cache
        self.kernel = fetch_kernel(cache)
        self.busybox = fetch_busybox(cache)
        self.base = base_initramfs(cache, self.kernel, self.busybox, self.payload)

    def boot(self, script, tmp, timeout=180, memory="1G", extra=(), kernel_args=""):
        """One boot running `script`; `extra` [(path, bytes)] are added to
        its initramfs (memory: QEMU's -m; kernel_args: more of the rig
        kernel's command line)."""
        return Boot(self.kernel, self.base, script, tmp, timeout, memory, extra, kernel_args)


