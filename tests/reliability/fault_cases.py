"""Faults (docs/reliability.md): KVM_RUN failing with EINTR/EAGAIN (injected by the
kvm_run_fault.so LD_PRELOAD shim, or real signals), a fatal vCPU exit or a
KVM_RUN error while gdb is attached, a client that stops reading, a slow
client, 1,000 connect/disconnect cycles."""
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import rsp_client
from rel_support import Failure, Skip, expect, integrity_line

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kvm"))
import tiny_guest  # noqa: E402

SIGSEGV_STOP = "T0b"


def shim_report(err, status=None):
    m = re.search(r"kvm_run_fault: (\d+) KVM_RUN calls, (\d+) failed with (\w+), (\d+) real EINTR", err)
    expect(m, f"the kvm_run_fault shim did not report (not preloaded?); kvmdbg exit status {status}", err)
    return int(m.group(1)), int(m.group(2)), int(m.group(4))


def stepping_trace(ctx, env=None):
    """hbreak mix_a, continue, 20 single steps, 3 continues, then run to the
    end: returns (pcs, stop replies, status, end line, stderr)."""
    syms = ctx.symbols(ctx.integrity)
    emu = ctx.emulator(env=env)
    c, _ = rsp_client.connect_retry(emu.endpoint)
    pcs, stops = [], []
    expect(c.request("Z1,%x,1" % syms["mix_a"]) == "OK", "hbreak mix_a refused")
    stops.append(c.resume("c"))
    for _ in range(20):
        stops.append(c.resume("s"))
        pcs.append(c.pc())
    for _ in range(3):
        stops.append(c.resume("c"))
        pcs.append(c.pc())
        pcs.append(int.from_bytes(c.read_memory(syms["round_index"], 4), "little"))
    expect(c.request("z1,%x,1" % syms["mix_a"]) == "OK", "remove mix_a failed")
    stops.append(c.resume("c"))
    c.close()
    status, out, err = emu.finish()
    return pcs, stops, status, integrity_line(out), err


def _kvm_run_injected(ctx, errno_name):
    status0, line0 = ctx.baseline()
    ref = stepping_trace(ctx)
    env = {"LD_PRELOAD": ctx.fault_shim, "KVMDBG_FAULT_KVM_RUN": f"{errno_name}:2"}
    got = stepping_trace(ctx, env)
    calls, injected, _ = shim_report(got[4])
    print(f"{errno_name}: {injected} of {calls} KVM_RUN calls failed", flush=True)
    expect(injected >= 10, f"only {injected} {errno_name} injected", got[4])
    expect(got[0] == ref[0], f"pc/round trace differs under {errno_name}:\n{got[0]}\n{ref[0]}", got[4])
    expect(got[1] == ref[1], f"stop replies differ under {errno_name}: {got[1]} vs {ref[1]}", got[4])
    expect(got[2] == status0 and got[3] == line0, f"end under {errno_name}: {got[2]} {got[3]!r} vs {line0!r}", got[4])
    # And a free run with no debugger at all.
    emu = ctx.emulator(stopped=False, gdb=(), env=env)
    status, out, err = emu.finish()
    expect(status == status0 and integrity_line(out) == line0, f"free run under {errno_name}", out, err)
    calls, injected, _ = shim_report(err)
    expect(calls > 0, "the free run made no KVM_RUN call through the shim", err)


def kvm_run_eintr(ctx):
    """Every 2nd eligible KVM_RUN fails with EINTR (KVM_EXIT_INTR): steps,
    continues and the end state are exactly those of an undisturbed run."""
    _kvm_run_injected(ctx, "EINTR")


def kvm_run_eagain(ctx):
    """Every 2nd eligible KVM_RUN fails with EAGAIN: as for EINTR."""
    _kvm_run_injected(ctx, "EAGAIN")


