// I440fxHostBridge: the configuration space of the Intel 82441FX PMC
// (440FX host bridge) at PCI 00:00.0, as QEMU's pc machine presents it
// (hw/pci-host/i440fx.c), which SeaBIOS looks for to know it runs on QEMU
// (vendor 8086, device 1237, subsystem 1af4:1100) and whose PAM registers
// it writes to make the BIOS area writable and then read-only again.
//
//   offset  field                       value / behaviour
//   0x00    vendor, device              0x8086, 0x1237
//   0x04    command                     0x0006 (memory, bus master), writable
//   0x06    status                      0x0280 (fast back-to-back, medium DEVSEL)
//   0x08    revision, class             0x02, 0x060000 (host bridge)
//   0x0e    header type                 0x00
//   0x2c    subsystem vendor, subsystem 0x1af4, 0x1100 (QEMU)
//   0x59-0x5f  PAM0-PAM6                0x00 at reset, writable
//   0x72    SMRAM                       0x02 at reset, writable
//   other                               0, writes ignored
//
// The PAM values are stored only: pc-lite keeps 0xc0000-0xfffff RAM all the
// time (pc_firmware.h), so "read from DRAM, write to DRAM" is what every
// setting behaves like. reset() restores the reset values.
//
// Threads: config access on vCPU threads under the bus lock.
#pragma once

#include <array>
#include <cstdint>

#include "hw-models/devices/pci_host_conf1.h"

namespace kvmdbg::hw {

class I440fxHostBridge final : public PciFunction {
public:
    static constexpr std::uint8_t kDevfn = 0;
    static constexpr std::uint8_t kPam0 = 0x59;
    static constexpr std::uint8_t kPamCount = 7;
    static constexpr std::uint8_t kSmram = 0x72;

    I440fxHostBridge();

    std::uint32_t config_read(std::uint8_t offset, unsigned size) override;
    void config_write(std::uint8_t offset, std::uint32_t value, unsigned size) override;
    void reset();

private:
    bool writable(std::uint8_t offset) const;
    std::array<std::uint8_t, 256> config_{};
};

}  // namespace kvmdbg::hw
