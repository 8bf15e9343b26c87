#!/usr/bin/env python3
"""A kernel developer's gdb session against Debian's x86-64 kernel, end to
end, in one boot:

  linux_gdb_session.py KVMDBG CACHE_DIR          the session below (nokaslr)
  linux_gdb_session.py KVMDBG CACHE_DIR kaslr    KASLR on: finding the offset

  kvmdbg -M pc-lite -m 512M -smp 2 -S -gdb tcp:127.0.0.1:0 -serial stdio \\
         -kernel vmlinuz -initrd busybox.cpio -append "... nokaslr"
  gdb -batch -nx   (the steps below, one gdb process)

 1. without a symbol file: `hbreak *ADDR` with start_kernel's address from
    the real System.map, `continue`: the stop is exactly there;
 2. `file vmlinux` (the -dbg package's, with DWARF): `info symbol $pc` says
    start_kernel; `x/s linux_banner` prints "Linux version 6.1..." (a
    kernel virtual address through kvmdbg's page walker);
    `info registers cr0 cr3 cr4 efer` (paging and long mode on); `bt`
    (start_kernel <- secondary_startup_64: Debian's build tail-jumps
    through x86_64_start_kernel and x86_64_start_reservations);
    `info line *$pc` and `list *$pc` (init/main.c), `info locals`
    (command_line);
    `stepi` moves the pc;
 3. `hbreak set_task_stack_end_magic`, `continue`, `finish`: back in
    start_kernel (finish's breakpoint at the return address is a software
    breakpoint: int3 where the host intercepts it, a hardware slot where not);
 3b. ten `break`s (software breakpoints) in functions the booting kernel
    calls often, `continue` three times: each stop is at one of them, then
    `delete`. More than the four debug-register slots: int3 where the host
    intercepts it; on hosts that do not intercept int3 but stop at one in
    kernel code as an emulation failure, int3 planted all the same
    (kvmdbg's start-up probe, docs/hosts.md);
 4. `hbreak start_secondary`, `continue`: CPU 1 stops there as Thread 2;
    `info threads` lists both CPUs (all-stop);
 5. `continue`; when /init has printed KVMDBG-USERSPACE the test sends gdb
    SIGINT (what Ctrl-C does): the kernel stops with SIGINT, `info threads`;
 6. `detach`: the kernel runs on, /init prints KVMDBG-AFTER-DETACH and powers
    off, and kvmdbg exits 0.

Where the host's KVM has no working hardware breakpoints (the start-up probe
says so on stderr), steps 1, 3 and 4 cannot run: the session runs steps 2,
5 and 6 from a Ctrl-C stop instead (the same checks, with the pc wherever
the kernel was), and the test SKIPs naming what it could not run, after the
rest passed.

kaslr: the same kernel without `nokaslr` (Debian's is built with
CONFIG_RANDOMIZE_BASE, kernel virtual addresses moved by a multiple of
CONFIG_PHYSICAL_ALIGN, 2 MiB, within 1 GiB), run without -S; once /init runs
gdb attaches (which stops the guest) and finds the offset the way a
developer can: a gdb Python loop reads 14 bytes at linux_banner's link
address (System.map) plus k * 2 MiB for k = 0..511 through the stub (the
page walker answers E14 where nothing is mapped) and takes the first k
where they say "Linux version "; then `symbol-file vmlinux -o OFFSET`,
and `info symbol $pc`, `x/s linux_banner` and `bt` must be right with the
moved symbols; `detach`, and the kernel runs on to power-off.

Exit 0 pass, 1 fail, 77 SKIP with the reason: /dev/kvm unusable, no gdb, a
package cannot be downloaded (the kernel, its -dbg package, busybox-static),
the host's KVM stopped the kernel on an instruction its emulator cannot run
(docs/hosts.md), or no hardware breakpoints (above).
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from debian_linux import (HOT_KERNEL_FUNCTIONS, busybox_initramfs, cache_dir, fetch_debug_files,  # noqa: E402
                          fetch_vmlinuz, system_map_address)
from debian_package import Unavailable  # noqa: E402
from emulation_failure import EMULATION_FAILURE, unemulated_instruction  # noqa: E402
from kvm_host import kvm_unusable  # noqa: E402

CPUS = 2
APPEND = "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 nokaslr loglevel=6"
SESSION_SECONDS = 420
USERSPACE = "KVMDBG-USERSPACE"
AFTER_DETACH = "KVMDBG-AFTER-DETACH"
INIT = r"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "%s cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"
/bin/busybox sleep 10
echo %s
/bin/busybox poweroff -f
""" % (USERSPACE, AFTER_DETACH)
NO_HW_BREAKPOINTS = "intercepts neither int3 nor hardware breakpoints"


