// KvmSystem: the open /dev/kvm handle, its API version and capabilities.
//
// Documentation/virt/kvm/api.rst 4.1 (KVM_GET_API_VERSION: must be 12),
// 4.4 (KVM_CHECK_EXTENSION), 4.5 (KVM_GET_VCPU_MMAP_SIZE).
// Created on the main thread; check_extension() is safe from any thread.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kvmdbg::accel::kvm {

/// ioctl() that returns the result, or -errno on failure (DESIGN rule 5).
/// EINTR is retried for every request but KVM_RUN (where it is a kick).
long xioctl(int fd, unsigned long request, unsigned long arg = 0);
long xioctl(int fd, unsigned long request, const void* arg);

class KvmSystem {
public:
    /// Opens `path` (normally /dev/kvm) and checks the API version.
    /// Errors: ENOENT "KVM is not available", EACCES "permission denied" with
    /// the remedy, EPROTO for a wrong API version.
    static Result<KvmSystem> open(const std::string& path);

    int fd() const { return fd_.get(); }
    /// KVM_CHECK_EXTENSION on /dev/kvm: the capability's value, 0 if absent.
    long check_extension(long cap) const;
    /// Size of each vCPU's kvm_run mapping.
    long vcpu_mmap_size() const { return vcpu_mmap_size_; }

private:
    KvmSystem(UniqueFd fd, long mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(mmap_size) {}

    UniqueFd fd_;
    long vcpu_mmap_size_ = 0;
};

}  // namespace kvmdbg::accel::kvm
