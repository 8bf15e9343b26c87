// FwCfg against QEMU's docs/specs/fw_cfg.rst and hw/nvram/fw_cfg.c, byte for
// byte: the items, the file directory, the selector/data ports, the DMA
// interface and its error cases, and odd-sized or unaligned accesses.
#include "hw-models/devices/fw_cfg.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kRamSize = 1ull << 20;

struct Rig {
    Rig() {
        CU_ASSERT_FATAL(ram.add_region(0, kRamSize).ok());
        dev = std::make_shared<FwCfg>(ram);
        io = std::make_unique<FwCfgIoPort>(dev);
        dma = std::make_unique<FwCfgDmaPort>(dev);
    }
    void select(std::uint16_t key) { io->write(0, key, 2); }
    Bytes read(std::size_t n) {
        Bytes out;
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(static_cast<std::uint8_t>(io->read(1, 1)));
        }
        return out;
    }
    Bytes item(std::uint16_t key, std::size_t n) {
        select(key);
        return read(n);
    }
    Bytes ram_bytes(std::uint64_t gpa, std::size_t n) {
        Bytes out(n);
        CU_ASSERT_FATAL(ram.read(gpa, out).ok());
        return out;
    }
    // Writes FWCfgDmaAccess at `at` and starts it the way SeaBIOS does:
    // outl(0x514, be32(high)); outl(0x518, be32(low)).
    std::uint32_t dma_run(std::uint64_t at, std::uint32_t control, std::uint32_t length, std::uint64_t address) {
        Bytes d(16);
        for (int i = 0; i < 4; ++i) {
            d[i] = static_cast<std::uint8_t>(control >> (24 - 8 * i));
            d[4 + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
        }
        for (int i = 0; i < 8; ++i) {
            d[8 + i] = static_cast<std::uint8_t>(address >> (56 - 8 * i));
        }
        CU_ASSERT_FATAL(ram.write(at, d).ok());
        start_dma(at);
        return control_at(at);
    }
    void start_dma(std::uint64_t at) {
        dma->write(0, __builtin_bswap32(static_cast<std::uint32_t>(at >> 32)), 4);
        dma->write(4, __builtin_bswap32(static_cast<std::uint32_t>(at)), 4);
    }
    std::uint32_t control_at(std::uint64_t at) {
        Bytes c = ram_bytes(at, 4);
        return (std::uint32_t{c[0]} << 24) | (std::uint32_t{c[1]} << 16) | (std::uint32_t{c[2]} << 8) | c[3];
    }
    GuestRam ram;
    std::shared_ptr<FwCfg> dev;
    std::unique_ptr<FwCfgIoPort> io;
    std::unique_ptr<FwCfgDmaPort> dma;
};

Bytes str(const char* s) { return Bytes(s, s + std::strlen(s)); }

FwCfgMachineInfo two_region_machine() {
    FwCfgMachineInfo info;
    info.cpus = 4;
    info.max_cpus = 4;
    info.ram_size = 0x1'2345'6000ull;
    info.e820 = {{0, 0xc000'0000, E820Type::ram}, {0x1'0000'0000, 0x6345'6000, E820Type::ram}};
    return info;
}

std::uint32_t sel_ctl(std::uint16_t key, std::uint32_t bits) { return (std::uint32_t{key} << 16) | bits; }

// ------------------------------------------------------------------ items

