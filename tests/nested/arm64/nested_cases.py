"""The nested-arm64 cases: tests/e2e's gdb cases, on a real arm64 KVM.

Each case boots the rig (rig.py), runs the cross-built kvmdbg inside on an
arm64 guest of tests/guests/arm64 and drives it with gdb-multiarch from this
side; it returns 0 (pass), 1 (fail, after printing why) or 77 (skip, with
the reason). The guests and symbols used are the ones tests/guests/arm64
builds: debug_target.elf (tick, tick_count, watched_var, probe_sink,
read_only_probe, step_0..step_7, step_ret) and guest_self_brk.elf.
"""
import argparse
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import rig
from debian_linux import HOT_KERNEL_FUNCTIONS, system_map_address

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk"))
import gdb_vmm_session as vmm_session  # noqa: E402

DEBUG_TARGET = "debug_target.elf"
SELF_BRK = "guest_self_brk.elf"
# debug_target's last serial line after a full run (tests/guests/arm64/README.md).
DEBUG_TARGET_DONE = "debug_target done ticks=100 watched=99"
SELF_BRK_LINE = "self_brk count=3 imm=1,2,3 elr_ok=1"
# A64 BRK #imm16 is 0xd4200000 | imm16 << 5 (ARM ARM C6.2.38).
BRK_MASK, BRK_BASE = 0xffe0001f, 0xd4200000


class Failure(Exception):
    pass


def expect(cond, what, *outputs):
    if not cond:
        raise Failure(what + "".join("\n--- output\n" + o for o in outputs))


class Run:
    """What one kvmdbg run inside the rig left: its exit status, the guest's
    serial output, kvmdbg's stderr, gdb's output (if any) and the console."""

    def __init__(self, boot, gdb_out=None, gdb_rc=None):
        text = boot.console()
        self.console = text
        self.gdb_out = gdb_out or ""
        self.gdb_rc = gdb_rc
        m = re.search(r"^NESTED-KVMDBG-STATUS (\d+) uptime=([\d.]+)$", text, re.M)
        self.status = int(m.group(1)) if m else None
        m2 = re.search(r"^NESTED-KVMDBG-START uptime=([\d.]+)$", text, re.M)
        # Seconds kvmdbg ran inside the rig (nested kernel clock).
        self.kvmdbg_seconds = float(m.group(2)) - float(m2.group(1)) if m and m2 else None
        m = re.search(r"^NESTED-SERIAL-BEGIN\n(.*?)^NESTED-SERIAL-END$", text, re.M | re.S)
        self.serial = m.group(1) if m else ""
        m = re.search(r"^NESTED-STDERR-BEGIN\n(.*?)^NESTED-STDERR-END$", text, re.M | re.S)
        self.stderr = m.group(1) if m else ""
        self.elapsed = boot.elapsed

    def all(self):
        return f"gdb:\n{self.gdb_out}\nconsole (kvmdbg status {self.status}):\n{self.console}"


def _run_script(kvmdbg_args, gdb):
    """/run.sh: kvmdbg with the guest's serial in a file, its stderr in
    another, and (gdb=True) its stdio on the gdb port, opened once (a virtio
    port allows one opener) before the marker the x86 side waits for."""
    args = " ".join(kvmdbg_args)
    lines = ["cd /tmp"]
    if gdb:
        lines += ['[ -n "$GDB_PORT" ] || { echo "NESTED-RUN no gdb port"; exit 90; }',
                  'exec 3<>"$GDB_PORT"',
                  'echo "NESTED-KVMDBG-START uptime=$(cut -d" " -f1 /proc/uptime)"',
                  f"/kvmdbg/kvmdbg {args} -serial file:/tmp/serial.log -gdb stdio <&3 >&3 2>/tmp/kvmdbg.err"]
    else:
        lines += ['echo "NESTED-KVMDBG-START uptime=$(cut -d" " -f1 /proc/uptime)"',
                  f"/kvmdbg/kvmdbg {args} -serial file:/tmp/serial.log </dev/null >/dev/null 2>/tmp/kvmdbg.err"]
    lines += ['echo "NESTED-KVMDBG-STATUS $? uptime=$(cut -d" " -f1 /proc/uptime)"',
              "exec 3<&-",
              "echo NESTED-SERIAL-BEGIN", "cat /tmp/serial.log 2>/dev/null", "echo", "echo NESTED-SERIAL-END",
              "echo NESTED-STDERR-BEGIN", "cat /tmp/kvmdbg.err 2>/dev/null", "echo NESTED-STDERR-END"]
    return "\n".join(lines) + "\n"


def _run_gdb(cmd, timeout):
    """Runs gdb; when it is still waiting after `timeout` (a stop that never
    came), interrupts it like Ctrl-C, so that its output so far and where
    the guest was are printed, then kills it 30 s later."""
    gdb = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    try:
        out, _ = gdb.communicate(timeout=timeout)
        return out, gdb.returncode
    except subprocess.TimeoutExpired:
        pass
    gdb.send_signal(signal.SIGINT)
    try:
        out, _ = gdb.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        gdb.kill()
        out, _ = gdb.communicate()
    return out + f"\n[the test interrupted gdb after {timeout} s]", None


