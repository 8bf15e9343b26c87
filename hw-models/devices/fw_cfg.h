// FwCfg: QEMU's firmware configuration device (fw_cfg), the x86 I/O port
// flavour with DMA, as QEMU's docs/specs/fw_cfg.rst and hw/nvram/fw_cfg.c
// define it. SeaBIOS and kvm-unit-tests read the machine's description
// (signature, CPU count, RAM size, e820 map, files) from it.
//
//   ports 0x510-0x511 (FwCfgIoPort, little-endian):
//     16-bit write           selector: picks an item, data offset := 0
//     8-bit read             data: the next byte of the item, 0 past its end
//     8-bit write            ignored (QEMU v2.4+ dropped data writes)
//   ports 0x514-0x51b (FwCfgDmaPort, big-endian, 64-bit DMA address):
//     32-bit write at 0x514  high half of the descriptor address
//     32-bit write at 0x518  low half; starts the transfer
//     (64-bit write at 0x514: the whole address, starts the transfer)
//     reads                  the bytes of "QEMU CFG" (FW_CFG_DMA_SIGNATURE
//                            0x51454d5520434647 read big-endian)
//
// The DMA descriptor in guest RAM (all fields big-endian):
//
//   FWCfgDmaAccess { be32 control; be32 length; be64 address; }
//
//   control:  31 .. 16    15 .. 5    4       3        2      1      0
//           +----------+----------+-------+--------+------+------+-------+
//           | selector | 0        | WRITE | SELECT | SKIP | READ | ERROR |
//           +----------+----------+-------+--------+------+------+-------+
//
// SELECT selects the item first; then READ copies `length` bytes of the item
// to `address` (zeros past its end), else WRITE fails with ERROR (no item
// is writable here, as QEMU's read-only items), else SKIP advances the data
// offset; with none of them nothing moves. The device then stores control
// := 0, or ERROR when a guest range was outside RAM. The address register
// is cleared when a transfer starts.
//
// Guest misbehaviour, as QEMU's memory core and fw_cfg.c answer it: an
// access is split into naturally aligned pieces of at most 4 bytes (selector
// and data) or 8 bytes (DMA); a piece QEMU would refuse (a 16-bit read of the
// data port, a DMA write that is not 32 bits at 0/4 or 64 bits at 0) reads 0
// and writes nothing; bytes past the 2- or 8-byte window read 0xff and are
// dropped, as the unassigned ports behind it. A selector past the last file
// slot, or a slot without an item, reads as an empty item. Guest addresses
// are checked against GuestRam: a descriptor or buffer outside RAM sets
// ERROR and never touches host memory outside it (unlike QEMU, no partial
// write reaches the part of a range that is in RAM).
//
// Threads: set-up (set_machine, set_kernel, items()) on the main thread
// before vCPUs start; the ports call in on vCPU threads under the bus lock;
// reset() from the main thread under the bus lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "hw-models/devices/fw_cfg_items.h"
#include "hw-models/guest_ram.h"
#include "hw-models/io_device.h"
#include "hw-models/loaders/linux_boot_params.h"

namespace kvmdbg::hw {

/// What a machine tells its firmware about itself.
struct FwCfgMachineInfo {
    std::uint16_t cpus = 1;       ///< FW_CFG_NB_CPUS
    std::uint16_t max_cpus = 1;   ///< FW_CFG_MAX_CPUS
    std::uint64_t ram_size = 0;   ///< FW_CFG_RAM_SIZE: bytes, all regions
    std::vector<E820Entry> e820;  ///< "etc/e820": entries { le64 address; le64 length; le32 type; }
};

/// A Linux kernel for firmware to boot (QEMU's x86_load_linux items):
/// FW_CFG_{SETUP,KERNEL,INITRD,CMDLINE}_{ADDR,SIZE,DATA}; sizes and
/// addresses le32, the command line with its NUL.
struct FwCfgKernelItems {
    std::vector<std::uint8_t> setup;   ///< the real-mode setup sectors
    std::vector<std::uint8_t> kernel;  ///< the protected-mode part
    std::vector<std::uint8_t> initrd;
    std::string cmdline;
    std::uint32_t setup_addr = 0;
    std::uint32_t kernel_addr = 0;
    std::uint32_t initrd_addr = 0;
    std::uint32_t cmdline_addr = 0;
};

class FwCfg {
public:
    static constexpr std::uint16_t kIoPort = 0x510;
    static constexpr std::uint64_t kIoPortSize = 2;
    static constexpr std::uint16_t kDmaPort = 0x514;
    static constexpr std::uint64_t kDmaPortSize = 8;
    static constexpr std::uint64_t kDmaSignature = 0x51454d5520434647ull;  // "QEMU CFG"
    /// FW_CFG_ID bits.
    static constexpr std::uint32_t kIdTraditional = 0x01;
    static constexpr std::uint32_t kIdDma = 0x02;
    /// FWCfgDmaAccess control bits.
    static constexpr std::uint32_t kDmaError = 0x01;
    static constexpr std::uint32_t kDmaRead = 0x02;
    static constexpr std::uint32_t kDmaSkip = 0x04;
    static constexpr std::uint32_t kDmaSelect = 0x08;
    static constexpr std::uint32_t kDmaWrite = 0x10;
    static constexpr std::size_t kDmaAccessSize = 16;

