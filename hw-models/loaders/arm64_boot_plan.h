// Arm64BootPlan: what a loaded aarch64 kernel needs from the machine to
// start (the arm64 counterpart of x86_boot_plan.h).
//
// The loader (arm64_loader.h) has already written the image, the initrd and
// the device tree blob into guest RAM; the plan says how to set up the vCPUs.
// A plain value; any thread.
//
// How the accelerator applies it, for `count` vCPUs (KVM, api.rst 4.82
// KVM_ARM_VCPU_INIT and 4.68 KVM_SET_ONE_REG):
//   1. KVM_ARM_VCPU_INIT with KVM_ARM_VCPU_PSCI_0_2 for every vCPU (PSCI is
//      handled in the kernel, "hvc" conduit), plus KVM_ARM_VCPU_POWER_OFF for
//      every vCPU whose vcpu(i, count).powered_off is true: those start
//      stopped and wait for the guest's PSCI CPU_ON, which sets their PC and
//      x0 itself.
//   2. For the vCPUs that run: set PC, X0 and PSTATE from vcpu(i, count)
//      (X1..X3 are already 0 after KVM_ARM_VCPU_INIT, as booting.rst wants).
//
// Entry state (Documentation/arch/arm64/booting.rst, "5. Call the kernel
// image"): MMU off, caches off (KVM's reset state), x0 = physical address of
// the device tree blob, x1 = x2 = x3 = 0, all of DAIF masked, at EL1 (KVM
// gives the guest EL1; booting.rst allows EL1 or EL2):
//
//   PSTATE (SPSR layout, ARM ARM C5.2.18 "SPSR_EL1")
//    31 28      9   8   7   6   5   4  3..0
//   +-----+...+---+---+---+---+---+---+------+
//   |NZCV |   | D | A | I | F | 0 |nRW| M    |   = 0x3c5: D A I F set,
//   +-----+...+---+---+---+---+---+---+------+     nRW 0 (AArch64), M = EL1h (0b0101)
#pragma once

#include <cstdint>
#include <vector>

#include "hw-models/loaders/gpa_range.h"

namespace kvmdbg::hw {

/// The initial state of one vCPU.
struct Arm64VcpuBoot {
    bool powered_off = false;  ///< start with KVM_ARM_VCPU_POWER_OFF (wait for PSCI CPU_ON)
    std::uint64_t pc = 0;      ///< meaningful only when !powered_off
    std::uint64_t x0 = 0;      ///< DTB address for the boot vCPU
    std::uint64_t pstate = 0;  ///< kPstateEl1hDaifMasked
};

struct Arm64BootPlan {
    /// EL1h with D, A, I and F masked (diagram above).
    static constexpr std::uint64_t kPstateEl1hDaifMasked = 0x3c5;

    enum class Format { elf64, linux_image };
    Format format = Format::elf64;

    /// Guest-physical entry point of vCPU 0.
    std::uint64_t entry = 0;
    /// Where the device tree blob is in RAM, and its size (x0 of vCPU 0).
    std::uint64_t dtb_addr = 0;
    std::uint64_t dtb_size = 0;
    /// The kernel image as loaded (ELF: lowest to highest segment byte;
    /// Image: load address to load address + image_size).
    GpaRange kernel;
    /// The initrd as loaded; start == end == 0 without -initrd.
    GpaRange initrd;
    /// Every guest-physical range the loader wrote (segments, Image,
    /// initrd, DTB).
    std::vector<GpaRange> loaded;

    /// The state vCPU `index` starts with: vCPU 0 at `entry` with x0 =
    /// dtb_addr and PSTATE EL1h/DAIF masked; every other vCPU powered off,
    /// for the guest to start with PSCI CPU_ON (as QEMU boots arm64 kernels
    /// with PSCI: booting.rst 4c, "enable-method" "psci").
    Arm64VcpuBoot vcpu(std::uint32_t index) const {
        Arm64VcpuBoot boot;
        boot.pstate = kPstateEl1hDaifMasked;
        if (index != 0) {
            boot.powered_off = true;
            return boot;
        }
        boot.pc = entry;
        boot.x0 = dtb_addr;
        return boot;
    }
};

}  // namespace kvmdbg::hw
