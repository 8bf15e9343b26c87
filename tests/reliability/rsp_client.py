"""A raw GDB remote-protocol client for the reliability tests: it speaks
the bytes itself (gdb manual, "Remote Protocol": "Overview", "Packet
Acknowledgment", "Stop Reply Packets") so a test can do what gdb would not:
stop reading, write slowly, disconnect mid-packet, connect 1,000 times.

Not a test by itself."""
import socket
import time


def frame(payload):
    """$payload#cs with the checksum (sum of bytes mod 256, 2 hex digits)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xFF)


class ProtocolError(Exception):
    pass


class RspClient:
    """One connection. Every request waits for its reply (acks handled)."""

    def __init__(self, endpoint, timeout=10.0):
        if endpoint.startswith("/"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(endpoint)
        else:
            host, port = endpoint.rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ProtocolError("connection closed by kvmdbg")
        self.buf += chunk

    def read_packet(self):
        """The next packet's payload (acks and noise skipped); acks it."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    payload = self.buf[start + 1:end]
                    cs = int(self.buf[end + 1:end + 3], 16)
                    self.buf = self.buf[end + 3:]
                    if (sum(payload) & 0xFF) != cs:
                        raise ProtocolError("bad checksum from kvmdbg")
                    self.sock.sendall(b"+")
                    return payload.decode("latin-1")
            self._fill()

    def request(self, payload):
        self.sock.sendall(frame(payload))
        return self.read_packet()

    # ---- helpers over request()
    def read_memory(self, addr, length):
        """Bytes at addr (may be split into several m packets); raises on E."""
        out = b""
        while len(out) < length:
            n = min(0x8000, length - len(out))
            reply = self.request("m%x,%x" % (addr + len(out), n))
            if reply.startswith("E") or reply == "":
                raise ProtocolError("m%x,%x -> %r" % (addr + len(out), n, reply))
            out += bytes.fromhex(reply)
        return out

    def pc(self):
        """rip from the g packet (x86-64 layout: 16 GPRs, then rip)."""
        regs = self.request("g")
        if regs.startswith("E"):
            raise ProtocolError("g -> " + regs)
        return int.from_bytes(bytes.fromhex(regs[16 * 16:17 * 16]), "little")

    def resume(self, packet="c", timeout=30.0):
        """Sends c/s/vCont and waits for the stop reply (T.., S.., W.., X..)."""
        self.sock.sendall(frame(packet))
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            return self.read_packet()
        finally:
            self.sock.settimeout(old)


def connect_retry(endpoint, attempts=200, delay=0.005, stats=None):
    """Connects, retrying while the previous client is still being dropped
    (a refused second client gets an E.text reply and EOF). `stats`, a dict,
    counts the refusals under "refused"."""
    last = None
    for _ in range(attempts):
        c = RspClient(endpoint)
        try:
            reply = c.request("?")
        except (ProtocolError, OSError) as e:
            last = e
            c.close()
            time.sleep(delay)
            continue
        if reply.startswith("E."):
            if stats is not None:
                stats["refused"] = stats.get("refused", 0) + 1
            c.close()
            last = ProtocolError(reply)
            time.sleep(delay)
            continue
        return c, reply
    raise ProtocolError(f"could not connect to {endpoint}: {last}")
