// AcpiPowerOff: the ACPI PM1a control register as a power button for hobby
// kernels that shut QEMU down without parsing the ACPI tables.
//
// Such kernels hard-code QEMU's and Bochs' PM1a_CNT ports and write
// SLP_TYP=0 | SLP_EN there:
//
//   outw(0x604, 0x2000)    QEMU pc (PIIX4 PM, since QEMU 2.0) and q35 (ICH9)
//   outw(0xb004, 0x2000)   Bochs and QEMU before 2.0
//
// PM1 control register (ACPI 6.5, section 4.8.3.2.1, "PM1 Control Registers"):
//
//    15   14   13      12..10    9..3      2          1        0
//   +----+----+--------+---------+---------+----------+--------+--------+
//   | rsvd    | SLP_EN | SLP_TYP | rsvd    | GBL_RLS  | BM_RLD | SCI_EN |
//   +----+----+--------+---------+---------+----------+--------+--------+
//
// Semantics here, as QEMU's acpi_pm_cnt_write() in hw/acpi/core.c (formerly
// acpi_pm1_cnt_write()):
// - the value written is a 2-byte write at offset 0, or a 1-byte write at
//   offset 1 taken as bits 15:8 (QEMU merges it with the low byte, which
//   holds neither SLP_EN nor SLP_TYP);
// - with SLP_EN (bit 13) set, SLP_TYP (bits 12:10) picks the sleep state:
//     0      soft off (S5): calls the power-off callback and returns
//            IoOutcome::stop_machine;
//     1      S3 suspend to RAM: QEMU suspends the machine; there is no
//            suspend here, so the write is ignored and the guest runs on
//            (kvm-unit-tests' s3 test writes 0x2400 and must not end the
//            machine). Not logged: devices have no Log, and a guest that
//            suspends sees its write take no effect, as on a board whose
//            DSDT offers no \_S3;
//     2-7    ignored. QEMU powers off only for the SLP_TYP its PIIX4/ICH9
//            "s4_val" property names (S4, suspend to disk); kvmdbg's DSDT
//            declares \_S5 alone, with SLP_TYP 0, so no other value means
//            anything;
// - every other write (no SLP_EN, 1-byte write at offset 0, 4-byte write,
//   which QEMU rejects as wider than the register) is ignored;
// - reads return 0 (no SCI_EN emulation: the guest is never in ACPI mode).
//
// The machine maps one instance at each port it wants with kRegisterSize.
// Threads: read()/write() and the callback run on vCPU threads under the bus
// lock; the callback must not re-enter the bus.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class AcpiPowerOff final : public IoDevice {
public:
    using PowerOffCallback = std::function<void()>;

    static constexpr std::uint64_t kQemuPm1aCntPort = 0x604;
    static constexpr std::uint64_t kBochsPm1aCntPort = 0xb004;
    static constexpr std::uint64_t kRegisterSize = 2;
    static constexpr std::uint16_t kSlpEn = 1u << 13;
    static constexpr unsigned kSlpTypShift = 10;
    static constexpr std::uint16_t kSlpTypMask = 7u << kSlpTypShift;
    static constexpr unsigned kSlpTypSoftOff = 0;  ///< \_S5 in kvmdbg's and QEMU's DSDT
    static constexpr unsigned kSlpTypSuspend = 1;  ///< \_S3 in QEMU's DSDT; not modelled

    explicit AcpiPowerOff(PowerOffCallback on_poweroff) : on_poweroff_(std::move(on_poweroff)) {}

    /// Always 0.
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Powers off (callback + stop_machine) on a write setting SLP_EN with
    /// SLP_TYP 0 as described above; otherwise returns IoOutcome::proceed.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;

private:
    PowerOffCallback on_poweroff_;
};

}  // namespace kvmdbg::hw
