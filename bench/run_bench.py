#!/usr/bin/env python3
"""The benchmark table of docs/performance.md, measured in one run.

  run_bench.py --build BUILD_DIR [--short] [--no-qemu] [--json FILE] [--rows 1,3]

Every row runs the same guest (bench/bench_target.c) under kvmdbg and under
a raw KVM_RUN loop (bench/raw_kvm_loop), one right after the other, so that
both sides see the same machine load; each row prints the kvmdbg figure,
the raw-KVM figure and their ratio. When qemu-system-x86_64 is installed,
the protocol rows and the gdb rows also run against
`qemu-system-x86_64 -accel kvm -s -S` (its multiboot build of the same
guest), and rows 11-13 against it booting the same kernel, and print
kvmdbg's advantage; otherwise that column says why it is
missing. Nothing here judges a ratio: the table is for people.

--short runs every row with tiny counts and no QEMU: it checks that each
row can be measured (meson test suite `bench`), and fails (exit 1) only
when one could not. Exit 77 (SKIP) without /dev/kvm or gdb. --rows measures
only the rows listed (for development; the table of docs/performance.md is
always a full run).

Rows 11-13 boot Debian's cloud kernel (tests/support/debian_linux.py: the
kernel, its -dbg package's System.map and busybox-static, fetched with
apt-get download into the build directory's cache/linux) with a busybox
/init of their own. When a package cannot be fetched, the kernel does not
reach userspace in time, or the host's hardware breakpoints never fire
(rows 12-13, and rows 0-7 whose raw baseline waits for one), the row is
printed as not measured with the reason instead of failing the table.
--short boots no kernel: rows 11-13 are printed as not measured there
(a boot to userspace takes minutes on hosts where kernel-mode code is
slow, docs/hosts.md, and kvm/linux_boot already boots the same kernel in
the test suite); `meson benchmark` measures them.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from debian_linux import busybox_initramfs, cache_dir, fetch_debug_files, fetch_vmlinuz, system_map_address  # noqa: E402
from debian_package import Unavailable  # noqa: E402

# What kvmdbg's start-up probe prints on stderr when this host's KVM stops
# at no breakpoint (accel/kvm/host_debug_probe.cc).
NO_HW_BREAKPOINTS = "intercepts neither int3 nor hardware breakpoints"
# The kernel command line of rows 11-13: nokaslr, so that System.map's
# addresses are where the code runs; quiet, since every console byte is a
# port write that exits to the VMM.
LINUX_APPEND = "console=ttyS0 panic=-1 nokaslr quiet"
LINUX_USERSPACE_SECONDS = 300
# Row 11's /init: one busy shell loop per CPU, then the marker; it then
# waits for the loops, so it never exits (init exiting panics the kernel).
# The shell starts a background job with its stdin on /dev/null: without
# that node the loops do not start (and `wait` returns at once).
BUSY_MARK = "KVMDBG-BUSY"
BUSY_INIT = r"""#!/bin/busybox sh
/bin/busybox mknod /dev/null c 1 3
/bin/busybox mount -t proc proc /proc
n=$(/bin/busybox grep -c ^processor /proc/cpuinfo)
i=0
while [ $i -lt $n ]; do
  (while :; do :; done) &
  i=$((i+1))
done
echo "%s cpus=$n"
wait
""" % BUSY_MARK
# Row 13's /init: a loop of one write(2) to /dev/null per iteration (one
# call of the kernel's write_null: checked with strace on the same busybox
# build, `echo >/dev/null` is one openat and one write), printing the
# iteration count every WRITES_PER_LINE iterations: the guest's counter.
WRITES_MARK = "KVMDBG-WRITES"
WRITES_PER_LINE = 1000
WRITES_INIT = r"""#!/bin/busybox sh
/bin/busybox mknod /dev/null c 1 3
i=0
while :; do
  echo >/dev/null
  i=$((i+1))
  [ $((i %% %d)) -eq 0 ] && echo "%s $i"
