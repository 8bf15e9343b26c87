#!/usr/bin/env python3
"""Structural checks of the x86 guest images, no emulator needed.

Usage: check_images.py BUILD_DIR   (the build directory of tests/guests/x86)

Checks what the loaders rely on: ELF class/machine/type, entry == _start,
loadable segments at or above 1 MiB, symbols and DWARF present (gdb), and the
multiboot v1 header (magic within the first 8 KiB, 4-aligned, checksum, and
for the flat binary the a.out-kludge address fields against the file itself
and against the ELF it was copied from). For the debugging guests: the
symbols tests look up exist; step_0..step_7/step_ret (debug_target) and
stepper_0..stepper_7 (stepper) are strictly ascending and each starts the
exact instruction bytes README.md documents; the int3 and TF sequences of
guest_self_debug are what its expected counts assume; each
guest_self_debug*.elf64 has the built-in part mask its name says. Prints one
line per failure and exits 1 if there was any.
"""

import os
import struct
import sys

MB_MAGIC = 0x1BADB002
MB_SEARCH = 8192
MB_FLAG_MEMORY_INFO = 1 << 1
MB_FLAG_AOUT_KLUDGE = 1 << 16
LOAD_BASE = 0x100000

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
ET_EXEC = 2
EM_386, EM_X86_64 = 3, 62

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