class Skip(Exception):
    pass


class Kvmdbg:
    """kvmdbg -S with its console (stdout) and stderr read by threads."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self.console, self.stderr = [], []
        self.endpoint = None
        self.listening = threading.Event()
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.console), daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True)]
        for r in self.readers:
            r.start()
        self.listening.wait(30)

    def _read(self, stream, lines):
        for line in stream:
            lines.append(line.rstrip("\r\n"))
            m = re.search(r"gdb server listening on tcp (\S+):(\d+)", line)
            if m:
                self.endpoint = f"{m.group(1)}:{m.group(2)}"
                self.listening.set()
        self.listening.set()

    def wait_console(self, text, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in l for l in self.console):
                return True
            if self.proc.poll() is not None:
                return any(text in l for l in self.console)
            time.sleep(0.2)
        return False

    def finish(self, seconds):
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for r in self.readers:
            r.join(5)
        return self.proc.returncode


# Step 3b: continues to the ten `break`s.
TEN_BREAK_STOPS = 3


def gdb_commands(endpoint, vmlinux, start_kernel, breakpoints):
    """gdb's command line. With hardware breakpoints the inspection steps run
    at start_kernel and the Ctrl-C comes last; without, they run at the
    Ctrl-C stop (the first `continue`)."""
    cmds = ["set confirm off", "set pagination off", "set remotetimeout 30", f"target remote {endpoint}"]
    interrupt = ["continue", 'printf "INT-PC=%lx\\n", $pc', "info threads"]
    if breakpoints:
        cmds += [f"hbreak *{start_kernel:#x}", "continue", 'printf "RAW-PC=%lx\\n", $pc', "delete"]
    else:
        cmds += interrupt
    cmds += [f"file {vmlinux}",
             "info symbol $pc",
             "x/s linux_banner",
             "info registers cr0 cr3 cr4 efer",
             "bt",
             "info line *$pc",
             "list *$pc",
             "info locals",
             'printf "BEFORE-STEP=%lx\\n", $pc', "stepi", 'printf "STEP-PC=%lx\\n", $pc']
    if breakpoints:
        cmds += ["hbreak set_task_stack_end_magic", "continue", "finish", "delete"]
        cmds += [f"break {f}" for f in HOT_KERNEL_FUNCTIONS]
        cmds += ["continue", "info symbol $pc"] * TEN_BREAK_STOPS + ["delete"]
        cmds += ["hbreak start_secondary", "continue", "info threads", 'printf "THREAD=%d\\n", $_thread',
                 "delete"] + interrupt
    cmds += ["detach"]
    out = ["gdb", "-batch", "-nx"]
    for c in cmds:
        out += ["-ex", c]
    return out


def expect(ok, what, failures):
    if not ok:
        failures.append(what)


def check_session(out, start_kernel, breakpoints):
    failures = []
    if breakpoints:
        m = re.search(r"RAW-PC=([0-9a-f]+)", out)
        expect(m and int(m.group(1), 16) == start_kernel,
               f"hbreak *{start_kernel:#x} (System.map's start_kernel) did not stop there", failures)
        expect(re.search(r"start_kernel in section \.init\.text", out), "info symbol $pc is not start_kernel",
               failures)
        # Debian's build tail-jumps from x86_64_start_kernel through
        # x86_64_start_reservations into start_kernel (objdump: `jmp`, not
        # `call`), so their frames are gone: start_kernel's caller is
        # secondary_startup_64, which entered it from head_64.S.
        expect(re.search(r"^#0\s+start_kernel \(", out, re.M)
               and re.search(r"^#1\s.* in secondary_startup_64 \(", out, re.M),
               "bt is not start_kernel <- secondary_startup_64", failures)
        expect(re.search(r'Line \d+ of "init/main\.c"', out), "info line *$pc is not in init/main.c", failures)
        expect("command_line" in out, "info locals does not show start_kernel's command_line", failures)
        # (gdb -batch does not print finish's "Run till exit from" line.)
        hit = out.find("set_task_stack_end_magic")
        expect(hit >= 0 and re.search(r"^(?:Run till exit.*\n)?start_kernel \(\) at init/main\.c:\d+", out[hit:],
                                      re.M),
               "finish from set_task_stack_end_magic did not return to start_kernel", failures)
        # Debian ships no kernel sources with the -dbg package: gdb's `list`
        # names the lines ("908\tinit/main.c: No such file or directory.",
        # then "913\tin init/main.c") unless a source tree is given. A bare
        # `list` here listed line 1 of "<built-in>", so the session lists *$pc.
        expect(re.search(r"is in start_kernel \(init/main\.c:\d+\)", out)
               and re.search(r"^\d+\s+(?:in )?init/main\.c", out, re.M), "list *$pc showed no lines of init/main.c",
               failures)
        placed = re.findall(r"^Breakpoint (\d+) at 0x[0-9a-f]+", out, re.M)
        expect(len(placed) >= len(HOT_KERNEL_FUNCTIONS), f"gdb placed {len(placed)} of the ten `break`s", failures)
        # (gdb's "Cannot access memory at address" also appears in `info
        # locals` for a pointer not yet set; an insertion failure always
        # says "Cannot insert breakpoint N".)
        expect(not re.search(r"Cannot insert breakpoint", out),
               "gdb could not insert every `break` (\"Cannot insert breakpoint\")", failures)
        # The stops after the last `break` was placed.
        after = out[out.rfind("\nBreakpoint %s at " % placed[-1]):] if placed else ""
        hits = re.findall(r"^(?:Thread \d+ .*hit )?Breakpoint [\d.]+, (?:0x[0-9a-f]+ in )?(\w+) \(", after, re.M)
        expect(len(hits) >= TEN_BREAK_STOPS and all(h in HOT_KERNEL_FUNCTIONS for h in hits[:TEN_BREAK_STOPS]),
               f"the {TEN_BREAK_STOPS} continues did not stop at the ten `break`s: {hits}", failures)
        # gdb 13 says "hit Breakpoint N" for a hardware breakpoint too.
        expect(re.search(r"Thread 2 .*hit (?:Hardware assisted )?[Bb]reakpoint \d+, .*start_secondary", out),
               "CPU 1 did not stop at start_secondary as Thread 2", failures)
        expect(re.search(r"THREAD=2", out), "the stop at start_secondary is not on thread 2", failures)
    expect(re.search(r'<linux_banner>:\s+"Linux version 6\.1', out),
           "x/s linux_banner did not print \"Linux version 6.1\"", failures)
    regs = dict(re.findall(r"^(cr0|cr3|cr4|efer)\s+(0x[0-9a-f]+)", out, re.M))
    expect(set(regs) == {"cr0", "cr3", "cr4", "efer"}, f"info registers cr0 cr3 cr4 efer showed {sorted(regs)}",
           failures)
    if "cr0" in regs and "efer" in regs:
        expect(int(regs["cr0"], 16) & (1 << 31) and int(regs["efer"], 16) & (1 << 10),
               f"paging or long mode off: cr0 {regs['cr0']} efer {regs['efer']}", failures)
    before = re.search(r"BEFORE-STEP=([0-9a-f]+)", out)
    after = re.search(r"STEP-PC=([0-9a-f]+)", out)
    expect(before and after and before.group(1) != after.group(1), "stepi did not move the pc", failures)
    expect(re.search(r"received signal SIGINT", out), "Ctrl-C did not stop the kernel with SIGINT", failures)
    expect(len(re.findall(r"^\*?\s+\d+\s+Thread \d+", out, re.M)) >= 2 * (2 if breakpoints else 1),
           "info threads did not list both CPUs", failures)
    expect(re.search(r"\[Inferior 1 \(Remote target\) detached\]", out), "detach failed", failures)
    return failures


def run(kvmdbg, cache):
    vmlinuz = fetch_vmlinuz(cache)
    vmlinux, system_map = fetch_debug_files(cache)
    initrd = busybox_initramfs(cache, "gdb-session-initrd", INIT)
    start_kernel = system_map_address(system_map, "start_kernel")
    if start_kernel is None:
        raise RuntimeError(f"{system_map} has no start_kernel")
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "512M", "-smp", str(CPUS), "-S", "-gdb", "tcp:127.0.0.1:0",
           "-nographic", "-serial", "stdio", "-kernel", vmlinuz, "-initrd", initrd, "-append", APPEND]
    print("command:", " ".join(cmd))
    emu = Kvmdbg(cmd)
    if emu.endpoint is None:
        emu.finish(5)
        print("\n".join(emu.stderr))
        print("FAIL: kvmdbg did not start its gdb server")
        return 1
    breakpoints = not any(NO_HW_BREAKPOINTS in l for l in emu.stderr)
    gdb_cmd = gdb_commands(emu.endpoint, vmlinux, start_kernel, breakpoints)
    start = time.monotonic()
    gdb = subprocess.Popen(gdb_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
    gdb_out = []
    reader = threading.Thread(target=lambda: gdb_out.extend(gdb.stdout), daemon=True)
    reader.start()
    # Ctrl-C once /init runs (gdb is then in its last `continue`).
    interrupted = emu.wait_console(USERSPACE, SESSION_SECONDS)
    if interrupted:
        time.sleep(1)
        gdb.send_signal(2)
    try:
        gdb.wait(timeout=max(30, SESSION_SECONDS - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        gdb.kill()
        gdb.wait()
    reader.join(10)
    ran_on = emu.wait_console(AFTER_DETACH, 120)
    status = emu.finish(60)
    out = "".join(gdb_out)
    print(f"--- gdb ({time.monotonic() - start:.1f} s)")
    print(out)
    print("--- console (last lines)")
    print("\n".join(emu.console[-12:]))
    print("--- kvmdbg stderr")
    print("\n".join(emu.stderr[-12:]))
    if not interrupted:
        m = EMULATION_FAILURE.search("\n".join(emu.stderr))
        insn = unemulated_instruction(bytes(int(b, 16) for b in m.group(2).split())) if m else None
        if insn:
            raise Skip(f"this host's KVM cannot run the kernel: it stopped at RIP={m.group(1)} on {insn} "
                       f"(emulation failure) before /init (docs/hosts.md)")
    failures = check_session(out, start_kernel, breakpoints)
    expect(interrupted, f"/init never printed {USERSPACE} within {SESSION_SECONDS} s", failures)
    expect(ran_on, f"after detach the kernel did not run on to {AFTER_DETACH}", failures)
    expect(status == 0, f"kvmdbg exited {status} (power-off after detach should give 0)", failures)
    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    if not breakpoints:
        raise Skip("the session's steps from a Ctrl-C stop passed (x/s linux_banner, registers, bt, stepi, "
                   "threads, detach); hbreak by address and by symbol, finish, ten `break`s and the stop on "
                   "CPU 1 were not "
                   "run: this host's KVM has no working hardware breakpoints (kvmdbg's start-up probe)")
    print("PASS: the kernel developer's session on Debian's kernel")
    return 0


KASLR_SCRIPT = r"""
import gdb
inferior = gdb.selected_inferior()
offset = None
for k in range(512):
    try:
        if inferior.read_memory(%(banner)d + k * 0x200000, 14).tobytes() == b"Linux version ":
            offset = k * 0x200000
            break
    except gdb.MemoryError:
        pass
