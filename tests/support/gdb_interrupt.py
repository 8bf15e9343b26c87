"""gdb -batch with one Ctrl-C sent while the target runs.

gdb -batch does not print "Continuing." (its commands are not from a
terminal), so the commands put CONTINUE_MARK_COMMAND right before the
`continue` to be interrupted (gdb flushes the echo before it waits for the
stop); run_gdb(cmd, interrupt=True) sends gdb SIGINT (what Ctrl-C
does) a fixed delay after gdb printed the mark, so the target has run for
that long. A fixed sleep from gdb's start instead raced gdb's own start-up
on slow machines (the signal arrived before gdb had connected).
"""
import signal
import subprocess
import threading
import time

CONTINUE_MARK = "KVMDBG-TEST-CONTINUING"
CONTINUE_MARK_COMMAND = "echo " + CONTINUE_MARK + "\\n"


def run_gdb(cmd, interrupt=False, timeout=300, delay=2.0):
    """Runs gdb (cmd: its argv); with `interrupt`, sends it SIGINT `delay`
    seconds after it printed CONTINUE_MARK. Returns its output (stdout and
    stderr together)."""
    gdb = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
    lines = []

    def read():
        for line in gdb.stdout:
            lines.append(line)
            if interrupt and line.startswith(CONTINUE_MARK):
                time.sleep(delay)
                gdb.send_signal(signal.SIGINT)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        gdb.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        gdb.kill()
        lines.append(f"\n[gdb killed by the test after {timeout} s]\n")
    reader.join()
    return "".join(lines)
