"""The end-to-end cases run by gdb_session.py: each drives real gdb against
the real kvmdbg and a guest from tests/guests/x86, and returns 0 (pass),
1 (fail, after printing why) or 77 (skip, with the reason)."""
import os
import re
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gdb_interrupt import CONTINUE_MARK_COMMAND, run_gdb as run_gdb_interrupted  # noqa: E402


class Context:
    def __init__(self, kvmdbg, guest_dir, tmp, emulator_cls, run_gdb):
        self.kvmdbg = kvmdbg
        self.guest_dir = guest_dir
        self.tmp = tmp
        self.Emulator = emulator_cls
        self.run_gdb = run_gdb

    def guest(self, name):
        return os.path.join(self.guest_dir, name)

    def symbols(self, name):
        out = subprocess.run(["nm", self.guest(name)], capture_output=True, text=True, check=True).stdout
        syms = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                syms[parts[2]] = int(parts[0], 16)
        return syms

    def emulator(self, guest, extra=(), transport="tcp", stopped=True):
        args = ["-M", "pc-lite", "-m", "64M", "-kernel", self.guest(guest), "-serial", "stdio"]
        if stopped:
            args.append("-S")
        return self.Emulator(self.kvmdbg, args + list(extra), transport, self.tmp)


class Failure(Exception):
    pass


def expect(cond, what, *outputs):
    if not cond:
        raise Failure(what + "".join("\n--- output\n" + o for o in outputs))


def watchpoints_fire(emu):
    return not any("watchpoints do not fire" in line for line in emu.stderr_lines)


def case(fn):
    """Runs a case, turning Failure into a printed FAIL and status 1."""
    def wrapped(ctx):
        try:
            status = fn(ctx)
        except Failure as f:
            print(f"FAIL: {f}")
            return 1
        if status in (None, 0):
            print("PASS")
            return 0
        return status
    return wrapped


@case
def connect_registers(ctx):
    syms = ctx.symbols("debug_target.elf64")
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["info registers rip rsp eflags cs",
                           "x/4i $pc", "kill"], target=emu.target_command())
    status, _, err = emu.finish()
    expect(rc == 0, f"gdb exited {rc}", out, err)
    expect(re.search(r"rip\s+0x%x\s+0x%x <_start>" % (syms["_start"], syms["_start"]), out),
           "rip is not _start", out)
    expect("g packet reply is too long" not in out, "target description rejected", out)
    expect(re.search(r"=> 0x%x <_start>:" % syms["_start"], out), "x/4i $pc shows no instructions", out)
    expect(status == 0, f"kvmdbg exited {status} after kill, expected 0", err)


@case
def hbreak_continue_bt(ctx):
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["hbreak tick", "continue", "bt",
                           "print tick_count", "kill"], target=emu.target_command())
    status, _, err = emu.finish()
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?0\)", out), "no stop at tick(i=0)", out, err)
    expect(re.search(r"^#[12] .*\bmain \(", out, re.M), "bt does not show main", out)
    expect(re.search(r"\$1 = 0", out), "tick_count is not 0 at the first tick", out)


@case
def break_software(ctx):
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["break tick", "continue", "continue",
                           "print i", "delete", "continue"], target=emu.target_command())
    status, stdout, err = emu.finish()
    expect(re.search(r"Breakpoint 1, tick \(i=(?:i@entry=)?1\)", out), "second stop is not tick(i=1)", out, err)
    expect("debug_target done ticks=100 watched=99" in stdout, "guest did not finish after delete", stdout, err)
    expect(status == 69, f"kvmdbg exited {status}, expected the guest's 69", err)


@case
def stepi_exact(ctx):
    syms = ctx.symbols("debug_target.elf64")
    emu = ctx.emulator("debug_target.elf64")
    cmds = ["hbreak step_0", "continue", "delete"]
    for _ in range(8):
        cmds += ["stepi", "printf \"PC=%lx\\n\", $pc"]
    cmds.append("kill")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=cmds, target=emu.target_command())
    emu.finish()
    pcs = [int(x, 16) for x in re.findall(r"PC=([0-9a-f]+)", out)]
    want = [syms[f"step_{i}"] for i in range(1, 8)] + [syms["step_ret"]]
    expect(pcs == want, f"stepi pcs {[hex(p) for p in pcs]} != {[hex(w) for w in want]}", out)


@case
def registers_written_read_back(ctx):
    """G/P writes reach the vCPU and are what the next g reads, before and
    after a step (the accelerator's state cache must drop its copy on every
    register write and resume; gdb's own cache is flushed before each read)."""
    syms = ctx.symbols("debug_target.elf64")
    emu = ctx.emulator("debug_target.elf64")
    flush_print = ["maintenance flush register-cache",
                   "printf \"REGS rbx=%lx r12=%lx pc=%lx\\n\", $rbx, $r12, $pc"]
    cmds = (["hbreak step_0", "continue", "delete", "set $rbx = 0x1122334455667788", "set $r12 = 0xbadc0de"]
            + flush_print + ["stepi"] + flush_print + ["set $rbx = 0x55aa"] + flush_print + ["kill"])
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=cmds, target=emu.target_command())
    emu.finish()
    got = re.findall(r"REGS rbx=([0-9a-f]+) r12=([0-9a-f]+) pc=([0-9a-f]+)", out)
    want = [("1122334455667788", "badc0de", "%x" % syms["step_0"]),
            ("1122334455667788", "badc0de", "%x" % syms["step_1"]),
            ("55aa", "badc0de", "%x" % syms["step_1"])]
    expect(got == want, f"registers read back {got}, wrote {want}", out)


@case
def watch_write(ctx):
    emu = ctx.emulator("debug_target.elf64")
    if not watchpoints_fire(emu):
        emu.proc.kill()
        emu.finish()
        print("SKIP: data watchpoints do not fire on this host (kvmdbg's start-up probe)")
        return 77
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["watch watched_var", "continue",
                           "continue", "kill"], target=emu.target_command())
    emu.finish()
    expect(re.search(r"Hardware watchpoint 1: watched_var", out), "no watchpoint stop", out)
    expect(re.search(r"New value = 1", out), "second write not reported", out)