if offset is None:
    print("KASLR-OFFSET=none")
else:
    print("KASLR-OFFSET=%%#x" %% offset)
    gdb.execute("symbol-file %(vmlinux)s -o %%#x" %% offset)
"""


def kaslr(kvmdbg, cache):
    vmlinuz = fetch_vmlinuz(cache)
    vmlinux, system_map = fetch_debug_files(cache)
    initrd = busybox_initramfs(cache, "gdb-session-initrd", INIT)
    banner = system_map_address(system_map, "linux_banner")
    append = APPEND.replace(" nokaslr", "")
    cmd = [kvmdbg, "-M", "pc-lite", "-m", "512M", "-smp", str(CPUS), "-gdb", "tcp:127.0.0.1:0", "-nographic",
           "-serial", "stdio", "-kernel", vmlinuz, "-initrd", initrd, "-append", append]
    print("command:", " ".join(cmd))
    emu = Kvmdbg(cmd)
    if emu.endpoint is None or not emu.wait_console(USERSPACE, SESSION_SECONDS):
        emu.finish(5)
        print("\n".join(emu.console[-15:] + emu.stderr[-10:]))
        raise Skip(f"the kernel did not reach /init within {SESSION_SECONDS} s (kernel-mode code is slow on "
                   "this host's KVM, docs/hosts.md)") if emu.endpoint else RuntimeError("no gdb server")
    script = os.path.join(cache, "kaslr-offset.py")
    with open(script, "w") as f:
        f.write(KASLR_SCRIPT % {"banner": banner, "vmlinux": vmlinux})
    gdb_cmd = ["gdb", "-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off",
               "-ex", f"target remote {emu.endpoint}", "-ex", 'printf "ATTACH-PC=%lx\\n", $pc',
               "-ex", f"source {script}", "-ex", "info symbol $pc", "-ex", "x/s linux_banner", "-ex", "bt 4",
               "-ex", "detach"]
    start = time.monotonic()
    p = subprocess.run(gdb_cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    ran_on = emu.wait_console(AFTER_DETACH, 120)
    status = emu.finish(60)
    print(f"--- gdb ({time.monotonic() - start:.1f} s)\n{out}")
    print("--- console (last lines)\n" + "\n".join(emu.console[-5:]))
    failures = []
    m = re.search(r"KASLR-OFFSET=(0x[0-9a-f]+|0)", out)
    expect(m, "no 2 MiB-aligned offset below 1 GiB puts \"Linux version \" at linux_banner", failures)
    expect(re.search(r"^\w+ \+ \d+ in section \.text", out, re.M) or re.search(r"^\w+ in section \.text", out, re.M),
           "info symbol $pc does not name a kernel function with the moved symbols", failures)
    expect(re.search(r'<linux_banner>:\s+"Linux version 6\.1', out), "x/s linux_banner is wrong after the move",
           failures)
    expect(re.search(r"#1 .* in \w+ \(", out), "bt shows no named caller", failures)
    expect(ran_on and status == 0, f"after detach the kernel did not run on to power-off (status {status})", failures)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"PASS: KASLR offset {m.group(1)} found from linux_banner; the moved symbols are right")
    return 0


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "kaslr"):
        print(__doc__)
        return 2
    kvmdbg, cache = sys.argv[1:3]
    mode = sys.argv[3] if len(sys.argv) == 4 else "session"
    cache = cache_dir(cache)
    if reason := kvm_unusable():
        print(f"SKIP: {reason}")
        return 77
    if shutil.which("gdb") is None:
        print("SKIP: gdb is not installed")
        return 77
    try:
        return kaslr(kvmdbg, cache) if mode == "kaslr" else run(kvmdbg, cache)
    except (Skip, Unavailable) as e:
        print(f"SKIP: {e}")
        return 77


if __name__ == "__main__":
    sys.exit(main())
