"""Shared helpers of the reliability cases: the emulator process, the
context, expectations. Not a test by itself."""
import os
import re
import subprocess
import threading
import time

EXIT_INTEGRITY_OK = 0x25
INTEGRITY_STATUS = (EXIT_INTEGRITY_OK << 1) | 1  # 75


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def expect(cond, what, *outputs):
    if not cond:
        raise Failure(what + "".join("\n--- output\n" + str(o) for o in outputs))


def _asan_runtime(kvmdbg):
    """The ASan runtime a sanitizer build of kvmdbg links (build-asan/), or
    None. ASan aborts unless its runtime comes first in the library list,
    and an LD_PRELOAD shim would come before it: it is preloaded first."""
    try:
        out = subprocess.run(["ldd", kvmdbg], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^\s*libasan\.so\S* => (\S+)", out, re.M)
    return m.group(1) if m else None


class Emulator:
    """One kvmdbg process; gdb server on an ephemeral loopback port (or as
    asked), serial on stdout."""

    def __init__(self, ctx, kernel, stopped=True, gdb=("-gdb", "tcp:127.0.0.1:0"), extra=(), env=None,
                 wait_listen=True):
        cmd = [ctx.kvmdbg, "-M", "pc-lite", "-m", "64M", "-kernel", kernel, "-serial", "stdio"]
        if stopped:
            cmd.append("-S")
        cmd += list(gdb) + list(extra)
        full_env = dict(os.environ)
        full_env.update(env or {})
        if full_env.get("LD_PRELOAD") and "LD_PRELOAD" in (env or {}):
            asan = _asan_runtime(ctx.kvmdbg)
            if asan:
                full_env["LD_PRELOAD"] = asan + ":" + full_env["LD_PRELOAD"]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env)
        self.stderr_lines = []
        self.stdout_chunks = []
        self.endpoint = None
        if gdb and wait_listen:
            deadline = time.time() + 20
            while time.time() < deadline:
                line = self.proc.stderr.readline().decode(errors="replace")
                if not line:
                    break
                self.stderr_lines.append(line)
                m = re.search(r"gdb server listening on (tcp (\S+):(\d+)|unix (\S+))", line)
                if m:
                    self.endpoint = f"{m.group(2)}:{m.group(3)}" if m.group(2) else m.group(4)
                    break
        # Drain both pipes from now on: kvmdbg must never block on a full
        # pipe because of the test (it writes a line per dropped client).
        self.readers = [threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr_lines), daemon=True),
                        threading.Thread(target=self._drain_bytes, args=(self.proc.stdout, self.stdout_chunks),
                                         daemon=True)]
        for t in self.readers:
            t.start()
        if gdb and wait_listen and self.endpoint is None:
            _, _, err = self.finish(5)
            raise Failure("kvmdbg did not start its gdb server:\n" + err)

    @staticmethod
    def _drain(stream, lines):
        for raw in iter(stream.readline, b""):
            lines.append(raw.decode(errors="replace"))

    @staticmethod
    def _drain_bytes(stream, chunks):
        for raw in iter(lambda: stream.read1(65536), b""):
            chunks.append(raw)

    def stderr_text(self):
        return "".join(self.stderr_lines)

    def alive(self):
        return self.proc.poll() is None

    def finish(self, timeout=30):
        """Waits for exit (kills after `timeout`); returns (status, stdout, stderr)."""
        note = ""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            note = "\n[killed by the test after %ds]\n" % timeout
        for t in self.readers:
            t.join(5)
        out = b"".join(self.stdout_chunks).decode(errors="replace")
        return self.proc.returncode, out, self.stderr_text() + note


class Context:
    def __init__(self, kvmdbg, rel_dir, guest_dir, tmp):
        self.kvmdbg = kvmdbg
        self.rel_dir = rel_dir
        self.guest_dir = guest_dir
        self.tmp = tmp
        self.integrity = os.path.join(rel_dir, "integrity.elf64")
        self.fault_shim = os.path.join(rel_dir, "kvm_run_fault.so")
        self._baseline = None

    def guest(self, name):
        return os.path.join(self.guest_dir, name)

    def symbols(self, path):
        out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
        syms = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                syms[parts[2]] = int(parts[0], 16)
        return syms

    def emulator(self, kernel=None, **kw):
        return Emulator(self, kernel or self.integrity, **kw)

    def baseline(self):
        """The integrity guest run with no debugger: (status, integrity line)."""
        if self._baseline is None:
            emu = self.emulator(stopped=False, gdb=())
            status, out, err = emu.finish()
            line = integrity_line(out)
            expect(status == INTEGRITY_STATUS and line, f"baseline run: status {status}", out, err)
            self._baseline = (status, line)
        return self._baseline


def integrity_line(stdout):
    m = re.search(r"^integrity hash=0x[0-9a-f]+ smc=0x[0-9a-f]+ rounds=\d+$", stdout, re.M)
    return m.group(0) if m else None