class Elf:
    """The few parts of an ELF file the checks need."""

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b'\x7fELF':
            raise ValueError(f'{path}: not an ELF file')
        self.cls = d[4]  # 1 = ELF32, 2 = ELF64
        if self.cls == 1:
            (self.type, self.machine, _, self.entry, phoff, shoff, _, _,
             phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from(
                 '<HHIIIIIHHHHHH', d, 16)
        else:
            (self.type, self.machine, _, self.entry, phoff, shoff, _, _,
             phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from(
                 '<HHIQQQIHHHHHH', d, 16)
        self.phdrs = []
        for i in range(phnum):
            off = phoff + i * phentsize
            if self.cls == 1:
                p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, _ = \
                    struct.unpack_from('<IIIIIIII', d, off)
            else:
                p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _ = \
                    struct.unpack_from('<IIQQQQQQ', d, off)
            self.phdrs.append(dict(type=p_type, offset=p_offset, vaddr=p_vaddr,
                                   paddr=p_paddr, filesz=p_filesz, memsz=p_memsz,
                                   flags=p_flags))
        self.sections = {}
        raw = []
        for i in range(shnum):
            off = shoff + i * shentsize
            if self.cls == 1:
                name, s_type, _, addr, s_off, size, link, _, _, entsize = \
                    struct.unpack_from('<IIIIIIIIII', d, off)
            else:
                name, s_type, _, addr, s_off, size, link, _, _, entsize = \
                    struct.unpack_from('<IIQQQQIIQQ', d, off)
            raw.append((name, s_type, addr, s_off, size, link, entsize))
        strtab = raw[shstrndx]
        for name, s_type, addr, s_off, size, link, entsize in raw:
            sname = self._str(strtab[3], name)
            self.sections[sname] = dict(type=s_type, addr=addr, offset=s_off,
                                        size=size, link=link, entsize=entsize)
        self.symbols = {}
        symtab = self.sections.get('.symtab')
        if symtab:
            strs = raw[symtab['link']][3]
            for i in range(symtab['size'] // symtab['entsize']):
                off = symtab['offset'] + i * symtab['entsize']
                if self.cls == 1:
                    name, value, _, _, _, _ = struct.unpack_from('<IIIBBH', d, off)
                else:
                    name, _, _, _, value, _ = struct.unpack_from('<IBBHQQ', d, off)
                if name:
                    self.symbols.setdefault(self._str(strs, name), value)

    def _str(self, table_off, idx):
        end = self.data.index(b'\0', table_off + idx)
        return self.data[table_off + idx:end].decode()

    def loads(self):
        return [p for p in self.phdrs if p['type'] == PT_LOAD]

    def image_bytes(self, lo, hi):
        """Memory contents [lo, hi) as the loader would produce them."""
        buf = bytearray(hi - lo)
        for p in self.loads():
            for a in range(max(lo, p['paddr']), min(hi, p['paddr'] + p['filesz'])):
                buf[a - lo] = self.data[p['offset'] + a - p['paddr']]
        return bytes(buf)


def find_multiboot(data):
    """Offset of the first 4-aligned multiboot magic in the first 8 KiB."""
    for off in range(0, min(len(data), MB_SEARCH) - 11, 4):
        if struct.unpack_from('<I', data, off)[0] == MB_MAGIC:
            return off
    return None


def check_common_elf(name, elf, cls, machine, runtime=True):
    check(elf.cls == cls, f'{name}: ELF class {elf.cls}, want {cls}')
    check(elf.machine == machine, f'{name}: e_machine {elf.machine}, want {machine}')
    check(elf.type == ET_EXEC, f'{name}: e_type {elf.type}, want ET_EXEC')
    check(elf.entry == elf.symbols.get('_start'),
          f'{name}: entry {elf.entry:#x} is not _start')
    check(not any(p['type'] in (PT_DYNAMIC, PT_INTERP) for p in elf.phdrs),
          f'{name}: has PT_DYNAMIC/PT_INTERP')
    loads = elf.loads()
    check(loads, f'{name}: no PT_LOAD')
    for p in loads:
        check(p['vaddr'] == p['paddr'], f'{name}: segment vaddr != paddr')
        check(p['paddr'] >= LOAD_BASE, f'{name}: segment at {p["paddr"]:#x} below 1 MiB')
        check(p['memsz'] >= p['filesz'], f'{name}: segment memsz < filesz')
        check(p['paddr'] + p['memsz'] < 16 << 20, f'{name}: image reaches past 16 MiB')
        check(p['offset'] + p['filesz'] <= len(elf.data), f'{name}: segment past end of file')
    check(any(p['vaddr'] <= elf.entry < p['vaddr'] + p['filesz'] and p['flags'] & 1
              for p in loads), f'{name}: entry not in an executable segment')
    for sym in ('main', 'serial_putc', 'debug_exit') if runtime else ():
        check(sym in elf.symbols, f'{name}: no symbol {sym}')
    for sec in ('.debug_info', '.debug_line', '.debug_frame'):
        check(sec in elf.sections, f'{name}: no {sec} section')
    check('.eh_frame' not in elf.sections, f'{name}: .eh_frame in the loaded image')


def check_header(name, data, want_kludge):
    off = find_multiboot(data)
    if not check(off is not None, f'{name}: no multiboot magic in the first {MB_SEARCH} bytes'):
        return None
    magic, flags, checksum = struct.unpack_from('<III', data, off)
    check((magic + flags + checksum) & 0xffffffff == 0, f'{name}: bad multiboot checksum')
    check(flags & MB_FLAG_MEMORY_INFO, f'{name}: memory info flag not set')
    check(bool(flags & MB_FLAG_AOUT_KLUDGE) == want_kludge,
          f'{name}: a.out kludge flag is {bool(flags & MB_FLAG_AOUT_KLUDGE)}, want {want_kludge}')
    return off


def check_multiboot_elf(name, path):
    elf = Elf(path)
    check_common_elf(name, elf, 1, EM_386)
    off = check_header(name, elf.data, want_kludge=False)
    if off is not None:
        check(any(p['offset'] <= off < p['offset'] + p['filesz'] for p in elf.loads()),
              f'{name}: multiboot header not inside a loaded segment')
    for sym in ('gdt', 'trap_stubs'):
        check(sym in elf.symbols, f'{name}: no symbol {sym}')
    return elf


def check_aout_bin(name, path, debug_path):
    with open(path, 'rb') as f:
        data = f.read()
    check(data[:4] != b'\x7fELF', f'{name}: is an ELF file, want a flat binary')
    off = check_header(name, data, want_kludge=True)
    if off is None or len(data) < off + 32:
        return
    header_addr, load_addr, load_end, bss_end, entry = struct.unpack_from('<IIIII', data, off + 12)
    check(load_addr <= header_addr, f'{name}: header_addr below load_addr')
    check(header_addr - load_addr == off,
          f'{name}: header_addr - load_addr = {header_addr - load_addr:#x}, header at file offset {off:#x}')
    check(load_end - load_addr == len(data),
          f'{name}: load_end_addr - load_addr = {load_end - load_addr:#x}, file is {len(data):#x} bytes')
    check(bss_end >= load_end, f'{name}: bss_end_addr below load_end_addr')
    check(load_addr <= entry < load_end, f'{name}: entry_addr outside the loaded image')
    check(load_addr == LOAD_BASE, f'{name}: load_addr {load_addr:#x}, want 1 MiB')

    elf = Elf(debug_path)
    check_common_elf(os.path.basename(debug_path), elf, 1, EM_386)
    check(entry == elf.symbols.get('_start'), f'{name}: entry_addr {entry:#x} is not _start')
    check(elf.symbols.get('_edata') == load_end, f'{name}: load_end_addr is not _edata')
    check(elf.symbols.get('_end') == bss_end, f'{name}: bss_end_addr is not _end')
    hi = max(p['paddr'] + p['memsz'] for p in elf.loads())
    check(bss_end >= hi, f'{name}: bss_end_addr {bss_end:#x} below the ELF image end {hi:#x}')
    check(elf.image_bytes(load_addr, load_end) == data,
          f'{name}: contents differ from the loaded image of {os.path.basename(debug_path)}')


def check_elf64(name, path, runtime=True):
    elf = Elf(path)
    check_common_elf(name, elf, 2, EM_X86_64, runtime)
    check(find_multiboot(elf.data) is None,
          f'{name}: has a multiboot header (would not get the direct long-mode entry)')
    return elf


def check_symbols(name, elf, syms):
    for sym in syms:
        check(sym in elf.symbols, f'{name}: no symbol {sym}')
    return all(sym in elf.symbols for sym in syms)


def check_labelled_code(name, elf, labels, end_label, want):
    """labels[i] must be ascending and start instruction want[i] (bytes, or a
    function of the symbol table giving them); end_label follows the last."""
    if not check_symbols(name, elf, labels + [end_label]):
        return
    addrs = [elf.symbols[label] for label in labels] + [elf.symbols[end_label]]
    check(addrs == sorted(set(addrs)),
          f'{name}: {", ".join(labels)}, {end_label} are not strictly ascending: '
          + ', '.join(hex(a) for a in addrs))
    for label, lo, hi, expect in zip(labels, addrs, addrs[1:], want):
        expect = expect(elf.symbols) if callable(expect) else expect
        got = elf.image_bytes(lo, hi) if hi > lo else b''
        check(got == expect, f'{name}: {label} at {lo:#x} is {got.hex(" ")} '
                             f'({len(got)} bytes), want {expect.hex(" ")} ({len(expect)} bytes)')


def rel32(sym, next_label):
    """A RIP-relative displacement from the end of the instruction to sym."""
    return lambda s: struct.pack('<i', s[sym] - s[next_label])


STEP_LABELS = [f'step_{i}' for i in range(8)]
# step_sequence.S, instruction by instruction (its header comment has the table).
STEP_BYTES = {
    64: [b'\x90', b'\xb8\x01\x00\x00\x00', b'\x31\xd2', b'\x48\x01\xd0',
         lambda s: b'\x48\x8d\x0d' + rel32('step_data', 'step_5')(s), b'\xff\xc0',
         b'\x48\xba' + struct.pack('<Q', 0x1122334455667788), b'\x48\x89\x01'],
    32: [b'\x90', b'\xb8\x01\x00\x00\x00', b'\x31\xd2', b'\x01\xd0',
         lambda s: b'\x8d\x0d' + struct.pack('<I', s['step_data']), b'\x40',
         b'\xba' + struct.pack('<I', 0x55667788), b'\x89\x01'],
}
STEPPER_LABELS = [f'stepper_{i}' for i in range(8)]
STEPPER_BYTES = [b'\x90', b'\xb8\x01\x00\x00\x00', b'\x31\xd2', b'\x48\x01\xd0',
                 lambda s: b'\x48\x8d\x0d' + rel32('stepper_data', 'stepper_5')(s),
                 b'\xff\xc0', b'\x48\xff\x03',
                 lambda s: b'\xeb' + struct.pack('<b', s['stepper_0'] - (s['stepper_7'] + 2))]

DEBUG_TARGET_SYMBOLS = [
    'step_sequence', 'step_data', 'tick', 'read_only_probe', 'spin_cpu1', 'loops',
    'tick_count', 'watched_var', 'loop_index', 'probe_sink', 'cpu1_checked_in',
    'cpu1_counter', 'done_flag', 'cpu1_gave_up']
SELF_DEBUG_SYMBOLS = [
    'guarded_fn', 'self_debug_db_entry', 'self_debug_bp_entry', 'self_debug_on_db',
    'self_debug_on_bp', 'int3_sequence', 'tf_sequence', 'tf_set', 'self_debug_builtin_parts',
    'self_debug_parts', 'bp_count', 'tf_count', 'dr0_count', 'dr0_b0_count',
    'unexpected_count', 'unexpected_log', 'db_events', 'guarded_calls', 'db_log', 'bp_log']
# guest_self_debug<suffix>.elf64 -> SELF_DEBUG_PART_* mask (meson.build).
SELF_DEBUG_VARIANTS = {'': 7, '_nobp': 6, '_bp': 1, '_tf': 2, '_dr0': 4}


def check_debug_target(name, elf, bits):
    check_symbols(name, elf, DEBUG_TARGET_SYMBOLS)
    check_labelled_code(name, elf, STEP_LABELS, 'step_ret', STEP_BYTES[bits])
    if 'step_ret' in elf.symbols:
        ret = elf.symbols['step_ret']
        check(elf.image_bytes(ret, ret + 1) == b'\xc3', f'{name}: step_ret is not a ret')
    if 'step_sequence' in elf.symbols and 'step_0' in elf.symbols:
        check(elf.symbols['step_sequence'] == elf.symbols['step_0'],
              f'{name}: step_0 is not the first instruction of step_sequence')
    if 'watched_var' in elf.symbols:
        check(elf.symbols['watched_var'] % 8 == 0, f'{name}: watched_var is not 8-byte aligned')


def check_self_debug(name, elf, mask):
    check_symbols(name, elf, SELF_DEBUG_SYMBOLS)
    # Exactly what the counts in README.md are derived from.
    check_labelled_code(name, elf, ['int3_site_0', 'int3_site_1', 'int3_site_2'],
                        'int3_done', [b'\xcc'] * 3)
    check_labelled_code(name, elf, ['tf_nop_0', 'tf_nop_1', 'tf_nop_2', 'tf_nop_3', 'tf_clear'],
                        'tf_done', [b'\x90'] * 4 + [b'\x9d'])
    sym = elf.symbols.get('self_debug_builtin_parts')
    if sym is not None:
        got = struct.unpack('<I', elf.image_bytes(sym, sym + 4))[0]
        check(got == mask, f'{name}: self_debug_builtin_parts = {got}, want {mask}')


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    d = sys.argv[1]
    p = lambda n: os.path.join(d, n)  # noqa: E731
    check_multiboot_elf('hello.mb.elf', p('hello.mb.elf'))
    smp = check_multiboot_elf('smp.mb.elf', p('smp.mb.elf'))
    for sym in ('ap_trampoline', 'ap_trampoline_end', 'ap_entry32', 'ap_main'):
        check(sym in smp.symbols, f'smp.mb.elf: no symbol {sym}')
    if 'ap_trampoline' in smp.symbols and 'ap_trampoline_end' in smp.symbols:
        size = smp.symbols['ap_trampoline_end'] - smp.symbols['ap_trampoline']
        check(0 < size <= 4096, f'smp.mb.elf: trampoline is {size} bytes, want one page at most')
    check_aout_bin('hello.mb.bin', p('hello.mb.bin'), p('hello.mb.bin.debug'))
    check_elf64('hello.elf64', p('hello.elf64'))
    check_elf64('smp.elf64', p('smp.elf64'))

    check_debug_target('debug_target.elf64', check_elf64('debug_target.elf64',
                                                         p('debug_target.elf64')), 64)
    dt = check_multiboot_elf('debug_target.mb.elf', p('debug_target.mb.elf'))
    check_debug_target('debug_target.mb.elf', dt, 32)
    check_symbols('debug_target.mb.elf', dt, ['ap_trampoline', 'ap_entry32', 'ap_main'])
    for suffix, mask in SELF_DEBUG_VARIANTS.items():
        n = f'guest_self_debug{suffix}.elf64'
        check_self_debug(n, check_elf64(n, p(n)), mask)
    check_self_debug('guest_self_debug.mb.elf',
                     check_multiboot_elf('guest_self_debug.mb.elf',
                                         p('guest_self_debug.mb.elf')), 7)
    stepper = check_elf64('stepper.elf64', p('stepper.elf64'), runtime=False)
    check_symbols('stepper.elf64', stepper,
                  ['stepper_counter', 'stepper_counters', 'stepper_data'])
    check_labelled_code('stepper.elf64', stepper, STEPPER_LABELS, 'stepper_park', STEPPER_BYTES)
    if 'stepper_counter' in stepper.symbols and 'stepper_counters' in stepper.symbols:
        check(stepper.symbols['stepper_counter'] == stepper.symbols['stepper_counters'],
              'stepper.elf64: stepper_counter is not stepper_counters[0]')

    for f in failures:
        print('FAIL:', f)
    if not failures:
        print('all x86 guest images look right')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
