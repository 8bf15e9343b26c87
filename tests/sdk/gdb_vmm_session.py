"""The gdb sessions against examples/gdb_vmm and what they must show, shared
by tests/sdk (x86-64 here, sdk_example.py --stage gdb) and the nested arm64
suite (tests/nested/arm64/nested_cases.py, gdb-multiarch through the rig's
`-gdb stdio` relay).

Two runs of the example, each `gdb_vmm -S -gdb ENDPOINT` with a fresh gdb:

main: `info registers` and `x` at the first instruction, `stepi` (the PC
  moves by that instruction's length), `hbreak *loop` + `continue` (stops
  there), `stepi` from the stop, a target-side conditional breakpoint
  (`set breakpoint condition-evaluation target`, `break *tick if
  *(int*)counter == 3`: the stop has the counter at 3), `delete`, `detach`;
  then the guest runs to its end on its own: five "tick N" lines and exit
  status 0. Where the host's KVM never fires a breakpoint (a KVM nested
  under TCG, docs/hosts.md), `continue` runs the guest to its exit, which
  gdb reports: the breakpoint steps are then reported as not run (the
  caller SKIPs after the rest passed).
spin: `--spin`: `continue`, Ctrl-C (SIGINT to gdb once it printed
  "Continuing."): gdb sees SIGINT with the guest in its spin loop (counter
  5, spin counter > 0); gdb clears the spin flag (a memory write) and
  detaches; the guest then ends on its own with status 0.

The labels come from the example's own line "gdb_vmm: ISA guest: start
0x.., loop 0x.., tick 0x.., counter 0x.." (the guest listings in
examples/gdb_vmm/guest_*.c have the same offsets).
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gdb_interrupt import CONTINUE_MARK_COMMAND, run_gdb  # noqa: E402,F401 (run_gdb: the cases' runner)

# What gdb prints when `detach` worked: gdb 13 prints the last line only.
DETACHED = r"Detaching from program|Ending remote debugging|\[Inferior 1 \(Remote target\) detached\]"

# Bytes of the instruction at `start` and at `loop` (guest_x86_64.c: mov
# edx, imm32 and inc dword [rbx]; arm64: every instruction is 4 bytes).
INSN_LEN = {"x86_64": {"start": 5, "loop": 2}, "arm64": {"start": 4, "loop": 4}}
SERIAL = "".join(f"tick {i}\n" for i in range(1, 6))
LAYOUT_LINE = re.compile(r"gdb_vmm: (\w+) guest: start (0x[0-9a-f]+), loop (0x[0-9a-f]+), tick (0x[0-9a-f]+), "
                         r"counter (0x[0-9a-f]+)")


class Layout:
    def __init__(self, text):
        m = LAYOUT_LINE.search(text)
        if not m:
            raise ValueError("gdb_vmm printed no guest layout line")
        self.isa = m.group(1)
        self.start, self.loop, self.tick, self.counter = (int(m.group(i), 16) for i in range(2, 6))
        self.insn_len = INSN_LEN[self.isa]


def gdb_command(gdb, target, commands):
    cmd = [gdb, "-batch", "-nx", "-ex", "set confirm off", "-ex", "set pagination off",
           "-ex", "set remotetimeout 30", "-ex", target]
    for c in commands:
        cmd += ["-ex", c]
    return cmd


def main_commands(lay):
    c = lay.counter
    return ["info registers", 'printf "PC0=%lx\\n", $pc', f"x/3xw {c:#x}", "stepi", 'printf "PC1=%lx\\n", $pc',
            f"hbreak *{lay.loop:#x}", "continue", f'printf "HB=%lx COUNT=%d\\n", $pc, *(int*){c:#x}',
            "stepi", 'printf "PC2=%lx\\n", $pc', "delete",
            "set breakpoint condition-evaluation target", f"break *{lay.tick:#x} if *(int*){c:#x} == 3",
            "continue", f'printf "COND=%lx COUNT=%d\\n", $pc, *(int*){c:#x}', "delete", "detach"]


def check_main(out, lay):
    """(failures, breakpoints_fired) of the main session's gdb output."""
    failures = []

    def want(cond, what):
        if not cond:
            failures.append(what)

    want(re.search(r"^(rip|pc)\s+0x%x\b" % lay.start, out, re.M), f"info registers does not show pc {lay.start:#x}")
    want(re.search(r"PC0=%x\b" % lay.start, out), "$pc is not the guest's start")
    want(re.search(r"0x%x:\s+0x00000000\s+0x00000000\s+0x00000000" % lay.counter, out),
         f"x/3xw {lay.counter:#x} does not show the zeroed counters")
    want(re.search(r"PC1=%x\b" % (lay.start + lay.insn_len["start"]), out),
         f"stepi did not move the pc by {lay.insn_len['start']} bytes")
    fired = "HB=" in out
    if not fired:
        want(re.search(r"exited normally", out),
             "hbreak did not stop and gdb did not see the guest's exit either")
        return failures, False
    want(re.search(r"HB=%x COUNT=0\b" % lay.loop, out), f"hbreak *{lay.loop:#x} did not stop there at counter 0")
    want(re.search(r"PC2=%x\b" % (lay.loop + lay.insn_len["loop"]), out),
         f"stepi at the breakpoint did not move the pc by {lay.insn_len['loop']} bytes")
    want("does not support breakpoint condition evaluation" not in out,
         "the stub did not take the condition (gdb evaluated it on the host)")
    want(re.search(r"COND=%x COUNT=3\b" % lay.tick, out),
         f"the conditional breakpoint at {lay.tick:#x} did not stop with the counter at 3")
    want(re.search(DETACHED, out), "detach did not happen")
    return failures, True


def spin_commands(lay):
    c = lay.counter
    return [CONTINUE_MARK_COMMAND, "continue",
            f'printf "INT=%lx COUNT=%d SPIN=%d\\n", $pc, *(int*){c:#x}, *(int*){c + 4:#x}',
            f"set var *(int*){c + 8:#x} = 0", f"x/3dw {c:#x}", "detach"]


def check_spin(out, lay):
    failures = []
    if "SIGINT" not in out:
        failures.append("Ctrl-C did not stop the guest with SIGINT")
    m = re.search(r"INT=([0-9a-f]+) COUNT=(\d+) SPIN=(\d+)", out)
    if not m:
        failures.append("registers or memory unreadable after Ctrl-C")
    else:
        pc, count, spin = int(m.group(1), 16), int(m.group(2)), int(m.group(3))
        if not (lay.start <= pc < lay.start + 0x70) or count != 5 or spin == 0:
            failures.append(f"after Ctrl-C pc {pc:#x}, counter {count}, spin counter {spin}: "
                            "not in the spin loop after the five ticks")
    if not re.search(r"0x%x:\s+5\s+\d+\s+0\b" % lay.counter, out):
        failures.append("gdb's write of the spin flag does not read back as 0")
    if not re.search(DETACHED, out):
        failures.append("detach did not happen")
    return failures


def check_end(status, serial, log):
    """The example's end: the guest's five lines and exit status 0."""
    failures = []
    if SERIAL not in serial:
        failures.append(f"the guest's serial output is {serial!r}, not the five ticks")
    if "gdb_vmm: guest exit status 0" not in log or status != 0:
        failures.append(f"gdb_vmm exited {status} without the guest's exit status 0")
    return failures
