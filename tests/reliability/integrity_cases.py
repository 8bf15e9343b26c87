"""Guest-state integrity (docs/reliability.md): whatever a debugger does, the guest's
memory ends as in a run without one. The integrity guest hashes its whole
image at the end (integrity.c); every case compares that line and the exit
status with a run that had no debugger at all."""
import os
import random
import signal
import subprocess
import time

import rsp_client
from rel_support import Failure, expect, integrity_line, INTEGRITY_STATUS

W_INTEGRITY = "W%02x" % INTEGRITY_STATUS

# Seeds run by default; KVMDBG_REL_SEED=N runs that one seed instead.
DEFAULT_SEEDS = [1, 2, 3, 4, 5, 6]
MAX_OPS = 40


def _targets(syms):
    code = [syms[n] for n in ("heartbeat", "mix_a", "mix_b", "mix_c", "mix_d", "after_smc", "smc_site")]
    code += [syms["mix_a"] + 4, syms["smc_site"] + 1]          # inside instructions: never hit
    data = [syms["scratch_page"] + k for k in (0, 61, 122, 4000)] + [syms["state"]]
    return code + data


class Sequence:
    """One random debugging session over the raw protocol. Logs each op."""

    def __init__(self, emu, rng, syms, log):
        self.emu, self.rng, self.syms, self.log = emu, rng, syms, log
        self.client = None
        self.inserted = {}   # (kind, addr) -> count
        self.guard = syms["before_hash"]
        self.done = False    # the guest is past the interesting part or ended
        self.counts = {}     # operation kind -> how many were done

    def connect(self):
        if not self.emu.alive():
            self.done = True
            return False
        try:
            self.client, reply = rsp_client.connect_retry(self.emu.endpoint)
        except (rsp_client.ProtocolError, OSError) as e:
            if not self.emu.alive():
                self.done = True
                return False
            raise Failure(f"reconnect failed: {e}")
        self.log.append(f"connect -> {reply}")
        self.inserted = {}
        r = self.client.request("Z1,%x,1" % self.guard)
        expect(r == "OK", f"guard breakpoint refused: {r}")
        return True

    def stop_reply(self, reply, what):
        self.log.append(f"{what} -> {reply[:40]}")
        if reply.startswith("W"):
            expect(reply == W_INTEGRITY, f"{what}: guest ended with {reply}", "\n".join(self.log))
            self.done = True
            self.client.close()
            return
        expect(reply.startswith("T05") or reply.startswith("S05"), f"{what}: unexpected stop {reply}",
               "\n".join(self.log))
        if self.client.pc() == self.guard:
            self.done = True

    def op(self):
        c, rng = self.client, self.rng
        kind = rng.choices(["insert", "remove", "step", "cont", "read", "detach", "disconnect"],
                           [30, 20, 15, 20, 6, 4, 5])[0]
        if kind == "cont" and not self.inserted:
            kind = "insert"   # a continue with only the guard would end the session at once
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "insert":
            z = rng.choice([0, 1])
            addr = rng.choice(_targets(self.syms))
            r = c.request("Z%d,%x,1" % (z, addr))
            self.log.append(f"Z{z},{addr:x} -> {r}")
            if r == "OK":
                self.inserted[(z, addr)] = self.inserted.get((z, addr), 0) + 1
            else:
                expect(r.startswith("E"), f"Z{z} reply {r}")
        elif kind == "remove" and self.inserted:
            (z, addr) = rng.choice(sorted(self.inserted))
            r = c.request("z%d,%x,1" % (z, addr))
            self.log.append(f"z{z},{addr:x} -> {r}")
            expect(r == "OK", f"z{z},{addr:x} -> {r}", "\n".join(self.log))
            self.inserted[(z, addr)] -= 1
            if self.inserted[(z, addr)] == 0:
                del self.inserted[(z, addr)]
        elif kind == "step":
            self.stop_reply(c.resume(rng.choice(["s", "vCont;s:1"])), "step")
        elif kind == "cont":
            self.stop_reply(c.resume(rng.choice(["c", "vCont;c"])), "continue")
        elif kind == "read":
            addr = rng.choice(_targets(self.syms)) - 8
            data = c.read_memory(addr, 32)
            self.log.append(f"m{addr:x},32 -> {len(data)} bytes")
        elif kind == "detach":
            r = c.request("D")
            self.log.append(f"D -> {r}")
            expect(r == "OK", f"D -> {r}")
            c.close()
            self.connect()
        elif kind == "disconnect":
            c.close()
            self.log.append("disconnect")
            self.connect()

    def finish(self):
        """Lets the guest run to its end in one of three ways."""
        if not self.emu.alive() or self.client is None:
            return
        how = self.rng.choice(["detach", "disconnect", "remove_all_continue"])
        self.counts["finish by " + how] = 1
        self.log.append(f"finish: {how}")
        try:
            if how == "detach":
                self.client.request("D")
            elif how == "remove_all_continue":
                for (z, addr), n in sorted(self.inserted.items()):
                    for _ in range(n):
                        expect(self.client.request("z%d,%x,1" % (z, addr)) == "OK", "final remove failed")
                expect(self.client.request("z1,%x,1" % self.guard) == "OK", "guard remove failed")
                self.stop_reply(self.client.resume("c"), "final continue")
        except (rsp_client.ProtocolError, OSError):
            pass  # the guest may end while we speak: checked by the caller
        self.client.close()


