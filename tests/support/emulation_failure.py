"""kvmdbg's report of a KVM emulation failure, and the instructions a PVM
host's KVM emulator is known to fail (docs/hosts.md).

  EMULATION_FAILURE         matches kvmdbg's stderr lines
                            "KVM internal error on vCPU N: suberror 1
                            (emulation failure) at RIP=0x..." and the "code
                            bytes at RIP: .." line after it; group 1 the RIP,
                            group 2 the code bytes
  unemulated_instruction()  the name of such an instruction at the start of
                            the code bytes, or None
"""
import re

EMULATION_FAILURE = re.compile(
    r"KVM internal error on vCPU \d+: suberror 1 \(emulation failure\) at RIP=(0x[0-9a-f]+)\n"
    r"code bytes at RIP:((?: [0-9a-f]{2})+)")


def unemulated_instruction(code):
    """The name of the instruction at the start of `code` if it is one the
    PVM hosts' KVM emulator is known to fail (docs/hosts.md): CMPXCHG16B
    (0F C7 /1 with REX.W) or the XSAVE family's XRSTOR (0F AE /5) and
    XRSTORS (0F C7 /3); else None."""
    i = 0
    while i < len(code) and code[i] in (0xF0, 0x66, 0xF2, 0xF3):
        i += 1
    rex_w = i < len(code) and 0x40 <= code[i] <= 0x4F and bool(code[i] & 0x08)
    if i < len(code) and 0x40 <= code[i] <= 0x4F:
        i += 1
    if len(code) < i + 3 or code[i] != 0x0F:
        return None
    op, reg, mod = code[i + 1], (code[i + 2] >> 3) & 7, code[i + 2] >> 6
    if op == 0xC7 and reg == 1 and rex_w and mod != 3:
        return "cmpxchg16b"
    if op == 0xC7 and reg == 3 and mod != 3:
        return "xrstors"
    if op == 0xAE and reg == 5 and mod != 3:
        return "xrstor"
    return None
