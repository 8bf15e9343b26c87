#!/usr/bin/env python3
"""The installed SDK (docs/sdk.md, docs/embedding.md), used the way an outside VMM would.

  sdk_example.py --stage install|module|gdb MESON BUILD_DIR SOURCE_DIR PREFIX LIBDIR INCLUDEDIR SANITIZE

Every stage `meson install --no-rebuild --destdir`s the build into a fresh
temporary directory and builds examples/gdb_vmm (its files copied out of
the source tree) with the system C compiler and nothing but what
`pkg-config --cflags --libs kvmdbg kvmdbg-accel` and the variables of
kvmdbg-accel.pc answer for the DESTDIR (PKG_CONFIG_LIBDIR names only its
.pc directory, PKG_CONFIG_SYSROOT_DIR the DESTDIR); the example runs with
LD_LIBRARY_PATH at the DESTDIR's libdir.

install: checks where everything landed (headers under <includedir>/kvmdbg,
kvmdbg-accel.pc, kvmdbg.pc, libkvmdbg.so.0 and the module under <libdir>),
that pkg-config finds kvmdbg there and its flags point into the DESTDIR
only, that abi_version and entry_symbol equal the installed header's
defines and that the module exports the symbol; compiles every installed
header on its own as C99, C11 and C++; builds and links the example.

module: runs `gdb_vmm --module` against the DESTDIR's accel-kvm.so. It loads
the module and checks its ABI first, then needs /dev/kvm: without it the
test SKIPs (77) after the ABI check; with it, the guest must print its five
lines and exit with status 0.

gdb: runs `gdb_vmm -S -gdb unix:SOCKET` and drives real gdb against it
(gdb_vmm_session.py: registers, memory, stepi, hbreak, a target-side
conditional breakpoint, Ctrl-C, detach). Without /dev/kvm or gdb it SKIPs
after the example was built and, without KVM, exited 77 as it should; where
the host's breakpoints never fire it SKIPs after everything else passed.

SANITIZE is the build's b_sanitize: libraries built with sanitizers are
used by an example built with the same ones. Exit 0 pass, 1 fail (the
commands and their output printed), 77 SKIP with the reason.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from debian_package import FileLock  # noqa: E402
from kvm_host import kvm_unusable  # noqa: E402
import gdb_vmm_session as session  # noqa: E402

HEADERS = ["plugin_abi.h", "plugin_abi_x86.h", "plugin_abi_arm64.h", "arch/x86/cpu_state.h",
           "arch/x86/irqchip_state.h", "arch/arm64/cpu_state.h", "gdbstub.h", "guest_debug.h", "sdk_version.h"]
PC_NAME = "kvmdbg-accel"
SDK_PC_NAME = "kvmdbg"
STRICT_C = ["-pedantic-errors", "-Wall", "-Wextra", "-Werror"]


class Failure(Exception):
    pass


def run(cmd, env=None, timeout=600):
    """Runs cmd; returns stdout, or raises Failure with the command and its output.
    The timeout is for a KVM nested under TCG, where one compiler run of the
    example took over 120 s (a second or two natively)."""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"$ {' '.join(cmd)}\nexit {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout


def check(cond, what, detail=""):
    """Prints `ok: what`, or raises Failure naming what and the detail."""
    if not cond:
        raise Failure(what + (": " + detail if detail else ""))
    print("ok:", what)


def under(path, root):
    return os.path.realpath(path).startswith(os.path.realpath(root) + os.sep)


class Sdk:
    """One `meson install` of the build into a temporary DESTDIR."""

    def __init__(self, args, tmp):
        self.args = args
        self.destdir = os.path.join(tmp, "destdir")
        root = self.destdir + args.prefix
        self.includedir = os.path.join(root, args.includedir)
        self.libdir = os.path.join(root, args.libdir)
        self.pc_dir = os.path.join(self.libdir, "pkgconfig")
        self.env = dict(os.environ, PKG_CONFIG_LIBDIR=self.pc_dir, PKG_CONFIG_SYSROOT_DIR=self.destdir)
        self.env.pop("PKG_CONFIG_PATH", None)

    def install(self):
        # Concurrent installs of one build dir would share its install log.
        lock_dir = os.path.join(self.args.build_dir, "tests", "sdk")
        os.makedirs(lock_dir, exist_ok=True)
        with FileLock(os.path.join(lock_dir, "install.lock")):
            run([self.args.meson, "install", "-C", self.args.build_dir, "--no-rebuild", "--quiet", "--destdir",
                 self.destdir], timeout=300)

    def pkg_config(self, *query, packages=(PC_NAME,)):
        return run(["pkg-config"] + list(query) + list(packages), env=self.env).strip()

    def run_env(self):
        """The environment the example runs in: libkvmdbg.so.0 from the DESTDIR."""
        return dict(os.environ, LD_LIBRARY_PATH=self.libdir)

    def build_flags(self):
        """The compiler flags an outside VMM takes from pkg-config."""
        cflags = self.pkg_config("--cflags").split()
        # pkgconf puts the sysroot before a variable's path as before -I;
        # freedesktop's pkg-config leaves variables alone.
        module_dir = self.pkg_config("--variable=moduledir")
        if not under(module_dir, self.destdir):
            module_dir = self.destdir + module_dir
        abi = self.pkg_config("--variable=abi_version")
        return cflags, module_dir, abi

    def compile_example(self, tmp, cc=None):
        """examples/gdb_vmm copied out of the tree, built by `cc` ($CC, cc)
        with the flags of kvmdbg.pc and kvmdbg-accel.pc; the executable's
        path."""
        cflags, module_dir, abi = self.build_flags()
        flags = self.pkg_config("--cflags", "--libs", packages=(SDK_PC_NAME, PC_NAME)).split()
        src = os.path.join(tmp, "gdb_vmm")  # nothing of the source tree is next to it
        os.makedirs(src, exist_ok=True)
        for f in glob.glob(os.path.join(self.args.source_dir, "examples", "gdb_vmm", "*.[ch]")):
            shutil.copy(f, src)
        exe = os.path.join(tmp, "gdb_vmm.exe")
        sanitize = [] if self.args.sanitize == "none" else ["-fsanitize=" + self.args.sanitize]
        run([cc or os.environ.get("CC", "cc"), "-std=c11"] + STRICT_C + sanitize +
            [f'-DKVMDBG_MODULE_DIR="{module_dir}"', f"-DKVMDBG_PC_ABI_VERSION={abi}"] +
            sorted(glob.glob(os.path.join(src, "*.c"))) + flags + ["-o", exe, "-ldl", "-pthread"])
        print(f"ok: examples/gdb_vmm built and linked with {' '.join(flags)} (module dir {module_dir}, ABI {abi})")
        return exe


def header_define(path, name):
    m = re.search(r"^#define " + name + r" (\S+)", open(path).read(), re.M)
    if not m:
        raise Failure(f"{path} does not define {name}")
    return m.group(1)


def stage_install(sdk, tmp):
    for h in HEADERS:
        check(os.path.isfile(os.path.join(sdk.includedir, "kvmdbg", h)), f"<includedir>/kvmdbg/{h} installed",
              f"not in {sdk.includedir}")
    check(os.path.isfile(os.path.join(sdk.pc_dir, PC_NAME + ".pc")), f"<libdir>/pkgconfig/{PC_NAME}.pc installed",
          f"not in {sdk.pc_dir}")
    check(os.path.isfile(os.path.join(sdk.pc_dir, SDK_PC_NAME + ".pc")),
          f"<libdir>/pkgconfig/{SDK_PC_NAME}.pc installed", f"not in {sdk.pc_dir}")
    check(os.path.isfile(os.path.join(sdk.libdir, "libkvmdbg.so.0")), "<libdir>/libkvmdbg.so.0 installed",
          f"not in {sdk.libdir}")
    sdk_flags = sdk.pkg_config("--cflags", "--libs", packages=(SDK_PC_NAME,)).split()
    paths = [f[2:] for f in sdk_flags if f.startswith(("-I", "-L"))]
    check("-lkvmdbg" in sdk_flags and paths and all(under(p, sdk.destdir) for p in paths),
          f"pkg-config finds {SDK_PC_NAME} in the DESTDIR: {' '.join(sdk_flags)}", str(sdk_flags))
    cflags, module_dir, abi = sdk.build_flags()
    includes = [f[2:] for f in cflags if f.startswith("-I")]
    check(includes and all(under(i, sdk.destdir) for i in includes),
          f"Cflags {' '.join(cflags)} name the DESTDIR only, not the source or build tree", str(cflags))
    check(os.path.realpath(module_dir) == os.path.realpath(os.path.join(sdk.libdir, "kvmdbg")),
          "moduledir is <libdir>/kvmdbg", module_dir)
    module = os.path.join(module_dir, "accel-kvm.so")
    check(os.path.isfile(module), "accel-kvm.so is in moduledir", f"not in {module_dir}")
    abi_header = os.path.join(sdk.includedir, "kvmdbg", "plugin_abi.h")
    check(abi + "u" == header_define(abi_header, "KVMDBG_ACCEL_ABI_VERSION"),
          f"abi_version {abi} is the header's KVMDBG_ACCEL_ABI_VERSION")
    entry = sdk.pkg_config("--variable=entry_symbol")
    check(f'"{entry}"' == header_define(abi_header, "KVMDBG_ACCEL_ENTRY_SYMBOL"),
          f"entry_symbol {entry} is the header's KVMDBG_ACCEL_ENTRY_SYMBOL")
    exported = run(["nm", "-D", "--defined-only", module]).split()
    check(entry in exported, f"accel-kvm.so exports {entry}", f"nm -D shows {exported[:20]}")
    # Each header alone, one source file each: it must include all it needs.
    # One compiler run per standard for all of them (compilers start slowly
    # under a KVM nested in TCG).
    for compiler, suffix, std in (("cc", ".c", "c99"), ("cc", ".c", "c11"), ("c++", ".cc", "c++17")):
        sources = []
        for i, h in enumerate(HEADERS):
            sources.append(os.path.join(tmp, f"only_header_{i}{suffix}"))
            with open(sources[-1], "w") as f:
                f.write(f"#include <kvmdbg/{h}>\n")
        run([compiler, "-std=" + std, "-fsyntax-only"] + STRICT_C + cflags + sources)
        print(f"ok: each of {', '.join(HEADERS)} compiles alone as {std}")
    sdk.compile_example(tmp)
    return 0


def stage_module(sdk, tmp):
    exe = sdk.compile_example(tmp)
    p = subprocess.run([exe, "--module"], env=sdk.run_env(), capture_output=True, text=True, timeout=120)
    print(p.stdout + p.stderr, end="")
    loaded = re.search(r"^module .*accel-kvm\.so: name kvm, ABI version (\d+), ops table (\d+) bytes$", p.stdout,
                       re.M)
    if not loaded:
        raise Failure(f"gdb_vmm --module did not load and check the module (exit {p.returncode})")
    print(f"ok: the module loaded, ABI version {loaded.group(1)}, ops table {loaded.group(2)} bytes")
    if p.returncode == 77:
        print("SKIP: gdb_vmm --module cannot run the guest:", (p.stderr.strip().splitlines() or ["?"])[-1])
        return 77
    failures = session.check_end(p.returncode, p.stdout, p.stderr)
    check(not failures, "the guest printed its five lines and exited with status 0 on accel-kvm.so",
          "; ".join(failures))
    return 0


class Vmm:
    """One `gdb_vmm -S -gdb unix:SOCKET` run: its layout line and endpoint."""

    def __init__(self, exe, env, tmp, extra=()):
        sock = os.path.join(tmp, "gdb.sock")
        self.cmd = [exe, "-S", "-gdb", "unix:" + sock] + list(extra)
        self.proc = subprocess.Popen(self.cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.log = ""
        while "gdb server listening on" not in self.log:
            line = self.proc.stderr.readline()
            if not line:
                status, _, log = self.finish(5)
                raise Failure(f"$ {' '.join(self.cmd)}\nexit {status}, no gdb server:\n{log}")
            self.log += line
        self.layout = session.Layout(self.log)
        self.target = "target remote " + sock

    def finish(self, timeout=120):
        """Waits for exit (kills after `timeout`); (status, serial output, stderr)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            err += f"\n[killed by the test after {timeout} s]\n"
        return self.proc.returncode, out, self.log + err


