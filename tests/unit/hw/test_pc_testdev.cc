// PcTestdev as QEMU's pc-testdev: the data register at 0xe0 and its
// byte-wise twin at 0xe8, the IRQ line ports (a wider access a byte per
// line), the flush port, the MMIO buffer; and pc-lite mapping it with
// -device pc-testdev.
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

using IrqCalls = std::vector<std::pair<std::uint32_t, bool>>;

void test_irq_lines() {
    IrqCalls calls;
    PcTestdev dev([&](std::uint32_t irq, bool level) { calls.emplace_back(irq, level); });
    dev.irq()->write(4, 1, 1);
    dev.irq()->write(4, 0, 1);
    dev.irq()->write(23, 0x80, 1);
    CU_ASSERT(calls == (IrqCalls{{4, true}, {4, false}, {23, true}}));
}

// QEMU's memory core takes a wider access to these single-byte ports as one
// byte access per port, lowest address first.
void test_irq_wide_write_sets_one_line_per_byte() {
    IrqCalls calls;
    PcTestdev dev([&](std::uint32_t irq, bool level) { calls.emplace_back(irq, level); });
    dev.irq()->write(0xb, 1, 4);  // kvm-unit-tests' realmode: outl $1 at 0x200b
    CU_ASSERT(calls == (IrqCalls{{11, true}, {12, false}, {13, false}, {14, false}}));
    calls.clear();
    dev.irq()->write(0, 0x00ff0001, 4);
    CU_ASSERT(calls == (IrqCalls{{0, true}, {1, false}, {2, true}, {3, false}}));
    calls.clear();
    dev.irq()->write(5, 0x8000, 2);
    CU_ASSERT(calls == (IrqCalls{{5, false}, {6, true}}));
}

void test_irq_write_past_line_23_is_dropped() {
    IrqCalls calls;
    PcTestdev dev([&](std::uint32_t irq, bool level) { calls.emplace_back(irq, level); });
    dev.irq()->write(22, 0x01010101, 4);
    CU_ASSERT(calls == (IrqCalls{{22, true}, {23, true}}));
    calls.clear();
    dev.irq()->write(23, 0x0100, 2);
    CU_ASSERT(calls == (IrqCalls{{23, false}}));
}

// Each line reads 0 (QEMU's read handler); bytes past line 23 read as an
// unassigned port, 0xff.
void test_irq_reads_zero_per_line() {
    PcTestdev dev(nullptr);
    CU_ASSERT_EQUAL(dev.irq()->read(4, 1), 0u);
    CU_ASSERT_EQUAL(dev.irq()->read(0, 4), 0u);
    CU_ASSERT_EQUAL(dev.irq()->read(20, 4), 0u);
    CU_ASSERT_EQUAL(dev.irq()->read(22, 4), 0xffff0000u);
    CU_ASSERT_EQUAL(dev.irq()->read(23, 2), 0xff00u);
    CU_ASSERT(dev.irq()->write(0, 1, 4) == IoOutcome::proceed);  // no callback: nothing raised
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
    {"IRQ ports: a wide write sets one line per byte", test_irq_wide_write_sets_one_line_per_byte},
    {"IRQ ports: a write past line 23 is dropped", test_irq_write_past_line_23_is_dropped},
    {"IRQ ports: reads are 0 per line", test_irq_reads_zero_per_line},
    {"flush port and MMIO buffer", test_flush_and_iomem},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"pc-testdev", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