def _gdb_interrupted_at(boot, gdb_cmds, pattern, timeout=170):
    """Runs gdb-multiarch -batch with `gdb_cmds` and presses Ctrl-C (gdb
    sends kvmdbg the remote interrupt, 0x03) once the rig's console shows a
    line matching `pattern`, while gdb still runs. Returns (gdb's output,
    its status or None if killed after `timeout`, the number of console
    lines at the interrupt or None if there was none)."""
    cmd = ["gdb-multiarch", "-batch", "-nx"]
    for c in gdb_cmds:
        cmd += ["-ex", c]
    gdb = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    interrupted = []

    def interrupt():
        if boot.wait_for(pattern, timeout=timeout - 20) and gdb.poll() is None:
            interrupted.append(len(boot.lines()))
            gdb.send_signal(signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    try:
        out, _ = gdb.communicate(timeout=timeout)
        return out, gdb.returncode, interrupted[0] if interrupted else None
    except subprocess.TimeoutExpired:
        gdb.kill()
        out, _ = gdb.communicate()
        return out + f"\n[the test killed gdb after {timeout} s]", None, interrupted[0] if interrupted else None


def _interrupted_gdb_session(ctx, boot, commands, pattern, start_timeout=60, timeout=170):
    """Once kvmdbg -S has started in the rig: gdb-multiarch connects, runs
    `commands` and is interrupted when the console shows `pattern`
    (_gdb_interrupted_at); then the boot ends (killed on any error).
    Returns (the timed Run, gdb's output by step (_sections), the console
    line count at the interrupt or None)."""
    try:
        if not boot.wait_for(r"^NESTED-KVMDBG-START ", timeout=start_timeout):
            raise Failure("kvmdbg did not start in the rig\n" + boot.console())
        connect = ["set confirm off", "set pagination off", "set remotetimeout 5",
                   "target remote " + boot.gdb_endpoint, "set remotetimeout 60"]
        gdb_out, gdb_rc, at = _gdb_interrupted_at(boot, connect + commands, pattern, timeout)
        boot.finish()
    except BaseException:
        boot.kill()
        raise
    return ctx._timed(Run(boot, gdb_out, gdb_rc)), _sections(gdb_out), at


class Context:
    def __init__(self, rig, tmp):
        self.rig = rig
        self.tmp = tmp
        self.guest_dir = rig.payload.guest_dir
        self.runs = 0
        self.timings = []

    def guest(self, name):
        return os.path.join(self.guest_dir, name)

    def need_kvmdbg(self, guest):
        p = self.rig.payload
        expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
        expect(os.path.exists(p.accel), f"{p.accel} was not built: no arm64 KVM accelerator module yet")
        expect(os.path.exists(self.guest(guest)), f"arm64 guest {self.guest(guest)} was not built")

    def symbols(self, name):
        out = subprocess.run(["aarch64-linux-gnu-nm", self.guest(name)], capture_output=True, text=True,
                             check=True).stdout
        syms = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                syms[parts[2]] = int(parts[0], 16)
        return syms

    def kvmdbg_args(self, guest, extra=(), stopped=True):
        args = ["-M", "virt", "-m", "64M", "-kernel", "/guests/" + guest] + list(extra)
        return args + (["-S"] if stopped else [])

    def _boot_dir(self):
        self.runs += 1
        d = os.path.join(self.tmp, f"boot{self.runs}")
        os.makedirs(d)
        return d

    def plain(self, guest, extra=()):
        """kvmdbg runs the guest to its end with no debugger."""
        self.need_kvmdbg(guest)
        boot = self.rig.boot(_run_script(self.kvmdbg_args(guest, extra, stopped=False), gdb=False),
                             self._boot_dir())
        boot.finish()
        return self._timed(Run(boot))

    def _timed(self, run):
        self.timings.append(f"boot {self.runs}: power-off after {run.elapsed:.1f} s, kvmdbg ran "
                            + (f"{run.kvmdbg_seconds:.1f} s" if run.kvmdbg_seconds is not None else "?"))
        return run

    def session(self, guest, commands, extra=(), timeout=120):
        """kvmdbg -S with its stub on the gdb port; one gdb-multiarch -batch
        session with `commands` (after file + target remote)."""
        self.need_kvmdbg(guest)
        boot = self.rig.boot(_run_script(self.kvmdbg_args(guest, extra), gdb=True), self._boot_dir(),
                             timeout=timeout + 90)
        try:
            if not boot.wait_for(r"^NESTED-KVMDBG-START ", timeout=120):
                boot.kill()
                raise Failure("kvmdbg did not start in the rig\n" + boot.console())
            debug = ["-ex", "set debug remote 1"] if os.environ.get("NESTED_DEBUG_REMOTE") else []
            # A short timeout while connecting (a lost first packet is resent
            # after 5 s, not 60), then 60 s: TCG runs the nested kernel and
            # packets take longer than on hardware.
            cmd = ["gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off",
                   *debug, "-ex", "set remotetimeout 5",
                   "-ex", "file " + self.guest(guest), "-ex", "target remote " + boot.gdb_endpoint,
                   "-ex", "set remotetimeout 60"]
            for c in commands:
                cmd += ["-ex", c]
            gdb_out, gdb_rc = _run_gdb(cmd, timeout)
            boot.finish()
        except BaseException:
            boot.kill()
            raise
        return self._timed(Run(boot, gdb_out, gdb_rc))


def case(fn):
    @functools.wraps(fn)
    def wrapped(ctx):
        start = time.monotonic()
        try:
            status = fn(ctx)
        except Failure as f:
            print("\n".join(ctx.timings))
            print(f"FAIL: {f}")
            return 1
        print("\n".join(ctx.timings))
        print(f"({ctx.runs} boot(s), {time.monotonic() - start:.1f} s)")
        if status in (None, 0):
            print("PASS")
            return 0
        return status
    return wrapped


@case
def kvm_probe(ctx):
    """The rig itself: the nested kernel's /dev/kvm runs a vCPU to a BRK
    exit, and it offers hardware breakpoints and watchpoints."""
    expect(os.path.exists(ctx.rig.payload.probe), f"{ctx.rig.payload.probe} was not built")
    boot = ctx.rig.boot("kvm_probe\n", ctx._boot_dir(), timeout=120)
    status = boot.finish()
    out = boot.console()
    m = re.search(r"kvm-probe: ok api=12 hw_bps=(\d+) hw_wps=(\d+) guest_debug=1 hsr=(0x[0-9a-f]+)", out)
    expect(status == 0 and m, f"kvm_probe did not succeed (status {status})", out)
    expect(int(m.group(1)) >= 2 and int(m.group(2)) >= 2, "fewer than 2 hw breakpoints/watchpoints", out)
    expect(int(m.group(3), 16) >> 26 == 0x3c, "the BRK exit's ESR class is not 0x3c", out)
    print(f"{m.group(0)}; boot to power-off {boot.elapsed:.1f} s")


@case
def connect_registers(ctx):
    syms = ctx.symbols(DEBUG_TARGET)
    r = ctx.session(DEBUG_TARGET, ["info registers pc sp cpsr", "x/4i $pc", "monitor info pic", "kill"])
    expect(re.search(r"^pc\s+0x%x\s+0x%x <_start>" % (syms["_start"], syms["_start"]), r.gdb_out, re.M),
           "pc is not _start", r.all())
    expect("g packet reply is too long" not in r.gdb_out, "target description rejected", r.all())
    expect(re.search(r"=> 0x%x <_start>:" % syms["_start"], r.gdb_out), "x/4i $pc shows no instructions", r.all())
    # The ABI has no GICv3 layout: the module's one-line refusal.
    expect("info pic: arm64: the plugin ABI defines no interrupt-controller state for the GICv3 "
           "(get_irqchip is x86 only)" in r.gdb_out, "monitor info pic on arm64 is not refused in one line", r.all())
    expect(r.status == 0, f"kvmdbg exited {r.status} after kill, expected 0", r.all())


@case
def hbreak_continue(ctx):
    r = ctx.session(DEBUG_TARGET, ["hbreak tick", "continue", "bt", "print tick_count", "continue",
                                   "print tick_count", "kill"])
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?0\)", r.gdb_out), "no stop at tick(i=0)", r.all())
    expect(re.search(r"^#[12] .*\bmain \(", r.gdb_out, re.M), "bt does not show main", r.all())
    expect(re.search(r"\$1 = 0\b", r.gdb_out), "tick_count is not 0 at the first tick", r.all())
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?1\)", r.gdb_out), "no second stop at tick(i=1)",
           r.all())
    expect(re.search(r"\$2 = 1\b", r.gdb_out), "tick_count is not 1 at the second tick", r.all())


@case
def break_brk(ctx):
    """gdb's software breakpoint: a BRK written into guest memory, its exit
    (EC 0x3c) kept by the debugger; delete restores the instruction."""
    r = ctx.session(DEBUG_TARGET, ["break tick", "continue", "continue", "print i", "delete", "continue"])
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?0\)", r.gdb_out), "first stop is not tick(i=0)",
           r.all())
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?1\)", r.gdb_out), "second stop is not tick(i=1)",
           r.all())
    expect(DEBUG_TARGET_DONE in r.serial, "guest did not finish after delete", r.all())
    expect(r.status == 0, f"kvmdbg exited {r.status}, expected 0 (the guest's PSCI SYSTEM_OFF)", r.all())


@case
def stepi_exact(ctx):
    syms = ctx.symbols(DEBUG_TARGET)
    cmds = ["hbreak step_0", "continue", "delete"]
    for _ in range(8):
        cmds += ["stepi", "printf \"PC=%lx\\n\", $pc"]
    cmds.append("kill")
    r = ctx.session(DEBUG_TARGET, cmds)
    pcs = [int(x, 16) for x in re.findall(r"PC=([0-9a-f]+)", r.gdb_out)]
    want = [syms[f"step_{i}"] for i in range(1, 8)] + [syms["step_ret"]]
    expect(pcs == want, f"stepi pcs {[hex(p) for p in pcs]} != {[hex(w) for w in want]}", r.all())


@case
def watch_write(ctx):
    r = ctx.session(DEBUG_TARGET, ["watch watched_var", "continue", "continue", "print tick_count", "kill"])
    expect(re.search(r"Hardware watchpoint 1: watched_var", r.gdb_out), "no watchpoint stop", r.all())
    expect(re.search(r"New value = 1\b", r.gdb_out), "second write (tick(1)) not reported", r.all())
    # tick(0) writes 0 over 0: gdb continues silently from a write watchpoint
    # whose value did not change, so the two reported writes are tick(1) and
    # tick(2), and tick() counts before it writes: tick_count = 3.
    expect(re.search(r"\$1 = 3\b", r.gdb_out), "tick_count is not 3 after the writes of tick(0..2)", r.all())


@case
def awatch_access(ctx):
    """An access watchpoint stops on the write in tick() and on the read in
    read_only_probe()."""
    r = ctx.session(DEBUG_TARGET, ["awatch watched_var", "continue", "bt 1", "delete", "hbreak read_only_probe",
                                   "continue", "delete", "awatch watched_var", "continue", "bt 1", "kill"])
    # gdb prints "Hardware access (read/write) watchpoint N: watched_var"
    # when setting it and again at each stop, followed by "Value = V" (or
    # "Old value = ..." when the value changed): one per stop.
    hits = re.findall(r"^(?:Value = |Old value = )", r.gdb_out, re.M)
    expect(len(hits) == 2, f"{len(hits)} access watchpoint stops, expected 2", r.all())
    expect(re.search(r"^Value = 0\n.* in tick \(", r.gdb_out, re.M),
           "the write in tick(0) is not reported (Value = 0, in tick)", r.all())
    expect(re.search(r"^#0 .*\btick \(", r.gdb_out, re.M), "the write stop is not in tick", r.all())
    expect(re.search(r"^#0 .*\bread_only_probe \(", r.gdb_out, re.M), "the read stop is not in read_only_probe",
           r.all())
    expect(re.search(r"Value = 99\b", r.gdb_out), "the read does not report watched_var = 99", r.all())


@case
def rwatch_read(ctx):
    """A read watchpoint ignores the 100 writes in tick() and stops on the
    only read, in read_only_probe()."""
    r = ctx.session(DEBUG_TARGET, ["rwatch watched_var", "continue", "bt 1", "print tick_count", "kill"])
    expect(re.search(r"Hardware read watchpoint 1: watched_var", r.gdb_out), "no read watchpoint stop", r.all())
    expect(re.search(r"Value = 99\b", r.gdb_out), "the read does not report watched_var = 99", r.all())
    expect(re.search(r"^#0 .*\bread_only_probe \(", r.gdb_out, re.M), "the stop is not in read_only_probe",
           r.all())
    expect(re.search(r"\$1 = 100\b", r.gdb_out), "tick_count is not 100: a write stopped the read watchpoint",
           r.all())


