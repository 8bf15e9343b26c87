#!/usr/bin/env python3
"""Debian 12's SeaBIOS (package seabios, bios-256k.bin: firmware no one here
wrote) started by kvmdbg at the reset vector with -bios, as under
qemu-system-x86_64 -bios:

  kvmdbg -M pc-lite -m 256M -smp 2 -bios bios-256k.bin -nographic -serial stdio \\
         -debugcon file:LOG -device isa-debugcon,iobase=0x402

  seabios.py KVMDBG CACHE_DIR boot        to SeaBIOS's boot attempt
  seabios.py KVMDBG CACHE_DIR gdb         the same under gdb from the reset vector
  seabios.py KVMDBG CACHE_DIR gdb-catch   under gdb: catch SeaBIOS's first PCI configuration
                                          write (port 0xcf8) and data read, see the values,
                                          delete the catches, detach: it boots on
  seabios.py KVMDBG CACHE_DIR gdb-linux   SeaBIOS booting Debian's kernel (-kernel through
                                          fw_cfg and QEMU's linuxboot_dma.bin) under gdb:
                                          the reset vector in real mode, then hardware
                                          breakpoints at the kernel's 32-bit entry 0x100000
                                          (protected mode) and 64-bit entry 0x100200 (long
                                          mode), stepi there, kill
  seabios.py KVMDBG CACHE_DIR bad-input   -bios refusals

boot: the serial console (SeaBIOS's sercon, told the port by fw_cfg's
etc/sercon-port) shows "SeaBIOS (version" and ends at "No bootable device."
(no disks); its debug log on isa-debugcon shows that it found what it looks
for: the i440FX host bridge ("Running on QEMU (i440fx)"), fw_cfg with DMA,
both CPUs ("Found 2 cpu(s)", woken by INIT/SIPI through the in-kernel LAPIC)
and the RAM from fw_cfg's etc/e820.

gdb: kvmdbg -S; the first stop is at the reset vector (pc 0xfffffff0: gdb's
pc is the linear address CS.base + IP, cs 0xf000), `x/5xb $pc` shows the far
jump there (ea 5b e0 00 f0), `stepi` lands at 0xfe05b (cs 0xf000); a
hardware breakpoint at SeaBIOS's 32-bit entry stops there in protected mode
(CR0.PE set); `continue` runs SeaBIOS to its boot attempt, Ctrl-C stops it,
`detach` lets it go on. The 32-bit entry is found without symbols, from the
image's bytes: the code at F000:E05B (SeaBIOS's entry_post) enters 32-bit
mode through `mov $handle_post, %edx; jmp transition32`, so the first
`66 ba imm32` (mov imm32 to edx with the operand-size prefix of 16-bit code)
after 0xfe05b holds the address (0xefbbf in Debian's 1.16.2). Where the
host's KVM has no working hardware breakpoints that step is left out and
the test SKIPs naming it after the rest passed.
The debug log is then the same as without gdb but for the "CPU Mhz=" line
(SeaBIOS measures the TSC against the PIT, which differs from run to run).

The package is fetched with apt-get download into CACHE_DIR (or
$KVMDBG_TEST_CACHE/linux's sibling firmware/) once. Exit 0 pass, 1 fail,
77 SKIP with the reason (no /dev/kvm, no gdb, the package cannot be
downloaded).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from debian_linux import fetch_vmlinuz  # noqa: E402
from debian_package import Unavailable, fetch_file  # noqa: E402
from kvm_host import kvm_unusable  # noqa: E402

PACKAGE = "seabios"
IMAGE = "usr/share/seabios/bios-256k.bin"
# QEMU's option ROM that boots -kernel under -bios.
OPTION_ROM = ("qemu-system-data", "usr/share/qemu/linuxboot_dma.bin")
BOOT_SECONDS = 120
END = "No bootable device."
LOG_EXPECT = ["SeaBIOS (version", "Running on QEMU (i440fx)", "Running on KVM", "Found QEMU fw_cfg",
              "QEMU fw_cfg DMA interface supported", "Found 2 cpu(s)", "sercon: using ioport 0x3f8",
              "e820 map has"]


class Run:
    """kvmdbg with its serial console read by a thread."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.console = bytearray()
        self.stderr = bytearray()
        self.threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.console), daemon=True),
                        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr), daemon=True)]
        for t in self.threads:
            t.start()

    @staticmethod
    def _pump(stream, into):
        while True:
            chunk = stream.read1(4096)
            if not chunk:
                return
            into += chunk

    def text(self):
        return self.console.decode(errors="replace")

    def wait_for(self, text, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            if text in self.text():
                return True
            time.sleep(0.1)
        return text in self.text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.threads:
            t.join(5)
        return self.proc.returncode


def command(kvmdbg, bios, log, extra=()):
    return [kvmdbg, "-M", "pc-lite", "-m", "256M", "-smp", "2", "-bios", bios, "-nographic", "-serial", "stdio",
            "-debugcon", "file:" + log, "-device", "isa-debugcon,iobase=0x402"] + list(extra)


def check_boot(run, log, ended, failures):
    console = run.text()
    with open(log, errors="replace") as f:
        log_text = f.read()
    print("--- serial console\n" + console.replace("\r", "")[-800:])
    print("--- debugcon log (first lines)\n" + "\n".join(log_text.splitlines()[:40]))
    print("--- kvmdbg stderr\n" + run.stderr.decode(errors="replace")[-1500:])
    if "SeaBIOS (version" not in console:
        failures.append("the serial console never showed SeaBIOS's banner")
    if not ended:
        failures.append(f"the serial console did not reach {END!r} within {BOOT_SECONDS} s")
    for want in LOG_EXPECT:
        if want not in log_text:
            failures.append(f"the debugcon log lacks {want!r}")
    return log_text


def comparable(log_text):
    return [l for l in log_text.splitlines() if not l.startswith("CPU Mhz=")]


def boot(kvmdbg, bios, tmp):
    log = os.path.join(tmp, "seabios.log")
    run = Run(command(kvmdbg, bios, log))
    ended = run.wait_for(END, BOOT_SECONDS)
    run.stop()
    failures = []
    check_boot(run, log, ended, failures)
    return failures


def entry32(bios):
    """SeaBIOS's 32-bit entry from the bytes after F000:E05B (above)."""
    with open(bios, "rb") as f:
        image = f.read()
    start = len(image) - (0x100000 - 0xfe05b)
    i = image.find(bytes([0x66, 0xBA]), start, start + 64)
    if i < 0:
        raise RuntimeError(f"{bios}: no `mov imm32, %edx` within 64 bytes of F000:E05B")
    return int.from_bytes(image[i + 2:i + 6], "little")


def gdb_endpoint(run):
    """(host:port of kvmdbg's stub or None, whether the host's KVM has
    working hardware breakpoints: kvmdbg's start-up probe says so)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        err = run.stderr.decode(errors="replace")
        m = re.search(r"gdb server listening on tcp (\S+):(\d+)", err)
        if m:
            return f"{m.group(1)}:{m.group(2)}", "intercepts neither int3 nor hardware breakpoints" not in err
        time.sleep(0.1)
    return None, False


def gdb_batch(cmds, timeout):
    gdb_cmd = ["gdb", "-batch", "-nx"]
    for c in cmds:
        gdb_cmd += ["-ex", c]
    try:
        # stderr too: gdb prints the target's console output (O packets) there.
        return subprocess.run(gdb_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return out + f"\n[gdb stopped by the test after {timeout} s]"


# A Linux kernel booted by SeaBIOS under gdb (gdb-linux): the stops on the
# way from real mode to long mode. The real-mode setup code enters the
# protected-mode kernel at code32_start, 0x100000 (the compressed kernel's
# startup_32, in 32-bit protected mode, paging off), which turns on long
# mode and jumps to startup_64, 0x200 further.
KERNEL_32BIT_ENTRY = 0x100000
KERNEL_64BIT_ENTRY = 0x100200
CR0_PE, CR0_PG, EFER_LMA = 1 << 0, 1 << 31, 1 << 10


def gdb_linux(kvmdbg, bios, tmp, cache):
    """SeaBIOS boots Debian's kernel (-kernel through fw_cfg) under gdb
    from the reset vector: hardware breakpoints on linear addresses stop it
    in protected mode at the kernel's 32-bit entry and in long mode at its
    64-bit entry, the registers showing each mode; then `kill`."""
    try:
        # The kernel shares its cache with the Linux tests (the sibling of
        # the firmware's).
        vmlinuz = fetch_vmlinuz(os.path.join(os.path.dirname(os.path.abspath(cache)), "linux"))
        option_rom = fetch_file(cache, *OPTION_ROM)
    except Unavailable as e:
        raise Skip(str(e))
    log = os.path.join(tmp, "seabios.log")
    run = Run(command(kvmdbg, bios, log, ["-S", "-gdb", "tcp:127.0.0.1:0", "-L", os.path.dirname(option_rom),
                                          "-kernel", vmlinuz, "-append", "console=ttyS0 nokaslr"]))
    endpoint, hw_breakpoints = gdb_endpoint(run)
    if endpoint is None:
        run.stop()
        return ["kvmdbg did not start its gdb server: " + run.stderr.decode(errors="replace")]
    regs = '"PC=%lx CS=%lx CR0=%lx EFER=%lx\\n", $pc, $cs, $cr0, $efer'
    cmds = ["set confirm off", "set pagination off", f"target remote {endpoint}", "printf " + regs]
    if hw_breakpoints:
        cmds += [f"hbreak *{KERNEL_32BIT_ENTRY:#x}", "continue", "printf " + regs, "delete",
                 f"hbreak *{KERNEL_64BIT_ENTRY:#x}", "continue", "printf " + regs, "x/i $pc", "stepi",
                 'printf "STEPPED=%lx\\n", $pc']
    cmds += ["kill"]
    out = gdb_batch(cmds, 150)
    run.stop()
    print("--- gdb\n" + out)
    print("--- serial console (last lines)\n" + "\n".join(run.text().replace("\r", "").splitlines()[-8:]))
    print("--- kvmdbg stderr\n" + run.stderr.decode(errors="replace")[-1500:])
    stops = [tuple(int(v, 16) for v in m) for m in re.findall(r"PC=([0-9a-f]+) CS=([0-9a-f]+) CR0=([0-9a-f]+) "
                                                                 r"EFER=([0-9a-f]+)", out)]
    failures = []
    if not stops or stops[0][:2] != (0xfffffff0, 0xf000) or stops[0][2] & CR0_PE:
        failures.append("the first stop is not at the reset vector 0xfffffff0, cs 0xf000, in real mode")
    if not hw_breakpoints:
        if not failures:
            raise Skip("only the reset-vector stop ran: the stops at the kernel's entries need hardware "
                       "breakpoints, which this host's KVM does not have (kvmdbg's start-up probe)")
        return failures
    if len(stops) < 2 or stops[1][0] != KERNEL_32BIT_ENTRY or not stops[1][2] & CR0_PE or stops[1][3] & EFER_LMA:
        failures.append(f"hbreak *{KERNEL_32BIT_ENTRY:#x} did not stop at the kernel's 32-bit entry in protected "
                        "mode (CR0.PE set, EFER.LMA clear)")
    if (len(stops) < 3 or stops[2][0] != KERNEL_64BIT_ENTRY or not stops[2][2] & CR0_PG
            or not stops[2][3] & EFER_LMA):
        failures.append(f"hbreak *{KERNEL_64BIT_ENTRY:#x} did not stop at the kernel's 64-bit entry in long mode "
                        "(CR0.PG and EFER.LMA set)")
    m = re.search(r"STEPPED=([0-9a-f]+)", out)
    if not m or int(m.group(1), 16) == KERNEL_64BIT_ENTRY:
        failures.append("stepi in long mode did not move the pc")
    if "[Inferior 1 (Remote target) killed]" not in out:
        failures.append("kill did not end the session")
    return failures


def gdb_catch(kvmdbg, bios, tmp):
    """The device-model developer's question on SeaBIOS: stop at its first
    PCI configuration access (`monitor catch io 0xcf8 w`), see the value,
    find the vCPU just past the `out` that made it; then the first read of
    the data port, the value read in eax; delete the catches, detach, and
    SeaBIOS boots on to its boot attempt. Device-path stops: no debug
    registers, so this runs on every host."""
    log = os.path.join(tmp, "seabios.log")
    run = Run(command(kvmdbg, bios, log, ["-S", "-gdb", "tcp:127.0.0.1:0"]))
    endpoint, _ = gdb_endpoint(run)
    if endpoint is None:
        run.stop()
        return ["kvmdbg did not start its gdb server: " + run.stderr.decode(errors="replace")]
    show = 'printf "STOP pc=%lx eax=%lx insn=%x\\n", $pc, $eax & 0xffffffff, *(unsigned char *)($pc - 1)'
    out = gdb_batch(["set confirm off", "set pagination off", f"target remote {endpoint}",
                     "monitor catch io 0xcf8 w", "continue", show,
                     "monitor catch io 0xcfc-0xcff r", "continue", show,
                     "monitor delete catch 1", "monitor delete catch 2", "monitor info catch", "detach"], 120)
    ended = run.wait_for(END, BOOT_SECONDS)
    run.stop()
    print("--- gdb\n" + out)
    failures = []
    check_boot(run, log, ended, failures)
    hits = re.findall(r"^Catch \d: CPU#0 .*$", out, re.M)
    stops = re.findall(r"^STOP pc=([0-9a-f]+) eax=([0-9a-f]+) insn=([0-9a-f]+)$", out, re.M)
    if len(hits) != 2 or len(stops) != 2:
        return failures + [f"expected two catch stops, got {hits}"]
    if hits[0] != "Catch 1: CPU#0 wrote 0x80000000 to port 0xcf8 (4 bytes, pci-conf1)":
        failures.append(f"the first PCI access is not the write of 0x80000000 to 0xcf8: {hits[0]!r}")
    if int(stops[0][2], 16) != 0xEF:
        failures.append("after the write the vCPU is not just past `out %eax,(%dx)` (0xef)")
    m = re.match(r"Catch 2: CPU#0 read 0x([0-9a-f]+) from port 0xcf([c-f]) \((\d) bytes?, pci-conf1\)", hits[1])
    if not m or int(m.group(1), 16) & 0xffff != 0x8086:
        failures.append(f"the first data-port read is not the host bridge's vendor ID 0x8086: {hits[1]!r}")
    elif int(stops[1][1], 16) & ((1 << (8 * int(m.group(3)))) - 1) != int(m.group(1), 16):
        failures.append("the value read is not in eax at the stop")
    if "No catches." not in out or "[Inferior 1 (Remote target) detached]" not in out:
        failures.append("the catches were not all deleted before detach")
    return failures


def gdb_session(kvmdbg, bios, tmp):
    plain_log = os.path.join(tmp, "plain.log")
    plain = Run(command(kvmdbg, bios, plain_log))
    plain.wait_for(END, BOOT_SECONDS)
    plain.stop()
    log = os.path.join(tmp, "seabios.log")
    run = Run(command(kvmdbg, bios, log, ["-S", "-gdb", "tcp:127.0.0.1:0"]))
    endpoint, hw_breakpoints = gdb_endpoint(run)
    if endpoint is None:
        run.stop()
        return ["kvmdbg did not start its gdb server: " + run.stderr.decode(errors="replace")]
    entry = entry32(bios)
    cmds = ["set confirm off", "set pagination off", f"target remote {endpoint}",
            'printf "RESET-PC=%lx CS=%lx\\n", $pc, $cs', "x/5xb $pc", "stepi",
            'printf "STEP-PC=%lx CS=%lx\\n", $pc, $cs']
    if hw_breakpoints:
        cmds += [f"hbreak *{entry:#x}", "continue", 'printf "ENTRY32-PC=%lx CR0=%lx\\n", $pc, $cr0', "delete"]
    cmds += ["continue", 'printf "INT-PC=%lx\\n", $pc', "detach"]
    gdb_cmd = ["gdb", "-batch", "-nx"]
    for c in cmds:
        gdb_cmd += ["-ex", c]
    gdb = subprocess.Popen(gdb_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    ended = run.wait_for(END, BOOT_SECONDS)
    time.sleep(0.5)
    gdb.send_signal(signal.SIGINT)
    try:
        out, _ = gdb.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        gdb.kill()
        out, _ = gdb.communicate()
    time.sleep(1)
    running_after_detach = run.proc.poll() is None
    run.stop()
    print("--- gdb\n" + out)
    failures = []
    log_text = check_boot(run, log, ended, failures)
    if not re.search(r"RESET-PC=fffffff0 CS=f000", out):
        failures.append("the first stop is not at the reset vector 0xfffffff0 with cs 0xf000")
    if not re.search(r"0xfffffff0:\s+0xea\s+0x5b\s+0xe0\s+0x00\s+0xf0", out):
        failures.append("x/5xb $pc does not show SeaBIOS's far jump ea 5b e0 00 f0")
    if not re.search(r"STEP-PC=fe05b CS=f000", out):
        failures.append("stepi did not land at f000:e05b (pc 0xfe05b)")
    if hw_breakpoints:
        m = re.search(r"ENTRY32-PC=([0-9a-f]+) CR0=([0-9a-f]+)", out)
        if not (m and int(m.group(1), 16) == entry and int(m.group(2), 16) & 1):
            failures.append(f"hbreak *{entry:#x} (SeaBIOS's 32-bit entry) did not stop there in protected mode")
    if not re.search(r"received signal SIGINT", out):
        failures.append("Ctrl-C did not stop SeaBIOS")
    if "detached" not in out:
        failures.append("detach failed")
    if not running_after_detach:
        failures.append("kvmdbg did not run on after detach")
    with open(plain_log, errors="replace") as f:
        plain_text = f.read()
    if comparable(plain_text) != comparable(log_text):
        failures.append("the debug log under gdb differs from the log without gdb (beyond the CPU Mhz line)")
    if not failures and not hw_breakpoints:
        raise Skip(f"the session passed without its hardware breakpoint at SeaBIOS's 32-bit entry {entry:#x}: "
                   "this host's KVM has no working hardware breakpoints (kvmdbg's start-up probe)")
    return failures


def expect_refusal(kvmdbg, args, part, failures):
    p = subprocess.run([kvmdbg, "-M", "pc-lite"] + args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    print(f"kvmdbg {' '.join(args)}: status {p.returncode}: {p.stderr.strip()}")
    if p.returncode == 0 or part not in p.stderr:
        failures.append(f"expected a non-zero exit and {part!r} for {' '.join(args)}")


def bad_input(kvmdbg, bios, tmp):
    failures = []
    odd = os.path.join(tmp, "odd.bin")
    with open(bios, "rb") as src, open(odd, "wb") as dst:
        dst.write(src.read()[:100000])
    expect_refusal(kvmdbg, ["-bios", odd], "must be a multiple of 64 KiB and at most 16 MiB, not 100000 bytes",
                   failures)
    expect_refusal(kvmdbg, ["-bios", os.path.join(tmp, "missing.bin")], "missing.bin", failures)
    expect_refusal(kvmdbg, ["-bios", bios, "-kernel", bios], "with -bios only a Linux bzImage is handed to the firmware",
                   failures)
    expect_refusal(kvmdbg, ["-bios", bios, "-append", "console=ttyS0"], "-initrd and -append need -kernel", failures)
    expect_refusal(kvmdbg, ["-device", "isa-debugcon,iobase=0x402", "-kernel", bios], "-debugcon SPEC", failures)
    return failures


class Skip(Exception):
    pass




def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("boot", "gdb", "gdb-linux", "gdb-catch", "bad-input"):
        print(__doc__)
        return 2
    kvmdbg, cache, mode = sys.argv[1:]
    shared = os.environ.get("KVMDBG_TEST_CACHE")
    cache = os.path.join(shared, "firmware") if shared else cache
    reason = kvm_unusable() if mode != "bad-input" else None
    if reason is None and mode.startswith("gdb") and subprocess.run(["which", "gdb"], capture_output=True).returncode != 0:
        reason = "gdb is not installed"
    if reason:
        print(f"SKIP: {reason}")
        return 77
    try:
        bios = fetch_file(cache, PACKAGE, IMAGE)
    except Unavailable as e:
        print(f"SKIP: {e}")
        return 77
    print("firmware:", bios)
    with tempfile.TemporaryDirectory(prefix="kvmdbg-seabios-") as tmp:
        try:
            if mode == "gdb-linux":
                failures = gdb_linux(kvmdbg, bios, tmp, cache)
            else:
                failures = {"boot": boot, "gdb": gdb_session, "gdb-catch": gdb_catch,
                            "bad-input": bad_input}[mode](kvmdbg, bios, tmp)
        except Skip as e:
            print(f"SKIP: {e}")
            return 77
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
