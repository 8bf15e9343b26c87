#include "arch/arm64/regs_kvm.h"

#include <linux/kvm.h>

#include <array>

namespace kvmdbg::arch::arm64 {

namespace {

constexpr std::uint64_t core_id(std::size_t kvm_regs_offset, std::uint64_t size_flag) {
    return KVM_REG_ARM64 | size_flag | KVM_REG_ARM_CORE | (kvm_regs_offset / sizeof(__u32));
}

#define CORE64(field) core_id(offsetof(struct kvm_regs, field), KVM_REG_SIZE_U64)
#define STATE(field) offsetof(KvmdbgArm64State, field), sizeof(KvmdbgArm64State::field)

// kvm_regs offsets of the array elements are computed with offsetof on the
// element, which the uapi macro KVM_REG_ARM_CORE_REG does as well.
constexpr std::size_t kVregs = offsetof(struct kvm_regs, fp_regs.vregs);
constexpr std::size_t kXregs = offsetof(struct kvm_regs, regs.regs);

// 31 x + sp_el0, sp_el1, pc, pstate, elr_el1, spsr_el1 + 32 v + fpsr, fpcr + 9 system registers.
constexpr std::size_t kCount = 31 + 6 + 32 + 2 + 9;

std::array<OneRegField, kCount> make_table() {
    std::array<OneRegField, kCount> t{};
    static const char* const kXNames[31] = {"x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10",
                                            "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
                                            "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30"};
    static const char* const kVNames[32] = {"v0",  "v1",  "v2",  "v3",  "v4",  "v5",  "v6",  "v7",  "v8",  "v9",  "v10",
                                            "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21",
                                            "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31"};
    std::size_t n = 0;
    for (unsigned i = 0; i < 31; ++i) {
        t[n++] = {core_id(kXregs + i * sizeof(__u64), KVM_REG_SIZE_U64), offsetof(KvmdbgArm64State, x) + i * 8, 8,
                  kXNames[i]};
    }
    t[n++] = {CORE64(regs.sp), STATE(sp_el0), "sp_el0"};
    t[n++] = {CORE64(sp_el1), STATE(sp_el1), "sp_el1"};
    t[n++] = {CORE64(regs.pc), STATE(pc), "pc"};
    t[n++] = {CORE64(regs.pstate), STATE(pstate), "pstate"};
    t[n++] = {CORE64(elr_el1), STATE(elr_el1), "elr_el1"};
    t[n++] = {core_id(offsetof(struct kvm_regs, spsr) + KVM_SPSR_EL1 * sizeof(__u64), KVM_REG_SIZE_U64),
              STATE(spsr_el1), "spsr_el1"};
    for (unsigned i = 0; i < 32; ++i) {
        t[n++] = {core_id(kVregs + i * 16, KVM_REG_SIZE_U128), offsetof(KvmdbgArm64State, v) + i * 16, 16, kVNames[i]};
    }
    t[n++] = {core_id(offsetof(struct kvm_regs, fp_regs.fpsr), KVM_REG_SIZE_U32), STATE(fpsr), "fpsr"};
    t[n++] = {core_id(offsetof(struct kvm_regs, fp_regs.fpcr), KVM_REG_SIZE_U32), STATE(fpcr), "fpcr"};
    // Encodings: cpu_state.h (ARM ARM DDI 0487, each register's "Accessing" section).
    t[n++] = {ARM64_SYS_REG(3, 0, 1, 0, 0), STATE(sctlr_el1), "sctlr_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 2, 0, 2), STATE(tcr_el1), "tcr_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 2, 0, 0), STATE(ttbr0_el1), "ttbr0_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 2, 0, 1), STATE(ttbr1_el1), "ttbr1_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 12, 0, 0), STATE(vbar_el1), "vbar_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 5, 2, 0), STATE(esr_el1), "esr_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 6, 0, 0), STATE(far_el1), "far_el1"};
    t[n++] = {ARM64_SYS_REG(2, 0, 0, 2, 2), STATE(mdscr_el1), "mdscr_el1"};
    t[n++] = {ARM64_SYS_REG(3, 0, 10, 2, 0), STATE(mair_el1), "mair_el1"};
    return t;
}

#undef CORE64
#undef STATE

}  // namespace

std::span<const OneRegField> arm64_one_regs() {
    static const auto table = make_table();
    return {table.data(), table.size()};
}

namespace reg_id {
std::uint64_t pc() { return core_id(offsetof(struct kvm_regs, regs.pc), KVM_REG_SIZE_U64); }
std::uint64_t pstate() { return core_id(offsetof(struct kvm_regs, regs.pstate), KVM_REG_SIZE_U64); }
std::uint64_t elr_el1() { return core_id(offsetof(struct kvm_regs, elr_el1), KVM_REG_SIZE_U64); }
std::uint64_t spsr_el1() {
    return core_id(offsetof(struct kvm_regs, spsr) + KVM_SPSR_EL1 * sizeof(__u64), KVM_REG_SIZE_U64);
}
std::uint64_t esr_el1() { return ARM64_SYS_REG(3, 0, 5, 2, 0); }
std::uint64_t far_el1() { return ARM64_SYS_REG(3, 0, 6, 0, 0); }
std::uint64_t vbar_el1() { return ARM64_SYS_REG(3, 0, 12, 0, 0); }
std::uint64_t sctlr_el1() { return ARM64_SYS_REG(3, 0, 1, 0, 0); }
std::uint64_t id_aa64mmfr1_el1() { return ARM64_SYS_REG(3, 0, 0, 7, 1); }
std::uint64_t id_aa64mmfr2_el1() { return ARM64_SYS_REG(3, 0, 0, 7, 2); }
std::uint64_t id_aa64pfr1_el1() { return ARM64_SYS_REG(3, 0, 0, 4, 1); }
}  // namespace reg_id

}  // namespace kvmdbg::arch::arm64