@case
def watch_pl011(ctx):
    """gdb's `watch` and `rwatch` on the PL011's registers (emulated MMIO)
    are served by kvmdbg's device path, not by the debug registers: `watch`
    on UARTDR stops just past the guest's stores of its first two
    characters ('d' = 100, 'e' = 101 of "debug_target done"), showing the
    value written; `rwatch` on UARTFR stops at the guest's poll of TXFF and
    shows the flags it read (TXFE set, TXFF clear); deleted, the guest runs
    to its end."""
    dr, fr = PL011, PL011 + 0x18
    r = ctx.session(DEBUG_TARGET, [
        f"watch *(unsigned int *)0x{dr:x}", "continue", "bt 1", "x/i $pc-4", "continue", "delete",
        f"rwatch *(unsigned int *)0x{fr:x}", "continue", "bt 1", "delete", "continue"])
    expect(re.search(r"Hardware watchpoint 1: \*\(unsigned int \*\)0x%x\s+Old value = 0\s+New value = 100\b" % dr,
                     r.gdb_out), "watch on UARTDR did not report the write of 'd' (0 -> 100)", r.all())
    expect(re.search(r"Old value = 100\s+New value = 101\b", r.gdb_out),
           "watch on UARTDR did not report the write of 'e' (100 -> 101)", r.all())
    expect(re.search(r"^#0 .*\bserial_putc \(", r.gdb_out, re.M), "the write stop is not in serial_putc", r.all())
    expect(re.search(r"^   0x[0-9a-f]+ <serial_putc\+\d+>:\s+str", r.gdb_out, re.M),
           "the vCPU is not just past the store to UARTDR (x/i $pc-4 is no str)", r.all())
    m = re.search(r"Hardware read watchpoint 2: \*\(unsigned int \*\)0x%x\s+Value = (\d+)" % fr, r.gdb_out)
    expect(m, "rwatch on UARTFR did not stop at the guest's poll", r.all())
    flags = int(m.group(1))
    expect(flags & 0x80 and not flags & 0x20, f"UARTFR read {flags:#x}: TXFE clear or TXFF set", r.all())
    expect(DEBUG_TARGET_DONE in r.serial, "the guest did not finish after the watchpoints were deleted", r.all())
    expect(r.status == 0, f"kvmdbg exited {r.status}, expected 0 (the guest's PSCI SYSTEM_OFF)", r.all())


@case
def guest_self_brk(ctx):
    """The guest's own BRKs, taken while gdb has a software breakpoint in
    (KVM_GUESTDBG_USE_SW_BP traps every BRK), are reflected through the
    guest's VBAR_EL1 vector and counted by the guest exactly as without a
    debugger."""
    plain = ctx.plain(SELF_BRK)
    m = re.search(r"^self_brk count=\d+ .*$", plain.serial, re.M)
    expect(m, "the guest without a debugger printed no self_brk line", plain.all())
    expect(m.group(0) == SELF_BRK_LINE, f"without a debugger: {m.group(0)!r}, expected {SELF_BRK_LINE!r}",
           plain.all())
    r = ctx.session(SELF_BRK, ["break main", "continue", "continue"])
    expect(re.search(r"Breakpoint 1, .*main \(", r.gdb_out), "no stop at main", r.all())
    m2 = re.search(r"^self_brk count=\d+ .*$", r.serial, re.M)
    expect(m2, "the guest under gdb printed no self_brk line", r.all())
    expect(m2.group(0) == m.group(0), f"under gdb {m2.group(0)!r}, without {m.group(0)!r}", r.all())
    expect(r.status == plain.status == 0, f"kvmdbg exited {r.status} under gdb, {plain.status} without",
           r.all())


@case
def detach_restores_memory(ctx):
    """A software breakpoint is in guest memory (monitor xp reads the BRK)
    while gdb is stopped with always-inserted on; after detach the guest
    runs every tick() to the end: the original instruction is back."""
    syms = ctx.symbols(DEBUG_TARGET)
    tick = syms["tick"]
    r = ctx.session(DEBUG_TARGET, ["set breakpoint always-inserted on", "break tick", "continue",
                                   f"monitor xp /1w 0x{tick:x}", "detach"])
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?0\)", r.gdb_out), "no stop at tick(i=0)", r.all())
    m = re.search(r"%016x: 0x([0-9a-f]{8})" % tick, r.gdb_out)
    expect(m and (int(m.group(1), 16) & BRK_MASK) == BRK_BASE,
           "monitor xp does not show a BRK at tick while the breakpoint is inserted", r.all())
    expect("Detaching from program" in r.gdb_out or "detached" in r.gdb_out.lower(), "detach failed", r.all())
    expect(DEBUG_TARGET_DONE in r.serial, "guest did not run to the end after detach", r.all())
    expect(r.status == 0, f"kvmdbg exited {r.status}, expected 0", r.all())


@case
def deleted_brk_stays_removed(ctx):
    """gdb's software breakpoint deleted while the vCPU sits on it, after a
    continue that stepped over it once (its BRK lifted for one step and
    written back): the next continue does not write it back. Guest memory (monitor xp,
    physical) holds the original instruction, monitor info breakpoints
    lists no software breakpoint, and the guest runs every tick() to the
    end without another stop. The exact window (a delete between a
    prepared step-over and its run) is proved on x86 by tests/kvm's
    sw_breakpoint_step_over, through the same guest-debug core."""
    syms = ctx.symbols(DEBUG_TARGET)
    tick = syms["tick"]
    r = ctx.session(DEBUG_TARGET, ["set breakpoint always-inserted on", "break tick", "continue", "continue",
                                   f"monitor xp /1w 0x{tick:x}", "delete", f"monitor xp /1w 0x{tick:x}",
                                   "monitor info breakpoints", "continue"])
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?1\)", r.gdb_out), "no second stop at tick(i=1)",
           r.all())
    words = [int(w, 16) for w in re.findall(r"%016x: 0x([0-9a-f]{8})" % tick, r.gdb_out)]
    expect(len(words) == 2, f"monitor xp printed {len(words)} words at tick, expected 2", r.all())
    expect((words[0] & BRK_MASK) == BRK_BASE, "no BRK at tick while the breakpoint is inserted", r.all())
    expect((words[1] & BRK_MASK) != BRK_BASE, "a BRK is still at tick after delete", r.all())
    expect(re.search(r"software breakpoints: 0 in memory \(BRK #0\)", r.gdb_out),
           "monitor info breakpoints does not show an empty software-breakpoint table", r.all())
    expect(len(re.findall(r"Breakpoint 1, tick", r.gdb_out)) == 2, "a stop at tick after delete", r.all())
    expect(DEBUG_TARGET_DONE in r.serial, "guest did not run to the end after delete", r.all())
    expect(r.status == 0, f"kvmdbg exited {r.status}, expected 0", r.all())


# linux_boot: the guest kernel's command line. earlycon at the virt
# machine's PL011 (hw-models/virt/virt_memmap.h kUartBase) prints from the
# kernel's first C code on; panic=-1 turns a panic into PSCI SYSTEM_RESET,
# which -no-reboot makes kvmdbg's exit.
LINUX_APPEND = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init panic=-1"
# kvmdbg's run inside is bounded (busybox timeout, SIGTERM) so that the case
# ends within meson's 300 s with the rig's boot and the console printed.
LINUX_SECONDS = 180
LINUX_BANNER = re.compile(r"Linux version 6\.1\b")


def _linux_script():
    """/run.sh of linux_boot: kvmdbg boots the guest kernel with its console
    (-serial stdio) straight on the rig's console, so that every line the
    guest prints reaches this side as it is printed."""
    up = '$(cut -d" " -f1 /proc/uptime)'
    cmd = (f"timeout {LINUX_SECONDS} /kvmdbg/kvmdbg -M virt -m 256M -kernel {rig.GUEST_KERNEL} "
           f"-initrd {rig.GUEST_INITRD} -append \"{LINUX_APPEND}\" -serial stdio -no-reboot "
           "</dev/null 2>/tmp/kvmdbg.err")
    return "\n".join([
        "cd /tmp",
        f'echo "NESTED-KVMDBG-START uptime={up}"',
        cmd,
        f'echo "NESTED-KVMDBG-STATUS $? uptime={up}"',
        "echo NESTED-STDERR-BEGIN", "cat /tmp/kvmdbg.err 2>/dev/null", "echo NESTED-STDERR-END",
    ]) + "\n"


def _guest_lines(console):
    """The guest kernel's console: the rig's non-empty lines between kvmdbg's
    start and exit markers (the rig's own kernel prints "reboot: Power down"
    too, after them)."""
    m = re.search(r"^NESTED-KVMDBG-START [^\n]*\n(.*?)(?:^NESTED-KVMDBG-STATUS |\Z)", console, re.M | re.S)
    return [line for line in (m.group(1).splitlines() if m else []) if line.strip()]