done
""" % (WRITES_PER_LINE, WRITES_MARK)
# The hot kernel function of row 13: called once per write(2) to /dev/null.
HOT_FUNCTION = "write_null"
# The rows that need a hardware breakpoint hit (rows 0-7: in their raw
# baseline), as a not-measured row names them.
BREAKPOINT_ROWS = {
    0: "transport floor (rows 0-7 share one raw run)", 1: "step", 2: "hw breakpoint hit + continue",
    3: "false conditional bp hit (in stub)", 4: "g round trip", 5: "m/x read throughput", 6: "gdb rates",
    7: "10000 breakpoints", 12: "boot to start_kernel (Z1, vCont;c -> T05)",
    13: "false conditional bp on %s (in stub)" % HOT_FUNCTION,
}


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def symbols(elf):
    out = subprocess.run(["nm", elf], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def parse_kv(text):
    vals = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                vals[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return vals


def stop_all_spread(kvmdbg, raw, name="stopall"):
    """Row 8/11's note: the medians, kvmdbg's 90th percentile and slowest
    stop (the mean is the row's figure; a few very slow stops move it).
    `name`: stopall (as gdb sees it) or stopall_inside (kvmdbg's own timing)."""
    if name + "_median_us" not in kvmdbg or "stopall_median_us" not in raw:
        return ""
    return "median %.0f us (raw %.0f us), 90th percentile %.0f us, slowest %.0f us" % (
        kvmdbg[name + "_median_us"], raw["stopall_median_us"], kvmdbg.get(name + "_p90_us", 0),
        kvmdbg.get(name + "_max_us", 0))


def qemu_median(q):
    """Row 11's note on the QEMU column: its median."""
    return "QEMU median %.0f us" % q["stopall_median_us"] if q and "stopall_median_us" in q else ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stub:
    """A kvmdbg (or QEMU) process serving gdb on a loopback port."""

    def __init__(self, cmd, port=None, name="kvmdbg", console=False):
        """console: the guest's serial console is the process's stdout,
        kept as (arrival time, line) in self.console."""
        self.name = name
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if console else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self.stderr = []
        self.console = []
        if console:
            threading.Thread(target=self._read_console, daemon=True).start()
        self.port = port
        deadline = time.time() + 30
        if port is None:
            while time.time() < deadline:
                line = self.proc.stderr.readline()
                if not line:
                    break
                self.stderr.append(line)
                m = re.search(r"gdb server listening on tcp \S+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    break
        else:
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            # QEMU counts that probe as a debugger that came and went; harmless.
        threading.Thread(target=self._drain, daemon=True).start()
        if self.port is None or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("%s did not start its gdb server: %s\n%s" %
                               (name, " ".join(cmd), "".join(self.stderr)))

    def disconnects(self):
        return sum("the debugger went away" in line for line in self.stderr)

    def wait_disconnect(self, before, timeout=10):
        # kvmdbg takes one debugger at a time: the next client must not
        # connect before it has seen this one leave (it would be refused).
        if self.name != "kvmdbg":
            time.sleep(0.2)
            return
        deadline = time.time() + timeout
        while self.disconnects() <= before and time.time() < deadline and self.proc.poll() is None:
            time.sleep(0.01)

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _read_console(self):
        for line in self.proc.stdout:
            self.console.append((time.monotonic(), line.rstrip("\r\n")))

    def wait_console(self, text, seconds):
        """Whether a console line containing `text` came within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            if any(text in line for _, line in self.console):
                return True
            time.sleep(0.1)
        return any(text in line for _, line in self.console)

    def last_console_line(self):
        return self.console[-1][1] if self.console else "(none)"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Bench:
    def __init__(self, args):
        self.args = args
        b = args.build
        self.kvmdbg = os.path.join(b, "kvmdbg")
        self.guest = os.path.join(b, "bench", "bench_target.elf64")
        self.guest_mb = os.path.join(b, "bench", "bench_target.mb.elf")
        self.raw = os.path.join(b, "bench", "raw_kvm_loop")
        self.client = os.path.join(b, "bench", "rsp_client")
        self.sym = symbols(self.guest)
        self.sym_mb = symbols(self.guest_mb)
        self.short = args.short
        self.qemu = None if (args.short or args.no_qemu) else shutil.which("qemu-system-x86_64")
        self.qemu_why = ("--short" if args.short else "--no-qemu" if args.no_qemu
                         else "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)")
        self.rows = []
        self.failures = []
        self.only = {int(r) for r in args.rows.split(",")} if args.rows else None
        self.linux_cache = cache_dir(os.path.join(b, "cache", "linux"))
        self.hw_bp_missing = None  # measured once by no_hw_breakpoints()
        self.not_here = set()  # rows this host cannot measure (printed as such)

    def want(self, row):
        return (self.only is None or row in self.only) and row not in self.not_here

    def no_breakpoint_rows(self, rows):
        """Prints `rows` as not measured when this host's breakpoints never
        fire (their measurement would wait for a hit that never comes);
        returns whether it did."""
        wanted = [r for r in rows if self.want(r)]
        if not wanted or not self.no_hw_breakpoints():
            return False
        for r in wanted:
            self.not_measured(r, BREAKPOINT_ROWS[r], "this host's KVM " + NO_HW_BREAKPOINTS +
                              " (kvmdbg's start-up probe)")
        self.not_here.update(wanted)
        return True

    def n(self, full, short):
        return short if self.short else full

    def no_hw_breakpoints(self):
        """Whether this host's KVM stops at no breakpoint (kvmdbg's start-up
        probe says so on stderr before its gdb server listens)."""
        if self.hw_bp_missing is None:
            stub = self.kvmdbg_stub()
            stub.stop()
            self.hw_bp_missing = any(NO_HW_BREAKPOINTS in line for line in stub.stderr)
        return self.hw_bp_missing

    # ---- processes
    def kvmdbg_stub(self, smp=1):
        cmd = [self.kvmdbg, "-M", "pc-lite", "-m", "128M", "-smp", str(smp), "-kernel", self.guest,
               "-serial", "none", "-S", "-gdb", "tcp:127.0.0.1:0"]
        return Stub(cmd)

    def qemu_stub(self):
        port = free_port()
        cmd = [self.qemu, "-accel", "kvm", "-M", "pc", "-m", "128M", "-kernel", self.guest_mb,
               "-nodefaults", "-display", "none", "-serial", "none", "-monitor", "none",
               "-S", "-gdb", "tcp:127.0.0.1:%d" % port]
        return Stub(cmd, port=port, name="qemu")

    def linux_kvmdbg(self, smp, initrd):
        """kvmdbg -S booting Debian's kernel, its console captured."""
        cmd = [self.kvmdbg, "-M", "pc-lite", "-m", "512M", "-smp", str(smp), "-kernel", self.linux_kernel(),
               "-initrd", initrd, "-append", LINUX_APPEND, "-serial", "stdio", "-S", "-gdb", "tcp:127.0.0.1:0"]
        return Stub(cmd, console=True)

    def linux_qemu(self, smp, initrd):
        """qemu-system-x86_64 -accel kvm -S booting the same kernel (SeaBIOS
        and its linuxboot option ROM load it), its console captured."""
        port = free_port()
        cmd = [self.qemu, "-accel", "kvm", "-M", "pc", "-m", "512M", "-smp", str(smp), "-kernel",
               self.linux_kernel(), "-initrd", initrd, "-append", LINUX_APPEND, "-nodefaults", "-display", "none",
               "-serial", "stdio", "-monitor", "none", "-S", "-gdb", "tcp:127.0.0.1:%d" % port]
        return Stub(cmd, port=port, name="qemu", console=True)

    def linux_kernel(self):
        return fetch_vmlinuz(self.linux_cache)

    def linux_symbol(self, symbol):
        """A kernel symbol's address from the -dbg package's System.map."""
        system_map = fetch_debug_files(self.linux_cache)[1]
        addr = system_map_address(system_map, symbol)
        if addr is None:
            raise Unavailable("%s has no %s" % (system_map, symbol))
        return addr

    def linux_userspace(self, stub, mark, initrd_name):
        """Lets the client continue the -S guest and waits for /init's
        marker; raises Unavailable (the row is not measured) when it does
        not come."""
        self.client_run(stub, "continue")
        if not stub.wait_console(mark, LINUX_USERSPACE_SECONDS):
            raise Unavailable("%s: the kernel did not reach %s's %s within %d s (last console line: %s)"
                              % (stub.name, initrd_name, mark, LINUX_USERSPACE_SECONDS, stub.last_console_line()))

    def no_kernel_panic(self, stub, initrd_name):
        """Raises Unavailable when the kernel panicked during the row (what
        was measured was not the guest the row names)."""
        for _, line in stub.console:
            if "Kernel panic" in line:
                raise Unavailable("%s: the kernel panicked under %s: %s" % (stub.name, initrd_name, line.strip()))

    def client_run(self, stub, scenario, **kw):
        cmd = [self.client, "--port", str(stub.port), "--scenario", scenario]
        for k, v in kw.items():
            cmd += ["--" + k, str(v)]
        gone = stub.disconnects()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("%s %s (exit %d): %s%s" % (stub.name, scenario, r.returncode, r.stdout, r.stderr))
        stub.wait_disconnect(gone)
        return parse_kv(r.stdout)

    def raw_run(self, **kw):
        cmd = [self.raw, "--guest", self.guest]
        for k, v in kw.items():
            cmd += ["--" + k, str(v)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("raw_kvm_loop: " + r.stdout + r.stderr)
        return parse_kv(r.stdout)

    def gdb_rates(self, stub, elf, qemu=False):
        """stepi/s, hbreak hits/s and dump-binary MiB/s as real gdb sees them."""
        steps = self.n(1000, 20)
        hits = self.n(1000, 10)
        dump_bytes = self.n(4 << 20, 64 << 10)
        tmp = tempfile.mkdtemp(prefix="kvmdbg-bench-")
        script = os.path.join(tmp, "rates.py")
        with open(script, "w") as f:
            f.write(
                "import gdb, time\n"
                "gdb.execute('set pagination off')\n"
                "gdb.execute('set confirm off')\n"
                "gdb.execute('hbreak bench_hit', to_string=True)\n"
                "gdb.execute('continue', to_string=True)\n"
                "gdb.execute('disable', to_string=True)\n"
                # One stepi command per step, as a user types them (`stepi N`
                # would stop early at a breakpoint).
                "t = time.perf_counter()\n"
                "for i in range(%d):\n"
                "    gdb.execute('stepi', to_string=True)\n"
                "print('stepi_per_s %%.1f' %% (%d / (time.perf_counter() - t)))\n"
                "gdb.execute('enable', to_string=True)\n"
                "gdb.execute('continue', to_string=True)\n"
                "t = time.perf_counter()\n"
                "for i in range(%d):\n"
                "    gdb.execute('continue', to_string=True)\n"
                "print('hbreak_per_s %%.1f' %% (%d / (time.perf_counter() - t)))\n"
                "gdb.execute('delete', to_string=True)\n"
                "t = time.perf_counter()\n"
                "gdb.execute('dump binary memory %s 0 %d', to_string=True)\n"
                "print('dump_mibs %%.2f' %% (%d / 1048576.0 / (time.perf_counter() - t)))\n"
                % (steps, steps, hits, hits, os.path.join(tmp, "dump.bin"), dump_bytes, dump_bytes))
        cmd = ["gdb", "-batch", "-nx", "-ex", "file " + elf]
        if qemu:
            cmd += ["-ex", "set architecture i386:x86-64"]
        cmd += ["-ex", "target remote 127.0.0.1:%d" % stub.port, "-x", script]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        vals = parse_kv(r.stdout)
        if "dump_mibs" not in vals:
            raise RuntimeError("gdb against %s: %s%s" % (stub.name, r.stdout[-2000:], r.stderr[-2000:]))
        return vals

    def thread_cpu_ns(self, pid, tid):
        try:
            with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
                return int(f.read().split()[0])
        except OSError:
            with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")

    # ---- rows
    def add(self, row, what, value, unit, raw, raw_unit, ratio, qemu=None, note=""):
        self.rows.append(dict(row=row, what=what, value=value, unit=unit, raw=raw, raw_unit=raw_unit,
                              ratio=ratio, qemu=qemu, note=note))

    def not_measured(self, row, what, reason):
        self.add(row, what, None, "", None, "", None, None, "not measured: " + reason)

    def measure(self):
        s = self.sym
        # Rows 0-7 read their baselines from a raw run that waits for
        # hardware breakpoint hits.
        self.no_breakpoint_rows(range(8))
        hit, mode, counter = s["bench_hit"], s["bench_mode"], s["hit_count"]
        count = self.n(20000, 200)
        # Rows 0-7 read their baselines from one raw run (with a hardware
        # breakpoint: hosts where those never fire can still measure rows
        # 8-11).
        raw = self.raw_run(hit=hex(hit), mode=hex(mode), count=count) if any(self.want(r) for r in range(8)) else {}
        if self.want(0):
            self.transport_floor(raw)

        q = {}
        qemu = None
        if self.qemu and not any(self.want(r) for r in (1, 2, 4, 5, 6, 11, 12, 13)):
            self.qemu, self.qemu_why = None, "--rows without a QEMU row"
        if self.qemu and any(self.want(r) for r in range(1, 7)):
            try:
                qemu = self.qemu_stub()
            except RuntimeError as e:
                self.qemu_why = "QEMU did not start: " + str(e).splitlines()[0]
                self.qemu = None
        ms = self.sym_mb
        stub = self.kvmdbg_stub() if any(self.want(r) for r in range(1, 6)) else None
        try:
            # Rows 1-5: kvmdbg, then the raw loop's figure from just before, then QEMU.
            if self.want(1):
                k = self.client_run(stub, "step", count=self.n(5000, 50), mode=hex(mode))
                if qemu:
                    q.update(self.client_run(qemu, "step", count=self.n(2000, 50), mode=hex(ms["bench_mode"])))
                self.add(1, "step (vCont;s:1 -> T)", k["step_us"], "us", raw["step_us"], "us KVM_RUN step",
                         k["step_us"] / raw["step_us"], q.get("step_us"))

            if self.want(2):
                k = self.client_run(stub, "hwbp", count=self.n(3000, 30), addr=hex(hit), counter=hex(counter))
                qh = None
                if qemu:
                    qh = self.client_run(qemu, "hwbp", count=self.n(1000, 30), addr=hex(ms["bench_hit"]),
                                         counter=hex(ms["hit_count"]), stepover=1)["hit_us"]
                self.add(2, "hw breakpoint hit + continue", k["hit_us"], "us", raw["hit_cycle_us"],
                         "us exit+step-over", k["hit_us"] / raw["hit_cycle_us"], qh,
                         "QEMU: gdb's step-over z1/s/Z1/c (it re-hits a bp it continues from)")

            if self.want(3):
                k = self.client_run(stub, "cond", addr=hex(hit), counter=hex(counter),
                                    seconds=self.n(3, 1))
                self.add(3, "false conditional bp hit (in stub)", k["cond_hit_us"], "us", raw["debug_exit_us"],
                         "us debug exit", k["cond_hit_us"] / raw["debug_exit_us"], None,
                         "%d hits; QEMU has no target-side conditions" % k["cond_hits"])

            if self.want(4):
                k = self.client_run(stub, "g", count=self.n(5000, 50))
                if qemu:
                    q.update(self.client_run(qemu, "g", count=self.n(3000, 50)))
                self.add(4, "g round trip", k["g_us"], "us", raw["getregs_us"], "us GET_REGS/SREGS/FPU",
                         k["g_us"] / raw["getregs_us"], q.get("g_us"))

            if self.want(5):
                mem = self.n(64 << 20, 1 << 20)
                k = self.client_run(stub, "mem", addr=0, bytes=mem)
                if qemu:
                    q.update(self.client_run(qemu, "mem", addr=0, bytes=mem))
                for key, label in (("m_mibs", "m read throughput"), ("x_mibs", "x read throughput")):
                    self.add(5, "%s (%d MiB)" % (label, mem >> 20) if mem >= 1 << 20 else label, k[key], "MiB/s",
                             raw["memread_mibs"], "MiB/s memcpy of RAM",
                             k[key] / raw["memread_mibs"], q.get("m_mibs"),
                             "QEMU column: its m (no x), %d-byte reads" % q.get("m_chunk", 0) if qemu else "")
        finally:
            if stub:
                stub.stop()

        # Row 6: real gdb.
        if self.want(6):
            stub = self.kvmdbg_stub()
            try:
                g = self.gdb_rates(stub, self.guest)
            finally:
                stub.stop()
            qg = {}
            if qemu:
                qemu.stop()
                qemu = self.qemu_stub()
                try:
                    qg = self.gdb_rates(qemu, self.guest_mb, qemu=True)
                finally:
                    qemu.stop()
            self.add(6, "gdb stepi rate", g["stepi_per_s"], "/s", 1e6 / raw["step_us"], "/s KVM_RUN steps",
                     g["stepi_per_s"] * raw["step_us"] / 1e6, qg.get("stepi_per_s"))
            self.add(6, "gdb hbreak+continue rate", g["hbreak_per_s"], "/s", 1e6 / raw["hit_cycle_us"],
                     "/s raw hit cycles", g["hbreak_per_s"] * raw["hit_cycle_us"] / 1e6, qg.get("hbreak_per_s"))
            self.add(6, "gdb dump binary memory", g["dump_mibs"], "MiB/s", raw["memread_mibs"],
                     "MiB/s memcpy of RAM", g["dump_mibs"] / raw["memread_mibs"], qg.get("dump_mibs"))
        if qemu:
            qemu.stop()

        # Row 7: 10,000 software breakpoints.
        if self.want(7):
            nbp = self.n(10000, 100)
            stub = self.kvmdbg_stub()
            try:
                z = self.client_run(stub, "zbulk", count=nbp, addr=hex(s["bench_spin"]))
                # The hit with the session's table holding what the host accepted.
                h1 = self.client_run(stub, "hwbp", count=self.n(2000, 20), addr=hex(hit), counter=hex(counter))
            finally:
                stub.stop()
            self.add(7, "Z0 insert (%d bps)" % nbp, z["z_insert_us"], "us", None, "", None, None,
                     "%d of %d accepted" % (z["z_accepted"], nbp))
            self.add(7, "z0 remove (%d bps)" % nbp, z["z_remove_us"], "us", None, "", None, None, "")
            self.table_bench(h1["hit_us"])

        # Row 8: stop-all latency.
        for smp in (1, 2, 4) if self.want(8) else ():
            r8 = self.raw_run(smp=smp, count=self.n(500, 20))
            stub = self.kvmdbg_stub(smp)
            try:
                k = self.client_run(stub, "stopall", count=self.n(300, 10))
            finally:
                stub.stop()
            self.add(8, "stop-all latency, -smp %d" % smp, k["stopall_us"], "us", r8["stopall_us"],
                     "us kick+join", k["stopall_us"] / r8["stopall_us"], None, stop_all_spread(k, r8))
            self.stop_all_inside(8, "stop-all inside kvmdbg, -smp %d" % smp, k, r8)

        if self.want(9):
            self.idle_cpu()

        if self.want(10):
            self.device_access()

        if self.short:
            for row, what in ((11, "stop-all latency, Linux busy"), (12, BREAKPOINT_ROWS[12]),
                              (13, BREAKPOINT_ROWS[13])):
                if self.want(row):
                    self.not_measured(row, what, "--short boots no kernel (meson benchmark does)")
            return

        if self.want(11):
            self.linux_stop_all()

        if not self.no_breakpoint_rows((12, 13)):
            if self.want(12):
                self.linux_boot_to_start_kernel()
            if self.want(13):
                self.linux_false_condition()

    def linux_stop_all(self):
        # Row 11: row 8's Ctrl-C -> T02 with Debian's kernel running one busy
        # shell loop per CPU instead of the bench guest.
        for smp in (2, 4):
            what = "stop-all latency, Linux busy, -smp %d" % smp
            try:
                initrd = busybox_initramfs(self.linux_cache, "bench-busy-initrd", BUSY_INIT)
                stub = self.linux_kvmdbg(smp, initrd)
            except Unavailable as e:
                self.not_measured(11, what, str(e))
                continue
            try:
                k = self.busy_kernel_stop_all(stub, smp)
            except Unavailable as e:
                self.not_measured(11, what, str(e))
                continue
            finally:
                stub.stop()
            r = self.raw_run(smp=smp, count=self.n(500, 20))
            q, why = self.qemu_stop_all(smp, initrd) if self.qemu else (None, "")
            self.add(11, what, k["stopall_us"], "us", r["stopall_us"], "us kick+join",
                     k["stopall_us"] / r["stopall_us"], q["stopall_us"] if q else None,
                     "; ".join(filter(None, ["busybox /init: one `while :` loop per CPU", stop_all_spread(k, r),
                                             qemu_median(q), why])))
            self.stop_all_inside(11, "stop-all inside kvmdbg, Linux busy, -smp %d" % smp, k, r)

    def busy_kernel_stop_all(self, stub, smp):
        """Row 11's measurement on `stub` (kvmdbg or QEMU, booting the
        kernel under -S): on to /init's busy loops, then `stopall`; raises
        Unavailable when the loops never ran or the kernel panicked."""
        self.linux_userspace(stub, "%s cpus=%d" % (BUSY_MARK, smp), "bench-busy-initrd")
        figures = self.client_run(stub, "stopall", count=self.n(300, 10))
        self.no_kernel_panic(stub, "bench-busy-initrd")
        return figures

    def qemu_stop_all(self, smp, initrd):
        """Row 11's QEMU column: the same kernel, /init and client under
        qemu-system-x86_64 -accel kvm. (its figures, "") or (None, why)."""
        try:
            qemu = self.linux_qemu(smp, initrd)
        except (Unavailable, RuntimeError, OSError) as e:
            return None, "QEMU did not start: " + str(e).splitlines()[0]
        try:
            return self.busy_kernel_stop_all(qemu, smp), ""
        except (Unavailable, RuntimeError) as e:
            return None, "QEMU not measured: " + str(e).splitlines()[0]
        finally:
            qemu.stop()

    def stop_all_inside(self, row, what, k, raw):
        """The line under row 8/11's: the same all-stops as kvmdbg timed
        them (monitor info stop-all: kick of every vCPU to all parked),
        without the gdb round trip, against the same raw kick and join."""
        if "stopall_inside_us" not in k:
            self.not_measured(row, what, "the stub printed no stop-all timing (monitor info stop-all)")
            return
        self.add(row, what, k["stopall_inside_us"], "us", raw["stopall_us"], "us kick+join",
                 k["stopall_inside_us"] / raw["stopall_us"], None, stop_all_spread(k, raw, "stopall_inside"))

    def linux_boot_to_start_kernel(self):
        # Row 12: from `vCont;c` at the -S stop to the T05 of a Z1 at
        # start_kernel (-smp 1: only the boot CPU runs before it).
        what = BREAKPOINT_ROWS[12]
        try:
            addr = self.linux_symbol("start_kernel")
            initrd = busybox_initramfs(self.linux_cache, "bench-busy-initrd", BUSY_INIT)
            stub = self.linux_kvmdbg(1, initrd)
        except Unavailable as e:
            self.not_measured(12, what, str(e))
            return
        try:
            k = self.client_run(stub, "runto", addr=hex(addr), seconds=LINUX_USERSPACE_SECONDS)
        finally:
            stub.stop()
        q, note = None, "-smp 1, -kernel/-initrd/-append; QEMU: SeaBIOS + linuxboot option ROM"
        if self.qemu:
            try:
                qemu = self.linux_qemu(1, initrd)
                try:
                    q = self.client_run(qemu, "runto", addr=hex(addr), seconds=LINUX_USERSPACE_SECONDS)["runto_ms"]
                finally:
                    qemu.stop()
            except RuntimeError as e:
                note += "; QEMU not measured: " + str(e).splitlines()[0]
        self.add(12, what, k["runto_ms"], "ms", None, "", None, q, note)

    def linux_false_condition(self):
        # Row 13: a Z1 with an always-false target-side condition on a hot
        # kernel function. kvmdbg reports no false hit and no monitor
        # command counts them, so the guest counts: the loop's iterations
        # on the console, one write_null call each.
        what = BREAKPOINT_ROWS[13]
        try:
            addr = self.linux_symbol(HOT_FUNCTION)
            initrd = busybox_initramfs(self.linux_cache, "bench-writes-initrd", WRITES_INIT)
            stub = self.linux_kvmdbg(1, initrd)
        except Unavailable as e:
            self.not_measured(13, what, str(e))
            return
        secs = self.n(3, 1)
        try:
            self.linux_userspace(stub, WRITES_MARK, "bench-writes-initrd")
            free = self.console_rate(stub, lambda: self.client_run(stub, "idle", seconds=secs))
            cond = self.console_rate(stub, lambda: self.client_run(stub, "cond", addr=hex(addr), seconds=secs))
        except Unavailable as e:
            self.not_measured(13, what, str(e))
            return
        finally:
            stub.stop()
        q, note = None, "-smp 1; guest-counted, %d calls a console line" % WRITES_PER_LINE
        if self.qemu:
            try:
                q = self.qemu_gdb_condition_rate(addr, initrd)
            except (RuntimeError, Unavailable) as e:
                note += "; QEMU not measured: " + str(e).splitlines()[0]
        self.add(13, what, cond, "/s", free, "/s calls, no breakpoint", cond / free, q,
                 note + ("; QEMU: gdb-side condition, a stop and step-over per hit" if q else ""))

    def qemu_gdb_condition_rate(self, addr, initrd):
        """Row 13's QEMU column: QEMU has no target-side conditions, so gdb
        evaluates them: every hit is a T05, gdb's step-over (z1, vCont;s,
        Z1) and a vCont;c, counted by the client."""
        qemu = self.linux_qemu(1, initrd)
        try:
            self.linux_userspace(qemu, WRITES_MARK, "bench-writes-initrd")
            q = self.client_run(qemu, "hwbp", count=self.n(1000, 20), addr=hex(addr), stepover=1)
        finally:
            qemu.stop()
        return 1e6 / q["hit_us"]

    def console_rate(self, stub, window):
        """Row 13's guest counter: calls per second from the console lines
        that arrived while `window` ran (first to last line's count and
        arrival time)."""
        t0 = time.monotonic()
        window()
        t1 = time.monotonic()
        marks = [(t, int(line.split()[1])) for t, line in list(stub.console)
                 if t0 <= t <= t1 and line.startswith(WRITES_MARK + " ")]
        if len(marks) < 2:
            raise Unavailable("%d console line(s) of the guest's counter in a %.1f s window: the loop is slower "
                              "than %d iterations in that time" % (len(marks), t1 - t0, WRITES_PER_LINE))
        return (marks[-1][1] - marks[0][1]) / (marks[-1][0] - marks[0][0])

    def transport_floor(self, raw):
        exe = os.path.join(self.args.build, "bench", "tcp_floor")
        r = subprocess.run([exe, "--count", str(self.n(5000, 50))], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("tcp_floor: " + r.stdout + r.stderr)
        rtt = parse_kv(r.stdout)["rtt_us"]
        self.add(0, "transport floor: TCP round trip", rtt, "us", raw["step_us"], "us KVM_RUN step",
                 rtt / raw["step_us"], None, "2 processes, 14-byte request, 100-byte reply, no stub")

    def idle_cpu(self):
        # No busy waiting: the stub's (main) thread while the guest runs.
        secs = self.n(3, 1)
        stub = self.kvmdbg_stub()
        try:
            pid = stub.proc.pid
            tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
            proc = subprocess.Popen([self.client, "--port", str(stub.port), "--scenario", "idle",
                                     "--seconds", str(secs + 1)], stdout=subprocess.PIPE, text=True)
            proc.stdout.readline()  # "running"
            time.sleep(0.3)
            before = {t: self.thread_cpu_ns(pid, t) for t in tids}
            t0 = time.time()
            time.sleep(secs)
            after = {t: self.thread_cpu_ns(pid, t) for t in tids}
            wall = time.time() - t0
            proc.wait(timeout=60)
        finally:
            stub.stop()
        main_ms = (after[pid] - before[pid]) / 1e6
        others = max((after[t] - before[t]) / 1e6 for t in tids if t != pid) if len(tids) > 1 else 0.0
        self.add(9, "stub thread CPU while guest runs", main_ms, "ms/%.0fs" % wall, others,
                 "ms busiest other thread", None, None, "main (GLib) thread; vCPU thread for scale")

    def device_access(self):
        # Row 10: the device-access path (system/emulator.cc,
        # Emulator::device_access). One `out` to port 0x80 per loop
        # iteration, where pc-lite maps nothing (the bus drops the write):
        # (a) plain, (b) with a catch on another port, (c) with the trace on,
        # in turn in one kvmdbg, right after the raw loop's PIO exits.
        s = self.sym
        raw = self.raw_run(mode=hex(s["bench_mode"]), only="pio", count=self.n(20000, 200))
        catch_port = 0x3f8  # COM1's data register: the loop never touches it
        stub = self.kvmdbg_stub()
        try:
            k = self.client_run(stub, "pio", mode=hex(s["bench_mode"]), counter=hex(s["pio_count"]),
                                seconds=self.n(6, 1), rounds=self.n(3, 1), catch=hex(catch_port))
        finally:
            stub.stop()
        plain = k["pio_plain_per_s"]
        raw_per_s = 1e6 / raw["pio_us"]
        self.add(10, "port I/O exits: no catch, no trace", plain, "/s", raw_per_s, "/s KVM_RUN PIO exits",
                 plain / raw_per_s, None, "out to port 0x80, nothing mapped there")
        self.add(10, "port I/O exits: catch on another port", k["pio_catch_per_s"], "/s", plain,
                 "/s no catch, no trace", k["pio_catch_per_s"] / plain, None,
                 "monitor catch io 0x%x rw, never hit: (b)/(a)" % catch_port)
        self.add(10, "port I/O exits: trace on", k["pio_trace_per_s"], "/s", plain, "/s no catch, no trace",
                 k["pio_trace_per_s"] / plain, None,
                 "monitor trace io on, %d accesses recorded: (c)/(a)" % k["pio_traced"])

    def table_bench(self, hit_us):
        exe = os.path.join(self.args.build, "bench", "bp_table_bench")
        if not os.path.exists(exe):
            return
        r = subprocess.run([exe, str(self.n(10000, 100))], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("bp_table_bench: " + r.stdout + r.stderr)
        v = parse_kv(r.stdout)
        self.add(7, "table insert+remove per bp (in-process)", v["insert_remove_us"], "us", v["raw_write_us"],
                 "us byte write+restore", v["insert_remove_us"] / v["raw_write_us"], None,
                 "SwBreakpointTable + session table, %d bps" % v["count"])
        n = v["count"]
        with_n = hit_us + v["lookup_n_us"] - v["lookup_1_us"]
        self.add(7, "hit cost, %d bps / 1 bp" % n, with_n, "us", hit_us, "us hit with 1",
                 with_n / hit_us, None,
                 "row-2 hit measured + per-exit lookups measured at 1 and %d" % n)

    # ---- output
    def print_table(self):
        def fmt(v, unit=""):
            if v is None:
                return "-"
            if isinstance(v, float) and abs(v) >= 100:
                return "%.0f %s" % (v, unit)
            return "%.2f %s" % (v, unit)

        print()
        print("load: %s; cpus: %d" % (" ".join("%.2f" % x for x in os.getloadavg()), os.cpu_count()))
        qhdr = "QEMU (kvmdbg advantage)" if self.qemu else "QEMU: SKIPPED (%s)" % self.qemu_why
        print("%-3s %-42s %-16s %-38s %-9s %s" % ("row", "what", "kvmdbg", "raw KVM", "ratio", qhdr))
        for r in self.rows:
            qcol = ""
            if self.qemu and r["qemu"]:
                if r["unit"] in ("us", "ms"):
                    qcol = "%s (%.1fx)" % (fmt(r["qemu"], r["unit"]), r["qemu"] / r["value"])
                else:
                    qcol = "%s (%.1fx)" % (fmt(r["qemu"], r["unit"]), r["value"] / r["qemu"])
            rawcol = "%s %s" % (fmt(r["raw"]), r["raw_unit"]) if r["raw"] is not None else "-"
            ratio = "%.2fx" % r["ratio"] if r["ratio"] is not None else "-"
            print("%-3s %-42s %-16s %-38s %-9s %s%s" % (r["row"], r["what"], fmt(r["value"], r["unit"]),
                                                       rawcol, ratio, qcol,
                                                       ("  [" + r["note"] + "]") if r["note"] else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--rows", help="comma-separated row numbers to measure (default: all)")
    args = ap.parse_args()
    if not os.path.exists("/dev/kvm") or not os.access("/dev/kvm", os.R_OK | os.W_OK):
        skip("/dev/kvm is missing or not accessible")
    if shutil.which("gdb") is None:
        skip("gdb is not installed (row 6 drives real gdb)")
    bench = Bench(args)
    try:
        bench.measure()
    except (RuntimeError, KeyError, OSError, subprocess.TimeoutExpired) as e:
        bench.print_table()
        print("FAILED: a row could not be measured: %s" % e)
        return 1
    bench.print_table()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(bench.rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
