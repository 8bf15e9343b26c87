// PcTestdev as QEMU's pc-testdev: the data register at 0xe0 and its
// byte-wise twin at 0xe8, the IRQ line ports, the flush port, the MMIO
// buffer; and pc-lite mapping it with -device pc-testdev.
#include "hw-models/devices/pc_testdev.h"

#include <string>
#include <utility>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::hw;

void test_data_register_sizes_and_offsets() {
    PcTestdev dev(nullptr);
    auto io = dev.ioport();
    io->write(0, 0x12345678, 4);
    CU_ASSERT_EQUAL(io->read(0, 4), 0x12345678u);
    CU_ASSERT_EQUAL(io->read(0, 2), 0x5678u);
    CU_ASSERT_EQUAL(io->read(2, 2), 0x1234u);
    CU_ASSERT_EQUAL(io->read(3, 1), 0x12u);
    io->write(1, 0xab, 1);
    CU_ASSERT_EQUAL(io->read(0, 4), 0x1234ab78u);
    io->write(2, 0xcdef, 2);
    CU_ASSERT_EQUAL(io->read(0, 4), 0xcdefab78u);
    // The byte-wise twin at 0xe8 is the same register.
    CU_ASSERT_EQUAL(dev.ioport_byte()->read(0, 4), 0xcdefab78u);
    dev.ioport_byte()->write(0, 0x01020304, 4);
    CU_ASSERT_EQUAL(io->read(0, 4), 0x01020304u);
    CU_ASSERT_EQUAL(io->read(3, 2), 0x01u);  // past the register: 0
}

void test_irq_lines() {
    std::vector<std::pair<std::uint32_t, bool>> calls;
    PcTestdev dev([&](std::uint32_t irq, bool level) { calls.emplace_back(irq, level); });
    dev.irq()->write(4, 1, 1);
    dev.irq()->write(4, 0, 1);
    dev.irq()->write(23, 0x80, 1);
    dev.irq()->write(5, 1, 2);  // not a byte access: ignored, as in QEMU
    CU_ASSERT_EQUAL(calls.size(), 3u);
    CU_ASSERT(calls[0] == std::make_pair(4u, true));
    CU_ASSERT(calls[1] == std::make_pair(4u, false));
    CU_ASSERT(calls[2] == std::make_pair(23u, true));
    CU_ASSERT_EQUAL(dev.irq()->read(4, 1), 0u);
}

void test_flush_and_iomem() {
    PcTestdev dev(nullptr);
    CU_ASSERT(dev.flush()->write(0, 0x100000, 4) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(dev.flush()->read(0, 4), 0u);
    auto mem = dev.iomem();
    mem->write(0x10, 0x1122334455667788ull, 8);
    CU_ASSERT_EQUAL(mem->read(0x10, 8), 0x1122334455667788ull);
    CU_ASSERT_EQUAL(mem->read(0x12, 2), 0x5566u);
    mem->write(PcTestdev::kIomemSize - 2, 0xaabbccdd, 4);  // cut at the end
    CU_ASSERT_EQUAL(mem->read(PcTestdev::kIomemSize - 2, 4), 0xccddu);
    CU_ASSERT_EQUAL(mem->read(PcTestdev::kIomemSize, 4), 0u);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"data register: sizes and offsets, 0xe8 twin", test_data_register_sizes_and_offsets},
    {"IRQ line ports", test_irq_lines},
    {"flush port and MMIO buffer", test_flush_and_iomem},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"pc-testdev", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