void test_signature_and_id() {
    Rig r;
    // Selected at start (QEMU's fw_cfg_reset): no selector write needed.
    CU_ASSERT(r.read(4) == str("QEMU"));
    CU_ASSERT(r.item(fw_cfg_key::kSignature, 4) == str("QEMU"));
    CU_ASSERT(r.item(fw_cfg_key::kId, 4) == (Bytes{0x03, 0, 0, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kUuid, 17) == Bytes(17, 0));
}

void test_cpus_and_ram_size() {
    Rig r;
    CU_ASSERT_FATAL(r.dev->set_machine(two_region_machine()).ok());
    CU_ASSERT(r.item(fw_cfg_key::kNbCpus, 3) == (Bytes{0x04, 0x00, 0x00}));
    CU_ASSERT(r.item(fw_cfg_key::kMaxCpus, 2) == (Bytes{0x04, 0x00}));
    CU_ASSERT(r.item(fw_cfg_key::kRamSize, 8) == (Bytes{0x00, 0x60, 0x45, 0x23, 0x01, 0, 0, 0}));
    // A second machine description is refused (the files exist).
    CU_ASSERT_EQUAL(r.dev->set_machine(two_region_machine()).error().code, EEXIST);
}

void test_e820_and_boot_fail_wait() {
    Rig r;
    CU_ASSERT_FATAL(r.dev->set_machine(two_region_machine()).ok());
    std::uint16_t e820 = r.dev->items().file_selector("etc/e820");
    CU_ASSERT_EQUAL_FATAL(e820, 0x21);  // after "etc/boot-fail-wait"
    const Bytes want = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0xc0, 0, 0, 0, 0, 1, 0, 0, 0,
        0, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x45, 0x63, 0, 0, 0, 0, 1, 0, 0, 0,
    };
    CU_ASSERT(r.item(e820, 41) == [&] {
        Bytes w = want;
        w.push_back(0);
        return w;
    }());
    CU_ASSERT(r.item(r.dev->items().file_selector("etc/boot-fail-wait"), 4) == (Bytes{0xff, 0xff, 0xff, 0xff}));
}

Bytes dir_entry(std::uint32_t size, std::uint16_t select, const std::string& name) {
    Bytes e(64, 0);
    e[0] = static_cast<std::uint8_t>(size >> 24);
    e[1] = static_cast<std::uint8_t>(size >> 16);
    e[2] = static_cast<std::uint8_t>(size >> 8);
    e[3] = static_cast<std::uint8_t>(size);
    e[4] = static_cast<std::uint8_t>(select >> 8);
    e[5] = static_cast<std::uint8_t>(select);
    std::memcpy(e.data() + 8, name.data(), name.size());
    return e;
}

void test_file_dir_layout_and_sorting() {
    Rig r;
    CU_ASSERT(r.item(fw_cfg_key::kFileDir, 5) == (Bytes{0, 0, 0, 0, 0}));
    CU_ASSERT_FATAL(r.dev->items().add_file("zeta", Bytes(300, 0x5a)).ok());
    CU_ASSERT_FATAL(r.dev->set_machine(two_region_machine()).ok());
    CU_ASSERT_FATAL(r.dev->items().add_file("alpha", str("A")).ok());
    Bytes want = {0, 0, 0, 4};
    for (const Bytes& e : {dir_entry(1, 0x20, "alpha"), dir_entry(4, 0x21, "etc/boot-fail-wait"),
                           dir_entry(40, 0x22, "etc/e820"), dir_entry(300, 0x23, "zeta")}) {
        want.insert(want.end(), e.begin(), e.end());
    }
    CU_ASSERT(r.item(fw_cfg_key::kFileDir, want.size() + 1) == [&] {
        Bytes w = want;
        w.push_back(0);
        return w;
    }());
    // Renumbered on insertion: the selectors serve the sorted files.
    CU_ASSERT(r.item(0x20, 2) == (Bytes{'A', 0}));
    CU_ASSERT(r.item(0x23, 1) == Bytes{0x5a});
    CU_ASSERT(r.item(0x24, 1) == Bytes{0});
}

