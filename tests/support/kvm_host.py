"""kvm_unusable(): why /dev/kvm cannot be used by this process, or None.

The test scripts SKIP (exit 77) with that reason."""
import os


def kvm_unusable():
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible to this user"
    return None