@case
def threads_smp(ctx):
    emu = ctx.emulator("debug_target.elf64", ["-smp", "2"])
    # scheduler-locking step: gdb asks to step thread 2 alone (vCont;s:2), so
    # thread 1 must not move.
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["set scheduler-locking step",
                           "info threads", "thread 2",
                           "printf \"T2PC=%lx\\n\", $pc", "stepi", "printf \"T2PC=%lx\\n\", $pc",
                           "thread 1", "printf \"T1PC=%lx\\n\", $pc", "kill"], target=emu.target_command())
    emu.finish()
    expect(re.search(r"Thread 1 .*CPU#0", out) and re.search(r"Thread 2 .*CPU#1", out),
           "info threads does not list CPU#0 and CPU#1", out)
    t2 = re.findall(r"T2PC=([0-9a-f]+)", out)
    t1 = re.findall(r"T1PC=([0-9a-f]+)", out)
    syms = ctx.symbols("debug_target.elf64")
    expect(len(t2) == 2 and t2[0] != t2[1], "stepi on thread 2 did not move its pc", out)
    expect(t1 and int(t1[0], 16) == syms["_start"], "thread 1 moved although only thread 2 was stepped", out)


@case
def interrupt_running(ctx):
    """Ctrl-C in gdb while the guest runs: gdb sends 0x03, the stub stops
    every vCPU and replies T02 (SIGINT); `monitor info stop-all` then shows
    how long the all-stops took (gdb's attach to the running guest and the
    interrupt)."""
    emu = ctx.emulator("stepper.elf64", stopped=False)
    cmd = ["gdb", "-batch", "-nx", "-ex", "set confirm off", "-ex", "file " + ctx.guest("stepper.elf64"),
           "-ex", emu.target_command(), "-ex", CONTINUE_MARK_COMMAND, "-ex", "continue",
           "-ex", "printf \"PC=%lx\\n\", $pc", "-ex", "print stepper_counter > 0",
           "-ex", "monitor info stop-all", "-ex", "monitor info stop-all 1", "-ex", "monitor info stop-all 0",
           "-ex", "kill"]
    out = run_gdb_interrupted(cmd, interrupt=True, timeout=60)
    status, _, err = emu.finish()
    expect("SIGINT" in out, "the interrupt did not stop the guest with SIGINT", out, err)
    expect(re.search(r"PC=[0-9a-f]+", out), "registers unreadable after the interrupt", out)
    expect(re.search(r"\$1 = 1", out), "the guest had not run before the interrupt", out)
    timed = re.search(r"^stop-all \(kick every vCPU, all parked\): last (\d+) of (\d+): mean ([0-9.]+) us, "
                      r"median [0-9.]+ us, 90th percentile [0-9.]+ us, slowest ([0-9.]+) us$", out, re.M)
    expect(timed and int(timed.group(1)) == int(timed.group(2)) >= 2 and 0 < float(timed.group(3)) <= float(
        timed.group(4)), "monitor info stop-all does not count the attach's and the interrupt's all-stops", out)
    expect(re.search(r"^stop-all \(kick every vCPU, all parked\): last 1 of \d+: ", out, re.M),
           "monitor info stop-all 1 does not summarize only the last all-stop", out)
    expect("usage: info stop-all [N]" in out, "monitor info stop-all 0 is not refused", out)
    expect(status == 0, f"kvmdbg exited {status} after kill", err)


@case
def conditional_in_stub(ctx):
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=[
                           "set breakpoint condition-evaluation target", "hbreak tick if loop_index == 57",
                           "set debug remote 1", "continue", "set debug remote 0",
                           "print loop_index", "print tick_count", "kill"], target=emu.target_command())
    emu.finish()
    expect(re.search(r"\$1 = 57", out), "did not stop at loop_index == 57", out)
    expect(re.search(r"\$2 = 57", out), "tick_count is not 57: the guest did not run the false hits", out)
    stops = re.findall(r"Packet received: T05", out)
    expect(len(stops) == 1, f"gdb received {len(stops)} stop replies; false hits reached gdb", out)


@case
def detach_reattach(ctx):
    emu = ctx.emulator("debug_target.elf64")
    rc1, out1 = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["hbreak tick", "continue", "detach"],
                            target=emu.target_command())
    rc2, out2 = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["info breakpoints", "detach"],
                            target=emu.target_command())
    status, stdout, err = emu.finish()
    expect("Breakpoint 1, tick" in out1, "first session did not stop at tick", out1, err)
    expect("Detaching from program" in out1 or "detached" in out1.lower(), "first detach failed", out1)
    expect("No breakpoints or watchpoints" in out2, "second session sees breakpoints", out2)
    expect("debug_target done ticks=100" in stdout, "guest did not run to the end after detach", stdout, err)
    expect(status == 69, f"kvmdbg exited {status}, expected 69", err)


@case
def monitor_system_reset(ctx):
    """monitor system_reset under gdb: RAM reloaded, vCPUs back at the entry
    and still stopped; continue boots the guest from scratch."""
    syms = ctx.symbols("debug_target.elf64")
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=[
        "hbreak tick", "continue", "continue", "continue", "print tick_count", "monitor system_reset",
        "flushregs", "printf \"PC=%lx\\n\", $pc", "print tick_count", "continue", "print i", "kill"],
        target=emu.target_command())
    status, _, err = emu.finish()
    expect(re.search(r"\$1 = 2", out), "tick_count was not 2 before the reset", out, err)
    expect("machine reset: RAM reloaded" in out, "monitor system_reset did not answer", out)
    expect(re.search(r"PC=%x\b" % syms["_start"], out), "pc is not _start after the reset", out)
    expect(re.search(r"\$2 = 0", out), "tick_count not reloaded by the reset", out)
    expect(re.search(r"\$3 = 0", out), "the rebooted guest did not reach tick(0) first", out)


@case
def memory_map_rom(ctx):
    """qXfer:memory-map: the firmware ROM is read-only, so gdb turns `break`
    there into a hardware breakpoint and refuses writes; other addresses stay
    accessible (E14 only where nothing is mapped)."""
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=[
        "info mem", "break *0xfffffff0", "x/4xb 0xfffffff0", "set {char}0xfffffff0 = 0", "x/4xb 0xfffffff0",
        "x/2xb 0x7f0000000000", "print tick_count", "kill"], target=emu.target_command())
    emu.finish()
    expect(re.search(r"0x00000000ffff0000 0x0000000100000000 ro", out), "the ROM is not read-only in gdb's map", out)
    expect("automatically using hardware breakpoints for read-only addresses" in out,
           "gdb did not turn break into a hardware breakpoint in ROM", out)
    expect(out.count("0xfffffff0:\t0xfa\t0xf4\t0xeb\t0xfd") == 2, "the ROM's reset vector changed", out)
    expect("Cannot access memory at address 0x7f0000000000" in out, "an unmapped address did not fail", out)
    expect(re.search(r"\$1 = 0", out), "RAM is not readable with the map", out)


@case
def kill_ends(ctx):
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb(["kill"], target=emu.target_command())
    status, _, err = emu.finish()
    expect(status == 0, f"kvmdbg exited {status} after kill", out, err)