def _wait_signal_caught(pid, sig, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                caught = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
        except (FileNotFoundError, StopIteration):
            return
        if caught & (1 << (sig - 1)):
            return
        time.sleep(0.001)


def _tgkill_all(pid, sig, rounds):
    libc = ctypes.CDLL(None, use_errno=True)
    sent = 0
    for _ in range(rounds):
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except FileNotFoundError:
            break
        for tid in tids:
            if libc.syscall(234, pid, tid, sig) == 0:  # tgkill(2), x86-64
                sent += 1
        time.sleep(0.0005)
    return sent


def kvm_run_signal_storm(ctx):
    """Real signals: SIGUSR1 (the vCPU kick signal, whose handler does
    nothing) sent with tgkill to every kvmdbg thread while the guest runs.
    KVM_RUN really returns EINTR (counted by the shim in count mode) and the
    guest ends exactly as undisturbed."""
    status0, line0 = ctx.baseline()
    env = {"LD_PRELOAD": ctx.fault_shim, "KVMDBG_FAULT_KVM_RUN": "count"}
    quiet = ctx.emulator(stopped=False, gdb=(), env=env)
    qstatus, qout, qerr = quiet.finish()
    _, _, quiet_eintr = shim_report(qerr, qstatus)
    emu = ctx.emulator(stopped=False, gdb=(), env=env)
    # SIGUSR1's default action ends the process: wait until kvmdbg has
    # installed its kick handler (SigCgt in /proc/PID/status), which a slow
    # start (a sanitizer build, a loaded machine) can delay past any fixed sleep.
    _wait_signal_caught(emu.proc.pid, signal.SIGUSR1)
    sent = _tgkill_all(emu.proc.pid, signal.SIGUSR1, 400)
    status, out, err = emu.finish()
    _, _, storm_eintr = shim_report(err, status)
    print(f"{sent} signals sent; KVM_RUN returned EINTR {storm_eintr} times (quiet run: {quiet_eintr})")
    expect(qstatus == status0 and integrity_line(qout) == line0, "quiet counted run differs", qout, qerr)
    expect(storm_eintr > quiet_eintr, "the signals never interrupted KVM_RUN", err)
    expect(status == status0 and integrity_line(out) == line0,
           f"under signals: status {status} line {integrity_line(out)!r} vs {line0!r}", out, err)


def _fatal_guest(ctx, name, code):
    path = os.path.join(ctx.tmp, name)
    with open(path, "wb") as f:
        f.write(tiny_guest.elf64(code))
    return path


def fatal_exit_under_gdb(ctx):
    """An internal error (int3 in long mode: an emulation failure on hosts
    that cannot intercept it, a #BP with no IDT -> triple fault elsewhere)
    and a triple fault (ud2 with no IDT) while a debugger is attached:
    a SIGSEGV stop (T0b), registers and memory readable, continuing gives the
    same stop again, kill ends kvmdbg with 0. Real gdb prints
    `Program received signal SIGSEGV` for the triple fault."""
    load = tiny_guest.LOAD_ADDR
    for name, code in (("int3.elf64", bytes([0x90, 0x90, 0xCC, 0x90, 0xF4])),
                       ("ud2.elf64", bytes([0x90, 0x90, 0x0F, 0x0B, 0xF4]))):
        emu = ctx.emulator(_fatal_guest(ctx, name, code), extra=["-no-reboot"])
        c, _ = rsp_client.connect_retry(emu.endpoint)
        stop = c.resume("c")
        expect(stop.startswith(SIGSEGV_STOP), f"{name}: stop {stop}, expected a SIGSEGV stop",
               emu.stderr_text())
        pc = c.pc()
        expect(load <= pc < load + len(code), f"{name}: pc {pc:#x} outside the code")
        expect(c.read_memory(load, len(code)) == code, f"{name}: guest code unreadable or changed")
        again = c.resume("c")
        expect(again.startswith(SIGSEGV_STOP), f"{name}: second continue -> {again}")
        expect(c.pc() == pc, f"{name}: pc moved on the second fatal stop")
        c.send_raw(rsp_client.frame("k"))
        c.close()
        status, _, err = emu.finish()
        expect(status == 0, f"{name}: kvmdbg exited {status} after k", err)
        print(f"{name}: SIGSEGV stop at {pc:#x}, inspectable, killed cleanly")
    if shutil.which("gdb") is None:
        raise Skip("gdb is not installed (the raw-protocol part passed)")
    emu = ctx.emulator(_fatal_guest(ctx, "ud2g.elf64", bytes([0x90, 0x0F, 0x0B])), extra=["-no-reboot"])
    p = subprocess.run(["gdb", "-batch", "-nx", "-ex", "target remote " + emu.endpoint, "-ex", "continue",
                        "-ex", "printf \"PC=%lx\\n\", $pc", "-ex", "x/2xb $pc", "-ex", "kill"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    status, _, err = emu.finish()
    expect("Program received signal SIGSEGV" in out, "gdb did not report SIGSEGV", out, err)
    expect(re.search(r"PC=%x" % (load + 1), out), "gdb's pc is not at the ud2", out)
    expect(re.search(r"0x0f\s+0x0b", out), "gdb cannot read the code at the fault", out)
    expect(status == 0, f"kvmdbg exited {status}", err)


def fatal_exit_after_detach(ctx):
    """gdb detaches from a guest whose next instruction is fatal (int3 at the
    entry: an emulation failure here, a triple fault with no IDT elsewhere;
    -no-reboot): the error is handled as without a debugger, kvmdbg exits 1
    with its report, 8 times in a row. The fatal exit races with the detach;
    before the fix in Emulator::dispatch_stops kvmdbg sometimes kept the vCPU
    parked for a debugger that had gone, and never ended."""
    guest = _fatal_guest(ctx, "int3_entry.elf64", bytes([0xCC, 0x90, 0xF4]))
    for i in range(8):
        emu = ctx.emulator(guest, extra=["-no-reboot"])
        c, _ = rsp_client.connect_retry(emu.endpoint)
        expect(c.request("D") == "OK", "D refused")
        c.close()
        status, _, err = emu.finish(timeout=10)
        expect(status == 1 and "KVM" in err and "killed by the test" not in err,
               f"run {i}: kvmdbg ended with {status} after the detach", err)
    print("8 detaches before a fatal instruction: kvmdbg exited 1 each time")


def kvm_run_error_under_gdb(ctx):
    """KVM_RUN fails with EFAULT once (shim) while gdb is attached: a
    SIGSEGV stop, registers and memory readable; continuing re-enters
    KVM_RUN and the guest ends exactly as undisturbed."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    env = {"LD_PRELOAD": ctx.fault_shim, "KVMDBG_FAULT_KVM_RUN": "EFAULT@6"}
    emu = ctx.emulator(env=env)
    c, _ = rsp_client.connect_retry(emu.endpoint)
    expect(c.request("Z1,%x,1" % syms["heartbeat"]) == "OK", "hbreak heartbeat refused")
    stops = []
    for _ in range(20):
        stops.append(c.resume("c"))
        if stops[-1].startswith(SIGSEGV_STOP):
            break
    expect(stops[-1].startswith(SIGSEGV_STOP), f"no SIGSEGV stop: {stops}", emu.stderr_text())
    expect(all(s.startswith("T05") for s in stops[:-1]), f"stops before the error: {stops}")
    pc = c.pc()
    expect(c.read_memory(syms["round_index"], 4) is not None and pc != 0, "state unreadable")
    expect(c.request("z1,%x,1" % syms["heartbeat"]) == "OK", "remove failed")
    end = c.resume("c")
    c.close()
    status, out, err = emu.finish()
    expect(end == "W%02x" % status0, f"continue after the error -> {end}", err)
    expect("KVM_RUN failed" in err, "kvmdbg did not report the KVM_RUN error", err)
    expect(status == status0 and integrity_line(out) == line0, f"end line {integrity_line(out)!r}", out, err)
    _, injected, _ = shim_report(err)
    expect(injected == 1, f"{injected} EFAULTs injected, expected 1", err)


def client_stops_reading(ctx):
    """A client that never reads: (1) 40 MiB of replies queued (under the
    64 MiB cap), then `c`: the guest runs to its end and kvmdbg exits on its
    own, no deadlock; (2) 80 MiB requested: kvmdbg drops the client at the
    cap, says so, resumes the guest, which ends as undisturbed."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    req = rsp_client.frame("m%x,10000" % syms["state"])   # 64 KiB -> 128 KiB of hex
    for count, dropped in ((320, False), (640, True)):
        emu = ctx.emulator()
        c, _ = rsp_client.connect_retry(emu.endpoint)
        c.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
        started = time.time()
        c.send_raw(req * count)
        if not dropped:
            c.send_raw(rsp_client.frame("c"))
        status, out, err = emu.finish(timeout=40)
        took = time.time() - started
        c.close()
        print(f"{count} unread 128 KiB replies: kvmdbg ended in {took:.1f} s with {status}")
        expect(status == status0 and integrity_line(out) == line0,
               f"{count} unread replies: status {status}, line {integrity_line(out)!r}", out, err)
        expect(("stopped reading" in err) == dropped,
               f"{count} unread replies: drop message {'missing' if dropped else 'unexpected'}", err)


def slow_client(ctx):
    """A client that sends one byte every 2 ms and reads one byte at a time:
    every reply is right, and the guest ends as undisturbed."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    emu = ctx.emulator()
    c, _ = rsp_client.connect_retry(emu.endpoint)
    c.buf = b""

    def slow_request(payload):
        for b in rsp_client.frame(payload):
            c.sock.sendall(bytes([b]))
            time.sleep(0.002)
        while True:   # read byte by byte until a whole packet is there
            start = c.buf.find(b"$")
            end = c.buf.find(b"#", start) if start >= 0 else -1
            if end >= 0 and len(c.buf) >= end + 3:
                return c.read_packet()
            chunk = c.sock.recv(1)
            expect(chunk, "kvmdbg closed the slow client")
            c.buf += chunk

    expect(slow_request("Z1,%x,1" % syms["mix_c"]) == "OK", "slow Z1")
    stop = slow_request("c")
    expect(stop.startswith("T05"), f"slow c -> {stop}")
    regs = slow_request("g")
    pc = int.from_bytes(bytes.fromhex(regs[16 * 16:17 * 16]), "little")
    expect(pc == syms["mix_c"], f"slow client: pc {pc:#x} != mix_c")
    mem = slow_request("m%x,4" % syms["smc_site"])
    expect(mem == "b8111111", f"slow m -> {mem}")
    expect(slow_request("z1,%x,1" % syms["mix_c"]) == "OK", "slow z1")
    end = slow_request("c")
    c.close()
    status, out, err = emu.finish()
    expect(end == "W%02x" % status0 and integrity_line(out) == line0, f"slow client end {end}", out, err)


def connect_cycles(ctx):
    """1,000 connect / `?` / disconnect (D, or just closing) cycles on a
    running guest: each is served, kvmdbg's open fd count does not grow, and a session afterwards
    works (breakpoint hit at the right pc)."""
    syms = ctx.symbols(ctx.guest("stepper.elf64"))
    emu = ctx.emulator(ctx.guest("stepper.elf64"), stopped=False)
    pid = emu.proc.pid

    def fds():
        return len(os.listdir(f"/proc/{pid}/fd"))

    c, _ = rsp_client.connect_retry(emu.endpoint)
    c.close()
    time.sleep(0.1)
    before = fds()
    started = time.time()
    served = 0
    stats = {}
    for i in range(1000):
        c, reply = rsp_client.connect_retry(emu.endpoint, stats=stats)
        expect(reply.startswith("T") or reply.startswith("S"), f"? -> {reply}")
        served += 1
        if i % 2:
            c.close()                      # vanish: kvmdbg treats it as a detach
        else:
            c.send_raw(rsp_client.frame("D"))
            c.sock.settimeout(5)
            while True:                    # OK, then kvmdbg closes
                try:
                    if not c.sock.recv(4096):
                        break
                except OSError:
                    break
            c.close()
    took = time.time() - started
    time.sleep(0.2)
    after = fds()
    print(f"{served} cycles (half detach, half vanish) in {took:.1f} s, {stats.get('refused', 0)} connects "
          f"refused while the previous client was being dropped; kvmdbg fds {before} -> {after}")
    expect(emu.alive(), "kvmdbg died during the cycles", emu.stderr_text())
    expect(after <= before, f"fd count grew from {before} to {after}")
    c, _ = rsp_client.connect_retry(emu.endpoint)
    expect(c.request("Z1,%x,1" % syms["stepper_3"]) == "OK", "hbreak after the cycles refused")
    stop = c.resume("c")
    expect(stop.startswith("T05") and c.pc() == syms["stepper_3"], f"no stop at stepper_3 after the cycles: {stop}")
    c.send_raw(rsp_client.frame("k"))
    c.close()
    status, _, err = emu.finish()
    expect(status == 0, f"kvmdbg exited {status}", err[-2000:])


CASES = {
    "kvm_run_eintr": kvm_run_eintr,
    "kvm_run_eagain": kvm_run_eagain,
    "kvm_run_signal_storm": kvm_run_signal_storm,
    "fatal_exit_under_gdb": fatal_exit_under_gdb,
    "fatal_exit_after_detach": fatal_exit_after_detach,
    "kvm_run_error_under_gdb": kvm_run_error_under_gdb,
    "client_stops_reading": client_stops_reading,
    "slow_client": slow_client,
    "connect_cycles": connect_cycles,
}
