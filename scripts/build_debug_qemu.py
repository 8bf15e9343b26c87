#!/usr/bin/env python3
"""Builds a qemu-system-x86_64 under whose TCG a nested KVM's breakpoints fire.

  scripts/build_debug_qemu.py [--jobs N]

scripts/kvm_under_tcg.py runs a real x86 KVM (kvm_amd) inside QEMU's TCG on
machines without /dev/kvm. Debian 12's QEMU (7.2; upstream QEMU's SVM code
has the same two gaps) emulates AMD SVM there, but not the parts a
debugger of the nested KVM's guests needs (measured: docs/hosts.md):

- VMRUN and #VMEXIT load DR7 from the VMCB into the register without
  installing TCG's breakpoints and watchpoints for it (a MOV to DR7 does,
  through cpu_x86_update_dr7). The nested KVM passes its
  KVM_GUESTDBG_USE_HW_BP breakpoints to the guest in the VMCB's DR7, so
  they never fire, and neither do data watchpoints.
- INT3 and INTO are checked against the INTn intercept (SVM_EXIT_SWINT)
  instead of the #BP and #OF exception intercepts, which is where AMD's
  manual puts them. The nested KVM's KVM_GUESTDBG_USE_SW_BP intercepts #BP,
  so an int3 went to the guest's own IDT.

This script fetches the source package of the QEMU installed here
(`apt-get source`, with a deb-src list and package lists of its own: the
machine's apt configuration is left alone), changes those three places,
builds only qemu-system-x86_64 and installs it as
build/cache/kvm-under-tcg/qemu/qemu-system-x86_64 (a wrapper that adds the
firmware directories of Debian's packages). kvm_under_tcg.py runs that one
when it exists. About 25 MB of download and 5 to 15 minutes of build on
2 cores; needs root (it apt-get installs BUILD_PACKAGES).
"""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "build", "cache", "kvm-under-tcg")
WORK = os.path.join(CACHE, "qemu-src")
OUT = os.path.join(CACHE, "qemu")
BUILD_PACKAGES = ["libglib2.0-dev", "libpixman-1-dev", "libcap-ng-dev", "libattr1-dev", "libfdt-dev",
                  "ninja-build", "meson", "flex", "bison", "python3", "dpkg-dev"]
# Where Debian's seabios and qemu-system-data packages keep the firmware a
# self-built QEMU does not know to look for.
FIRMWARE_DIRS = ["/usr/share/seabios", "/usr/share/qemu"]
CONFIGURE = ["--target-list=x86_64-softmmu", "--enable-virtfs", "--disable-docs", "--disable-tools",
             "--disable-werror", "--disable-gtk", "--disable-sdl", "--disable-vnc", "--disable-opengl",
             "--disable-spice", "--disable-curl", "--disable-gnutls", "--disable-nettle", "--disable-gcrypt",
             "--disable-capstone", "--disable-slirp", "--disable-guest-agent", "--disable-user",
             "--disable-xen", "--disable-vhost-user", "--disable-libusb", "--disable-usb-redir"]

# The lines of QEMU's SVM code that the fixes go around or replace.
VMRUN_LOADS_DR7 = """    env->dr[7] = x86_ldq_phys(cs,
                          env->vm_vmcb + offsetof(struct vmcb, save.dr7));
"""
VMRUN_CHECKS_DR7 = """    if (env->dr[7] & DR_RESERVED_MASK) {
        cpu_vmexit(env, SVM_EXIT_ERR, 0, GETPC());
    }
#endif
"""
VMEXIT_LOADS_DR7 = """    env->dr[7] = x86_ldq_phys(cs,
                          env->vm_hsave + offsetof(struct vmcb, save.dr7));
"""
INTN_INTERCEPT = """    } else {
        cpu_svm_check_intercept_param(env, SVM_EXIT_SWINT, 0, retaddr);
    }"""

