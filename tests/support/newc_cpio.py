"""Cpio: an uncompressed cpio archive in the "newc" format the Linux kernel
unpacks as its initramfs
(Documentation/driver-api/early-userspace/buffer-format.rst), built in
memory: directories, files, symlinks and device nodes, owned by root.
"""
import os
import stat


class Cpio:
    """An uncompressed cpio archive in the "newc" format the kernel unpacks
    (Documentation/driver-api/early-userspace/buffer-format.rst)."""

    def __init__(self):
        self.parts = []
        self.ino = 1
        self.seen = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.lstrip("/")
        if name in self.seen:
            return
        self.seen.add(name)
        nb = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08x" % v for v in fields)
        self.parts.append(hdr + nb + b"\0" * (-(len(hdr) + len(nb)) % 4))
        self.parts.append(data + b"\0" * (-len(data) % 4))

    def dir(self, name):
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self._entry("/".join(parts[:i]), stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o755):
        self.dir(os.path.dirname(name.strip("/")) or ".")
        self._entry(name, stat.S_IFREG | mode, data)

    def copy(self, name, path, mode=None):
        with open(path, "rb") as f:
            data = f.read()
        self.file(name, data, mode if mode is not None else (os.stat(path).st_mode & 0o777))

    def symlink(self, name, target):
        self.dir(os.path.dirname(name.strip("/")) or ".")
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def bytes(self):
        self.seen.discard("TRAILER!!!")
        self._entry("TRAILER!!!", 0)
        return b"".join(self.parts)