void test_file_errors() {
    Rig r;
    auto& items = r.dev->items();
    CU_ASSERT_EQUAL(items.add_file("", {}).error().code, EINVAL);
    CU_ASSERT_EQUAL(items.add_file(std::string(56, 'n'), {}).error().code, EINVAL);
    CU_ASSERT_TRUE(items.add_file(std::string(55, 'n'), {}).ok());
    CU_ASSERT_EQUAL(items.add_file(std::string(55, 'n'), {}).error().code, EEXIST);
    for (int i = 1; i < FwCfgItems::kFileSlots; ++i) {
        CU_ASSERT_TRUE(items.add_file("f" + std::to_string(i), {}).ok());
    }
    CU_ASSERT_EQUAL(items.add_file("one-too-many", {}).error().code, ENOSPC);
    CU_ASSERT_EQUAL(items.set(fw_cfg_key::kFileDir, {}).error().code, EINVAL);
    CU_ASSERT_EQUAL(items.set(0x0020, {}).error().code, EINVAL);
    CU_ASSERT_EQUAL(items.set(0x4001, {}).error().code, EINVAL);
    CU_ASSERT_TRUE(items.set(0x8003, {1}).ok());  // arch-local table
    CU_ASSERT(r.item(0x8003, 2) == (Bytes{1, 0}));
}

