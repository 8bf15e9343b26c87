"""Security: loopback by default, unix socket 0600, a second
client refused clearly while the first keeps working, packet and reply size
caps. See docs/security.md."""
import os
import shutil
import socket
import stat
import subprocess
import time

import rsp_client
from rel_support import Skip, expect, integrity_line

MAX_PACKET = 1 << 20          # gdbstub-glue/packet_framer.h kDefaultMaxPayload
PACKET_SIZE = 0x20000         # qSupported PacketSize (gdb_session.h)


def _listening(port):
    """(address, port) rows of /proc/net/tcp{,6} in LISTEN state for `port`."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if int(p, 16) == port and state == "0A":
                rows.append(addr)
    return rows


def _non_loopback_ipv4():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))   # TEST-NET-1: no packet is sent for UDP connect
        ip = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if ip.startswith("127.") else ip


def loopback_default(ctx):
    """`-gdb tcp::0` (no host, like -s's tcp::1234) listens on 127.0.0.1
    only: the kernel's socket table shows 0100007F, and a connection to the
    host's own non-loopback address is refused. `-s` itself is checked the
    same way when port 1234 is free."""
    forms = [("-gdb", "tcp::0")]
    probe = socket.socket()
    try:
        probe.bind(("0.0.0.0", 1234))
        forms.append(("-s",))
    except OSError:
        print("port 1234 is busy here: -s itself not started (tcp::0 covers the same default)")
    finally:
        probe.close()
    other = _non_loopback_ipv4()
    for form in forms:
        emu = ctx.emulator(gdb=form)
        host, port = emu.endpoint.rsplit(":", 1)
        port = int(port)
        expect(host == "127.0.0.1", f"{form}: listening on {host}", emu.stderr_text())
        rows = _listening(port)
        expect(rows == ["0100007F"], f"{form}: kernel listen table for port {port}: {rows}")
        if other:
            try:
                socket.create_connection((other, port), timeout=2).close()
                reached = True
            except OSError:
                reached = False
            expect(not reached, f"{form}: reachable on {other}:{port}")
        c, _ = rsp_client.connect_retry(emu.endpoint)
        c.send_raw(rsp_client.frame("k"))
        c.close()
        emu.finish()
        print(f"{' '.join(form)}: 127.0.0.1:{port} only" + (f"; {other}:{port} refused" if other else ""))


def unix_socket_mode(ctx):
    """-gdb unix:PATH under umask 000 and over a stale file: the socket is
    mode 0600, owned by us, served, and removed at exit."""
    path = os.path.join(ctx.tmp, "gdb.sock")
    with open(path, "w") as f:
        f.write("stale")
    old = os.umask(0)
    try:
        emu = ctx.emulator(gdb=("-gdb", "unix:" + path))
    finally:
        os.umask(old)
    st = os.stat(path)
    expect(stat.S_ISSOCK(st.st_mode), "PATH is not a socket")
    expect(stat.S_IMODE(st.st_mode) == 0o600, f"socket mode {oct(stat.S_IMODE(st.st_mode))}, expected 0600")
    expect(st.st_uid == os.getuid(), "socket not owned by the user running kvmdbg")
    c, reply = rsp_client.connect_retry(path)
    expect(reply.startswith("S") or reply.startswith("T"), f"? over unix -> {reply}")
    c.send_raw(rsp_client.frame("k"))
    c.close()
    status, _, err = emu.finish()
    expect(status == 0, f"kvmdbg exited {status}", err)
    expect(not os.path.exists(path), "socket file left behind")


def second_client_refused(ctx):
    """A second client while one is attached gets `E.kvmdbg: a debugger is
    already attached ...` (raw and real gdb, which prints it), kvmdbg logs
    the refusal, and the first client keeps working: its breakpoint hits,
    and the guest ends as undisturbed."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    emu = ctx.emulator()
    first, _ = rsp_client.connect_retry(emu.endpoint)
    expect(first.request("Z1,%x,1" % syms["mix_b"]) == "OK", "first client's hbreak refused")
    second = rsp_client.RspClient(emu.endpoint)
    reply = second.request("qSupported:multiprocess+")
    expect(reply.startswith("E.kvmdbg: a debugger is already attached"), f"second client got {reply!r}")
    try:
        more = second.sock.recv(100)
    except OSError:
        more = b""
    expect(more == b"", "the refused connection stayed open")
    second.close()
    if shutil.which("gdb"):
        p = subprocess.run(["gdb", "-batch", "-nx", "-ex", "target remote " + emu.endpoint],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        gout = p.stdout + p.stderr
        expect("E.kvmdbg: a debugger is already attached" in gout, "gdb did not print the refusal", gout)
        print("gdb printed: " + [l for l in gout.splitlines() if "kvmdbg" in l][0])
    else:
        print("gdb not installed: refusal checked with the raw client only")
    # The first client is untouched.
    stop = first.resume("c")
    expect(stop.startswith("T05") and first.pc() == syms["mix_b"], f"first client after the refusal: {stop}")
    expect(first.request("z1,%x,1" % syms["mix_b"]) == "OK", "first client's remove failed")
    end = first.resume("c")
    first.close()
    status, out, err = emu.finish()
    expect("refused a second gdb connection" in err, "kvmdbg did not log the refusal", err)
    expect(end == "W%02x" % status0 and integrity_line(out) == line0, f"end {end}", out, err)


def oversized_packets(ctx):
    """Input over the 1 MiB packet cap (a 2 MiB `$...#`, a 1.5 MiB M write)
    gets E22 on the same connection, which keeps working; memory the
    oversized M aimed at is unchanged; a 4 GiB m read is answered with at
    most PacketSize/2 bytes; the guest ends as undisturbed."""
    status0, line0 = ctx.baseline()
    syms = ctx.symbols(ctx.integrity)
    emu = ctx.emulator()
    c, _ = rsp_client.connect_retry(emu.endpoint)
    supported = c.request("qSupported:multiprocess+")
    expect("PacketSize=%x" % PACKET_SIZE in supported, f"qSupported: {supported}")
    before = c.read_memory(syms["state"], 64)
    reply = c.request("q" + "A" * (2 * MAX_PACKET))
    expect(reply == "E22", f"2 MiB packet -> {reply[:40]}")
    n = 3 * MAX_PACKET // 4
    reply = c.request("M%x,%x:" % (syms["state"], n) + "ff" * n)
    expect(reply == "E22", f"1.5 MiB M -> {reply[:40]}")
    expect(c.read_memory(syms["state"], 64) == before, "the oversized M changed memory")
    big = c.request("m%x,ffffffff" % syms["state"])
    expect(0 < len(big) <= PACKET_SIZE, f"m of 4 GiB answered with {len(big)} hex digits")
    c.send_raw(b"$" * 10)               # '$' restarts a packet: only "g" counts
    reply = c.request("g")
    expect(len(reply) > 200, f"g after '$' noise -> {reply[:40]}")
    end = c.resume("c")
    c.close()
    status, out, err = emu.finish()
    expect(end == "W%02x" % status0 and integrity_line(out) == line0, f"end {end}", out, err)
    print(f"2 MiB and 1.5 MiB packets: E22; m of 4 GiB: {len(big) // 2} bytes; guest undisturbed")


CASES = {
    "loopback_default": loopback_default,
    "unix_socket_mode": unix_socket_mode,
    "second_client_refused": second_client_refused,
    "oversized_packets": oversized_packets,
}
