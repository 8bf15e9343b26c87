#!/usr/bin/env python3
"""A real gdb (gdb-multiarch) reads kvmdbg's target description of one ISA
and a g packet built by kvmdbg's encoder, over the remote protocol.

usage: tdesc_gdb_check.py TDESC_DUMP ISA GDB_ARCH ENDIAN PC_NAME PC_VALUE SP_NAME SP_VALUE

ENDIAN (big or little) is given to gdb with `set endian`, as a user does
without an ELF file: a target description carries no byte order (gdb
manual "Target Description Format"), gdb takes it from the executable and
otherwise from its default (the host's).

gdb connects to this same script in stub mode (`target remote | ...`),
fetches target.xml with qXfer, builds its architecture from it (gdb rejects
a description its architecture code does not accept: "Architecture rejected
target-supplied description"), reads the g packet (gdb fails on a packet
whose size does not match the description), and prints the pc and stack
pointer: the values must be the encoder's, which proves that the
description, the architecture's byte order and the encoder agree.
SKIPs (77) without gdb-multiarch.
"""
import os
import shutil
import subprocess
import sys


def checksum(data):
    return "%02x" % (sum(data.encode()) & 0xFF)


def stub(xml, gpacket):
    inp = sys.stdin.buffer
    out = sys.stdout.buffer

    def send(payload):
        out.write(("$%s#%s" % (payload, checksum(payload))).encode())
        out.flush()

    buf = b""
    while True:
        c = inp.read(1)
        if not c:
            return 0
        if c in (b"+", b"-"):
            continue
        if c == b"\x03":
            send("S05")
            continue
        if c != b"$":
            continue
        buf = b""
        while True:
            c = inp.read(1)
            if not c:
                return 0
            if c == b"#":
                inp.read(2)
                break
            buf += c
        out.write(b"+")
        out.flush()
        pkt = buf.decode()
        if pkt.startswith("qSupported"):
            send("PacketSize=4000;qXfer:features:read+")
        elif pkt.startswith("qXfer:features:read:target.xml:"):
            off, length = (int(x, 16) for x in pkt.split(":")[4].split(","))
            chunk = xml[off:off + length]
            send(("l" if off + length >= len(xml) else "m") + chunk)
        elif pkt == "?":
            send("S05")
        elif pkt == "g":
            send(gpacket)
        elif pkt.startswith("p"):
            send("")
        elif pkt.startswith("m"):
            send("E14")
        elif pkt in ("qAttached",):
            send("1")
        elif pkt.startswith("qfThreadInfo"):
            send("l")
        elif pkt == "D" or pkt == "k":
            # Keep reading until gdb closes the pipe: gdb may still write
            # (an ack, another packet) after its kill or detach, and a stub
            # gone by then is its "Remote communication error ... Broken pipe".
            send("OK")
        else:
            send("")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--stub":
        with open(sys.argv[2]) as f:
            xml = f.read()
        with open(sys.argv[3]) as f:
            gpacket = f.read().strip()
        return stub(xml, gpacket)

    dump, isa, arch, endian, pc_name, pc_value, sp_name, sp_value = sys.argv[1:9]
    gdb = shutil.which("gdb-multiarch")
    if gdb is None:
        print("SKIP: gdb-multiarch is not installed (Debian package gdb-multiarch)")
        return 77
    tmp = os.environ.get("MESON_BUILD_ROOT", "/tmp")
    xml_path = os.path.join(tmp, "tdesc-%s-%d.xml" % (isa, os.getpid()))
    g_path = os.path.join(tmp, "tdesc-%s-%d.g" % (isa, os.getpid()))
    try:
        with open(xml_path, "w") as f:
            f.write(subprocess.run([dump, isa, "xml"], check=True, capture_output=True, text=True).stdout)
        with open(g_path, "w") as f:
            f.write(subprocess.run([dump, isa, "g"], check=True, capture_output=True, text=True).stdout)
        cmd = [gdb, "-batch", "-nx",
               "-ex", "set architecture " + arch,
               "-ex", "set endian " + endian,
               "-ex", "target remote | %s %s --stub %s %s" % (sys.executable, os.path.abspath(__file__), xml_path, g_path),
               "-ex", "show architecture",
               "-ex", "p/x $" + pc_name,
               "-ex", "p/x $" + sp_name,
               "-ex", "maint print registers"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    finally:
        for p in (xml_path, g_path):
            if os.path.exists(p):
                os.unlink(p)
    text = r.stdout + r.stderr
    print(text)
    bad = [w for w in ("rejected", "too long", "Truncated register", "Could not load", "error", "Remote failure")
           if w.lower() in text.lower()]
    if bad:
        print("FAIL: gdb complained: %s" % bad)
        return 1
    if "= %s\n" % pc_value not in text or "= %s\n" % sp_value not in text:
        print("FAIL: expected $%s = %s and $%s = %s" % (pc_name, pc_value, sp_name, sp_value))
        return 1
    if arch not in text:
        print("FAIL: architecture %s not in use" % arch)
        return 1
    print("gdb accepted the %s description and read pc %s, sp %s" % (isa, pc_value, sp_value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