@case
def linux_boot(ctx):
    """Debian's arm64 cloud kernel (the rig's own, gzip'd into an Image.gz)
    booted by kvmdbg -M virt on the nested KVM with -initrd and -append: the
    kernel prints its banner on the PL011 (it reached start_kernel and its
    console), runs the guest initramfs's /init (GUEST-INIT-REACHED) and
    powers off through PSCI SYSTEM_OFF (kvmdbg exits 0)."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
    expect(os.path.exists(p.accel), f"{p.accel} was not built")
    extra = rig.guest_linux(ctx.rig.cache, ctx.rig.kernel, ctx.rig.busybox)
    boot = ctx.rig.boot(_linux_script(), ctx._boot_dir(), timeout=LINUX_SECONDS + 60, extra=extra)
    started = boot.wait_for(r"^NESTED-KVMDBG-START ")
    t0 = time.monotonic()
    banner = boot.wait_for(LINUX_BANNER.pattern) if started else None
    to_banner = time.monotonic() - t0
    boot.finish()
    run = ctx._timed(Run(boot))
    lines = _guest_lines(run.console)
    last = lines[-1] if lines else "(nothing)"
    guest = "\n".join(lines)
    reached = re.search(r"^GUEST-INIT-REACHED ", guest, re.M) is not None
    powered_off = "reboot: Power down" in guest
    init = re.search(r"^\[\s*([\d.]+)\] Run /init as init process", guest, re.M)
    print(f"guest console: {len(lines)} lines; kvmdbg status {run.status} after "
          + (f"{run.kvmdbg_seconds:.1f} s" if run.kvmdbg_seconds is not None else "?")
          + (f"; banner {to_banner:.1f} s after kvmdbg started" if banner else "; no banner")
          + (f"; /init at printk time {init.group(1)} s" if init else ""))
    if banner:
        print("banner: " + banner.string.strip())
    print("furthest guest lines:\n  " + "\n  ".join(lines[-5:] or ["(nothing)"]))
    print("kvmdbg stderr:\n" + run.stderr)
    expect(banner, f"the guest kernel printed no 'Linux version 6.1' banner (last line: {last!r})", run.console)
    if run.status is not None and run.status > 128:
        print(f"kvmdbg was stopped by the {LINUX_SECONDS} s limit; the guest's furthest line: {last!r}")
    expect(reached, f"the guest kernel did not reach the guest initramfs's /init (last line: {last!r})",
           run.console)
    expect(powered_off and run.status == 0,
           f"the guest did not power off with PSCI SYSTEM_OFF (kvmdbg status {run.status}, "
           f"'reboot: Power down' {'seen' if powered_off else 'not seen'})", run.console)


def _kvmdbg_under_gdb_script(prelude, smp, boot=None, kaslr=False):
    """A /run.sh that runs the `prelude` lines (which print what the rig's
    kernel knows: it is booted nokaslr, the same Image as the guest's), then
    kvmdbg -smp `smp` -S booting the guest kernel (nokaslr too), or what
    the `boot` arguments give instead, with its stub on the gdb port and
    the guest's console on the rig's. `kaslr`: without nokaslr (the guest
    kernel randomises its placement from kvmdbg's /chosen/kaslr-seed)."""
    up = '$(cut -d" " -f1 /proc/uptime)'
    append = LINUX_APPEND + ("" if kaslr else " nokaslr")
    if boot is None:
        boot = f"-kernel {rig.GUEST_KERNEL} -initrd {rig.GUEST_INITRD} -append \"{append}\""
    return "\n".join([
        "cd /tmp",
        *prelude,
        '[ -n "$GDB_PORT" ] || { echo "NESTED-RUN no gdb port"; exit 90; }',
        'exec 3<>"$GDB_PORT"',
        f'echo "NESTED-KVMDBG-START uptime={up}"',
        f"timeout {LINUX_SECONDS} /kvmdbg/kvmdbg -M virt -smp {smp} -m 256M {boot} "
        "-serial file:/dev/console -no-reboot -S -gdb stdio <&3 >&3 2>/tmp/kvmdbg.err",
        f'echo "NESTED-KVMDBG-STATUS $? uptime={up}"',
        "exec 3<&-",
        "echo NESTED-STDERR-BEGIN", "cat /tmp/kvmdbg.err 2>/dev/null", "echo NESTED-STDERR-END",
    ]) + "\n"


def _start_kernel_script():
    """/run.sh of linux_start_kernel: start_kernel's link address from the
    rig kernel's /proc/kallsyms, then kvmdbg -S on one vCPU."""
    return _kvmdbg_under_gdb_script(
        ['echo "NESTED-START-KERNEL $(grep -m1 \' [Tt] start_kernel$\' /proc/kallsyms | cut -d\' \' -f1)"'], 1)


@case
def linux_start_kernel(ctx):
    """gdb-multiarch stops Debian's arm64 kernel, booted by kvmdbg -S on the
    nested KVM, at start_kernel with a hardware breakpoint on its virtual
    address (the MMU is on there): the address is the kernel's own, from
    the rig's /proc/kallsyms (the same Image, both nokaslr). No symbol file:
    Debian's System.map is in the 260 MB -dbg package."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
    expect(os.path.exists(p.accel), f"{p.accel} was not built")
    extra = rig.guest_linux(ctx.rig.cache, ctx.rig.kernel, ctx.rig.busybox)
    boot = ctx.rig.boot(_start_kernel_script(), ctx._boot_dir(), timeout=LINUX_SECONDS + 60, extra=extra,
                        kernel_args="nokaslr")
    try:
        m = boot.wait_for(r"^NESTED-START-KERNEL ([0-9a-f]{16})$", timeout=120)
        if not m or not boot.wait_for(r"^NESTED-KVMDBG-START ", timeout=60):
            boot.kill()
            raise Failure("no start_kernel address or kvmdbg did not start in the rig\n" + boot.console())
        addr = int(m.group(1), 16)
        expect(addr != 0, "/proc/kallsyms shows start_kernel at 0 (kptr_restrict)", boot.console())
        cmd = ["gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off",
               "-ex", "set remotetimeout 5", "-ex", "target remote " + boot.gdb_endpoint,
               "-ex", "set remotetimeout 60", "-ex", "printf \"ENTRY=%lx\\n\", $pc",
               "-ex", f"hbreak *0x{addr:x}", "-ex", "continue", "-ex", "printf \"STOP=%lx\\n\", $pc",
               "-ex", "x/2i $pc", "-ex", "kill"]
        gdb_out, gdb_rc = _run_gdb(cmd, 150)
        boot.finish()
    except BaseException:
        boot.kill()
        raise
    r = ctx._timed(Run(boot, gdb_out, gdb_rc))
    lines = _guest_lines(r.console)
    print(f"start_kernel at 0x{addr:x}; guest console before the stop: {len(lines)} lines, the last: "
          + (lines[-1] if lines else "(nothing)"))
    entry = re.search(r"ENTRY=([0-9a-f]+)", gdb_out)
    expect(entry and int(entry.group(1), 16) == 0x40000000, "gdb did not find the vCPU at the Image's entry "
           "(0x40000000) before continue", r.all())
    stop = re.search(r"STOP=([0-9a-f]+)", gdb_out)
    expect(stop and int(stop.group(1), 16) == addr, f"gdb did not stop at start_kernel (0x{addr:x})", r.all())
    expect(re.search(r"Hardware assisted breakpoint 1 at 0x%x" % addr, gdb_out), "the hbreak was not set",
           r.all())
    expect(not any(LINUX_BANNER.search(line) for line in lines),
           "the banner was printed before the stop at start_kernel", r.all())
    for line in gdb_out.splitlines():
        if re.match(r"(Hardware assisted breakpoint|Breakpoint 1|=> )", line):
            print("gdb: " + line)
    print(f"gdb stopped the guest at start_kernel; kvmdbg status {r.status} after kill")


# linux_gdb_session: the rig kernel's symbols the case needs from its
# /proc/kallsyms (text symbols only: Debian's kernel has no
# CONFIG_KALLSYMS_ALL, so linux_banner and _text are found from the Image
# instead, through primary_entry).
SESSION_SYMBOLS = ("primary_entry", "start_kernel", "secondary_start_kernel")
# A guest console line printed only after CPU 1 ran secondary_start_kernel
# to the end and while the boot CPU goes on: when it appears, gdb is in the
# session's fifth continue and the kernel is running.
SESSION_INTERRUPT_AT = r"^(?:\[[\s\d.]+\] )?smp: Brought up 1 node, 2 CPUs$"
KERNEL_VA = 0xffff000000000000


def _gdb_session_script():
    """/run.sh of linux_gdb_session: the symbols' link addresses and
    /proc/version (the text of linux_banner) from the rig's kernel, then
    kvmdbg -smp 2 -S."""
    ksyms = [f'echo "NESTED-KSYM {name} $(grep -m1 \' [Tt] {name}$\' /proc/kallsyms | cut -d\' \' -f1)"'
             for name in SESSION_SYMBOLS]
    return _kvmdbg_under_gdb_script(ksyms + ['echo "NESTED-PROC-VERSION $(cat /proc/version)"'], 2)


def _banner_address(image_path, primary_entry, proc_version):
    """linux_banner's virtual address and _text's. The Image is the kernel
    from _text on, as mapped. Its header's second word (code1, after the
    EFI stub's MZ) is `b primary_entry`, so _text = primary_entry minus
    that branch's offset. The one place in the Image holding the running
    kernel's banner (/proc/version prints the same text) is at _text + its
    file offset; the Image also holds an unused weak copy from
    init/version.c ("# SMP", no build number), which this exact text
    excludes."""
    with open(image_path, "rb") as f:
        data = f.read()
    code1 = int.from_bytes(data[4:8], "little")
    expect(code1 >> 26 == 0b000101, f"{image_path}: the header's code1 0x{code1:08x} is not a B instruction")
    imm26 = code1 & 0x3ffffff
    text_va = primary_entry - (4 + ((imm26 ^ 0x2000000) - 0x2000000) * 4)
    needle = proc_version.encode() + b"\n\0"
    at = data.find(needle)
    expect(at >= 0, f"the rig's /proc/version {proc_version!r} is not in {image_path}")
    expect(data.find(needle, at + 1) < 0, f"the rig's /proc/version is twice in {image_path}")
    return text_va + at, text_va


def _sections(out):
    """gdb's output split at the `echo ==STEP-N==` markers: {N: text}."""
    parts = re.split(r"^==STEP-(\d)==$", out, flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _hexval(regex, text):
    m = re.search(regex, text, re.M)
    return int(m.group(1), 16) if m else None


@case
def linux_gdb_session(ctx):
    """A kernel developer's gdb session on Debian's arm64 kernel booted by
    kvmdbg -M virt -smp 2 -S on the nested KVM, in one boot, without a
    symbol file (addresses from the rig kernel's /proc/kallsyms, both
    nokaslr): hbreak at start_kernel; x/s of linux_banner through the arm64
    page walker (kernel virtual address, MMU on); stepi and the registers;
    hbreak at secondary_start_kernel, hit by CPU 1 once PSCI CPU_ON started
    it, with both vCPUs stopped (all-stop); Ctrl-C while the kernel runs;
    detach, and the kernel boots on to its /init and powers off.

    Between steps 3 and 4, with the vmlinux of Debian's -dbg package (its
    DWARF; step 8 in gdb's output): `file vmlinux`, `info symbol $pc`,
    `info line *$pc`, `list` (init/main.c) and `info locals` at
    start_kernel, `bt`, `x/s linux_banner` by symbol, `hbreak
    set_task_stack_end_magic` and `finish` back into start_kernel (gdb's
    breakpoint at the return address is a software BRK), then ten `break`s
    (BRK #0 in kernel text: more than the nested KVM's hardware slots) and
    three `continue`s that stop at them. Where the -dbg package cannot be
    downloaded the rest runs and the case SKIPs naming it."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
    expect(os.path.exists(p.accel), f"{p.accel} was not built")
    extra = rig.guest_linux(ctx.rig.cache, ctx.rig.kernel, ctx.rig.busybox)
    try:
        vmlinux, no_vmlinux = rig.fetch_debug_files(ctx.rig.cache, ctx.rig.kernel)[0], None
    except rig.Skip as e:
        vmlinux, no_vmlinux = None, str(e)
    boot = ctx.rig.boot(_gdb_session_script(), ctx._boot_dir(), timeout=LINUX_SECONDS + 60, extra=extra,
                        kernel_args="nokaslr")
    interrupted = []
    try:
        sym = {}
        for name in SESSION_SYMBOLS:
            m = boot.wait_for(r"^NESTED-KSYM %s ([0-9a-f]*)$" % re.escape(name), timeout=120)
            expect(m and m.group(1) and int(m.group(1), 16) != 0,
                   f"the rig's /proc/kallsyms has no address for {name}", boot.console())
            sym[name] = int(m.group(1), 16)
        m = boot.wait_for(r"^NESTED-PROC-VERSION (Linux version .*)$", timeout=30)
        expect(m, "the rig printed no /proc/version", boot.console())
        banner_text = m.group(1)
        banner, text_va = _banner_address(ctx.rig.kernel.vmlinuz, sym["primary_entry"], banner_text)
        if not boot.wait_for(r"^NESTED-KVMDBG-START ", timeout=60):
            raise Failure("kvmdbg did not start in the rig\n" + boot.console())
        start, second = sym["start_kernel"], sym["secondary_start_kernel"]
        gdb_cmds = [
            "set confirm off", "set pagination off", "set remotetimeout 5", "target remote " + boot.gdb_endpoint,
            "set remotetimeout 60", "printf \"ENTRY=%lx\\n\", $pc",
            "echo ==STEP-1==\\n", f"hbreak *0x{start:x}", "continue", "printf \"STOP=%lx\\n\", $pc",
            "echo ==STEP-2==\\n", "set print elements 400", f"x/s 0x{banner:x}",
            "echo ==STEP-3==\\n", "x/i $pc", "stepi", "printf \"STEPPED=%lx\\n\", $pc",
            "info registers pc sp cpsr", "x/i $pc"]
        if vmlinux:
            gdb_cmds += _symbol_steps(vmlinux)
        gdb_cmds += [
            "echo ==STEP-4==\\n", "delete", f"hbreak *0x{second:x}", "continue",
            "printf \"STOP=%lx THREAD=%d\\n\", $pc, $_thread", "info threads",
            "thread 1", "printf \"T1PC=%lx\\n\", $pc", "thread 2", "printf \"T2PC=%lx\\n\", $pc",
            "echo ==STEP-5==\\n", "delete", "continue", "printf \"STOP=%lx THREAD=%d\\n\", $pc, $_thread",
            "echo ==STEP-6==\\n", "detach", "echo ==STEP-7==\\n"]
        t0 = time.monotonic()
        gdb_out, gdb_rc, at = _gdb_interrupted_at(boot, gdb_cmds, SESSION_INTERRUPT_AT,
                                                  timeout=SESSION_GDB_SECONDS)
        if at is not None:
            interrupted.append(at)
        gdb_seconds = time.monotonic() - t0
        boot.finish()
    except BaseException:
        boot.kill()
        raise
    r = ctx._timed(Run(boot, gdb_out, gdb_rc))
    sec = _sections(gdb_out)
    lines = _guest_lines(r.console)
    print(f"start_kernel 0x{start:x}, secondary_start_kernel 0x{second:x}, linux_banner 0x{banner:x} "
          f"(_text 0x{text_va:x}); gdb ran {gdb_seconds:.1f} s")

    # 1. hbreak at start_kernel.
    expect(_hexval(r"^ENTRY=([0-9a-f]+)$", gdb_out) == 0x40000000,
           "gdb did not find the vCPU at the Image's entry (0x40000000)", r.all())
    s1 = sec.get(1, "")
    expect(re.search(r"Hardware assisted breakpoint 1 at 0x%x" % start, s1), "the hbreak was not set", r.all())
    expect(_hexval(r"^STOP=([0-9a-f]+)$", s1) == start, f"step 1: no stop at start_kernel (0x{start:x})", r.all())
    print("1. stopped at start_kernel")

    # 2. linux_banner through the page walker.
    s2 = sec.get(2, "")
    m = re.search(r'^0x%x(?: <[^>]*>)?:\s+"(.*)"$' % banner, s2, re.M)
    expect(m, f"step 2: x/s 0x{banner:x} printed no string", r.all())
    expect(m.group(1) == banner_text + "\\n",
           f"step 2: x/s linux_banner {m.group(1)!r}, expected the rig's /proc/version {banner_text!r}", r.all())
    print(f"2. x/s linux_banner: {m.group(1)[:60]}...")

    # 3. stepi, info registers, x/i.
    s3 = sec.get(3, "")
    m = re.search(r"^=> 0x%x(?: <[^>]*>)?:[ \t]+(\S+)[ \t]*(.*)$" % start, s3, re.M)
    expect(m, "step 3: x/i $pc at start_kernel decoded nothing", r.all())
    insn, operands = m.group(1), m.group(2)
    stepped = _hexval(r"^STEPPED=([0-9a-f]+)$", s3)
    want = {start + 4}
    if re.match(r"(b|bl|b\..*|cbn?z|tbn?z)$", insn):
        target = re.search(r"0x([0-9a-f]+)", operands)
        if target:
            want.add(int(target.group(1), 16))
    expect(stepped in want, f"step 3: stepi from 0x{start:x} ({insn} {operands}) went to "
           f"{stepped and hex(stepped)}, expected one of {sorted(hex(w) for w in want)}", r.all())
    regs = {k: int(v, 16) for k, v in re.findall(r"^(pc|sp|cpsr)\s+0x([0-9a-f]+)", s3, re.M)}
    expect(regs.get("pc") == stepped, f"step 3: info registers pc {regs.get('pc')} != {stepped:#x}", r.all())
    expect(regs.get("sp", 0) >= KERNEL_VA, "step 3: sp is not a kernel virtual address", r.all())
    expect("cpsr" in regs and regs["cpsr"] & 0x1f == 0x5,
           "step 3: cpsr is not EL1h (M[4:0] = 0b00101)", r.all())
    expect(re.search(r"^=> 0x%x(?: <[^>]*>)?:[ \t]+\S+" % stepped, s3, re.M), "step 3: x/i $pc after stepi "
           "decoded nothing", r.all())
    print(f"3. stepi over {(insn + ' ' + operands).strip()}: pc 0x{start:x} -> 0x{stepped:x}; "
          f"sp 0x{regs['sp']:x} cpsr 0x{regs['cpsr']:x}")

    if vmlinux:
        _check_symbol_steps(sec.get(8, ""), r)

    # 4. hbreak at secondary_start_kernel: CPU 1 (thread 2) once it is online.
    s4 = sec.get(4, "")
    m = re.search(r"^STOP=([0-9a-f]+) THREAD=(\d+)$", s4, re.M)
    expect(m and int(m.group(1), 16) == second,
           f"step 4: no stop at secondary_start_kernel (0x{second:x})", r.all())
    expect(m.group(2) == "2", f"step 4: the stop is in thread {m.group(2)}, expected 2 (CPU 1)", r.all())
    threads = re.findall(r"^\*?\s+(\d+)\s+Thread ", s4, re.M)
    expect(threads == ["1", "2"], f"step 4: info threads lists threads {threads}, expected 1 and 2", r.all())
    paused = re.findall(r'^\*?\s+\d+\s+Thread \d+ "CPU#\d" \(CPU#(\d) \[paused\]\)', s4, re.M)
    expect(paused == ["0", "1"], f"step 4: info threads shows CPU#0 and CPU#1 paused: {paused}", r.all())
    t1, t2 = _hexval(r"^T1PC=([0-9a-f]+)$", s4), _hexval(r"^T2PC=([0-9a-f]+)$", s4)
    expect(t1 is not None and t1 >= KERNEL_VA, f"step 4: thread 1 (CPU 0) pc {t1} is not in the kernel", r.all())
    expect(t2 == second, f"step 4: thread 2's pc {t2} is not secondary_start_kernel", r.all())
    print(f"4. CPU 1 stopped at secondary_start_kernel; CPU 0 stopped at 0x{t1:x}; info threads: {threads}")

    # 5. Ctrl-C while the kernel runs.
    s5 = sec.get(5, "")
    expect(interrupted, "step 5: the guest never printed 'smp: Brought up 1 node, 2 CPUs', so gdb was not "
           "interrupted", r.all())
    expect(re.search(r"(Program|Thread \d+ .*) received signal (SIGINT|SIGTRAP)", s5),
           "step 5: no SIGINT/SIGTRAP stop after Ctrl-C", r.all())
    m = re.search(r"^STOP=([0-9a-f]+) THREAD=(\d+)$", s5, re.M)
    expect(m and int(m.group(1), 16) >= KERNEL_VA, "step 5: the interrupted vCPU's pc is not in the kernel",
           r.all())
    print(f"5. Ctrl-C stopped thread {m.group(2)} at 0x{int(m.group(1), 16):x}")

    # 6. detach: the kernel boots on to /init and powers off.
    s6 = sec.get(6, "")
    expect(re.search(r"Detaching from program|\[Inferior 1 .* detached\]", s6), "step 6: detach failed", r.all())
    guest = "\n".join(lines)
    after = "\n".join(r.console.splitlines()[interrupted[0]:])
    expect(re.search(r"^GUEST-INIT-REACHED ", after, re.M), "step 6: the kernel did not reach its /init after "
           f"the interrupt and detach (last line: {lines[-1] if lines else '(nothing)'!r})", r.all())
    expect("reboot: Power down" in guest and r.status == 0,
           f"step 6: the guest did not power off (kvmdbg status {r.status})", r.all())
    print(f"6. detached; the guest reached /init and powered off; kvmdbg status 0 after "
          + (f"{r.kvmdbg_seconds:.1f} s" if r.kvmdbg_seconds is not None else "?"))
    print("gdb's session:\n  " + "\n  ".join(gdb_out.strip().splitlines()))
    if no_vmlinux:
        raise rig.Skip("steps 1-7 passed; the steps with the kernel's symbols were not run: " + no_vmlinux)


@case
def linux_kaslr(ctx):
    """KASLR on arm64: Debian's kernel booted by kvmdbg -M virt -smp 2 -S
    without nokaslr randomises its virtual placement from the
    /chosen/kaslr-seed kvmdbg's device tree carries (as QEMU's virt does,
    dtb-randomness=on). gdb-multiarch continues, interrupts the running
    kernel (once CPU 1 is up), finds the offset the way a developer can on
    arm64, VBAR_EL1 (the kernel's exception vectors as the kernel itself
    installed them) minus `vectors` in System.map, and loads the -dbg
    package's vmlinux moved by it (`symbol-file vmlinux -o OFFSET`):
    `info symbol $pc` names a kernel function, `x/s linux_banner` by symbol
    prints "Linux version 6.1", `bt` names its frames; the offset is not 0;
    `detach`, and the kernel boots on to /init and powers off."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
    vmlinux, system_map = rig.fetch_debug_files(ctx.rig.cache, ctx.rig.kernel)
    vectors = system_map_address(system_map, "vectors")
    expect(vectors, f"{system_map} has no vectors")
    extra = rig.guest_linux(ctx.rig.cache, ctx.rig.kernel, ctx.rig.busybox)
    boot = ctx.rig.boot(_kvmdbg_under_gdb_script([], 2, kaslr=True), ctx._boot_dir(), timeout=LINUX_SECONDS + 60,
                        extra=extra, kernel_args="nokaslr")
    gdb_cmds = [
        "continue",
        "printf \"VBAR=%lx PC=%lx\\n\", $vbar_el1, $pc",
        f"eval \"symbol-file {vmlinux} -o %lld\", (long long)($vbar_el1 - 0x{vectors:x})",
        "echo ==STEP-1==\\n", "info symbol $pc", "x/s linux_banner", "bt 3",
        "echo ==STEP-2==\\n", "detach"]
    r, sec, at = _interrupted_gdb_session(ctx, boot, gdb_cmds, SESSION_INTERRUPT_AT, timeout=SESSION_GDB_SECONDS)
    gdb_out = r.gdb_out
    expect(at is not None, "the guest never printed 'smp: Brought up 1 node, 2 CPUs', so gdb was not interrupted",
           r.all())
    vbar = _hexval(r"^VBAR=([0-9a-f]+) ", gdb_out)
    expect(vbar is not None, "gdb printed no VBAR_EL1", r.all())
    offset = vbar - vectors
    expect(offset != 0, "VBAR_EL1 is vectors' link address: the kernel did not randomise its placement "
           "(no /chosen/kaslr-seed?)", r.all())
    expect(offset % 0x10000 == 0, f"the offset {offset:#x} is not a multiple of 64 KiB", r.all())
    s1 = sec.get(1, "")
    expect(re.search(r"^\w+ (\+ \d+ )?in section \.", s1, re.M), "info symbol $pc names no kernel function "
           "with the moved symbols", r.all())
    expect(re.search(r'<linux_banner>:\s+"Linux version 6\.1', s1), "x/s linux_banner with the moved symbols "
           "did not print \"Linux version 6.1\"", r.all())
    expect(re.search(r"^#0 +(0x[0-9a-f]+ in )?\w+ \(", s1, re.M), "bt names no function in frame 0", r.all())
    s2 = sec.get(2, "")
    expect(re.search(r"Detaching from program|\[Inferior 1 .* detached\]", s2), "detach failed", r.all())
    guest = "\n".join(_guest_lines(r.console))
    expect(re.search(r"^GUEST-INIT-REACHED ", guest, re.M) and "reboot: Power down" in guest and r.status == 0,
           f"after detach the guest did not reach /init and power off (kvmdbg status {r.status})", r.all())
    print(f"KASLR offset {offset:#x} (VBAR_EL1 {vbar:#x} - vectors {vectors:#x}); with the moved symbols: "
          + " | ".join(l.strip() for l in s1.strip().splitlines()[:3]))


# gdb-multiarch reads the -dbg package's 270 MB vmlinux (about 20 s here)
# while the kernel waits at start_kernel.
SESSION_GDB_SECONDS = 300


def _symbol_steps(vmlinux):
    """linux_gdb_session's step 8 (gdb commands), at start_kernel after
    step 3's stepi."""
    # The kernel is built with -fpatchable-function-entry: a function's first
    # instructions (ftrace's NOPs) have no line information, so gdb puts a
    # breakpoint on a function name at two locations, and the source steps
    # run after `finish` has returned into start_kernel's body.
    cmds = ["echo ==STEP-8==\\n", f"file {vmlinux}", "info symbol $pc", "bt", "x/s linux_banner",
            "hbreak set_task_stack_end_magic", "continue", "delete", "finish",
            "info line *$pc", "list", "info locals"]
    cmds += [f"break {f}" for f in HOT_KERNEL_FUNCTIONS]
    cmds += ["continue", "printf \"HOT-STOP=%lx\\n\", $pc", "info symbol $pc"] * HOT_STOPS + ["delete"]
    return cmds


HOT_STOPS = 3


def _check_symbol_steps(s8, r):
    expect(re.search(r"^start_kernel \+ \d+ in section \.init\.text", s8, re.M) or
           re.search(r"^start_kernel in section \.init\.text", s8, re.M),
           "step 8: info symbol $pc is not start_kernel", r.all())
    expect(re.search(r'Line \d+ of "init/main\.c"', s8), "step 8: info line *$pc is not in init/main.c", r.all())
    # Debian ships no kernel sources with the -dbg package: gdb's `list`
    # names the lines ("913\tin init/main.c") unless a source tree is given.
    expect(re.search(r"^\d+\s+in init/main\.c$", s8, re.M), "step 8: list showed no lines of init/main.c", r.all())
    expect("command_line" in s8, "step 8: info locals does not show start_kernel's command_line", r.all())
    expect(re.search(r"^#0 .*start_kernel", s8, re.M) and re.search(r"^#1 .*__primary_switched", s8, re.M),
           "step 8: bt is not start_kernel <- __primary_switched", r.all())
    expect(re.search(r'<linux_banner>:\s+"Linux version 6\.1', s8), "step 8: x/s linux_banner by symbol "
           "did not print \"Linux version 6.1\"", r.all())
    # (gdb -batch does not print finish's "Run till exit from" line.)
    hit = s8.find("set_task_stack_end_magic () at kernel/fork.c")
    expect(hit >= 0 and re.search(r"^start_kernel \(\) at init/main\.c:\d+", s8[hit:], re.M),
           "step 8: finish from set_task_stack_end_magic did not return to start_kernel", r.all())
    placed = re.findall(r"^Breakpoint (\d+) at 0x[0-9a-f]+", s8, re.M)
    expect(len(placed) == len(HOT_KERNEL_FUNCTIONS), f"step 8: gdb placed {len(placed)} of the ten `break`s",
           r.all())
    expect(not re.search(r"Cannot insert breakpoint|Cannot access memory at address", s8),
           "step 8: gdb could not insert every `break`", r.all())
    # The stops after the last `break` was placed (not step 8's hbreak).
    after = s8[s8.rfind("\nBreakpoint %s at " % placed[-1]):] if placed else ""
    hits = re.findall(r"^(?:Thread \d+ .*hit )?Breakpoint [\d.]+, (?:0x[0-9a-f]+ in )?(\w+) \(", after, re.M)
    expect(len(hits) == HOT_STOPS and all(h in HOT_KERNEL_FUNCTIONS for h in hits),
           f"step 8: the {HOT_STOPS} continues did not stop at the ten `break`s: {hits}", r.all())
    print(f"8. with the -dbg vmlinux: start_kernel in init/main.c, list, info locals, bt, linux_banner by symbol, "
          f"finish; ten breaks, stops at {', '.join(hits)}")


UBOOT_SECONDS = 150
# U-Boot's prompt; its version line on the console.
UBOOT_PROMPT = "=> "
UBOOT_BANNER = re.compile(r"^U-Boot 20\d\d\.\d\d")


def _uboot_script(commands):
    """/run.sh of uboot_prompt: kvmdbg -bios u-boot.bin with the PL011 on a
    pipe; a shell loop answers the console: a newline when the autoboot
    countdown shows (which stops it), then each of `commands` at a prompt.
    The last command (`reset`: PSCI SYSTEM_RESET) ends kvmdbg under
    -no-reboot."""
    up = '$(cut -d" " -f1 /proc/uptime)'
    feed = ["wait_for() { n=0; while ! grep -q \"$1\" /tmp/serial.log 2>/dev/null; do "
            "n=$((n+1)); [ $n -gt 240 ] && return 1; sleep 0.5; done; }",
            "prompts() { grep -o '=> ' /tmp/serial.log 2>/dev/null | wc -l; }",
            "feed() {", "  wait_for 'Hit any key to stop autoboot' || return", "  printf '\\n'"]
    for i, c in enumerate(commands):
        feed += [f"  n=0; while [ $(prompts) -lt {i + 1} ] && [ $n -lt 240 ]; do n=$((n+1)); sleep 0.5; done",
                 f"  printf '%s\\n' '{c}'"]
    feed += ["  sleep 60", "}"]
    return "\n".join([
        "cd /tmp", "mkfifo /tmp/serial.in", *feed, "feed > /tmp/serial.in &",
        f'echo "NESTED-KVMDBG-START uptime={up}"',
        f"timeout {UBOOT_SECONDS} /kvmdbg/kvmdbg -M virt -m 256M -bios {rig.GUEST_UBOOT} -serial stdio -no-reboot "
        "</tmp/serial.in >/tmp/serial.log 2>/tmp/kvmdbg.err",
        f'echo "NESTED-KVMDBG-STATUS $? uptime={up}"',
        "echo NESTED-SERIAL-BEGIN", "cat /tmp/serial.log 2>/dev/null", "echo", "echo NESTED-SERIAL-END",
        "echo NESTED-STDERR-BEGIN", "cat /tmp/kvmdbg.err 2>/dev/null", "echo NESTED-STDERR-END",
    ]) + "\n"


@case
def uboot_prompt(ctx):
    """Debian's U-Boot (u-boot-qemu's qemu_arm64/u-boot.bin) started by
    kvmdbg -M virt -bios on the nested KVM: from the flash at 0 with the
    device tree at the start of RAM, it prints its banner and the DRAM size
    the DT gives, the autoboot countdown (stopped by a key), takes commands
    at its prompt (`version`, `bdinfo`) and resets through PSCI, which ends
    kvmdbg with status 0 under -no-reboot."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
    expect(os.path.exists(p.accel), f"{p.accel} was not built")
    extra, _ = rig.guest_uboot(ctx.rig.cache)
    boot = ctx.rig.boot(_uboot_script(["version", "bdinfo", "reset"]), ctx._boot_dir(),
                        timeout=UBOOT_SECONDS + 90, extra=extra)
    boot.finish()
    r = ctx._timed(Run(boot))
    serial = r.serial.replace("\r", "")
    print("U-Boot's console:\n  " + "\n  ".join(serial.splitlines()[-40:]))
    print("kvmdbg stderr:\n" + r.stderr)
    expect(re.search(UBOOT_BANNER.pattern, serial, re.M), "no U-Boot banner on the PL011", r.all())
    expect(re.search(r"^DRAM:\s+256 MiB", serial, re.M), "U-Boot did not report the 256 MiB of the DT", r.all())
    expect(serial.count(UBOOT_PROMPT) >= 3, "U-Boot did not reach its prompt three times", r.all())
    expect(re.search(r"^U-Boot 20\d\d\.\d\d.*\n(.*\n)*?.*(gcc|GCC)", serial, re.M),
           "`version` printed no compiler line", r.all())
    expect(re.search(r"^DRAM bank\s+= 0x0+\n-> start\s+= 0x0*40000000", serial, re.M),
           "`bdinfo` does not show DRAM bank 0 at 0x40000000", r.all())
    expect(r.status == 0, f"`reset` did not end kvmdbg with status 0 (status {r.status})", r.all())
    print(f"U-Boot reached its prompt, ran version and bdinfo, and reset; kvmdbg status 0 after "
          + (f"{r.kvmdbg_seconds:.1f} s" if r.kvmdbg_seconds is not None else "?"))


PL011 = 0x09000000  # virt's UART (hw-models/virt/virt_memmap.h)


def _branch_target(image_path):
    """Where the first instruction of the image at address 0 branches to:
    U-Boot's arm64 start (`_start: b reset`). An unconditional B is
    0b000101 imm26, the target imm26 * 4 from the instruction."""
    with open(image_path, "rb") as f:
        word = int.from_bytes(f.read(4), "little")
    expect(word >> 26 == 0b000101, f"{image_path}: the first instruction 0x{word:08x} is not a B")
    imm26 = word & 0x3ffffff
    return (imm26 - (1 << 26) if imm26 & (1 << 25) else imm26) * 4


@case
def uboot_gdb_session(ctx):
    """gdb-multiarch on Debian's U-Boot from its first instruction, kvmdbg
    -M virt -smp 2 -bios u-boot.bin -S on the nested KVM: the first stop is
    at 0 (the flash's first byte, EL1h), `x/i` shows U-Boot's `b` to its
    reset code, a hardware breakpoint there (found from the image's first
    instruction: U-Boot's package ships no symbols) stops the vCPU, `stepi`
    steps, `monitor catch mmio` on the PL011 stops it just past its first
    write to the UART (a device-path stop: no debug registers), U-Boot runs
    on to its console and relocates itself into RAM,
    Ctrl-C stops it there (pc in RAM, above 0x40000000), and `kill` ends
    kvmdbg."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg), f"{p.kvmdbg} was not built")
    expect(os.path.exists(p.accel), f"{p.accel} was not built")
    extra, image = rig.guest_uboot(ctx.rig.cache)
    reset = _branch_target(image)
    boot = ctx.rig.boot(_kvmdbg_under_gdb_script([], 2, f"-bios {rig.GUEST_UBOOT}"), ctx._boot_dir(),
                        timeout=LINUX_SECONDS + 60, extra=extra)
    gdb_cmds = [
        "echo ==STEP-1==\\n", "printf \"ENTRY=%lx CPSR=%lx\\n\", $pc, $cpsr", "x/2i $pc",
        "echo ==STEP-2==\\n", f"hbreak *0x{reset:x}", "continue", "printf \"STOP=%lx\\n\", $pc",
        "stepi", "printf \"STEPPED=%lx\\n\", $pc", "info threads",
        "echo ==STEP-3==\\n", "delete", f"monitor catch mmio 0x{PL011:x}-0x{PL011 + 0xfff:x} w", "continue",
        "x/i $pc-4", "monitor delete catch 1",
        "echo ==STEP-4==\\n", "continue", "printf \"STOP=%lx\\n\", $pc",
        "echo ==STEP-5==\\n", "kill", "echo ==STEP-6==\\n"]
    # U-Boot prints its countdown after it relocated itself.
    r, sec, at = _interrupted_gdb_session(ctx, boot, gdb_cmds, r"Hit any key to stop autoboot", start_timeout=120)
    interrupted = [True] if at is not None else []
    gdb_out = r.gdb_out
    print("gdb's session:\n  " + "\n  ".join(gdb_out.strip().splitlines()))
    s1 = sec.get(1, "")
    m = re.search(r"^ENTRY=([0-9a-f]+) CPSR=([0-9a-f]+)$", s1, re.M)
    expect(m and int(m.group(1), 16) == 0, "the first stop is not at 0, the flash's first byte", r.all())
    expect(int(m.group(2), 16) & 0x1f == 0x5, "the vCPU does not start at EL1h", r.all())
    expect(re.search(r"^=> 0x0:\s+b\s+0x%x" % reset, s1, re.M), f"x/2i $pc does not show `b 0x{reset:x}`",
           r.all())
    s2 = sec.get(2, "")
    expect(re.search(r"Hardware assisted breakpoint 1 at 0x%x" % reset, s2), "the hbreak was not set", r.all())
    expect(_hexval(r"^STOP=([0-9a-f]+)$", s2) == reset, f"no stop at U-Boot's reset code 0x{reset:x}", r.all())
    expect(_hexval(r"^STEPPED=([0-9a-f]+)$", s2) not in (None, reset), "stepi did not move the pc", r.all())
    threads = re.findall(r"^\*?\s+(\d+)\s+Thread ", s2, re.M)
    expect(threads == ["1", "2"], f"info threads lists {threads}, expected both vCPUs of -smp 2", r.all())
    s3 = sec.get(3, "")
    m = re.search(r"^Catch 1: CPU#0 wrote 0x([0-9a-f]+) to address 0x(%x|%x[0-9a-f]{1,3}) \((\d) bytes?, pl011\)$"
                  % (PL011, PL011 >> 12), s3, re.M)
    expect(m, "monitor catch mmio on the PL011 did not stop U-Boot's first write to it", r.all())
    expect(re.search(r"^   0x[0-9a-f]+:\s+str", s3, re.M), "the vCPU is not just past the store that wrote the "
           "PL011 (x/i $pc-4 is no str)", r.all())
    s4 = sec.get(4, "")
    expect(interrupted, "U-Boot never printed its autoboot countdown, so gdb was not interrupted", r.all())
    expect(re.search(r"received signal (SIGINT|SIGTRAP)", s4), "no SIGINT stop after Ctrl-C", r.all())
    stop = _hexval(r"^STOP=([0-9a-f]+)$", s4)
    expect(stop is not None and stop >= 0x40000000, f"after Ctrl-C the pc {stop} is not in RAM (U-Boot relocates "
           "itself to the top of RAM)", r.all())
    expect(re.search(r"\[Inferior 1 \(.*\) killed\]", sec.get(5, "")), "kill did not end the session", r.all())
    print(f"first stop at 0, hbreak at U-Boot's reset code 0x{reset:x}, stepi, its first PL011 write caught "
          f"(0x{int(m.group(1), 16):x} to 0x{m.group(2)}), Ctrl-C at 0x{stop:x} in relocated U-Boot, kill; "
          f"kvmdbg status {r.status}")



# examples/gdb_vmm's arm64 guest (guest_arm64.c); the example prints this
# line itself, and the case checks that it did.
GDB_VMM_LAYOUT = "gdb_vmm: arm64 guest: start 0x40000000, loop 0x40000008, tick 0x40000014, counter 0x40010000"


def _gdb_vmm_files(ctx):
    """examples/gdb_vmm cross-built the way tests/sdk builds it natively: a
    `meson install --destdir` of this aarch64 build, the sources copied out,
    aarch64-linux-gnu-gcc with what pkg-config kvmdbg kvmdbg-accel answer
    for the DESTDIR. [(path in the initramfs, bytes)]: the example and
    libkvmdbg.so.0 in /vmm; the libraries libkvmdbg needs are kvmdbg's own,
    already in the base archive."""
    import sdk_example
    build_dir = ctx.rig.payload.build_dir
    options = {o["name"]: o["value"] for o in json.loads(subprocess.run(
        ["meson", "introspect", "--buildoptions", build_dir], capture_output=True, text=True, check=True).stdout)}
    source_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
    args = argparse.Namespace(meson=shutil.which("meson"), build_dir=build_dir, source_dir=source_dir,
                              prefix=options["prefix"], libdir=options["libdir"],
                              includedir=options["includedir"], sanitize="none")
    tmp = os.path.join(ctx.tmp, "sdk")
    os.makedirs(tmp)
    sdk = sdk_example.Sdk(args, tmp)
    try:
        sdk.install()
        exe = sdk.compile_example(tmp, cc="aarch64-linux-gnu-gcc")
    except sdk_example.Failure as e:
        raise Failure(f"examples/gdb_vmm did not cross-build from the install: {e}")
    lib = os.path.realpath(os.path.join(sdk.libdir, "libkvmdbg.so.0"))
    have = set(rig._needed(ctx.rig.payload.kvmdbg)) | set(rig._needed(ctx.rig.payload.accel))
    missing = set(rig._needed(lib)) - have
    expect(not missing, f"libkvmdbg.so.0 needs {sorted(missing)}, which the rig's archive does not carry")
    return [("/vmm/gdb_vmm", rig._stripped(exe)), ("/vmm/libkvmdbg.so.0", rig._stripped(lib))]


def _gdb_vmm_script(args):
    """/run.sh: gdb_vmm -S with its stub on the gdb port (its serial output
    then goes to stderr), as _run_script runs kvmdbg."""
    up = '$(cut -d" " -f1 /proc/uptime)'
    return "\n".join([
        "cd /tmp", "chmod 755 /vmm/gdb_vmm",
        '[ -n "$GDB_PORT" ] || { echo "NESTED-RUN no gdb port"; exit 90; }',
        'exec 3<>"$GDB_PORT"',
        f'echo "NESTED-KVMDBG-START uptime={up}"',
        f"LD_LIBRARY_PATH=/vmm timeout 200 /vmm/gdb_vmm -S -gdb stdio {args} <&3 >&3 2>/tmp/kvmdbg.err",
        f'echo "NESTED-KVMDBG-STATUS $? uptime={up}"',
        "exec 3<&-",
        "echo NESTED-STDERR-BEGIN", "cat /tmp/kvmdbg.err 2>/dev/null", "echo NESTED-STDERR-END",
    ]) + "\n"


def _gdb_vmm_run(ctx, files, args, commands, interrupt):
    boot = ctx.rig.boot(_gdb_vmm_script(args), ctx._boot_dir(), timeout=330, extra=files)
    try:
        if not boot.wait_for(r"^NESTED-KVMDBG-START ", timeout=120):
            boot.kill()
            raise Failure("gdb_vmm did not start in the rig\n" + boot.console())
        cmd = vmm_session.gdb_command("gdb-multiarch", "target remote " + boot.gdb_endpoint, commands)
        out = vmm_session.run_gdb(cmd, interrupt=interrupt, timeout=240)
        boot.finish()
    except BaseException:
        boot.kill()
        raise
    r = ctx._timed(Run(boot, out))
    expect(GDB_VMM_LAYOUT in r.stderr, "gdb_vmm's arm64 guest layout is not the one this case uses", r.all())
    return r


@case
def gdb_vmm_session(ctx):
    """examples/gdb_vmm, cross-built from an install of this build, on the
    nested arm64 KVM: its own KVM loop with libkvmdbg's guest-debug core and
    gdb stub, under gdb-multiarch through the rig's `-gdb stdio` relay. The
    two sessions of tests/sdk (gdb_vmm_session.py); here hardware
    breakpoints work, so nothing is skipped."""
    p = ctx.rig.payload
    expect(os.path.exists(p.kvmdbg) and os.path.exists(p.accel), "kvmdbg or accel-kvm.so was not built")
    files = _gdb_vmm_files(ctx)
    layout = vmm_session.Layout(GDB_VMM_LAYOUT)
    r = _gdb_vmm_run(ctx, files, "", vmm_session.main_commands(layout), False)
    failures, fired = vmm_session.check_main(r.gdb_out, layout)
    failures += vmm_session.check_end(r.status, r.stderr, r.stderr)
    expect(not failures and fired, "; ".join(failures) or "hbreak did not fire on the nested arm64 KVM", r.all())
    r = _gdb_vmm_run(ctx, files, "--spin", vmm_session.spin_commands(layout), True)
    failures = vmm_session.check_spin(r.gdb_out, layout)
    failures += vmm_session.check_end(r.status, r.stderr, r.stderr)
    expect(not failures, "; ".join(failures), r.all())
    print("registers, x, stepi, hbreak, stepi from the stop, a target-side conditional breakpoint, detach; "
          "Ctrl-C, a memory write, detach; the guest ended with status 0 both times")

CASES = {fn.__name__: fn for fn in [
    kvm_probe, connect_registers, hbreak_continue, break_brk, stepi_exact, watch_write, awatch_access,
    rwatch_read, watch_pl011, guest_self_brk, detach_restores_memory, deleted_brk_stays_removed, linux_boot,
    linux_start_kernel, linux_gdb_session, linux_kaslr, uboot_prompt, uboot_gdb_session, gdb_vmm_session]}