def one_session(exe, env, tmp, commands_of, check, extra=(), interrupt=False):
    """Runs the example and gdb; (gdb's output, the check's result, failures of the example's end)."""
    vmm = Vmm(exe, env, tmp, extra)
    out = session.run_gdb(session.gdb_command("gdb", vmm.target, commands_of(vmm.layout)), interrupt=interrupt)
    status, serial, log = vmm.finish()
    print(f"$ {' '.join(vmm.cmd)}\n--- gdb\n{out}--- serial\n{serial}--- stderr\n{log}", end="")
    return check(out, vmm.layout), session.check_end(status, serial, log)


def stage_gdb(sdk, tmp):
    exe = sdk.compile_example(tmp)
    reason = kvm_unusable()
    if reason:
        p = subprocess.run([exe, "-S", "-gdb", "unix:" + os.path.join(tmp, "gdb.sock")], env=sdk.run_env(),
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 77, "without /dev/kvm gdb_vmm exits 77", f"exit {p.returncode}: {p.stderr}")
        print(f"SKIP: {reason}: the gdb session needs KVM (the example was built, linked and ran)")
        return 77
    if shutil.which("gdb") is None:
        print("SKIP: gdb is not installed")
        return 77
    env = sdk.run_env()
    (failures, fired), end = one_session(exe, env, tmp, session.main_commands, session.check_main)
    failures += end
    spin, spin_end = one_session(exe, env, tmp, session.spin_commands, session.check_spin, ["--spin"],
                                 interrupt=True)
    failures += spin + spin_end
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("ok: info registers, x, stepi, Ctrl-C, a memory write, detach; the guest ended with status 0 each time")
    if not fired:
        print("SKIP: hbreak *loop did not fire (the guest ran to its exit): this host's KVM has no working "
              "hardware breakpoints (the guest-debug core's host report above), so the breakpoint steps "
              "(hbreak + continue, stepi from the stop, the target-side conditional breakpoint) were not run")
        return 77
    print("ok: hbreak, stepi from the stop and the target-side conditional breakpoint")
    return 0


def main():
    sys.stdout.reconfigure(line_buffering=True)  # what passed stays in the log if the test times out
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=["install", "module", "gdb"], required=True)
    for name in ("meson", "build_dir", "source_dir", "prefix", "libdir", "includedir", "sanitize"):
        ap.add_argument(name)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kvmdbg-sdk-")
    try:
        sdk = Sdk(args, tmp)
        sdk.install()
        print(f"ok: meson install --destdir {sdk.destdir}")
        stages = {"install": stage_install, "module": stage_module, "gdb": stage_gdb}
        return stages[args.stage](sdk, tmp)
    except (Failure, ValueError, subprocess.TimeoutExpired) as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
