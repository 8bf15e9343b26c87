// X86BootPlan: what a loaded x86 kernel needs from the machine to start.
//
// The loaders (multiboot_loader.h, elf64_loader.h, linux_loader.h) have
// already written the image and every boot structure into guest RAM; the
// plan says how to set up the vCPUs. A plain value; any thread.
//
// How the machine uses it, for `count` vCPUs:
//   1. check_vcpu_count(count) (ELF64: every vCPU needs its own stack);
//   2. for each index: set_cpu_state(index, vcpu_state(index, count));
//   3. if all_vcpus_start_at_entry, mark every AP runnable
//      (plugin op set_mp_runnable: with an in-kernel irqchip KVM otherwise
//      keeps APs waiting for INIT/SIPI); else leave the APs waiting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/x86/boot_tables.h"
#include "arch/x86/cpu_state.h"
#include "common/result.h"
#include "hw-models/loaders/gpa_range.h"

namespace kvmdbg::hw {

struct X86BootPlan {
    /// Stack bytes each vCPU gets in ELF64 direct boot.
    static constexpr std::uint64_t kVcpuStackSize = 64 * 1024;

    /// Initial state of vCPU 0 (for ELF64: RDI = 0, RSI = 1; vcpu_state()
    /// fills in the real count).
    KvmdbgX86State bsp_state{};

    /// The boot protocol, for messages: "multiboot", "ELF64" or "Linux".
    std::string protocol;

    /// true (ELF64 direct boot): every vCPU starts at `entry` in long mode.
    /// false (multiboot, Linux): only vCPU 0 starts; APs wait for INIT/SIPI
    /// as on a real PC, in the reset state.
    bool all_vcpus_start_at_entry = false;

    /// Guest-physical entry point (also bsp_state.rip).
    std::uint64_t entry = 0;

    /// ELF64 only (0 otherwise). The stack of vCPU i is the 64 KiB below
    /// stack_top - i * 64 KiB; stack_top is the end of the RAM region that
    /// ends highest below 4 GiB (page aligned, so 16-byte aligned as the
    /// SysV ABI wants at process entry). stack_floor is the end of the
    /// highest byte the loader placed below stack_top (segments, GDT, page
    /// tables): stacks never reach below it.
    std::uint64_t stack_top = 0;
    std::uint64_t stack_floor = 0;

    /// Every guest-physical range the loader wrote (image, modules, boot
    /// information, GDT, page tables; not the ELF64 vCPU stacks, which the
    /// loader only reserves). The machine consults it before it puts data
    /// of its own in RAM (e.g. the BIOS data area) so that it never
    /// overwrites what the kernel file asked for.
    std::vector<GpaRange> loaded;

    /// true if any range in `loaded` overlaps [start, end).
    bool loaded_over(std::uint64_t start, std::uint64_t end) const {
        for (const auto& r : loaded) {
            if (r.start < end && start < r.end) {
                return true;
            }
        }
        return false;
    }

    /// How many vCPUs can start: ELF64 (stack_top - stack_floor) / 64 KiB,
    /// multiboot and Linux unlimited (UINT32_MAX).
    std::uint32_t max_vcpus() const {
        if (!all_vcpus_start_at_entry) {
            return UINT32_MAX;
        }
        std::uint64_t n = (stack_top - stack_floor) / kVcpuStackSize;
        return n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n);
    }

    /// Errors: ENOMEM if `count` vCPU stacks do not fit between the loaded
    /// image and stack_top, EINVAL for count 0.
    Status check_vcpu_count(std::uint32_t count) const {
        if (count == 0) {
            return make_error(EINVAL, "at least one vCPU is needed");
        }
        if (count > max_vcpus()) {
            return make_error(ENOMEM, "no room for " + std::to_string(count) +
                                          " vCPU stacks of 64 KiB below the top of low RAM "
                                          "(room for " +
                                          std::to_string(max_vcpus()) + ")");
        }
        return ok_status();
    }

    /// The state vCPU `index` of `count` starts with. ELF64: bsp_state with
    /// RDI = index, RSI = count, RSP = stack_top - index * 64 KiB, and
    /// APIC_BASE.BSP only for index 0. Multiboot, Linux: bsp_state for index 0,
    /// the INIT state (arch::x86::reset_state(false)) for APs.
    /// Precondition: index < count and check_vcpu_count(count) succeeded.
    KvmdbgX86State vcpu_state(std::uint32_t index, std::uint32_t count) const {
        if (!all_vcpus_start_at_entry) {
            return index == 0 ? bsp_state : arch::x86::reset_state(false);
        }
        KvmdbgX86State st = bsp_state;
        st.gpr[KVMDBG_X86_RDI] = index;
        st.gpr[KVMDBG_X86_RSI] = count;
        st.gpr[KVMDBG_X86_RSP] = stack_top - static_cast<std::uint64_t>(index) * kVcpuStackSize;
        if (index != 0) {
            st.apic_base &= ~(1ull << 8);  // IA32_APIC_BASE.BSP
        }
        return st;
    }
};

}  // namespace kvmdbg::hw