    /// The device over `ram` (which must outlive it), with FW_CFG_SIGNATURE,
    /// FW_CFG_ID (traditional + DMA) and a zero FW_CFG_UUID, the signature
    /// selected.
    explicit FwCfg(GuestRam& ram);

    /// Fills FW_CFG_NB_CPUS, FW_CFG_MAX_CPUS, FW_CFG_RAM_SIZE, "etc/e820" and
    /// "etc/boot-fail-wait" (le32 0xffffffff: QEMU's default, no
    /// -boot reboot-timeout). Errors: those of FwCfgItems::add_file (a
    /// second call gives EEXIST).
    Status set_machine(const FwCfgMachineInfo& info);

    /// Fills the kernel items. Errors: EINVAL for a part of 4 GiB or more.
    Status set_kernel(const FwCfgKernelItems& kernel);

    FwCfgItems& items() { return items_; }

    /// The selector register: selects `key`, data offset := 0.
    void select(std::uint16_t key);
    /// The next byte of the selected item, 0 past its end.
    std::uint8_t read_data_byte();
    /// Runs the DMA transfer whose descriptor is at `descriptor_gpa`.
    void dma_transfer(std::uint64_t descriptor_gpa);
    /// A DMA address register write as QEMU's device sees it: `value`
    /// already in register order (big-endian bytes decoded), `size` 4 at
    /// offset 0/4 or 8 at 0; anything else is ignored.
    void write_dma_address(std::uint64_t offset, std::uint64_t value, unsigned size);

    /// Machine reset, as QEMU's fw_cfg_reset: selects FW_CFG_SIGNATURE.
    void reset() { select(fw_cfg_key::kSignature); }

    std::uint16_t selected() const { return selected_; }
    std::uint64_t data_offset() const { return offset_; }
    /// The selector, the data offset, the selected item's size and the DMA
    /// address register, for `monitor info device fw_cfg`.
    std::string state_text() const;

private:
    struct Descriptor {
        std::uint32_t control;
        std::uint32_t length;
        std::uint64_t address;
    };
    std::uint32_t run_transfer(Descriptor d);

    GuestRam& ram_;
    FwCfgItems items_;
    std::uint16_t selected_ = fw_cfg_key::kSignature;
    std::uint64_t offset_ = 0;
    std::uint64_t dma_address_ = 0;
};

/// Ports 0x510-0x511 (map with FwCfg::kIoPortSize at FwCfg::kIoPort).
class FwCfgIoPort final : public IoDevice {
public:
    explicit FwCfgIoPort(std::shared_ptr<FwCfg> fw_cfg) : fw_cfg_(std::move(fw_cfg)) {}
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override { return fw_cfg_->state_text(); }

private:
    std::shared_ptr<FwCfg> fw_cfg_;
};

/// Ports 0x514-0x51b (map with FwCfg::kDmaPortSize at FwCfg::kDmaPort).
class FwCfgDmaPort final : public IoDevice {
public:
    explicit FwCfgDmaPort(std::shared_ptr<FwCfg> fw_cfg) : fw_cfg_(std::move(fw_cfg)) {}
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override { return fw_cfg_->state_text(); }

private:
    std::shared_ptr<FwCfg> fw_cfg_;
};

}  // namespace kvmdbg::hw