@case
def unix_socket(ctx):
    emu = ctx.emulator("debug_target.elf64", transport="unix")
    mode = stat.S_IMODE(os.stat(emu.socket_path).st_mode)
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["info registers rip", "kill"],
                          target=emu.target_command())
    status, _, err = emu.finish()
    expect(mode == 0o600, f"socket mode {oct(mode)}, expected 0600")
    expect(re.search(r"rip\s+0x", out), "no registers over the unix socket", out, err)
    expect(not os.path.exists(emu.socket_path), "socket file left behind after exit")


@case
def stdio_pipe(ctx):
    cmd = f"{ctx.kvmdbg} -M pc-lite -m 64M -kernel {ctx.guest('debug_target.elf64')} -gdb stdio -S"
    rc, out = ctx.run_gdb(file=ctx.guest("debug_target.elf64"), commands=["target remote | " + cmd,
                           "hbreak tick", "continue", "kill"])
    expect("Breakpoint 1, tick" in out, "no breakpoint stop over stdio", out)


@case
def hostile_client(ctx):
    """Garbage, bad checksums, a 1 MiB packet, half a packet, 100 connects:
    the stub survives and a real gdb session afterwards works. The guest
    never ends (stepper), since every dropped connection lets it run on."""
    emu = ctx.emulator("stepper.elf64", stopped=False)
    host, port = emu.endpoint.rsplit(":", 1)

    def raw(data, read=True):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(data)
        if read:
            try:
                s.recv(65536)
            except OSError:
                pass
        s.close()
        time.sleep(0.05)  # let the stub see the close before the next client

    raw(os.urandom(4096))
    raw(b"$g#00$?#00$m0,10#ff")        # bad checksums
    raw(b"$" + b"a" * (1 << 20) + b"#00")  # 1 MiB packet
    raw(b"$qSupported:multipro", read=False)  # half a packet, then close
    for _ in range(100):
        raw(b"", read=False)
    if emu.proc.poll() is not None:
        raise Failure("kvmdbg died under the hostile client\n" + emu.finish()[2])
    rc, out = ctx.run_gdb(file=ctx.guest("stepper.elf64"), commands=["hbreak stepper_3", "continue",
                          "printf \"PC=%lx\\n\", $pc", "kill"], target=emu.target_command())
    status, _, err = emu.finish()
    syms = ctx.symbols("stepper.elf64")
    expect(re.search(r"PC=%x" % syms["stepper_3"], out), "gdb session after the hostile client failed", out, err)
    expect(status == 0, f"kvmdbg exited {status}", err)