void test_kernel_items() {
    Rig r;
    FwCfgKernelItems k;
    k.setup = Bytes(0x600, 0x11);
    k.kernel = {1, 2, 3};
    k.initrd = {9};
    k.cmdline = "console=ttyS0";
    k.setup_addr = 0x90000;
    k.kernel_addr = 0x100000;
    k.initrd_addr = 0x7000000;
    k.cmdline_addr = 0x20000;
    CU_ASSERT_FATAL(r.dev->set_kernel(k).ok());
    CU_ASSERT(r.item(fw_cfg_key::kSetupSize, 4) == (Bytes{0x00, 0x06, 0, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kSetupAddr, 4) == (Bytes{0x00, 0x00, 0x09, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kSetupData, 0x600) == Bytes(0x600, 0x11));
    CU_ASSERT(r.item(fw_cfg_key::kKernelSize, 4) == (Bytes{3, 0, 0, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kKernelAddr, 4) == (Bytes{0, 0, 0x10, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kKernelData, 4) == (Bytes{1, 2, 3, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kInitrdSize, 4) == (Bytes{1, 0, 0, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kInitrdAddr, 4) == (Bytes{0, 0, 0, 7}));
    CU_ASSERT(r.item(fw_cfg_key::kInitrdData, 2) == (Bytes{9, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kCmdlineSize, 4) == (Bytes{14, 0, 0, 0}));
    CU_ASSERT(r.item(fw_cfg_key::kCmdlineAddr, 4) == (Bytes{0, 0, 2, 0}));
    Bytes cmd = str("console=ttyS0");
    cmd.push_back(0);
    cmd.push_back(0);  // past the end
    CU_ASSERT(r.item(fw_cfg_key::kCmdlineData, 15) == cmd);
}

// -------------------------------------------------------------- the ports

void test_streaming_and_selector_reset() {
    Rig r;
    r.select(fw_cfg_key::kSignature);
    CU_ASSERT(r.read(2) == str("QE"));
    CU_ASSERT_EQUAL(r.dev->data_offset(), 2u);
    CU_ASSERT(r.read(4) == (Bytes{'M', 'U', 0, 0}));  // across the end: 0s
    CU_ASSERT_EQUAL(r.dev->data_offset(), 4u);        // the offset stops at the end
    r.select(fw_cfg_key::kSignature);                 // reselect: offset 0
    CU_ASSERT(r.read(1) == str("Q"));
    r.select(fw_cfg_key::kId);  // a new selector mid-item: offset 0
    CU_ASSERT(r.read(1) == Bytes{0x03});
    r.select(fw_cfg_key::kSignature);
    r.read(3);
    r.dev->reset();
    CU_ASSERT_EQUAL(r.dev->selected(), fw_cfg_key::kSignature);
    CU_ASSERT(r.read(4) == str("QEMU"));
}

void test_nonsense_selectors() {
    Rig r;
    for (std::uint16_t key : {0x0006, 0x001f, 0x0020, 0x003f, 0x0040, 0x3fff, 0x8000, 0x8003, 0xbfff, 0xffff}) {
        CU_ASSERT(r.item(key, 4) == Bytes(4, 0));
    }
    // Bit 14 (the old write channel) is masked: 0x4000 is the signature.
    CU_ASSERT(r.item(0x4000, 4) == str("QEMU"));
    CU_ASSERT_TRUE(FwCfgItems::valid_key(0x003f));
    CU_ASSERT_FALSE(FwCfgItems::valid_key(0x0040));
}

void test_io_port_access_sizes() {
    Rig r;
    // A byte read at 0x510 is a data read too (QEMU's combined region).
    r.select(fw_cfg_key::kSignature);
    CU_ASSERT_EQUAL(r.io->read(0, 1), 'Q');
    // 16-bit reads are refused: 0, and the offset does not move.
    CU_ASSERT_EQUAL(r.io->read(0, 2), 0u);
    CU_ASSERT_EQUAL(r.dev->data_offset(), 1u);
    // 16-bit read at 0x511: the data byte, then unassigned 0x512 (0xff).
    CU_ASSERT_EQUAL(r.io->read(1, 2), 0xff00u | 'E');
    // 32-bit read at 0x510: a refused 16-bit read, then two unassigned ports.
    CU_ASSERT_EQUAL(r.io->read(0, 4), 0xffff0000u);
    CU_ASSERT_EQUAL(r.dev->data_offset(), 2u);
    // Byte writes (data writes) are ignored.
    CU_ASSERT(r.io->write(1, 0xaa, 1) == IoOutcome::proceed);
    r.io->write(0, 0xaa, 1);
    CU_ASSERT_EQUAL(r.dev->data_offset(), 2u);
    CU_ASSERT_EQUAL(r.dev->selected(), fw_cfg_key::kSignature);
    // A 16-bit write at 0x511 is a byte data write: no select.
    r.io->write(1, fw_cfg_key::kId, 2);
    CU_ASSERT_EQUAL(r.dev->selected(), fw_cfg_key::kSignature);
    // A 32-bit write at 0x510 selects with its low 16 bits.
    r.io->write(0, 0xffff0001, 4);
    CU_ASSERT_EQUAL(r.dev->selected(), fw_cfg_key::kId);
    CU_ASSERT(r.read(1) == Bytes{0x03});
}

void test_dma_signature() {
    Rig r;
    CU_ASSERT_EQUAL(r.dma->read(0, 4), 0x554d4551u);  // bytes "QEMU"
    CU_ASSERT_EQUAL(r.dma->read(4, 4), 0x47464320u);  // bytes " CFG"
    CU_ASSERT_EQUAL(r.dma->read(0, 8), 0x4746432055'4d4551ull);
    CU_ASSERT_EQUAL(__builtin_bswap64(r.dma->read(0, 8)), FwCfg::kDmaSignature);
    CU_ASSERT_EQUAL(r.dma->read(3, 1), 'U');
    CU_ASSERT_EQUAL(r.dma->read(7, 1), 'G');
    CU_ASSERT_EQUAL(r.dma->read(6, 4), 0xffff4746u);  // "FG", then past the window
}

// ------------------------------------------------------------------- DMA

void test_dma_read() {
    Rig r;
    CU_ASSERT_FATAL(r.dev->set_machine(two_region_machine()).ok());
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(fw_cfg_key::kSignature, FwCfg::kDmaSelect | FwCfg::kDmaRead), 2, 0x2000),
                    0u);
    CU_ASSERT(r.ram_bytes(0x2000, 2) == str("QE"));
    // No SELECT: continues at the offset, zeros past the end.
    CU_ASSERT_FATAL(r.ram.write(0x3000, Bytes(8, 0xee)).ok());
    CU_ASSERT_EQUAL(r.dma_run(0x1000, FwCfg::kDmaRead, 6, 0x3000), 0u);
    CU_ASSERT(r.ram_bytes(0x3000, 8) == (Bytes{'M', 'U', 0, 0, 0, 0, 0xee, 0xee}));
    CU_ASSERT_EQUAL(r.dev->data_offset(), 4u);
    // The file directory by DMA, as SeaBIOS reads it.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(fw_cfg_key::kFileDir, FwCfg::kDmaSelect | FwCfg::kDmaRead), 4, 0x4000),
                    0u);
    CU_ASSERT(r.ram_bytes(0x4000, 4) == (Bytes{0, 0, 0, 2}));
    // READ wins over WRITE and SKIP set with it.
    std::uint32_t all = FwCfg::kDmaSelect | FwCfg::kDmaRead | FwCfg::kDmaWrite | FwCfg::kDmaSkip;
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(fw_cfg_key::kId, all), 1, 0x5000), 0u);
    CU_ASSERT(r.ram_bytes(0x5000, 1) == Bytes{0x03});
}

void test_dma_skip_and_select() {
    Rig r;
    CU_ASSERT_FATAL(r.dev->set_machine(two_region_machine()).ok());
    CU_ASSERT_FATAL(r.ram.write(0x2000, Bytes(4, 0xee)).ok());
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(0x21, FwCfg::kDmaSelect | FwCfg::kDmaSkip), 8, 0x2000), 0u);
    CU_ASSERT(r.ram_bytes(0x2000, 4) == Bytes(4, 0xee));  // a skip writes nothing
    CU_ASSERT_EQUAL(r.dev->data_offset(), 8u);
    CU_ASSERT(r.read(4) == (Bytes{0, 0, 0, 0xc0}));  // e820 bytes 8..11
    // Skipping past the end is no error; the offset stays at the end.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, FwCfg::kDmaSkip, 100, 0), 0u);
    CU_ASSERT_EQUAL(r.dev->data_offset(), 40u);
    // SELECT alone: the item is selected, nothing moves, length ignored.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(fw_cfg_key::kId, FwCfg::kDmaSelect), 4, 0x2000), 0u);
    CU_ASSERT_EQUAL(r.dev->selected(), fw_cfg_key::kId);
    CU_ASSERT_EQUAL(r.dev->data_offset(), 0u);
    CU_ASSERT(r.ram_bytes(0x2000, 4) == Bytes(4, 0xee));
    // A 64-bit write of the address register starts a transfer too.
    Bytes d = {0, 0, 0, FwCfg::kDmaRead, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, 0x00};
    CU_ASSERT_FATAL(r.ram.write(0x1800, d).ok());
    r.dma->write(0, __builtin_bswap64(0x1800), 8);
    CU_ASSERT_EQUAL(r.control_at(0x1800), 0u);
    CU_ASSERT(r.ram_bytes(0x2000, 1) == Bytes{0x03});
}

void test_dma_buffer_outside_ram() {
    Rig r;
    // Runs off the end of RAM: ERROR, and nothing of it is written.
    CU_ASSERT_FATAL(r.ram.write(kRamSize - 2, Bytes{0xee, 0xee}).ok());
    std::uint32_t ctl = sel_ctl(fw_cfg_key::kSignature, FwCfg::kDmaSelect | FwCfg::kDmaRead);
    CU_ASSERT_EQUAL(r.dma_run(0x1000, ctl, 4, kRamSize - 2), FwCfg::kDmaError);
    CU_ASSERT(r.ram_bytes(kRamSize - 2, 2) == (Bytes{0xee, 0xee}));
    // Wholly outside, and wrapping past 2^64.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, ctl, 4, 0x4000'0000), FwCfg::kDmaError);
    CU_ASSERT_EQUAL(r.dma_run(0x1000, ctl, 0x20, ~0ull - 0xf), FwCfg::kDmaError);
    // Zero-filling past an item's end is checked too.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(0x3f, FwCfg::kDmaSelect | FwCfg::kDmaRead), 0xffffffff, 0x8000),
                    FwCfg::kDmaError);
    // The part that fits is written, as QEMU: the item, then ERROR.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, ctl, 0xffffffff, kRamSize - 4), FwCfg::kDmaError);
    CU_ASSERT(r.ram_bytes(kRamSize - 4, 4) == str("QEMU"));
}

