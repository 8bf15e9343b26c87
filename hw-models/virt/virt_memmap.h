// The `-M virt` (aarch64) guest-physical memory map and interrupt numbers,
// the subset of QEMU's hw/arm/virt.c `base_memmap[]` / `a15irqmap[]` that
// kvmdbg models, plus one kvmdbg device (test-exit) in a hole QEMU leaves
// unused.
//
//   base          size         what                          interrupt
//   ------------  -----------  ----------------------------  ----------------
//   0x0000_0000   0x0400_0000  flash 0: the -bios image,     -
//                              read-only (only with -bios)
//   0x0800_0000   0x0001_0000  GICv3 distributor (in-kernel) -
//   0x080a_0000   0x00f6_0000  GICv3 redistributors, 128 KiB -
//                              per vCPU (RD + SGI frame): at
//                              most 123 vCPUs (in-kernel)
//   0x0900_0000   0x0000_1000  PL011 UART (-serial)          SPI 1 (INTID 33)
//   0x0910_0000   0x0000_1000  kvmdbg test-exit              -
//   0x4000_0000   -m           RAM                           -
//
//   architected timer PPIs (QEMU's DT order): secure phys 13, non-secure
//   phys 14, virtual 11, hypervisor 10 (INTIDs 29, 30, 27, 26).
//
// QEMU places its devices from 0x09010000 (RTC) up to 0x090c0000
// (ACPI PCI hotplug in QEMU >= 10.1); 0x09100000 lies after all of them and
// before the virtio-mmio transports at 0x0a000000, so a guest written for
// QEMU's map never collides with the test-exit device.
//
// Interrupt numbers follow the GIC architecture (ARM IHI 0069, 2.2 "INTIDs"):
// SGIs 0-15, PPIs 16-31, SPIs from 32; device-tree specifiers name PPIs and
// SPIs relative to their first INTID (`<GIC_SPI 1 ...>` is INTID 33).
// Pure constants; any thread.
#pragma once

#include <cstdint>

namespace kvmdbg::hw::virt {

/// QEMU's first flash bank, where -bios puts the firmware; the vCPU resets
/// to its start.
inline constexpr std::uint64_t kFlashBase = 0x0;
inline constexpr std::uint64_t kFlashSize = 0x04000000;

inline constexpr std::uint64_t kGicDistBase = 0x08000000;
inline constexpr std::uint64_t kGicDistSize = 0x00010000;
inline constexpr std::uint64_t kGicRedistBase = 0x080a0000;
inline constexpr std::uint64_t kGicRedistSize = 0x00f60000;
/// One GICv3 redistributor: RD_base + SGI_base frames, 64 KiB each.
inline constexpr std::uint64_t kGicRedistStride = 0x20000;
/// vCPUs whose redistributors fit in the region (0xf60000 / 0x20000).
inline constexpr std::uint32_t kMaxCpus = static_cast<std::uint32_t>(kGicRedistSize / kGicRedistStride);

inline constexpr std::uint64_t kUartBase = 0x09000000;
inline constexpr std::uint64_t kUartSize = 0x1000;
inline constexpr std::uint32_t kUartSpi = 1;

inline constexpr std::uint64_t kTestExitBase = 0x09100000;
inline constexpr std::uint64_t kTestExitSize = 0x1000;

inline constexpr std::uint64_t kRamBase = 0x40000000;
/// RAM may reach up to 256 GiB above its base (QEMU's default highmem limit
/// for the initial RAM on virt; the DT uses 2-cell addresses throughout).
inline constexpr std::uint64_t kMaxRamSize = 255ull << 30;

/// Architected timer PPIs, relative numbers as in the DT (add 16 for INTIDs).
inline constexpr std::uint32_t kTimerSecurePhysPpi = 13;
inline constexpr std::uint32_t kTimerPhysPpi = 14;
inline constexpr std::uint32_t kTimerVirtPpi = 11;
inline constexpr std::uint32_t kTimerHypPpi = 10;

/// First SPI INTID: an SPI number n is INTID 32 + n.
inline constexpr std::uint32_t kFirstSpiIntid = 32;

/// The PL011's reference clock as QEMU's /apb-pclk node declares it.
inline constexpr std::uint32_t kApbClockHz = 24000000;

/// MPIDR_EL1 affinity value KVM gives vCPU `index` (KVM's reset_mpidr() in
/// arch/arm64/kvm/sys_regs.c: Aff0 = index[3:0], Aff1 = index[11:4],
/// Aff2 = index[19:12]; QEMU's virt uses the same 16-CPU clusters with
/// GICv3). This is also the cpu node's `reg` in the device tree and the
/// target_cpu argument of PSCI CPU_ON.
///
///   63      40 39  32 31  24 23   16 15    8 7     0
///  +----------+------+------+-------+-------+-------+
///  |   RES0   | Aff3 | ...  | Aff2  | Aff1  | Aff0  |
///  +----------+------+------+-------+-------+-------+
constexpr std::uint64_t mpidr_for_vcpu(std::uint32_t index) {
    return (static_cast<std::uint64_t>(index) & 0xf) | (((static_cast<std::uint64_t>(index) >> 4) & 0xff) << 8) |
           (((static_cast<std::uint64_t>(index) >> 12) & 0xff) << 16);
}

}  // namespace kvmdbg::hw::virt
