#!/usr/bin/env python3
"""Writes the hand-made part of the seed corpus in tests/fuzz/corpus/.

Run from anywhere: python3 tests/fuzz/make_seeds.py. Idempotent. The real
gdb traffic (corpus/request_parser/gdb-*, corpus/packet_framer/gdb-stream,
corpus/gdb_session/gdb-session) is what gdb 13 sent in one session, logged
with `kvmdbg -M pc-lite -m 64M -kernel debug_target.elf64 -S -gdb tcp:...
-d gdb -D LOG` (gdb: target remote, info registers rip, hbreak main,
continue, stepi, x/4i $pc, break ... if, print, set var, info threads, bt,
monitor info registers, delete, detach): the "<- " lines, split into
payloads or replayed as one stream. The real guest images are built
tests/guests/x86 images with `objcopy --strip-all` (corpus/elf_loader/
hello.elf64 and debug_target.mb.elf, corpus/multiboot_loader/hello.mb.elf)
and hello.mb.bin (a.out kludge) as built.
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('latin-1')
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def frame(payload):
    return '$%s#%02x' % (payload, sum(payload.encode('latin-1')) & 0xff)


# A short gdb exchange; byte 0 of a framer input is the split point.
EXCHANGE = ['qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386', 'vMustReplyEmpty',
            'Hg0', '?', 'g', 'm1000,40', 'Z0,1000,1', 'vCont;s:1;c', 'X1000,2:}]}\x03']
PACKETS = [
    'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;'
    'exec-events+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=i386',
    'vMustReplyEmpty', 'QStartNoAckMode', 'Hgp0.0', 'Hg0', 'Hc-1', 'qTStatus', '?', 'qfThreadInfo',
    'qsThreadInfo', 'qAttached', 'qAttached:1', 'qC', 'qOffsets', 'qL1200000000000000000',
    'qXfer:features:read:target.xml:0,ffb', 'qXfer:features:read:64bit-core.xml:0,ffb',
    'qXfer:memory-map:read::0,ffb', 'qXfer:threads:read::0,ffb', 'g', 'G' + '00' * 28,
    'p10', 'P10=efbeadde00000000', 'm101000,40', 'M101000,4:deadbeef', 'X101000,3:a}]b', 'x101000,40',
    'Z0,101010,1', 'z0,101010,1', 'Z1,101010,1', 'z1,101010,1', 'Z2,101048,8', 'z2,101048,8',
    'Z3,101048,4', 'Z4,101048,1', 'Z0,401010,1;Xc,240040300019162022391327',
    'Z0,401010,1;X3,220127;X2,2627;cmds:0,X2,2627',
    'vCont?', 'vCont;c', 'vCont;s:1;c', 'vCont;r101000,101040:1;c', 'vCont;t:2', 'c', 's',
    'c101010', 'C05', 'S05', 'T1', 'T2', 'qThreadExtraInfo,1', 'qRcmd,696e666f20726567697374657273',
    'qRcmd,7870202f7820307831303030', 'qqemu.sstepbits', 'qqemu.sstep', 'Qqemu.sstep=7',
    'qqemu.PhyMemMode', 'Qqemu.PhyMemMode:1', 'qSymbol::', 'D', 'D;1', 'k', 'vKill;1',
    'qfThreadInfo', 'm' + 'f' * 20 + ',ffffffff', 'p' + 'f' * 20, 'mffffffffffffffff,2',
]

for i, p in enumerate(PACKETS):
    put('request_parser', 'packet-%02d' % i, p)

put('packet_framer', 'exchange', '\x10' + '+'.join(frame(p) for p in EXCHANGE) + '+\x03-')
put('packet_framer', 'bad-checksum', '\x05$m1000,4#00+$g#zz$qC#b4')
put('packet_framer', 'restart', '\x03$m10$g#67$' + 'a' * 600 + '#00')

# Session: chunks of <control><up to 63 bytes>, see fuzz_gdb_session.cc.
session = b''
for p in ['qSupported:swbreak+;hwbreak+', '?', 'g', 'm1000,40', 'Z0,1000,1', 'vCont;s:1;c', 'c',
          'z0,1000,1', 'QStartNoAckMode', 'qXfer:features:read:target.xml:0,ffb', 'D']:
    b = ('+' + frame(p)).encode('latin-1')
    while b:
        chunk, b = b[:63], b[63:]
        session += bytes([len(chunk) | (0x40 if p.startswith(('c', 'vCont;')) else 0)]) + chunk
put('gdb_session', 'handmade-session', session)

# Agent expressions: <mode byte><bytecode or condition text>.
EXPRS = [
    bytes([0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x22, 0x39, 0x13, 0x27]),  # i == 57
    bytes([0x26, 0x00, 0x00, 0x16, 0x40, 0x22, 0x03, 0x2b, 0x14, 0x27]),  # $rax < 3 (signed)
    bytes([0x24, 0x00, 0x10, 0x10, 0x48, 0x1a, 0x22, 0x01, 0x2a, 0x40, 0x0f, 0x27]),
    bytes([0x26, 0x00, 0x07, 0x2a, 0x40, 0x17, 0x16, 0x08, 0x22, 0x12, 0x13, 0x27]),
    bytes([0x22, 0x07, 0x22, 0x00, 0x05, 0x27]),  # 7 / 0: division by zero
    bytes([0x22, 0x01, 0x20, 0x00, 0x00, 0x27]),  # if_goto to itself: a loop
    bytes([0x25]) + struct.pack('>Q', 1 << 63) + bytes([0x22, 0xff, 0x16, 0x08, 0x05, 0x27]),  # INT64_MIN / -1
    bytes([0x22, 0x03, 0x22, 0x04, 0x22, 0x05, 0x33, 0x32, 0x01, 0x2b, 0x29, 0x09, 0x27]),
]
for i, e in enumerate(EXPRS):
    put('agent_expr', 'bytecode-%02d' % i, b'\x00' + e)
    put('agent_expr', 'tight-%02d' % i, b'\x04' + e)
    put('agent_expr', 'condlist-%02d' % i, b'\x01' + ('X%x,%s' % (len(e), e.hex())).encode())
put('agent_expr', 'condlist-two', b'\x03X3,220127;X2,2627')

# Page walks: CR0, CR3, CR4, EFER, linear, mode, RAM at GPA 0.
CR0_PG_PE = (1 << 31) | 1
CR4_PSE, CR4_PAE, CR4_LA57 = 1 << 4, 1 << 5, 1 << 12
EFER_LMA_LME = (1 << 10) | (1 << 8)


def walk(name, cr0, cr3, cr4, efer, linear, mode, ram):
    put('x86_page_walk', name, struct.pack('<QQQQQB', cr0, cr3, cr4, efer, linear, mode) + ram)


def ram_with(entries, size):
    r = bytearray(size)
    for gpa, (value, width) in entries.items():
        r[gpa:gpa + width] = value.to_bytes(width, 'little')
    return bytes(r)


# 4-level, linear 0x1234: PML4 at 0, PDPT/PD/PT all at 0x1000 (index 0).
walk('long-4k', CR0_PG_PE, 0, CR4_PAE, EFER_LMA_LME, 0x1234, 0,
     ram_with({0: (0x1003, 8), 0x1000: (0x1003, 8)}, 0x1008))
# 4-level, 2 MiB page in the PD.
walk('long-2m', CR0_PG_PE, 0, CR4_PAE, EFER_LMA_LME, 0x1234, 0,
     ram_with({0: (0x1003, 8), 0x1000: (0x2003, 8), 0x2000: (0x200083, 8)}, 0x2008))
# 5-level, aliased RAM: every entry reads the same 8 bytes.
walk('la57-aliased', CR0_PG_PE, 0, CR4_PAE | CR4_LA57, EFER_LMA_LME, 0xff00000000001234, 1,
     (0x3).to_bytes(8, 'little'))
# PAE: PDPTE at 0, PD at 0x1000, PT at 0x1000.
walk('pae-4k', CR0_PG_PE, 0, CR4_PAE, 0, 0x1234, 0,
     ram_with({0: (0x1001, 8), 0x1000: (0x1003, 8)}, 0x1008))
# 32-bit: PDE at 0 with PS (PSE-36 bits), and a 4 KiB walk.
walk('32-4m', CR0_PG_PE, 0, CR4_PSE, 0, 0x123456, 0, ram_with({0: (0x1fe083, 4)}, 4))
walk('32-4k', CR0_PG_PE, 0, 0, 0, 0x1234, 0, ram_with({0: (0x1003, 4), 0x1004: (0x5003, 4)}, 0x1008))
walk('paging-off', 1, 0, 0, 0, 0x1234, 0, b'')

# arm64 page walks: SCTLR_EL1, TCR_EL1, TTBR0, TTBR1, VA, mode, RAM at GPA 0.
SCTLR_M = 1
TCR_4K_39 = 25 | (1 << 23)  # T0SZ=25 (39-bit VA: levels 1-3), TG0=4K, EPD1


def a64walk(name, sctlr, tcr, ttbr0, ttbr1, va, mode, ram):
    put('arm64_page_walk', name, struct.pack('<QQQQQB', sctlr, tcr, ttbr0, ttbr1, va, mode) + ram)


# L1 at 0 -> L2 at 0x1000 -> L3 at 0x1000 (index 0 everywhere): page 0x1000.
a64walk('4k-page', SCTLR_M, TCR_4K_39, 0, 0, 0x1234, 0,
        ram_with({0: (0x1003, 8), 0x1000: (0x1003 | (1 << 10), 8)}, 0x1008))
# L1 block (1 GiB) at 0x40000000.
a64walk('4k-block', SCTLR_M, TCR_4K_39, 0, 0, 0x1234, 0, ram_with({0: (0x40000001 | (1 << 10), 8)}, 8))
# 64 KiB granule, T0SZ=22 (42-bit VA: levels 2-3), aliased RAM.
a64walk('64k-aliased', SCTLR_M, 22 | (1 << 14) | (1 << 23), 0, 0, 0x12345, 1, (0x3).to_bytes(8, 'little'))
# 16 KiB granule, TTBR1 range (T1SZ=16, TG1=16K), DS=1 (FEAT_LPA2), aliased.
a64walk('16k-ttbr1-lpa2', SCTLR_M, 16 | (1 << 7) | (16 << 16) | (1 << 30) | (1 << 59), 0, 0x4000,
        0xffff800000001234, 1, (0x4003).to_bytes(8, 'little'))
a64walk('mmu-off', 0, 0, 0, 0, 0x40001234, 0, b'')

# arm64 Image: 64-byte header (booting.rst), code after it.
image = bytearray(0x1000)
struct.pack_into('<IIQQQQQQII', image, 0, 0x14000010, 0, 0, len(image), 0x2 | 0x8, 0, 0, 0, 0x644d5241, 0)
put('arm64_loader', 'Image', bytes(image))
# The same Image gzip'd (Image.gz, gzip_image.h); mtime 0 keeps the bytes fixed.
put('arm64_loader', 'Image.gz', gzip.compress(bytes(image), mtime=0))


# Linux bzImages (boot.rst setup header): 4 setup sectors, then the
# protected-mode kernel; one that loads into the fuzzer's 16 MiB of RAM, one
# of protocol 2.05 and one without XLF_KERNEL_64.
def bzimage(version=0x020f, xloadflags=0x1, kernel=0x400):
    image = bytearray(5 * 512 + kernel)
    image[0x1f1] = 4
    struct.pack_into('<I', image, 0x1f4, kernel // 16)
    struct.pack_into('<HBB4sH', image, 0x1fe, 0xaa55, 0xeb, 0x6a, b'HdrS', version)
    image[0x211] = 0x01  # LOADED_HIGH
    struct.pack_into('<IIBBHI', image, 0x22c, 0x7fffffff, 0x100000, 1, 20, xloadflags, 0x7ff)
    struct.pack_into('<QI', image, 0x258, 0x100000, 0x200000)  # pref_address, init_size
    return bytes(image)


put('linux_loader', 'bzImage', bzimage())
put('linux_loader', 'bzImage-2.05', bzimage(version=0x0205))
put('linux_loader', 'bzImage-no-64bit-entry', bzimage(xloadflags=0))


# fw_cfg: commands as tests/fuzz/fuzz_fw_cfg.cc reads them.
def cfg_select(key):
    return bytes([0, 0, 1]) + struct.pack('<Q', key)


def cfg_read(n):
    return bytes([1, 1, 0]) * n


def cfg_dma(gpa, control, length, address):
    return bytes([4]) + struct.pack('<I', gpa) + struct.pack('>IIQ', control, length, address)


put('fw_cfg', 'select-read-signature', cfg_select(0) + cfg_read(6))
put('fw_cfg', 'dma-file-dir', cfg_dma(0x1000, (0x19 << 16) | 0x0a, 64 + 4, 0x2000))
put('fw_cfg', 'dma-skip-read-e820', cfg_dma(0x1000, (0x21 << 16) | 0x0c, 8, 0) +
    cfg_dma(0x1000, 0x02, 0x40, 0x100ff0))
put('fw_cfg', 'dma-out-of-ram', cfg_dma(0xfff8, (0x20 << 16) | 0x0a, 0x10000, 0x10000) +
    cfg_dma(0x1000, (0x11 << 16) | 0x0a, 0xffffffff, 0xfffffffffffffff0))
put('fw_cfg', 'dma-write-and-64bit-start', cfg_dma(0x1000, (0x00 << 16) | 0x18, 4, 0x2000) +
    bytes([5]) + struct.pack('<Q', 0x1000) + bytes([3, 0, 2, 3, 6, 2]))
