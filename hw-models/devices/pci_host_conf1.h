// PciHostConf1: PCI configuration mechanism #1, the PC's way to reach the
// configuration space of the devices on PCI bus 0 (PCI Local Bus 3.0,
// 3.2.2.3.2), with the devices behind it.
//
//   port 0xcf8 (32-bit read/write): CONFIG_ADDRESS
//     31       30..24    23..16   15..11   10..8      7..2       1..0
//   +--------+---------+--------+--------+----------+----------+------+
//   | enable | reserved| bus    | device | function | register | 00   |
//   +--------+---------+--------+--------+----------+----------+------+
//   ports 0xcfc-0xcff (8/16/32-bit): CONFIG_DATA, the bytes of the selected
//   dword from (register | port offset)
//
// Semantics, as QEMU's pci_host (hw/pci/pci_host.c): only a 32-bit access
// at 0xcf8 reads or writes CONFIG_ADDRESS (others are ignored, reads give
// all ones: the PIIX's reset control register at 0xcf9 is a byte port of its
// own, not modelled); a data access with the enable bit clear, to a bus
// other than 0, or to a device/function with nothing there reads all ones
// and writes nothing; an access that would cross the dword is cut at its end.
//
// Threads: read()/write() on vCPU threads under the bus lock; set-up on the
// main thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "common/result.h"
#include "hw-models/io_device.h"

namespace kvmdbg::hw {

/// A function on PCI bus 0: its 256-byte configuration space.
class PciFunction {
public:
    virtual ~PciFunction() = default;
    /// `size` bytes (1, 2 or 4) at `offset`, little-endian; never crosses a dword.
    virtual std::uint32_t config_read(std::uint8_t offset, unsigned size) = 0;
    virtual void config_write(std::uint8_t offset, std::uint32_t value, unsigned size) = 0;
};

class PciHostConf1 final : public IoDevice {
public:
    static constexpr std::uint16_t kPort = 0xcf8;
    static constexpr std::uint64_t kPortSize = 8;  ///< 0xcf8-0xcff

    /// Puts `function` at devfn (device << 3 | function) of bus 0.
    /// Errors: EEXIST if something is there.
    Status attach(std::uint8_t devfn, std::shared_ptr<PciFunction> function);

    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override;

    std::uint32_t config_address() const { return address_; }

private:
    /// The function CONFIG_ADDRESS selects and the register, or nullptr.
    PciFunction* selected(std::uint8_t& reg) const;

    std::uint32_t address_ = 0;
    std::map<std::uint8_t, std::shared_ptr<PciFunction>> functions_;
};

}  // namespace kvmdbg::hw
