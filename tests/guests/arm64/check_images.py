#!/usr/bin/env python3
"""Structural checks of the arm64 guest images, no emulator needed.

Usage: check_images.py BUILD_DIR   (the build directory of tests/guests/arm64)

Checks what the virt loader (hw-models/loaders/arm64_loader.h) relies on:
ELF64, EM_AARCH64, ET_EXEC, little endian, entry == _start == 0x40080000,
every PT_LOAD inside the virt RAM (from 0x40000000) with vaddr == paddr,
symbols and DWARF present (gdb). For debug_target.elf: step_0..step_7 and
step_ret are 4 bytes apart in order and hold the exact A64 encodings
step_sequence.S documents; tick, read_only_probe, watched_var, loop_index,
tick_count exist. For guest_self_brk.elf: brk_0..brk_2 are BRK #1..#3
(0xd4200000 | imm16 << 5) and guest_vectors is 2 KiB aligned. Prints one
line per failure and exits 1 if there was any.
"""

import os
import struct
import sys

EM_AARCH64 = 183
ET_EXEC = 2
PT_LOAD = 1
RAM_BASE = 0x40000000
LINK_BASE = 0x40080000

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


class Elf:
    def __init__(self, path):
        with open(path, 'rb') as f:
            self.data = d = f.read()
        if d[:4] != b'\x7fELF':
            raise ValueError(f'{path}: not an ELF file')
        self.cls, self.endian = d[4], d[5]
        (self.type, self.machine, _, self.entry, phoff, shoff, _, _,
         phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from('<HHIQQQIHHHHHH', d, 16)
        self.phdrs = []
        for i in range(phnum):
            p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _ = \
                struct.unpack_from('<IIQQQQQQ', d, phoff + i * phentsize)
            self.phdrs.append(dict(type=p_type, offset=p_offset, vaddr=p_vaddr, paddr=p_paddr,
                                   filesz=p_filesz, memsz=p_memsz))
        raw = []
        for i in range(shnum):
            name, s_type, _, addr, s_off, size, link, _, _, entsize = \
                struct.unpack_from('<IIQQQQIIQQ', d, shoff + i * shentsize)
            raw.append((name, s_type, addr, s_off, size, link, entsize))
        strtab = raw[shstrndx][3]
        self.sections = {}
        for name, s_type, addr, s_off, size, link, entsize in raw:
            self.sections[self._str(strtab, name)] = dict(addr=addr, offset=s_off, size=size,
                                                          link=link, entsize=entsize)
        self.symbols = {}
        sym = self.sections.get('.symtab')
        if sym:
            strs = raw[sym['link']][3]
            for i in range(sym['size'] // sym['entsize']):
                name, _, _, _, value, _ = struct.unpack_from('<IBBHQQ', d, sym['offset'] + i * sym['entsize'])
                if name:
                    self.symbols.setdefault(self._str(strs, name), value)

    def _str(self, off, idx):
        end = self.data.index(b'\0', off + idx)
        return self.data[off + idx:end].decode()

    def word(self, addr):
        for p in self.phdrs:
            if p['type'] == PT_LOAD and p['paddr'] <= addr and addr + 4 <= p['paddr'] + p['filesz']:
                return struct.unpack_from('<I', self.data, p['offset'] + addr - p['paddr'])[0]
        return None


def check_common(name, elf):
    check(elf.cls == 2, f'{name}: not ELF64')
    check(elf.endian == 1, f'{name}: not little endian')
    check(elf.machine == EM_AARCH64, f'{name}: e_machine {elf.machine}, want {EM_AARCH64}')
    check(elf.type == ET_EXEC, f'{name}: e_type {elf.type}, want ET_EXEC')
    check(elf.entry == elf.symbols.get('_start') == LINK_BASE,
          f'{name}: entry {elf.entry:#x} is not _start at {LINK_BASE:#x}')
    loads = [p for p in elf.phdrs if p['type'] == PT_LOAD]
    check(loads, f'{name}: no PT_LOAD')
    for p in loads:
        check(p['vaddr'] == p['paddr'], f'{name}: segment vaddr != paddr')
        check(p['paddr'] >= RAM_BASE, f'{name}: segment at {p["paddr"]:#x} below RAM')
        check(p['memsz'] >= p['filesz'], f'{name}: segment memsz < filesz')
    for s in ('.debug_info', '.debug_line', '.symtab'):
        check(s in elf.sections, f'{name}: no {s} (gdb needs it)')
    for s in ('main', 'serial_putc', 'power_off', 'test_exit', 'guest_vectors', 'stack_top'):
        check(s in elf.symbols, f'{name}: no symbol {s}')


# step_sequence.S, in order: (label, encoding).
STEP_WORDS = [
    ('step_0', 0xd503201f),    # nop
    ('step_1', 0x52800020),    # mov w0, #1
    ('step_2', 0xaa1f03e2),    # mov x2, xzr  (orr x2, xzr, xzr)
    ('step_3', 0x8b020000),    # add x0, x0, x2
    ('step_4', None),          # adr x1, step_data (offset depends on the link)
    ('step_5', 0x11000400),    # add w0, w0, #1
    ('step_6', 0xd28ef102),    # movz x2, #0x7788
    ('step_7', 0xf9000020),    # str x0, [x1]
    ('step_ret', 0xd65f03c0),  # ret
]


def adr_target(word, pc):
    """Target of an ADR at pc (ARM ARM C6.2.10), or None if word is not ADR."""
    if word is None or (word & 0x9f000000) != 0x10000000:
        return None
    imm = ((word >> 5) & 0x7ffff) << 2 | (word >> 29) & 3
    if imm & (1 << 20):
        imm -= 1 << 21
    return pc + imm


def check_debug_target(elf):
    name = 'debug_target.elf'
    base = elf.symbols.get('step_0')
    if not check(base is not None, f'{name}: no step_0'):
        return
    check(elf.symbols.get('step_sequence') == base, f'{name}: step_sequence != step_0')
    for i, (label, want) in enumerate(STEP_WORDS):
        addr = elf.symbols.get(label)
        if not check(addr == base + 4 * i, f'{name}: {label} at {addr}, want {base + 4 * i:#x}'):
            continue
        word = elf.word(addr)
        if want is None:
            check(adr_target(word, addr) == elf.symbols.get('step_data'),
                  f'{name}: {label} is not adr x1, step_data ({word})')
            check(word is not None and word & 0x1f == 1, f'{name}: {label} does not write x1')
        else:
            check(word == want, f'{name}: {label} is {word:#010x}, want {want:#010x}')
    for s in ('tick', 'read_only_probe', 'watched_var', 'loop_index', 'tick_count', 'probe_sink', 'loops',
              'spin_cpu1', 'cpu1_counter', 'cpu1_checked_in', 'done_flag'):
        check(s in elf.symbols, f'{name}: no symbol {s}')
    check(elf.symbols.get('watched_var', 1) % 8 == 0, f'{name}: watched_var not 8-byte aligned')


def check_self_brk(elf):
    name = 'guest_self_brk.elf'
    for i in range(3):
        addr = elf.symbols.get(f'brk_{i}')
        if check(addr is not None, f'{name}: no brk_{i}'):
            want = 0xd4200000 | ((i + 1) << 5)
            word = elf.word(addr)
            check(word == want, f'{name}: brk_{i} is {word}, want BRK #{i + 1} {want:#010x}')
    check(elf.symbols.get('guest_vectors', 1) % 2048 == 0, f'{name}: guest_vectors not 2 KiB aligned')


def main():
    build = sys.argv[1]
    images = ['hello.elf', 'exit_code.elf', 'debug_target.elf', 'guest_self_brk.elf', 'smp.elf']
    for image in images:
        path = os.path.join(build, image)
        if not check(os.path.exists(path), f'{image}: missing'):
            continue
        elf = Elf(path)
        check_common(image, elf)
        if image == 'debug_target.elf':
            check_debug_target(elf)
        if image == 'guest_self_brk.elf':
            check_self_brk(elf)
    for f in failures:
        print(f)
    print(f'{len(images)} images, {len(failures)} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
