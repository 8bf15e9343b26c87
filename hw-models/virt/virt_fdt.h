// The flattened device tree of the `-M virt` machine, built with libfdt's
// sequential-write API (fdt_create / fdt_begin_node / fdt_property /
// fdt_end_node / fdt_finish; libfdt.h "Sequential write functions"),
// following the nodes and property values QEMU's hw/arm/virt.c creates for
// the same devices (Devicetree Specification v0.4, and the Linux bindings
// named per node). Pure; any thread.
//
//   / {
//       #address-cells = <2>; #size-cells = <2>;
//       compatible = "linux,dummy-virt"; model = "linux,dummy-virt";
//       interrupt-parent = <&intc>;
//       apb-pclk {                        // bindings/clock/fixed-clock.yaml
//           compatible = "fixed-clock"; #clock-cells = <0>;
//           clock-frequency = <24000000>; clock-output-names = "clk24mhz";
//           phandle = <2>;
//       };
//       memory@40000000 { device_type = "memory"; reg = <0 0x40000000 SIZE>; };
//       cpus {
//           #address-cells = <1>; #size-cells = <0>;
//           cpu@N { device_type = "cpu"; compatible = "arm,arm-v8";
//                   enable-method = "psci"; reg = <MPIDR(N)>; };   // virt_memmap.h
//       };
//       psci {                            // bindings/arm/psci.yaml
//           compatible = "arm,psci-1.0", "arm,psci-0.2"; method = "hvc";
//       };
//       intc@8000000 {                    // bindings/interrupt-controller/arm,gic-v3.yaml
//           compatible = "arm,gic-v3"; #interrupt-cells = <3>;
//           interrupt-controller; #address-cells = <2>; #size-cells = <2>;
//           ranges; #redistributor-regions = <1>;
//           reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 REDIST>;
//           phandle = <1>;
//       };
//       timer {                           // bindings/timer/arm,arch_timer.yaml
//           compatible = "arm,armv8-timer", "arm,armv7-timer"; always-on;
//           interrupts = <1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>;
//       };
//       pl011@9000000 {                   // bindings/serial/pl011.yaml
//           compatible = "arm,pl011", "arm,primecell";
//           reg = <0 0x9000000 0 0x1000>; interrupts = <0 1 4>;
//           clocks = <&apb_pclk>, <&apb_pclk>; clock-names = "uartclk", "apb_pclk";
//       };
//       test-exit@9100000 {               // kvmdbg (devices/test_exit.h)
//           compatible = "kvmdbg,test-exit"; reg = <0 0x9100000 0 0x1000>;
//       };
//       chosen {
//           stdout-path = "/pl011@9000000";
//           bootargs = "...";                         // only with -append
//           linux,initrd-start = <0 S>; linux,initrd-end = <0 E>;   // only with -initrd
//       };
//   };
//
// Interrupt specifiers (arm,gic-v3.yaml): <type number flags>, type 0 SPI,
// 1 PPI; flags 4 = IRQ_TYPE_LEVEL_HIGH (GICv3 has no PPI CPU mask).
// QEMU's redistributor region size is 0xf60000 whatever the vCPU count; so
// is ours. The timer is always-on as QEMU declares it for KVM guests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw::virt {

inline constexpr std::uint32_t kGicPhandle = 1;
inline constexpr std::uint32_t kClockPhandle = 2;
inline constexpr const char* kUartNodePath = "/pl011@9000000";
inline constexpr const char* kTestExitNodePath = "/test-exit@9100000";

struct FdtConfig {
    std::uint64_t ram_size = 0;      ///< bytes at kRamBase
    std::uint32_t cpus = 1;          ///< 1..kMaxCpus
    std::string bootargs;            ///< /chosen/bootargs, omitted when empty
    std::uint64_t initrd_start = 0;  ///< /chosen linux,initrd-*, omitted when
    std::uint64_t initrd_end = 0;    ///< start == end
    /// /chosen/kaslr-seed (a u64) and /chosen/rng-seed (32 bytes), as
    /// QEMU's virt writes them unless dtb-randomness=off: the seeds Linux
    /// takes for KASLR and its random pool. Omitted when unset.
    std::optional<std::uint64_t> kaslr_seed;
    std::optional<std::array<std::uint8_t, 32>> rng_seed;
};

/// Fresh kaslr_seed and rng_seed from the host's getrandom(2). Errors: of
/// getrandom (the caller leaves the seeds out, as QEMU does).
Status fill_random_seeds(FdtConfig& config);

/// Builds the DTB. The blob is packed (fdt_pack) and at most 2 MiB.
/// Errors: EINVAL for 0 or more than kMaxCpus vCPUs or a RAM size of 0;
/// EFBIG when the blob would exceed 2 MiB (an enormous -append); other
/// libfdt failures as EINVAL with fdt_strerror()'s text.
Result<std::vector<std::uint8_t>> build_virt_fdt(const FdtConfig& config);

}  // namespace kvmdbg::hw::virt
