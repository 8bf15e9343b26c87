// libFuzzer target: the fw_cfg device (hw-models/devices/fw_cfg) driven the
// way a guest drives it, with guest-controlled DMA descriptors, addresses
// and lengths (QEMU docs/specs/fw_cfg.rst), against a small GuestRam of
// 64 KiB at 0 and 64 KiB at 1 MiB (a hole between), reused and zeroed per
// input. A fresh device per input holds the pc-lite items, a few files and
// kernel items.
//
// The input is a list of commands, each an opcode byte (taken modulo 6)
// and its operands; a command cut short by the end of the input is dropped:
//   0 port 0x510+o write    o, size code (size 1 << (c % 4)), le64 value
//   1 port 0x510+o read     o, size code
//   2 port 0x514+o write    o, size code, le64 value
//   3 port 0x514+o read     o, size code
//   4 DMA from RAM          le32 gpa, be32 control, be32 length, be64
//                           address: the descriptor is stored at gpa when
//                           it fits in RAM, then started through
//                           0x514/0x518 whatever gpa is
//   5 DMA, 64-bit start     le64 gpa (no descriptor stored)
// Checks: the data offset never passes the selected item's end; a
// descriptor wholly in RAM gets control 0 or ERROR back; ASan/UBSan catch
// any host access outside RAM.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "hw-models/devices/fw_cfg.h"
#include "hw-models/guest_ram.h"
#include "tests/fuzz/fuzz_guest_ram.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

constexpr fuzz::RamLayout kLayout = {{0, 0x10000}, {0x100000, 0x10000}};

class Input {
public:
    explicit Input(std::span<const std::uint8_t> data) : data_(data) {}
    bool has(std::size_t n) const { return data_.size() - pos_ >= n; }
    std::uint64_t le(std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v |= std::uint64_t{data_[pos_ + i]} << (8 * i);
        }
        pos_ += n;
        return v;
    }
    std::span<const std::uint8_t> bytes(std::size_t n) {
        auto s = data_.subspan(pos_, n);
        pos_ += n;
        return s;
    }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

std::shared_ptr<FwCfg> make_device(GuestRam& ram) {
    auto dev = std::make_shared<FwCfg>(ram);
    FwCfgMachineInfo info;
    info.cpus = 2;
    info.max_cpus = 2;
    info.ram_size = ram.total_size();
    for (const auto& r : ram.regions()) {
        info.e820.push_back(E820Entry{r.gpa, r.memory.size(), E820Type::ram});
    }
    if (!dev->set_machine(info) || !dev->items().add_file("opt/fuzz", std::vector<std::uint8_t>(300, 0x5a))) {
        std::abort();
    }
    FwCfgKernelItems k;
    k.kernel = {1, 2, 3, 4, 5};
    k.cmdline = "console=ttyS0";
    if (!dev->set_kernel(k)) {
        std::abort();
    }
    return dev;
}

void check_offset(const FwCfg& dev, FwCfgItems& items) {
    if (dev.data_offset() > items.item(dev.selected()).size()) {
        std::abort();
    }
}

void run_descriptor(Input& in, GuestRam& ram, FwCfgDmaPort& dma) {
    auto gpa = static_cast<std::uint32_t>(in.le(4));
    auto descriptor = in.bytes(16);
    const bool stored = ram.write(gpa, descriptor).ok();
    dma.write(0, 0, 4);
    dma.write(4, __builtin_bswap32(gpa), 4);
    if (stored) {
        std::uint8_t control[4];
        if (!ram.read(gpa, control).ok() || control[0] != 0 || control[1] != 0 || control[2] != 0 ||
            (control[3] & ~FwCfg::kDmaError) != 0) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    GuestRam& ram = fuzz::fuzz_guest_ram(kLayout);
    ram.clear();
    auto dev = make_device(ram);
    FwCfgIoPort io(dev);
    FwCfgDmaPort dma(dev);
    Input in({data, size});
    while (in.has(1)) {
        unsigned op = static_cast<unsigned>(in.le(1)) % 6;
        if (op <= 3 && in.has(op % 2 == 0 ? 10 : 2)) {
            std::uint64_t offset = in.le(1) % (op < 2 ? FwCfg::kIoPortSize : FwCfg::kDmaPortSize);
            unsigned width = 1u << (in.le(1) % 4);
            IoDevice& port = op < 2 ? static_cast<IoDevice&>(io) : static_cast<IoDevice&>(dma);
            if (op % 2 == 0) {
                port.write(offset, in.le(8), width);
            } else {
                (void)port.read(offset, width);
            }
        } else if (op == 4 && in.has(20)) {
            run_descriptor(in, ram, dma);
        } else if (op == 5 && in.has(8)) {
            dma.write(0, __builtin_bswap64(in.le(8)), 8);
        } else {
            break;
        }
        check_offset(*dev, dev->items());
    }
    return 0;
}