void test_dma_descriptor_outside_ram() {
    Rig r;
    // Straddling the end: the descriptor cannot be read; ERROR is stored
    // where control lies (in RAM), as QEMU's stl_be_dma does.
    r.start_dma(kRamSize - 8);
    CU_ASSERT_EQUAL(r.control_at(kRamSize - 8), FwCfg::kDmaError);
    // Wholly outside RAM (and with a high half): no effect, no crash.
    r.start_dma(0x1'0000'0000ull);
    r.start_dma(~0ull - 3);
    CU_ASSERT_EQUAL(r.dev->selected(), fw_cfg_key::kSignature);
    // The address register is cleared by a transfer: a low-half write alone
    // then reaches a descriptor below 4 GiB.
    r.dma->write(0, __builtin_bswap32(1), 4);
    r.dma->write(4, __builtin_bswap32(0x1000), 4);
    Bytes d = {0, 0, 0, FwCfg::kDmaRead, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x20, 0x00};
    CU_ASSERT_FATAL(r.ram.write(0x1000, d).ok());
    r.dma->write(4, __builtin_bswap32(0x1000), 4);
    CU_ASSERT_EQUAL(r.control_at(0x1000), 0u);
    CU_ASSERT(r.ram_bytes(0x2000, 4) == str("QEMU"));
}

