"""Debian packages fetched at test time, never installed: `apt-get download`
into a cache directory, `dpkg-deb -x` into a folder beside it, under a file
lock so that tests running at the same time fetch each package once.

  with FileLock(path): ...                 an exclusive flock on path
  apt_download(package, dest) -> .deb      raises Unavailable when apt-get
                                           cannot download it (stale
                                           package lists, no network)
  extract(deb, dest)                       dest replaced atomically
"""
import fcntl
import os
import shutil
import subprocess


class Unavailable(Exception):
    """A package cannot be downloaded here: the caller SKIPs, naming it."""


class PackageError(Exception):
    """apt-get or dpkg-deb did something unexpected: a test failure."""


class FileLock:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def apt_download(package, dest):
    """apt-get download PACKAGE into dest; returns the .deb path."""
    os.makedirs(dest, exist_ok=True)
    before = set(os.listdir(dest))
    p = subprocess.run(["apt-get", "download", package], cwd=dest, capture_output=True, text=True)
    if p.returncode != 0:
        # Stale package lists are the usual reason; the caller decides.
        raise Unavailable(f"package {package} cannot be downloaded: apt-get download said: "
                          + (p.stderr.strip().splitlines() or ["(nothing)"])[-1])
    name = package.split(":")[0]
    debs = [f for f in os.listdir(dest) if f.startswith(name + "_") and f.endswith(".deb")]
    new = [f for f in debs if f not in before] or debs
    if not new:
        raise PackageError(f"apt-get download {package} left no .deb in {dest}")
    return os.path.join(dest, sorted(new)[-1])


def extract(deb, dest):
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


def extract_members(deb, dest, pattern):
    """Unpacks only the members of deb matching `pattern` (a tar wildcard,
    e.g. "./usr/lib/debug/boot/*") into dest."""
    os.makedirs(dest, exist_ok=True)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", dest, "--wildcards", pattern], stdin=tar.stdout, check=True)
    tar.stdout.close()
    if tar.wait() != 0:
        raise PackageError(f"dpkg-deb --fsys-tarfile {deb} failed")


def fetch_file(cache, package, member):
    """cache/<package>/<member>: `member` (a path inside the package, e.g.
    usr/share/seabios/bios-256k.bin) of Debian's `package`, downloaded and
    unpacked once under a lock on cache/.lock."""
    os.makedirs(cache, exist_ok=True)
    root = os.path.join(cache, package)
    path = os.path.join(root, member)
    with FileLock(os.path.join(cache, ".lock")):
        if not os.path.exists(path):
            extract(apt_download(package, os.path.join(cache, "debs")), root)
        if not os.path.exists(path):
            raise PackageError(f"package {package} has no {member}")
    return path
