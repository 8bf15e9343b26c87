"""Tiny ELF64 guests built from machine code at test time, no toolchain.

kvmdbg boots an ELF64 file directly in long mode (identity-mapped RAM,
RIP = e_entry, a stack in RSP), so a few bytes of code make a complete
guest. The code ends the run through isa-debug-exit at port 0xf4 (map it
with ISA_DEBUG_EXIT): writing V gives the process status (V << 1) | 1.

Used by the kvm-suite scripts beside this file; not a test by itself.
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kvm_host import kvm_unusable  # noqa: E402

LOAD_ADDR = 0x100000
ISA_DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def exit_with(value):
    """mov $value, %al; out %al, $0xf4; hlt: process status (value << 1) | 1."""
    return bytes([0xB0, value & 0xFF, 0xE6, 0xF4, 0xF4])


def elf64(code, load_addr=LOAD_ADDR):
    """An ELF64 x86-64 executable with one RX PT_LOAD segment holding
    `code` at `load_addr`, entered at its first byte."""
    ehdr = bytearray(b"\x7fELF" + bytes([2, 1, 1]) + bytes(9))
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, load_addr, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    offset = 0x1000
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, load_addr, load_addr, len(code), len(code), 0x1000)
    image = bytes(ehdr) + phdr
    return image + bytes(offset - len(image)) + bytes(code)


def write_elf64(directory, name, code):
    """Writes elf64(code) to directory/name and returns the path."""
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(elf64(code))
    return path


