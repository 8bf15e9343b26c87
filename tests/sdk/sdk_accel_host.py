#!/usr/bin/env python3
"""The installed plugin SDK (docs/sdk.md), used the way an outside VMM would.

  sdk_accel_host.py --stage install|run MESON BUILD_DIR SOURCE_DIR PREFIX LIBDIR INCLUDEDIR SANITIZE

Both stages `meson install --no-rebuild --destdir` the build into a fresh
temporary directory and compile examples/accel_host.c (copied out of the
source tree) with the system C compiler and nothing but what `pkg-config
kvmdbg-accel` answers for the DESTDIR's .pc file (PKG_CONFIG_LIBDIR names
only that directory, PKG_CONFIG_SYSROOT_DIR the DESTDIR).

install: also checks where everything landed (headers under
<includedir>/kvmdbg, kvmdbg-accel.pc and the module under <libdir>), that
the Cflags point into the DESTDIR only, that abi_version and entry_symbol
equal the installed header's defines and that the module exports the
symbol, and compiles every installed header on its own as C99, C11 and C++.

run: runs the example against the DESTDIR's accel-kvm.so. It loads the
module and checks its ABI first, then needs /dev/kvm: without it the test
SKIPs (77) after the ABI check; with it, the guest must write "OK\\n" and
exit with status 0.

SANITIZE is the build's b_sanitize: a module built with sanitizers is
loaded by an example built with the same ones. Exit 0 pass, 1 fail (the
commands and their output printed), 77 SKIP with the reason.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from debian_package import FileLock  # noqa: E402

HEADERS = ["plugin_abi.h", "plugin_abi_x86.h", "plugin_abi_arm64.h", "arch/x86/cpu_state.h",
           "arch/x86/irqchip_state.h", "arch/arm64/cpu_state.h"]
PC_NAME = "kvmdbg-accel"
STRICT_C = ["-pedantic-errors", "-Wall", "-Wextra", "-Werror"]


class Failure(Exception):
    pass


def run(cmd, env=None, timeout=120):
    """Runs cmd; returns stdout, or raises Failure with the command and its output."""
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

    def pkg_config(self, *query):
        return run(["pkg-config"] + list(query) + [PC_NAME], env=self.env).strip()

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

    def compile_example(self, tmp):
        cflags, module_dir, abi = self.build_flags()
        source = os.path.join(tmp, "accel_host.c")  # nothing of the source tree is next to it
        shutil.copy(os.path.join(self.args.source_dir, "examples", "accel_host.c"), source)
        exe = os.path.join(tmp, "accel_host")
        sanitize = [] if self.args.sanitize == "none" else ["-fsanitize=" + self.args.sanitize]
        run([os.environ.get("CC", "cc"), "-std=c11"] + STRICT_C + sanitize + cflags +
            [f'-DKVMDBG_MODULE_DIR="{module_dir}"', f"-DKVMDBG_PC_ABI_VERSION={abi}", source, "-o", exe, "-ldl",
             "-pthread"])
        print(f"ok: examples/accel_host.c built with {' '.join(cflags)} (module dir {module_dir}, ABI {abi})")
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


def stage_run(sdk, tmp):
    exe = sdk.compile_example(tmp)
    p = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    print(p.stdout + p.stderr, end="")
    loaded = re.search(r"^module .*accel-kvm\.so: name kvm, ABI version (\d+), ops table (\d+) bytes$", p.stdout,
                       re.M)
    if not loaded:
        raise Failure(f"accel_host did not load and check the module (exit {p.returncode})")
    print(f"ok: the module loaded, ABI version {loaded.group(1)}, ops table {loaded.group(2)} bytes")
    if p.returncode == 77:
        print("SKIP: accel_host cannot run the guest:", (p.stderr.strip().splitlines() or ["?"])[-1])
        return 77
    check(p.returncode == 0, "accel_host exits 0", f"exit {p.returncode}")
    check('guest wrote "OK\\n", exit status 0' in p.stdout, "the guest wrote OK and exited with status 0")
    return 0


def main():
    sys.stdout.reconfigure(line_buffering=True)  # what passed stays in the log if the test times out
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=["install", "run"], required=True)
    for name in ("meson", "build_dir", "source_dir", "prefix", "libdir", "includedir", "sanitize"):
        ap.add_argument(name)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kvmdbg-sdk-")
    try:
        sdk = Sdk(args, tmp)
        sdk.install()
        print(f"ok: meson install --destdir {sdk.destdir}")
        return stage_install(sdk, tmp) if args.stage == "install" else stage_run(sdk, tmp)
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
