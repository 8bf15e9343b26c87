#!/usr/bin/env python3
"""libkvmdbg's gdb stub (sdk/gdbstub.h) against real gdb, without /dev/kvm.

  gdbstub_gdb.py FAKE_HOST CASE

FAKE_HOST is tests/sdk/fake_gdb_host, a pretend x86-64 machine that serves
itself through the stub (its comment says what it does). Each CASE starts
one fake host, runs `gdb -batch -nx` against it over a transport (tcp,
unix socket, stdio), checks what gdb printed and what the host saw (its
"host: ..." lines), and that the host ended cleanly after gdb's kill or
detach. Exit 0 pass, 1 fail (outputs printed), 77 SKIP (no gdb, or a gdb
that does not know x86-64).
"""
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

GDB_TIMEOUT = 60
HOST_TIMEOUT = 20


class Failure(Exception):
    pass


def expect(cond, what, *outputs):
    if not cond:
        raise Failure(what + "".join("\n--- output\n" + o for o in outputs))


class Host:
    """One fake_gdb_host listening on tcp or a unix socket; its stderr is
    read by a thread, line by line, so that a case can wait for an event."""

    def __init__(self, fake_host, transport, tmp):
        if transport == "tcp":
            endpoint = "tcp:127.0.0.1:0"
        else:
            self.socket_path = os.path.join(tmp, "gdb.sock")
            endpoint = "unix:" + self.socket_path
        self.proc = subprocess.Popen([fake_host, endpoint], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        m = self.wait_for(r"listening on (tcp (\S+):(\d+)|unix (\S+))")
        expect(m, "the fake host did not listen", self.log())
        self.address = f"{m.group(2)}:{m.group(3)}" if m.group(2) else m.group(4)

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            self.queue.put(line)
        self.queue.put(None)

    def wait_for(self, pattern, timeout=HOST_TIMEOUT):
        """The match of the first new line matching `pattern`, or None at
        the host's end or after `timeout` seconds."""
        while True:
            try:
                line = self.queue.get(timeout=timeout)
            except queue.Empty:
                return None
            if line is None:
                return None
            m = re.search(pattern, line)
            if m:
                return m

    def target(self):
        return "target remote " + self.address

    def finish(self):
        """Waits for the host's end (kills it after HOST_TIMEOUT): its status."""
        try:
            self.proc.wait(timeout=HOST_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.lines.append("[killed by the test after %ss]\n" % HOST_TIMEOUT)
        self.reader.join(timeout=5)
        return self.proc.returncode

    def log(self):
        return "".join(self.lines)


def gdb_command(commands, target=None):
    cmd = ["gdb", "-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off"]
    if target:
        cmd += ["-ex", target]
    for c in commands:
        cmd += ["-ex", c]
    return cmd


def run_gdb(commands, target=None):
    p = subprocess.run(gdb_command(commands, target), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=GDB_TIMEOUT)
    return p.stdout + p.stderr


def with_host(fake_host, transport, tmp, commands):
    """Runs gdb's `commands` against a new host: (gdb output, host status, host log, host)."""
    host = Host(fake_host, transport, tmp)
    try:
        out = run_gdb(commands, target=host.target())
    finally:
        status = host.finish()
    return out, status, host.log(), host


def check_basics(out, status, log, killed=True):
    expect(re.search(r"rip\s+0x1000\b", out), "rip is not 0x1000", out, log)
    expect("0x1000:\t0x10\t0x11\t0x12\t0x13" in out, "x/4xb 0x1000 did not read the host's memory", out)
    expect("kvmdbg gdb stub: monitor commands" in out, "no stub help for monitor help", out)
    expect("laps=0" in out, "the host's monitor command was not run", out)
    expect("unknown monitor command 'nonsense'" in out, "an unknown monitor command was not refused", out)
    expect(not killed or "host: kill" in log, "the host did not see the kill", out, log)
    expect(status == 0, f"the host exited {status}", out, log)


BASIC_COMMANDS = ["info registers rip", "x/4xb 0x1000", "monitor help", "monitor laps", "monitor nonsense", "kill"]


def registers_memory_tcp(fake_host, tmp):
    out, status, log, _ = with_host(fake_host, "tcp", tmp, BASIC_COMMANDS)
    check_basics(out, status, log)


def registers_memory_unix(fake_host, tmp):
    host = Host(fake_host, "unix", tmp)
    mode = stat.S_IMODE(os.stat(host.socket_path).st_mode)
    try:
        out = run_gdb(BASIC_COMMANDS, target=host.target())
    finally:
        status = host.finish()
    check_basics(out, status, host.log())
    expect(mode == 0o600, f"socket mode {oct(mode)}, expected 0600")
    expect(not os.path.exists(host.socket_path), "the socket file is left behind after kvmdbg_gdbstub_free")


def registers_memory_stdio(fake_host, tmp):
    # gdb spawns the host; the host's stderr ("host: ..." lines) is gdb's.
    # After the kill's reply gdb closes the pipe and sends the host SIGTERM,
    # which may come before the host's kill callback has printed.
    p = subprocess.run(gdb_command(["target remote | " + fake_host + " stdio"] + BASIC_COMMANDS),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=GDB_TIMEOUT)
    out = p.stdout + p.stderr
    check_basics(out, 0, out, killed=False)
    expect("fake_gdb_host: listening on stdio" in out, "the host did not say it serves stdio", out)


def break_step(fake_host, tmp):
    out, status, log, _ = with_host(fake_host, "tcp", tmp, [
        "hbreak *0x1010", "continue", "info registers rip", "stepi", "info registers rip", "break *0x1020",
        "continue", "info registers rip", "kill"])
    rips = re.findall(r"rip\s+(0x[0-9a-f]+)", out)
    expect(rips == ["0x1010", "0x1011", "0x1020"], f"rip went {rips}, expected 0x1010, 0x1011, 0x1020", out, log)
    expect("Breakpoint 1, 0x0000000000001010" in out, "no hardware breakpoint stop", out)
    expect("Breakpoint 2, 0x0000000000001020" in out, "no software breakpoint stop", out)
    expect("insert type=1 addr=0x1010" in log, "the hardware breakpoint did not reach the host", log)
    expect("insert type=0 addr=0x1020" in log, "the software breakpoint did not reach the host", log)
    expect("resume cpu=0 step=1" in log, "stepi was not a host step", log)
    expect(status == 0, f"the host exited {status}", out, log)


def conditional_in_stub(fake_host, tmp):
    # rbx counts the laps of the loop through 0x1010: the condition is
    # false on the hits with rbx 0..4 and true on the sixth.
    out, status, log, _ = with_host(fake_host, "tcp", tmp, [
        "set breakpoint condition-evaluation target", "hbreak *0x1010 if $rbx == 5", "set debug remote 1",
        "continue", "set debug remote 0", "print $rbx", "kill"])
    hits = re.findall(r"host: hit hw 0x1010 rbx=(\d+)", log)
    stops = re.findall(r"Packet received: T05", out)
    expect(re.search(r"\$1 = 5\b", out), "gdb did not stop with rbx == 5", out, log)
    expect(hits == ["0", "1", "2", "3", "4", "5"], f"the host reported hits with rbx {hits}, expected 0..5", log)
    expect(len(stops) == 1, f"gdb received {len(stops)} stop replies; false hits reached gdb", out)
    expect(status == 0, f"the host exited {status}", out, log)


def interrupt_running(fake_host, tmp):
    host = Host(fake_host, "tcp", tmp)
    gdb = subprocess.Popen(gdb_command(["continue", "info registers rip", "print $rbx > 0", "kill"],
                                       target=host.target()),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        resumed = host.wait_for(r"host: resume cpu=0 step=0 rc=0") is not None
        lapped = resumed and host.wait_for(r"host: lap 1\b") is not None  # gdb waits for a stop now
        if lapped:
            gdb.send_signal(signal.SIGINT)  # what Ctrl-C does
        out, _ = gdb.communicate(timeout=GDB_TIMEOUT)
    except subprocess.TimeoutExpired:
        gdb.kill()
        out, _ = gdb.communicate()
    finally:
        status = host.finish()
    log = host.log()
    expect(resumed and lapped, "gdb's continue did not resume the host", out, log)
    expect("SIGINT" in out, "the interrupt did not stop the guest with SIGINT", out, log)
    expect(re.search(r"rip\s+0x1[0-9a-f]{3}\b", out), "registers unreadable after the interrupt", out)
    expect(re.search(r"\$1 = 1", out), "the guest had not run a lap before the interrupt", out, log)
    expect(log.count("host: stop_all") >= 2, "the interrupt did not stop the host's vCPUs", log)
    expect(status == 0, f"the host exited {status}", out, log)


def detach_removes(fake_host, tmp):
    out, status, log, _ = with_host(fake_host, "tcp", tmp, ["hbreak *0x1010", "continue", "detach"])
    expect("Breakpoint 1, 0x0000000000001010" in out, "no breakpoint stop", out, log)
    expect("detached" in out.lower() or "Detaching" in out, "gdb did not detach", out)
    after_hit = log[log.find("host: hit hw 0x1010"):]
    expect("host: remove_all" in after_hit and "host: detach" in after_hit,
           "the host did not see remove_all and detach", log)
    expect(after_hit.find("host: remove_all") < after_hit.find("host: detach"), "detach came before remove_all", log)
    expect(status == 0, f"the host exited {status}", out, log)


def vanish_while_running(fake_host, tmp):
    """gdb killed while the guest runs with a breakpoint in: the stub stops
    the vCPUs before it removes the breakpoints (the host's calls other
    than resume/stop_all/detach/kill come with the vCPUs stopped), then
    detaches."""
    host = Host(fake_host, "tcp", tmp)
    gdb = subprocess.Popen(gdb_command(["hbreak *0x10", "continue"], target=host.target()),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lapped = host.wait_for(r"host: lap 1\b") is not None
        gdb.kill()
        out, _ = gdb.communicate(timeout=GDB_TIMEOUT)
    finally:
        status = host.finish()
    log = host.log()
    expect(lapped, "gdb's continue did not run the host", out, log)
    tail = log[log.find("host: lap 1"):]
    order = [tail.find(event) for event in ("host: stop_all", "host: remove_all", "host: detach")]
    expect(-1 not in order and order == sorted(order),
           "after gdb vanished the host did not see stop_all, remove_all, detach in that order", log)
    expect("the debugger went away" in log, "no line on stderr about the debugger going away", log)
    expect(status == 0, f"the host exited {status}", out, log)


CASES = {f.__name__: f for f in [registers_memory_tcp, registers_memory_unix, registers_memory_stdio, break_step,
                                 conditional_in_stub, interrupt_running, detach_removes, vanish_while_running]}


def gdb_unusable():
    if shutil.which("gdb") is None:
        return "gdb is not installed"
    out = run_gdb(["set architecture i386:x86-64"])
    if "Undefined item" in out or "not recognized" in out:
        return "this gdb does not know x86-64 (install gdb-multiarch)"
    return None


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(__doc__)
        print("cases:", " ".join(CASES))
        return 2
    fake_host, name = sys.argv[1], sys.argv[2]
    reason = gdb_unusable()
    if reason:
        print(f"SKIP: {reason}")
        return 77
    with tempfile.TemporaryDirectory(prefix="kvmdbg-sdk-") as tmp:
        try:
            CASES[name](fake_host, tmp)
        except Failure as f:
            print(f"FAIL {name}: {f}")
            return 1
    print(f"PASS {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