def integrity_random_sequences(ctx):
    """Random inserts (Z0/Z1 on code and data), removes, steps, continues,
    memory reads, detaches and disconnects, then one of detach / disconnect /
    remove everything + continue: the guest's end line (hash of its whole
    image) and status equal the debugger-free run's."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    seeds = [int(os.environ["KVMDBG_REL_SEED"])] if os.environ.get("KVMDBG_REL_SEED") else DEFAULT_SEEDS
    for seed in seeds:
        rng = random.Random(seed)
        log = [f"seed {seed}"]
        print(f"seed {seed} (rerun one with KVMDBG_REL_SEED={seed})", flush=True)
        emu = ctx.emulator()
        seq = Sequence(emu, rng, syms, log)
        seq.connect()
        for _ in range(rng.randint(5, MAX_OPS)):
            if seq.done:
                break
            seq.op()
        seq.finish()
        status, out, err = emu.finish()
        expect(status == status0 and integrity_line(out) == line0,
               f"seed {seed}: status {status}, line {integrity_line(out)!r}; without a debugger: {status0}, {line0!r}",
               "\n".join(log), out, err)
        ops = ", ".join(f"{k} {v}" for k, v in sorted(seq.counts.items()))
        print(f"  {ops}: the guest ended as without a debugger", flush=True)


def guest_overwrites_breakpoint(ctx):
    """Breakpoints on bytes the guest rewrites (the immediate of smc_site,
    scratch_page bytes; four in all, as many as the hardware slots that
    serve them on hosts that cannot intercept int3): after the guest's write and the debugger's remove,
    memory holds the guest's bytes, the rewritten code ran, and the end
    hash is the debugger-free one."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    emu = ctx.emulator()
    c, _ = rsp_client.connect_retry(emu.endpoint)
    imm = syms["smc_site"] + 1
    scratch = syms["scratch_page"] + 61 * 5   # mix_d writes it in round 5
    before = c.read_memory(imm, 4)
    expect(before == b"\x11" * 4, f"smc_site immediate is {before.hex()} before the run")
    for z, addr in ((0, imm + 2), (0, scratch), (1, scratch + 1)):
        r = c.request("Z%d,%x,1" % (z, addr))
        expect(r == "OK", f"Z{z},{addr:x} -> {r}")
    expect(c.request("Z1,%x,1" % syms["after_smc"]) == "OK", "hbreak after_smc refused")
    stop = c.resume("c")
    expect(stop.startswith("T05") and c.pc() == syms["after_smc"], f"no stop at after_smc: {stop}")
    for z, addr in ((0, imm + 2), (0, scratch), (1, scratch + 1), (1, syms["after_smc"])):
        r = c.request("z%d,%x,1" % (z, addr))
        expect(r == "OK", f"z{z},{addr:x} -> {r}")
    after = c.read_memory(imm, 4)
    expect(after == b"\x22" * 4, f"smc_site immediate is {after.hex()} after remove, expected the guest's 22222222")
    smc = int.from_bytes(c.read_memory(syms["smc_result"], 4), "little")
    expect(smc == 0x22222222, f"smc_result {smc:#x}: the rewritten code did not run")
    stop = c.resume("c")
    expect(stop == W_INTEGRITY, f"final continue -> {stop}")
    c.close()
    status, out, err = emu.finish()
    expect(status == status0 and integrity_line(out) == line0, f"end line {integrity_line(out)!r} != {line0!r}",
           out, err)


def gdb_sigkill(ctx):
    """Real gdb with `break` and `hbreak` inserted (always-inserted on) is
    killed with SIGKILL while the guest is stopped: kvmdbg removes every
    breakpoint, the guest runs on and ends exactly as without a debugger."""
    import shutil
    if shutil.which("gdb") is None:
        from rel_support import Skip
        raise Skip("gdb is not installed")
    status0, line0 = ctx.baseline()
    emu = ctx.emulator()
    marker = os.path.join(ctx.tmp, "stopped")
    cmd = ["gdb", "-batch", "-nx", "-ex", "set confirm off", "-ex", "file " + ctx.integrity,
           "-ex", "set breakpoint always-inserted on", "-ex", "target remote " + emu.endpoint,
           "-ex", "break mix_b", "-ex", "hbreak mix_c", "-ex", "break *(smc_site+1)",
           "-ex", "continue", "-ex", "continue", "-ex", "continue",
           "-ex", "print round_index", "-ex", "shell touch " + marker, "-ex", "shell sleep 60"]
    gdb = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           start_new_session=True)
    deadline = time.time() + 30
    while not os.path.exists(marker) and time.time() < deadline and gdb.poll() is None:
        time.sleep(0.05)
    stopped = os.path.exists(marker)
    os.killpg(gdb.pid, signal.SIGKILL)   # gdb and its `shell sleep`
    out = gdb.communicate()[0].decode(errors="replace")
    expect(stopped, "gdb never reached its third stop", out)
    expect("$1 = 1" in out, "gdb was not stopped in round 1", out)
    status, sout, err = emu.finish()
    expect("the debugger went away" in err, "kvmdbg did not notice gdb's death", err)
    expect(status == status0 and integrity_line(sout) == line0,
           f"after SIGKILL: status {status}, line {integrity_line(sout)!r}; without a debugger {line0!r}",
           out, sout, err)


CASES = {
    "integrity_random_sequences": integrity_random_sequences,
    "guest_overwrites_breakpoint": guest_overwrites_breakpoint,
    "gdb_sigkill": gdb_sigkill,
}
