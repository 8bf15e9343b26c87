#include "accel/kvm/one_reg.h"

#include <linux/kvm.h>

#include <string>

#include "accel/kvm/kvm_system.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

Result<unsigned> reg_size(std::uint64_t id, const char* name) {
    const std::uint64_t size = 1ull << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
    if (size != 4 && size != 8) {
        return make_error(EINVAL, std::string("register ") + name + " is " + std::to_string(size) +
                                      " bytes: only 4 and 8 are read one by one");
    }
    return static_cast<unsigned>(size);
}

}  // namespace

Status transfer_one_reg(int vcpu_fd, unsigned long request, std::uint64_t id, void* addr, const char* name) {
    kvm_one_reg reg{};
    reg.id = id;
    reg.addr = reinterpret_cast<std::uintptr_t>(addr);
    const char* what = request == KVM_GET_ONE_REG ? "KVM_GET_ONE_REG(" : "KVM_SET_ONE_REG(";
    return ioctl_status(xioctl(vcpu_fd, request, &reg), std::string(what) + name + ")");
}

Result<std::uint64_t> read_one_reg(int vcpu_fd, std::uint64_t id, const char* name) {
    auto size = reg_size(id, name);
    if (!size) {
        return size.error();
    }
    std::uint64_t v64 = 0;
    std::uint32_t v32 = 0;
    void* addr = *size == 8 ? static_cast<void*>(&v64) : static_cast<void*>(&v32);
    if (auto s = transfer_one_reg(vcpu_fd, KVM_GET_ONE_REG, id, addr, name); !s) {
        return s.error();
    }
    return *size == 8 ? v64 : v32;
}

Status write_one_reg(int vcpu_fd, std::uint64_t id, std::uint64_t value, const char* name) {
    auto size = reg_size(id, name);
    if (!size) {
        return size.error();
    }
    std::uint64_t v64 = value;
    auto v32 = static_cast<std::uint32_t>(value);
    void* addr = *size == 8 ? static_cast<void*>(&v64) : static_cast<void*>(&v32);
    return transfer_one_reg(vcpu_fd, KVM_SET_ONE_REG, id, addr, name);
}

}  // namespace kvmdbg::accel::kvm
