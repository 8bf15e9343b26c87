#include "accel/kvm/kvm_system.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstring>

namespace kvmdbg::accel::kvm {

// A signal (a kick, or one sent from outside) can interrupt any KVM ioctl,
// e.g. KVM_CREATE_VM; only KVM_RUN's EINTR means something (a kick), so every
// other request is simply retried.
long xioctl(int fd, unsigned long request, unsigned long arg) {
    long rc;
    do {
        rc = ::ioctl(fd, request, arg);
    } while (rc < 0 && errno == EINTR && request != KVM_RUN);
    return rc < 0 ? -errno : rc;
}

long xioctl(int fd, unsigned long request, const void* arg) {
    return xioctl(fd, request, reinterpret_cast<unsigned long>(arg));
}

Result<KvmSystem> KvmSystem::open(const std::string& path) {
    int raw = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (raw < 0) {
        int err = errno;
        if (err == ENOENT) {
            return make_error(err, path +
                                       " does not exist: KVM is not available on this host "
                                       "(load the kvm module, or enable nested virtualisation)");
        }
        if (err == EACCES || err == EPERM) {
            return make_error(err,
                              "permission denied opening " + path + ": run as root or add the user to the 'kvm' group");
        }
        return make_error(err, "cannot open " + path + ": " + std::strerror(err));
    }
    UniqueFd fd(raw);
    long version = xioctl(fd.get(), KVM_GET_API_VERSION);
    if (version != KVM_API_VERSION) {
        return make_error(EPROTO, path + ": KVM API version " + std::to_string(version) + ", expected " +
                                      std::to_string(KVM_API_VERSION));
    }
    long mmap_size = xioctl(fd.get(), KVM_GET_VCPU_MMAP_SIZE);
    if (mmap_size < static_cast<long>(sizeof(kvm_run))) {
        return make_error(EPROTO, path + ": bad vCPU mmap size " + std::to_string(mmap_size));
    }
    return KvmSystem(std::move(fd), mmap_size);
}

long KvmSystem::check_extension(long cap) const {
    long rc = xioctl(fd_.get(), KVM_CHECK_EXTENSION, static_cast<unsigned long>(cap));
    return rc < 0 ? 0 : rc;
}

}  // namespace kvmdbg::accel::kvm