@case
def lldb_session(ctx):
    """lldb's gdb-remote client: registers read and one breakpoint hit."""
    import shutil
    if shutil.which("lldb") is None:
        print("SKIP: lldb is not installed (optional test package: apt-get install lldb)")
        return 77
    emu = ctx.emulator("debug_target.elf64")
    port = emu.endpoint.rsplit(":", 1)[1]
    p = subprocess.run(["lldb", "--batch", "-o", "file " + ctx.guest("debug_target.elf64"),
                        "-o", "gdb-remote " + port, "-o", "register read rip", "-o", "breakpoint set --name tick",
                        "-o", "continue", "-o", "register read rip", "-o", "process kill"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
    out = p.stdout + p.stderr
    status, _, err = emu.finish()
    syms = ctx.symbols("debug_target.elf64")
    expect(re.search(r"rip = 0x%016x" % syms["_start"], out), "lldb did not read rip = _start", out, err)
    expect("stop reason = breakpoint 1.1" in out and "tick(i=0)" in out, "lldb did not stop at tick", out)
    expect(re.search(r"rip = 0x%016x" % syms["tick"], out), "rip is not tick after the hit", out)
    expect(status == 0, f"kvmdbg exited {status} after lldb's kill", err)


# A guest for the device-access catches, as machine code (an ELF64 entered
# in long mode at LOAD, tests/kvm/tiny_guest.py): an MMIO write and read of
# pc-testdev's buffer at 0xff000000, a write and read of its 32-bit port
# 0xe0, a `rep outsb` of 4 bytes of its own code to its byte port 0xe8,
# then isa-debug-exit 0x2a (status 85). The pcs after each access (KVM
# may hand kvmdbg the elements of `rep outsb` one exit each, and then the
# stop after the first leaves the pc on the instruction with rcx 3):
CATCH_GUEST = bytes([
    0xBB, 0x00, 0x00, 0x00, 0xFF,              # +0  mov $0xff000000, %ebx
    0xC7, 0x03, 0x78, 0x56, 0x34, 0x12,        # +5  movl $0x12345678, (%rbx)
    0x8B, 0x03,                                # +11 mov (%rbx), %eax
    0xE7, 0xE0,                                # +13 out %eax, $0xe0
    0x31, 0xC0,                                # +15 xor %eax, %eax
    0xE5, 0xE0,                                # +17 in $0xe0, %eax
    0xBE, 0x00, 0x00, 0x10, 0x00,              # +19 mov $0x100000, %esi
    0xB9, 0x04, 0x00, 0x00, 0x00,              # +24 mov $4, %ecx
    0x66, 0xBA, 0xE8, 0x00,                    # +29 mov $0xe8, %dx
    0xF3, 0x6E,                                # +33 rep outsb (%rsi), (%dx)
    0xB0, 0x2A, 0xE6, 0xF4, 0xF4,              # +35 mov $0x2a, %al; out %al, $0xf4; hlt
])
CATCH_AFTER = {"mmio_write": 11, "mmio_read": 13, "io_write": 15, "io_read": 19}
CATCH_REP_OUTSB, CATCH_AFTER_REP = 33, 35
CATCH_EXIT_STATUS = (0x2A << 1) | 1


# The catch guest behind a gate: it spins until the u32 at GATE is non-zero
# (RAM starts zeroed), so a debugger can come and go before its accesses.
GATE = 0x200000
GATED_PREFIX = bytes([
    0x8B, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00,  # +0 mov 0x200000, %eax
    0x85, 0xC0,                                # +7 test %eax, %eax
    0x74, 0xF5,                                # +9 jz +0
])


def catch_guest(ctx, gated=False):
    """(kvmdbg with the catch guest under -S, its load address)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kvm"))
    import tiny_guest
    code = GATED_PREFIX + CATCH_GUEST if gated else CATCH_GUEST
    path = tiny_guest.write_elf64(ctx.tmp, "catch_guest.elf", code)
    args = ["-M", "pc-lite", "-m", "64M", "-kernel", path, "-serial", "stdio", "-S", "-device", "pc-testdev",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    return ctx.Emulator(ctx.kvmdbg, args, "tcp", ctx.tmp), tiny_guest.LOAD_ADDR


def stop_after(out, n):
    """The n-th `STOP pc=.. rax=.. rcx=..` line gdb printed, as numbers."""
    stops = re.findall(r"^STOP pc=([0-9a-f]+) rax=([0-9a-f]+) rcx=([0-9a-f]+)$", out, re.M)
    return tuple(int(v, 16) for v in stops[n]) if n < len(stops) else None


@case
def catch_device_access(ctx):
    """monitor catch on MMIO and ports: each catch stops the vCPU after the
    accessing instruction completed (pc past it, a read's value in rax),
    gdb printing what was accessed; `rep outsb` stops after the accesses
    KVM reported in one exit (all four: pc past it; or fewer: pc on it,
    rcx counting the rest); info catch, delete catch and info mtree; with the catches
    deleted the guest runs to its exit. Served by the device path: no debug
    registers, so this works on hosts where hardware watchpoints do not."""
    emu, base = catch_guest(ctx)
    show = 'printf "STOP pc=%lx rax=%lx rcx=%lx\\n", $pc, $rax, $rcx'
    rc, out = ctx.run_gdb([
        "monitor catch mmio 0xff000000-0xff000003 w", "continue", show,
        "monitor catch mmio 0xff000000 r", "continue", show,
        "monitor delete catch 1", "monitor delete catch 2", "monitor catch io 0xe0-0xe3", "continue", show,
        "continue", show, "monitor catch io 0xe8 w", "monitor info catch", "continue", show,
        "monitor delete catch 3", "monitor delete catch 4", "monitor delete catch 4", "monitor info catch",
        "monitor catch io 0x10000", "monitor catch mmio 5-3", "monitor info mtree", "continue"],
        target=emu.target_command())
    status, _, err = emu.finish()
    hits = re.findall(r"^Catch \d+: CPU#0 .*$", out, re.M)
    expect(hits == ["Catch 1: CPU#0 wrote 0x12345678 to address 0xff000000 (4 bytes, pc-testdev-iomem)",
                    "Catch 2: CPU#0 read 0x12345678 from address 0xff000000 (4 bytes, pc-testdev-iomem)",
                    "Catch 3: CPU#0 wrote 0x12345678 to port 0xe0 (4 bytes, pc-testdev-ioport)",
                    "Catch 3: CPU#0 read 0x12345678 from port 0xe0 (4 bytes, pc-testdev-ioport)",
                    "Catch 4: CPU#0 wrote 0xbb to port 0xe8 (1 byte, pc-testdev-ioport-byte)"],
           f"the catches' reports are not the five accesses: {hits}", out, err)
    expect(out.count("received signal SIGTRAP") == 5, "not five SIGTRAP stops", out)
    for n, (what, offset) in enumerate(CATCH_AFTER.items()):
        stop = stop_after(out, n)
        expect(stop and stop[0] == base + offset, f"the {what} stop is not right after the instruction "
               f"(pc {stop and hex(stop[0])}, expected {base + offset:#x})", out)
        if what in ("mmio_read", "io_read"):
            expect(stop[1] & 0xffffffff == 0x12345678, f"the {what} stop does not show the value read in rax", out)
    pc, _, rcx = stop_after(out, 4) or (None, None, None)
    expect((pc == base + CATCH_AFTER_REP and rcx == 0) or (pc == base + CATCH_REP_OUTSB and rcx in (1, 2, 3)),
           f"rep outsb stopped at pc {pc and hex(pc)} with rcx {rcx}: neither after it with rcx 0 nor on it "
           "with accesses left", out)
    expect(re.search(r"^4\s+port\s+0xe8-0xe8\s+w$", out, re.M), "info catch does not list catch 4", out)
    expect("Deleted catch 4" in out and "delete catch: no catch 4" in out, "delete catch misreported", out)
    expect("No catches." in out, "info catch after deleting every catch", out)
    expect("catch: ports go up to 0xffff" in out and "catch: bad range '5-3'" in out, "bad catches accepted", out)
    expect(re.search(r"^  00000000ff000000-00000000ff00ffff mmio pc-testdev-iomem$", out, re.M)
           and re.search(r"^  00000000000000e0-00000000000000e3 i/o pc-testdev-ioport$", out, re.M),
           "info mtree lacks pc-testdev's ranges", out)
    expect(status == CATCH_EXIT_STATUS and "exited with code 0125" in out,
           f"the guest did not run to its exit with the catches deleted (status {status})", out, err)


@case
def catch_gone_after_detach(ctx):
    """A catch the debugger set goes with it: after `detach` the guest runs
    through the caught port to its exit. Then with a gdb that comes back:
    the catches of the first session are gone (`info catch`, and the MMIO
    write they covered passes), a catch set by the second session stops the
    guest, numbered on from the first session's."""
    emu, _ = catch_guest(ctx)
    rc, out = ctx.run_gdb(["monitor catch io 0xe0-0xe3", "monitor catch mmio 0xff000000", "detach"],
                          target=emu.target_command())
    status, _, err = emu.finish()
    expect("Catch 2: mmio" in out and "[Inferior 1 (Remote target) detached]" in out,
           "the session did not set the catches and detach", out)
    expect(status == CATCH_EXIT_STATUS, f"kvmdbg ended with {status}, not the guest's exit {CATCH_EXIT_STATUS}",
           out, err)

    emu, _ = catch_guest(ctx, gated=True)
    rc, first = ctx.run_gdb(["monitor catch mmio 0xff000000", "monitor catch io 0xe0-0xe3", "detach"],
                            target=emu.target_command())
    rc, second = ctx.run_gdb(["monitor info catch", "monitor catch io 0xe0 r", f"set {{int}}0x{GATE:x} = 1",
                              "continue", "continue"], target=emu.target_command())
    status, _, err = emu.finish()
    expect("[Inferior 1 (Remote target) detached]" in first, "the first session did not detach", first, err)
    expect("No catches." in second, "the second session sees the first one's catches", second, err)
    hits = re.findall(r"^Catch \d+: CPU#0 .*$", second, re.M)
    expect(hits == ["Catch 3: CPU#0 read 0x12345678 from port 0xe0 (4 bytes, pc-testdev-ioport)"],
           f"after reconnecting, the stops are not exactly the new catch's: {hits}", second, err)
    expect(status == CATCH_EXIT_STATUS, f"the gated guest did not run to its exit (status {status})", second, err)


@case
def catch_condition(ctx):
    """`monitor catch ... if value [& MASK] OP N`: a catch stops only when
    the condition on the value written or read holds (evaluated in kvmdbg
    by the agent-expression evaluator gdb's target-side conditions use):
    two false conditions let the MMIO and port writes pass, a masked
    equality stops at the port read; info catch shows the conditions; the
    guest's exit write ends the machine with a catch still set."""
    emu, base = catch_guest(ctx)
    show = 'printf "STOP pc=%lx rax=%lx rcx=%lx\\n", $pc, $rax, $rcx'
    rc, out = ctx.run_gdb([
        "monitor catch mmio 0xff000000 rw if value != 0x12345678", "monitor catch io 0xe0 w if value < 0x1000",
        "monitor catch io 0xe0 r if value & 0xff == 0x78", "monitor catch io 0xe0 if valu == 1",
        "monitor info catch", "continue", show, "monitor delete catch 2", "monitor delete catch 3", "continue"],
        target=emu.target_command())
    status, _, err = emu.finish()
    hits = re.findall(r"^Catch \d+: CPU#0 .*$", out, re.M)
    expect(hits == ["Catch 3: CPU#0 read 0x12345678 from port 0xe0 (4 bytes, pc-testdev-ioport)"],
           f"the conditional catches did not stop exactly at the port read: {hits}", out, err)
    stop = stop_after(out, 0)
    expect(stop and stop[0] == base + CATCH_AFTER["io_read"], "the stop is not just past the `in`", out)
    expect(re.search(r"^3\s+port\s+0xe0-0xe0\s+r  if value & 0xff == 0x78$", out, re.M)
           and re.search(r"^1\s+mmio\s+0xff000000-0xff000000\s+rw  if value != 0x12345678$", out, re.M),
           "info catch does not show the conditions", out)
    expect("catch: the condition is: value [& MASK]" in out, "a bad condition was accepted", out)
    # Catch 1 (never true) is still set: the isa-debug-exit write must end
    # the machine all the same.
    expect(status == CATCH_EXIT_STATUS, f"the guest did not run to its exit with catch 1 still set (status {status})",
           out, err)


@case
def catch_com1_and_debug_exit(ctx):
    """Port catches on pc-lite's own devices with the in-tree debug_target
    guest: on COM1's data port the guest's first character stops it inside
    serial_putc with the byte in al; on isa-debug-exit the guest's exit
    write stops it inside debug_exit (the machine has not ended: gdb can
    look), and the next `continue` ends the machine with the guest's
    status (0x22 -> 69), as without the catch."""
    emu = ctx.emulator("debug_target.elf64")
    rc, out = ctx.run_gdb([
        "monitor catch io 0x3f8 w", "continue", 'printf "AL=%x\\n", $rax & 0xff', "bt 1", "monitor delete catch 1",
        "monitor catch io 0xf4 w", "continue", 'printf "EAX=%x\\n", $rax & 0xffffffff', "bt 1",
        "monitor info device isa-debug-exit", "continue"],
        file=ctx.guest("debug_target.elf64"), target=emu.target_command())
    status, serial, err = emu.finish()
    m = re.search(r"^Catch 1: CPU#0 wrote 0x([0-9a-f]{2}) to port 0x3f8 \(1 byte, COM1\)$", out, re.M)
    expect(m, "the catch on COM1 did not report the guest's first character", out, err)
    expect(re.search(r"^AL=%x$" % int(m.group(1), 16), out, re.M), "al does not hold the character written", out)
    expect(re.search(r"^#0 .*\bserial_putc \(", out, re.M), "the COM1 stop is not in serial_putc", out)
    expect(re.search(r"^Catch 2: CPU#0 wrote 0x00000022 to port 0xf4 \(4 bytes, isa-debug-exit\)$", out, re.M),
           "the catch on isa-debug-exit did not report the exit write", out, err)
    expect(re.search(r"^EAX=22$", out, re.M), "eax does not hold the exit value at the stop", out)
    expect(re.search(r"^#0 .*\bdebug_exit \(", out, re.M), "the exit-write stop is not in debug_exit", out)
    expect(re.search(r"^written\s+= 0x00000022\nexit status = 69$", out, re.M),
           "info device isa-debug-exit at the held exit write does not show it", out)
    expect("exited with code 0105" in out and status == 69,
           f"the machine did not end with the guest's status after the exit-write stop (status {status})", out, err)


@case
def watch_device_memory(ctx):
    """gdb's `watch` and `rwatch` on emulated device memory (pc-testdev's
    MMIO buffer at 0xff000000) are served by the device path, not by debug
    registers: they fire on every host, stopping just past the accessing
    instruction as ordinary watchpoint stops, with the value written (old
    and new) and the value read; gdb reads device memory (`x`) without side
    effects; the watchpoints are not catches (`info catch`); deleted, the
    guest runs to its exit."""
    emu, base = catch_guest(ctx)
    show = 'printf "STOP pc=%lx rax=%lx rcx=%lx\\n", $pc, $rax, $rcx'
    rc, out = ctx.run_gdb([
        "watch *(unsigned int *)0xff000000", "continue", show, "rwatch *(unsigned int *)0xff000000", "delete 1",
        "continue", show, "x/wx 0xff000000", "monitor info catch", "delete 2", "continue"],
        target=emu.target_command())
    status, _, err = emu.finish()
    expect(re.search(r"Hardware watchpoint 1: \*\(unsigned int \*\)0xff000000\s+Old value = 0\s+"
                     r"New value = 305419896", out),
           "the write watchpoint did not report 0 -> 0x12345678", out, err)
    expect(re.search(r"Hardware read watchpoint 2: \*\(unsigned int \*\)0xff000000\s+Value = 305419896", out),
           "the read watchpoint did not report the value read", out, err)
    for n, what in enumerate(("mmio_write", "mmio_read")):
        stop = stop_after(out, n)
        expect(stop and stop[0] == base + CATCH_AFTER[what],
               f"the {what} watchpoint stop is not right after the instruction "
               f"(pc {stop and hex(stop[0])}, expected {base + CATCH_AFTER[what]:#x})", out)
    expect(re.search(r"^0xff000000:\s+0x12345678$", out, re.M), "x/wx of device memory did not read it", out)
    expect("No catches." in out, "gdb's watchpoints were listed as catches", out)
    expect(status == CATCH_EXIT_STATUS, f"the guest did not run to its exit (status {status})", out, err)


@case
def awatch_device_memory(ctx):
    """`awatch` on two bytes inside a 4-byte device register stops on the
    write and on the read that overlap them, reporting the bytes' value;
    the watchpoint goes with `detach`, and the guest runs to its exit."""
    emu, base = catch_guest(ctx)
    show = 'printf "STOP pc=%lx rax=%lx rcx=%lx\\n", $pc, $rax, $rcx'
    rc, out = ctx.run_gdb(["awatch *(unsigned short *)0xff000002", "continue", show, "continue", show, "detach"],
                          target=emu.target_command())
    status, _, err = emu.finish()
    expect(re.search(r"Hardware access \(read/write\) watchpoint 1: \*\(unsigned short \*\)0xff000002\s+"
                     r"Old value = 0\s+New value = 4660", out),
           "the access watchpoint did not report the write of 0x1234 to its bytes", out, err)
    expect(re.search(r"Hardware access \(read/write\) watchpoint 1: \*\(unsigned short \*\)0xff000002\s+"
                     r"Value = 4660", out),
           "the access watchpoint did not report the read", out, err)
    for n, what in enumerate(("mmio_write", "mmio_read")):
        stop = stop_after(out, n)
        expect(stop and stop[0] == base + CATCH_AFTER[what], f"the {what} stop is not past the instruction", out)
    expect(status == CATCH_EXIT_STATUS, f"the guest did not run to its exit after detach (status {status})", out, err)


@case
def device_state(ctx):
    """`monitor info devices` lists the machine's devices with their ranges
    and which show registers; `monitor info device NAME` shows them without
    side effects: COM1's 16550 registers, the PCI host bridge's
    CONFIG_ADDRESS and configuration space (the i440FX, 8086:1237), fw_cfg's
    selector, the CMOS bytes; unknown names are refused."""
    emu, _ = catch_guest(ctx)
    rc, out = ctx.run_gdb([
        "monitor catch mmio 0xff000000 w", "continue", "monitor info devices", "monitor info device COM1",
        "monitor info device pci-conf1", "monitor info device fw_cfg", "monitor info device cmos-rtc",
        "monitor info device isa-debug-exit", "monitor info device nope", "monitor info device COM1", "kill"],
        target=emu.target_command())
    emu.finish()
    expect(re.search(r"^COM1\s+port 0x3f8-0x3ff\s+registers$", out, re.M)
           and re.search(r"^pc-testdev-iomem\s+mmio 0xff000000-0xff00ffff$", out, re.M)
           and re.search(r"^i8042\s+port 0x60-0x60, port 0x64-0x64$", out, re.M),
           "info devices does not list COM1, pc-testdev's buffer and the i8042 with their ranges", out)
    expect(out.count("LSR        = 0x60") == 2 and "divisor    = 0x000c" in out,
           "info device COM1 does not show an idle 16550 (LSR 0x60, divisor 12), twice alike", out)
    expect(re.search(r"^00:00\.0 8086:1237$", out, re.M) and re.search(r"^  00: 86 80 37 12", out, re.M),
           "info device pci-conf1 does not show the i440FX's configuration space", out)
    expect("selector   = 0x" in out and "item size  = 0x" in out, "info device fw_cfg shows no selector", out)
    expect(re.search(r"^index\s+= 0x[0-9a-f]{2}$", out, re.M) and re.search(r"^70:(\s[0-9a-f]{2}){16}$", out, re.M),
           "info device cmos-rtc does not show the index and the 128 bytes", out)
    expect(re.search(r"^written\s+= none$", out, re.M), "info device isa-debug-exit does not say nothing was written",
           out)
    expect("info device: no device nope (info devices lists them)" in out, "an unknown device was not refused", out)


@case
def trace_device_access(ctx):
    """The device-access trace: `monitor trace io on`, then `monitor info io`
    lists the guest's accesses in order with vCPU, pc, direction, port or
    address, size, value and device, filtered by range or device; and
    `-d io -D FILE` without gdb writes every access to the file."""
    emu, base = catch_guest(ctx)
    rc, out = ctx.run_gdb([
        "monitor trace io", "monitor info io", "monitor trace io on", "monitor catch io 0xe8 w", "continue",
        "monitor info io 10", "monitor info io 5 io 0xe0-0xe3", "monitor info io 5 pc-testdev-iomem",
        "monitor info io 5 mmio 9-3", "monitor trace io off", "monitor delete catch 1", "continue"],
        target=emu.target_command())
    status, _, err = emu.finish()
    expect("device-access trace off, 0 accesses recorded" in out and "The device-access trace is off" in out,
           "the trace was not off and empty at first", out)
    line = r"^\s*\d+\.\d{6} CPU#0 pc=0x([0-9a-f]+) (write|read ) (port|mmio) 0x([0-9a-f]+) (\d) 0x([0-9a-f]+) (\S+)$"
    entries = re.findall(line, out, re.M)
    want = [("write", "mmio", "ff000000", "4", "12345678", "pc-testdev-iomem"),
            ("read ", "mmio", "ff000000", "4", "12345678", "pc-testdev-iomem"),
            ("write", "port", "e0", "4", "12345678", "pc-testdev-ioport"),
            ("read ", "port", "e0", "4", "12345678", "pc-testdev-ioport"),
            ("write", "port", "e8", "1", "bb", "pc-testdev-ioport-byte")]
    first_five = [e[1:] for e in entries[:5]]
    expect(first_five == want, f"info io 10 does not list the guest's five accesses in order: {first_five}", out)
    # The pc as KVM has it at the exit: the instruction's, or the next one's
    # where KVM finished the instruction before it exited (e.g. MMIO writes).
    insns = [(5, 11), (11, 13), (13, 15), (17, 19), (33, 35)]
    for (at, after), e in zip(insns, entries[:5]):
        expect(int(e[0], 16) in (base + at, base + after), f"the pc of {e[1:]} is neither its instruction's "
               f"{base + at:#x} nor the next one's", out)
    expect([e[1:] for e in entries[5:7]] == want[2:4], "info io 5 io 0xe0-0xe3 is not the two port accesses", out)
    expect([e[1:] for e in entries[7:9]] == want[0:2], "info io 5 pc-testdev-iomem is not the two MMIO accesses",
           out)
    expect("info io: bad range '9-3'" in out, "a bad filter was accepted", out)
    expect("device-access trace off" in out and status == CATCH_EXIT_STATUS,
           f"trace io off / the run to the exit failed (status {status})", out, err)

    log = os.path.join(ctx.tmp, "io.log")
    path = os.path.join(ctx.tmp, "catch_guest.elf")
    p = subprocess.run([ctx.kvmdbg, "-M", "pc-lite", "-m", "64M", "-kernel", path, "-serial", "none", "-device",
                        "pc-testdev", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-d", "io", "-D", log],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    with open(log) as f:
        logged = re.findall(line, f.read(), re.M)
    expect(p.returncode == CATCH_EXIT_STATUS, f"-d io run ended with {p.returncode}", p.stderr)
    expect([e[1:] for e in logged[:5]] == want and len(logged) == 9 and logged[-1][6] == "isa-debug-exit",
           f"-d io -D logged {len(logged)} accesses, not the 9 the guest makes (the last to isa-debug-exit): "
           f"{logged}", p.stderr)



def irqchip_guest_code():
    """The guest of `irqchip_state`, as machine code (entered in long mode
    at LOAD on every vCPU, tests/kvm/tiny_guest.py). vCPU 0 (its local APIC
    ID, read from 0xfee00020, is 0) programs the interrupt controllers as an
    OS does, then writes pc-testdev's byte port 0xe8 and halts; every other
    vCPU halts at once, its local APIC as KVM reset it:
      PICs: ICW1-4, master at vector 0x20 (slave on IRQ2), slave at 0x28;
            IMRs 0xfb and 0xff; IRQ9 level-triggered (ELCR 0x4d1 = 0x02)
      IOAPIC: pin 1 = vector 0x31 (edge, active-high, unmasked); pin 9 =
            vector 0x39, level, active-low, masked, destination 1; IOREGSEL
            left at 0x22
      local APIC: SVR 0x1ff (software-enabled), TPR 0x20, LINT0 0x10700
            (ExtINT, masked), LINT1 0x400 (NMI), error 0xfe, DCR 0x3
            (divide by 16), timer 0x300ec (periodic, masked), initial count
            0x100000"""
    def out(port, value):  # mov $value, %al; out %al, $port
        return bytes([0xB0, value, 0xE6, port])

    def store(disp, value):  # movl $value, disp32(%rbx)
        return bytes([0xC7, 0x83]) + disp.to_bytes(4, "little") + value.to_bytes(4, "little")

    def store_index(value):  # movl $value, (%rbx)
        return bytes([0xC7, 0x03]) + value.to_bytes(4, "little")

    halt = bytes([0xFA, 0xF4, 0xEB, 0xFD])  # cli; 1: hlt; jmp 1b
    bsp = (out(0x20, 0x11) + out(0x21, 0x20) + out(0x21, 0x04) + out(0x21, 0x01)
           + out(0xA0, 0x11) + out(0xA1, 0x28) + out(0xA1, 0x02) + out(0xA1, 0x01)
           + out(0x21, 0xFB) + out(0xA1, 0xFF)
           + bytes([0x66, 0xBA, 0xD1, 0x04, 0xB0, 0x02, 0xEE])  # mov $0x4d1, %dx; mov $2, %al; out %al, (%dx)
           + bytes([0xBB, 0x00, 0x00, 0xC0, 0xFE])  # mov $0xfec00000, %ebx
           + store_index(0x12) + store(0x10, 0x31)
           + store_index(0x23) + store(0x10, 0x01000000)
           + store_index(0x22) + store(0x10, 0x1A039)
           + bytes([0xBB, 0x00, 0x00, 0xE0, 0xFE])  # mov $0xfee00000, %ebx
           + store(0xF0, 0x1FF) + store(0x80, 0x20) + store(0x350, 0x10700) + store(0x360, 0x400)
           + store(0x370, 0xFE) + store(0x3E0, 0x3) + store(0x320, 0x300EC) + store(0x380, 0x100000)
           + out(0xE8, 0x55) + halt)
    head = bytes([0xFA,                          # cli
                  0xBB, 0x00, 0x00, 0xE0, 0xFE,  # mov $0xfee00000, %ebx
                  0x8B, 0x43, 0x20,              # mov 0x20(%rbx), %eax  (local APIC ID)
                  0xC1, 0xE8, 0x18,              # shr $24, %eax
                  0x85, 0xC0,                    # test %eax, %eax
                  0x74, 0x04])                   # jz bsp (over the APs' halt)
    return head + halt + bsp


@case
def irqchip_state(ctx):
    """`monitor info pic`, `info ioapic` and `info lapic [N]` read the
    in-kernel irqchip (KVM_GET_IRQCHIP, KVM_GET_LAPIC) and decode what the
    guest programmed: the PICs' vector bases, IMRs and ELCR, two IOAPIC
    redirection entries among 22 still masked from reset, vCPU 0's local
    APIC (SVR enabled, TPR, LVTs, timer) and vCPU 1's as KVM reset it (ID 1,
    SVR software-disabled); an unknown vCPU is refused."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kvm"))
    import tiny_guest
    path = tiny_guest.write_elf64(ctx.tmp, "irqchip_guest.elf", irqchip_guest_code())
    args = ["-M", "pc-lite", "-m", "64M", "-smp", "2", "-kernel", path, "-serial", "stdio", "-S",
            "-device", "pc-testdev"]
    emu = ctx.Emulator(ctx.kvmdbg, args, "tcp", ctx.tmp)
    rc, out = ctx.run_gdb([
        "monitor catch io 0xe8 w", "continue", "monitor info pic", "monitor info ioapic", "monitor info lapic",
        "monitor info lapic 1", "monitor info lapic 2", "monitor info lapic x", "kill"],
        target=emu.target_command(), timeout=100)
    emu.finish()
    expect("Catch 1: CPU#0 wrote 0x55 to port 0xe8" in out, "the guest did not reach its port write", out)
    expect(re.search(r"^master PIC: irr=0x[0-9a-f]{2} imr=0xfb isr=0x00 elcr=0x00 \(mask 0xf8\), "
                     r"vector base 0x20 \(IRQ0-7: 0x20-0x27\)$", out, re.M)
           and re.search(r"^slave PIC: irr=0x[0-9a-f]{2} imr=0xff isr=0x00 elcr=0x02 \(mask 0xde\), "
                         r"vector base 0x28 \(IRQ8-15: 0x28-0x2f\)$", out, re.M),
           "info pic does not show the vector bases, IMRs and ELCR the guest programmed", out)
    expect(out.count("  init: initialised, ICW4 used") == 2 and re.search(r"; level-triggered: 9$", out, re.M),
           "info pic does not show both PICs initialised with IRQ9 level-triggered", out)
    expect(re.search(r"^IOAPIC: id 0x00, base 0xfec00000, IOREGSEL 0x22, ", out, re.M),
           "info ioapic's header is not the IOAPIC at 0xfec00000 with IOREGSEL 0x22", out)
    expect(re.search(r"^  pin  1: 0x0000000000000031 vector 0x31 fixed    physical dest 0x00 active-high edge  "
                     r"unmasked$", out, re.M)
           and re.search(r"^  pin  9: 0x010000000001a039 vector 0x39 fixed    physical dest 0x01 active-low  level "
                         r"masked$", out, re.M),
           "info ioapic does not decode pins 1 and 9 as the guest programmed them", out)
    masked = re.findall(r"^  pin +\d+: 0x0000000000010000 vector 0x00 fixed    physical dest 0x00 active-high "
                        r"edge  masked$", out, re.M)
    expect(len(masked) == 22, f"{len(masked)} pins, not the 22 the guest left alone, at KVM's reset value", out)
    bsp = out[out.find("CPU#0 local APIC"):]
    expect(bsp.startswith("CPU#0 local APIC: ID 0x00, version 0x"), "info lapic does not show vCPU 0's", out)
    for line in ("  SVR 0x000001ff: software-enabled, spurious vector 0xff,",
                 "  TPR 0x20, PPR 0x20,",
                 "  LVT timer   0x000300ec: vector 0xec, periodic, masked\n",
                 "  LVT LINT0   0x00010700: vector 0x00, ExtINT, active-high, edge, masked\n",
                 "  LVT LINT1   0x00000400: vector 0x00, NMI, active-high, edge, unmasked\n",
                 "  LVT error   0x000000fe: vector 0xfe, unmasked\n"):
        expect(line in bsp, f"vCPU 0's local APIC lacks {line.strip()!r}", out)
    timer = re.search(r"^  timer: initial count 0x00100000, current count 0x([0-9a-f]{8}), divide by 16 \(DCR 0x3\)$",
                      bsp, re.M)
    expect(timer and int(timer.group(1), 16) <= 0x100000, "vCPU 0's timer is not counting down from 0x100000", out)
    expect(re.search(r"^CPU#1 local APIC: ID 0x01, ", out, re.M)
           and re.search(r"^  SVR 0x000000ff: software-disabled, spurious vector 0xff,", out[out.find("CPU#1"):],
                         re.M),
           "vCPU 1's local APIC is not ID 1, software-disabled as KVM reset it", out)
    expect("info lapic: no vCPU 2 (vCPUs 0-1)" in out and "usage: info lapic [N]" in out,
           "info lapic accepted an unknown vCPU or a bad number", out)


@case
def irqchip_off(ctx):
    """With kernel-irqchip=off, `monitor info pic`, `info ioapic` and `info
    lapic` each say in one line that there is no in-kernel irqchip."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kvm"))
    import tiny_guest
    path = tiny_guest.write_elf64(ctx.tmp, "irqchip_guest.elf", irqchip_guest_code())
    args = ["-M", "pc-lite,kernel-irqchip=off", "-m", "64M", "-kernel", path, "-serial", "stdio", "-S"]
    emu = ctx.Emulator(ctx.kvmdbg, args, "tcp", ctx.tmp)
    rc, out = ctx.run_gdb(["monitor info pic", "monitor info ioapic", "monitor info lapic", "kill"],
                          target=emu.target_command(), timeout=100)
    emu.finish()
    for command in ("info pic", "info ioapic", "info lapic"):
        expect(f"{command}: this VM has no in-kernel irqchip (kernel-irqchip=off)" in out,
               f"{command} without an in-kernel irqchip does not say so", out)


def thread_nice_values(pid):
    """{tid: nice} of every thread of process `pid` (/proc/PID/task/TID/stat,
    field 19; counted after the command name's closing parenthesis)."""
    nices = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            nices[int(tid)] = int(f.read().rsplit(")", 1)[1].split()[16])
    return nices


@case
def stub_thread_priority(ctx):
    """With a gdb stub, kvmdbg's main thread (the stub's) runs at nice -5
    and the vCPU threads stay at kvmdbg's own nice value (0), so that a
    Ctrl-C's wake-up of the stub preempts a busy vCPU on a host with fewer
    CPUs than vCPUs (system/stub_thread_priority.h). KVMDBG_STUB_NICE=0
    leaves the main thread as it is; a malformed value is refused."""
    probe = subprocess.run(["nice", "-n", "-1", "true"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stderr.strip():
        print("SKIP: this process may not raise a priority (CAP_SYS_NICE, RLIMIT_NICE): "
              + probe.stderr.strip())
        return 77
    emu = ctx.emulator("debug_target.elf64", ["-smp", "2"])
    nices = thread_nice_values(emu.proc.pid)
    rc, out = ctx.run_gdb(["kill"], target=emu.target_command())
    emu.finish()
    main_nice = nices.pop(emu.proc.pid)
    expect(main_nice == -5, f"main thread at nice {main_nice}, expected -5: {nices}", out)
    expect(sum(1 for n in nices.values() if n == 0) >= 2, f"not two vCPU threads at nice 0: {nices}", out)
    os.environ["KVMDBG_STUB_NICE"] = "0"
    try:
        emu = ctx.emulator("debug_target.elf64")
        left = thread_nice_values(emu.proc.pid)[emu.proc.pid]
        ctx.run_gdb(["kill"], target=emu.target_command())
        emu.finish()
        expect(left == 0, f"KVMDBG_STUB_NICE=0: main thread at nice {left}")
        os.environ["KVMDBG_STUB_NICE"] = "-99"
        bad = subprocess.run([ctx.kvmdbg, "-M", "pc-lite", "-m", "64M", "-kernel", ctx.guest("debug_target.elf64"),
                              "-S", "-gdb", "tcp:127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    finally:
        del os.environ["KVMDBG_STUB_NICE"]
    expect(bad.returncode != 0 and "KVMDBG_STUB_NICE=-99: expected a nice value from -20 to 19" in bad.stderr,
           f"a malformed KVMDBG_STUB_NICE was not refused (exit {bad.returncode})", bad.stderr)


CASES = {
    "connect_registers": connect_registers,
    "hbreak_continue_bt": hbreak_continue_bt,
    "break_software": break_software,
    "stepi_exact": stepi_exact,
    "registers_written_read_back": registers_written_read_back,
    "watch_write": watch_write,
    "threads_smp": threads_smp,
    "interrupt_running": interrupt_running,
    "conditional_in_stub": conditional_in_stub,
    "detach_reattach": detach_reattach,
    "kill_ends": kill_ends,
    "memory_map_rom": memory_map_rom,
    "monitor_system_reset": monitor_system_reset,
    "unix_socket": unix_socket,
    "stdio_pipe": stdio_pipe,
    "hostile_client": hostile_client,
    "lldb_session": lldb_session,
    "catch_device_access": catch_device_access,
    "catch_gone_after_detach": catch_gone_after_detach,
    "trace_device_access": trace_device_access,
    "catch_condition": catch_condition,
    "device_state": device_state,
    "catch_com1_and_debug_exit": catch_com1_and_debug_exit,
    "watch_device_memory": watch_device_memory,
    "awatch_device_memory": awatch_device_memory,
    "irqchip_state": irqchip_state,
    "irqchip_off": irqchip_off,
    "stub_thread_priority": stub_thread_priority,
}
