#include "accel/kvm/arm64_vcpu_state.h"

#include <linux/kvm.h>

#include <cstring>
#include <string>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/one_reg.h"
#include "arch/arm64/page_walk.h"
#include "arch/arm64/regs_kvm.h"

namespace kvmdbg::accel::kvm {

Status load_arm64_state(int fd, KvmdbgArm64State& out) {
    auto* base = reinterpret_cast<std::uint8_t*>(&out);
    for (const auto& f : arch::arm64::arm64_one_regs()) {
        // KVM writes exactly the id's size; the fields are sized to match.
        if (auto s = transfer_one_reg(fd, KVM_GET_ONE_REG, f.id, base + f.offset, f.name); !s) {
            return s;
        }
    }
    return ok_status();
}

Status store_arm64_state(int fd, const KvmdbgArm64State& in) {
    // KVM_SET_ONE_REG only reads from the buffer; the copy keeps `in` const-correct.
    KvmdbgArm64State copy = in;
    auto* base = reinterpret_cast<std::uint8_t*>(&copy);
    for (const auto& f : arch::arm64::arm64_one_regs()) {
        if (auto s = transfer_one_reg(fd, KVM_SET_ONE_REG, f.id, base + f.offset, f.name); !s) {
            return s;
        }
    }
    return ok_status();
}

Result<KvmdbgArm64State> arm64_vcpu_state(KvmVm& vm, std::uint32_t cpu) {
    KvmdbgArm64State st{};
    if (auto s = vm.get_state(cpu, &st, sizeof st); !s) {
        return s.error();
    }
    return st;
}

GuestMemory arm64_guest_memory(const KvmVm& vm, const KvmdbgArm64State& state) {
    arch::arm64::PagingState paging;
    paging.sctlr_el1 = state.sctlr_el1;
    paging.tcr_el1 = state.tcr_el1;
    paging.ttbr0_el1 = state.ttbr0_el1;
    paging.ttbr1_el1 = state.ttbr1_el1;
    return GuestMemory(vm, [&vm, paging](std::uint64_t va) -> std::optional<std::uint64_t> {
        auto reader = [&vm](std::uint64_t pa) { return GuestMemory::read_physical(vm, pa, 8); };
        auto t = arch::arm64::translate(paging, va, reader);
        if (!t) {
            return std::nullopt;
        }
        return t->physical;
    });
}

}  // namespace kvmdbg::accel::kvm