void test_dma_write_refused() {
    Rig r;
    CU_ASSERT_FATAL(r.ram.write(0x2000, str("EVIL")).ok());
    std::uint32_t ctl = sel_ctl(fw_cfg_key::kSignature, FwCfg::kDmaSelect | FwCfg::kDmaWrite);
    CU_ASSERT_EQUAL(r.dma_run(0x1000, ctl, 4, 0x2000), FwCfg::kDmaError);
    CU_ASSERT(r.item(fw_cfg_key::kSignature, 4) == str("QEMU"));
    // Past the end of an item (or with no item) a write fails too.
    CU_ASSERT_EQUAL(r.dma_run(0x1000, sel_ctl(0x0040, FwCfg::kDmaSelect | FwCfg::kDmaWrite), 4, 0x2000),
                    FwCfg::kDmaError);
    // Invalid writes of the address register start nothing.
    CU_ASSERT_FATAL(r.ram.write(0x1000, Bytes(4, 0x77)).ok());
    r.dma->write(0, 0, 2);
    r.dma->write(2, __builtin_bswap32(0x1000), 4);
    r.dma->write(6, 0x1000, 2);
    r.dma->write(5, 0x10, 1);
    CU_ASSERT_EQUAL(r.control_at(0x1000), 0x77777777u);
}

constexpr test::TestCase kItemCases[] = {
    {"signature and ID", test_signature_and_id},
    {"CPU count and RAM size", test_cpus_and_ram_size},
    {"etc/e820 and etc/boot-fail-wait", test_e820_and_boot_fail_wait},
    {"file directory layout and sorting", test_file_dir_layout_and_sorting},
    {"file and item errors", test_file_errors},
    {"kernel items", test_kernel_items},
};
constexpr test::TestCase kPortCases[] = {
    {"streaming and selector reset", test_streaming_and_selector_reset},
    {"nonsense selectors", test_nonsense_selectors},
    {"odd-sized and unaligned port accesses", test_io_port_access_sizes},
    {"DMA signature", test_dma_signature},
};
constexpr test::TestCase kDmaCases[] = {
    {"DMA read", test_dma_read},
    {"DMA skip and select", test_dma_skip_and_select},
    {"DMA buffer outside RAM", test_dma_buffer_outside_ram},
    {"DMA descriptor outside RAM", test_dma_descriptor_outside_ram},
    {"DMA write refused", test_dma_write_refused},
};
constexpr test::TestSuite kSuites[] = {
    {"fw_cfg items", kItemCases},
    {"fw_cfg ports", kPortCases},
    {"fw_cfg DMA", kDmaCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