# (file, text that is there exactly once, what it becomes).
FIXES = [
    ("target/i386/tcg/sysemu/svm_helper.c", VMRUN_LOADS_DR7,
     "    /* kvmdbg: install the guest's DR7 breakpoints, not just the value. */\n"
     "    {\n"
     "        target_ulong host_dr7 = env->dr[7];\n" + VMRUN_LOADS_DR7),
    ("target/i386/tcg/sysemu/svm_helper.c", VMRUN_CHECKS_DR7,
     VMRUN_CHECKS_DR7 +
     "        target_ulong guest_dr7 = env->dr[7];\n"
     "        env->dr[7] = host_dr7;\n"
     "        cpu_x86_update_dr7(env, guest_dr7);\n"
     "    }\n"),
    ("target/i386/tcg/sysemu/svm_helper.c", VMEXIT_LOADS_DR7,
     "    /* kvmdbg: the host's DR7 breakpoints replace the guest's. */\n"
     "    cpu_x86_update_dr7(env, x86_ldq_phys(cs,\n"
     "                          env->vm_hsave + offsetof(struct vmcb, save.dr7)));\n"),
    ("target/i386/tcg/excp_helper.c", INTN_INTERCEPT,
     "    } else if ((intno == EXCP03_INT3 || intno == EXCP04_INTO) && next_eip_addend == 1) {\n"
     "        /* kvmdbg: the one-byte INT3 and INTO are #BP and #OF intercepts. */\n"
     "        cpu_svm_check_intercept_param(env, SVM_EXIT_EXCP_BASE + intno, 0, retaddr);\n" + INTN_INTERCEPT),
]


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def source_version():
    """The source version of the installed qemu-system-x86 (binNMU suffix dropped)."""
    p = subprocess.run(["dpkg-query", "-W", "-f", "${source:Version}", "qemu-system-x86"],
                       capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout:
        sys.exit("build_debug_qemu: qemu-system-x86 is not installed (apt-get install qemu-system-x86)")
    return p.stdout.strip()


def codename():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    sys.exit("build_debug_qemu: no VERSION_CODENAME in /etc/os-release")


def fetch_source(version):
    """Unpacks Debian's qemu source package VERSION into WORK; returns its folder."""
    tree = os.path.join(WORK, "qemu-" + version.split(":")[-1])
    if os.path.isfile(os.path.join(tree, "configure")):
        return tree
    os.makedirs(WORK, exist_ok=True)
    name = codename()
    sources = os.path.join(WORK, "deb-src.sources")
    with open(sources, "w") as f:
        f.write(f"Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: {name} {name}-updates\n"
                "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                f"Types: deb-src\nURIs: http://deb.debian.org/debian-security\nSuites: {name}-security\n"
                "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    lists = os.path.join(WORK, "lists")
    os.makedirs(os.path.join(lists, "partial"), exist_ok=True)
    apt = ["apt-get", "-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/nonexistent",
           "-o", f"Dir::State::Lists={lists}"]
    run(apt + ["update"])
    run(apt + ["source", "--download-only", f"qemu={version}"], cwd=WORK)
    dsc = os.path.join(WORK, f"qemu_{version.split(':')[-1]}.dsc")
    if not os.path.isfile(dsc):
        sys.exit(f"build_debug_qemu: apt-get source left no {dsc}")
    shutil.rmtree(tree, ignore_errors=True)
    run(["dpkg-source", "-x", dsc, tree])
    return tree


def apply_fixes(tree):
    for path, old, new in FIXES:
        full = os.path.join(tree, path)
        with open(full) as f:
            text = f.read()
        if new in text:
            continue
        if text.count(old) != 1:
            sys.exit(f"build_debug_qemu: {path}: the text to change is not there exactly once "
                     "(a QEMU this script does not know)")
        with open(full, "w") as f:
            f.write(text.replace(old, new))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    run(["apt-get", "install", "-y", "-q"] + BUILD_PACKAGES)
    tree = fetch_source(source_version())
    apply_fixes(tree)
    build = os.path.join(tree, "build-kvmdbg")
    if not os.path.isfile(os.path.join(build, "build.ninja")):
        os.makedirs(build, exist_ok=True)
        run(["../configure"] + CONFIGURE, cwd=build)
    run(["ninja", "-j", str(args.jobs), "qemu-system-x86_64"], cwd=build)
    os.makedirs(OUT, exist_ok=True)
    wrapper = os.path.join(OUT, "qemu-system-x86_64")
    with open(wrapper + ".tmp", "w") as f:
        f.write("#!/bin/sh\n# scripts/build_debug_qemu.py: Debian's QEMU with the SVM debug fixes.\n"
                f"exec {os.path.join(build, 'qemu-system-x86_64')} "
                + " ".join(f"-L {d}" for d in FIRMWARE_DIRS) + ' "$@"\n')
    os.chmod(wrapper + ".tmp", 0o755)
    os.rename(wrapper + ".tmp", wrapper)
    print(f"build_debug_qemu: {wrapper}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
