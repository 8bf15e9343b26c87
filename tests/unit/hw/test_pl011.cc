// Pl011: register semantics (ARM DDI 0183 chapter 3) byte for byte: reset
// values, masks, ID registers, FIFO and overrun, trigger levels, RX/RT/TX
// interrupts through IMSC/RIS/MIS/ICR, line edges, loopback, access widths.
#include "hw-models/devices/pl011.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::CharBackend;
using kvmdbg::hw::IoOutcome;
using kvmdbg::hw::Pl011;

namespace {

class FakeBackend final : public CharBackend {
public:
    void write(std::span<const std::uint8_t> bytes) override { out.insert(out.end(), bytes.begin(), bytes.end()); }
    std::vector<std::uint8_t> out;
};

struct Rig {
    std::shared_ptr<FakeBackend> backend = std::make_shared<FakeBackend>();
    std::vector<bool> edges;
    Pl011 uart{backend, [this](bool level) { edges.push_back(level); }};

    std::uint32_t rd(std::uint64_t off) { return static_cast<std::uint32_t>(uart.read(off, 4)); }
    void wr(std::uint64_t off, std::uint32_t v) { CU_ASSERT(uart.write(off, v, 4) == IoOutcome::proceed); }
    void push(std::vector<std::uint8_t> bytes) { uart.push_input(bytes); }
};

void test_reset_values() {
    Rig r;
    CU_ASSERT_EQUAL(r.rd(Pl011::kDr), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRsr), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr), 0x97u);  // TXFE | RXFE | DCD | DSR | CTS
    CU_ASSERT_EQUAL(r.rd(Pl011::kIlpr), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIbrd), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kFbrd), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kLcrH), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kCr), 0x300u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIfls), 0x12u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kImsc), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kMis), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIcr), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kDmacr), 0u);
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_TRUE(r.edges.empty());
}

void test_id_registers() {
    Rig r;
    const std::uint32_t want[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    for (unsigned i = 0; i < 8; ++i) {
        CU_ASSERT_EQUAL(r.rd(0xfe0 + 4 * i), want[i]);
    }
    r.wr(0xfe0, 0xff);  // read-only
    CU_ASSERT_EQUAL(r.rd(0xfe0), 0x11u);
    CU_ASSERT_EQUAL(r.rd(0xfdc), 0u);
    CU_ASSERT_EQUAL(r.rd(0x04c), 0u);
}

void test_register_masks() {
    Rig r;
    r.wr(Pl011::kIlpr, 0xffffffff);
    r.wr(Pl011::kIbrd, 0xffffffff);
    r.wr(Pl011::kFbrd, 0xffffffff);
    r.wr(Pl011::kLcrH, 0xffffffff);
    r.wr(Pl011::kCr, 0xffffffff);
    r.wr(Pl011::kIfls, 0xffffffff);
    r.wr(Pl011::kImsc, 0xffffffff);
    r.wr(Pl011::kDmacr, 0xffffffff);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIlpr), 0xffu);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIbrd), 0xffffu);
    CU_ASSERT_EQUAL(r.rd(Pl011::kFbrd), 0x3fu);
    CU_ASSERT_EQUAL(r.rd(Pl011::kLcrH), 0xffu);
    CU_ASSERT_EQUAL(r.rd(Pl011::kCr), 0xff87u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIfls), 0x3fu);
    CU_ASSERT_EQUAL(r.rd(Pl011::kImsc), 0x7ffu);
    CU_ASSERT_EQUAL(r.rd(Pl011::kDmacr), 0x7u);
    // RIS, MIS and FR are read-only.
    r.wr(Pl011::kRis, 0x7ff);
    r.wr(Pl011::kMis, 0x7ff);
    r.wr(Pl011::kFr, 0);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr), 0x97u);
    r.uart.reset();
    CU_ASSERT_EQUAL(r.rd(Pl011::kCr), 0x300u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIfls), 0x12u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kImsc), 0u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIbrd), 0u);
}

void test_access_widths() {
    Rig r;
    r.wr(Pl011::kCr, 0x0301);
    // 16-bit (Linux readw) and byte reads of the same register.
    CU_ASSERT_EQUAL(r.uart.read(Pl011::kCr, 2), 0x0301u);
    CU_ASSERT_EQUAL(r.uart.read(Pl011::kCr, 1), 0x01u);
    CU_ASSERT_EQUAL(r.uart.read(Pl011::kCr + 1, 1), 0x03u);
    CU_ASSERT_EQUAL(r.uart.read(Pl011::kCr, 8), 0x0301u);
    // A 16-bit write zero-extends; an unaligned write is ignored.
    CU_ASSERT(r.uart.write(Pl011::kIbrd, 0x12345678, 2) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIbrd), 0x5678u);
    CU_ASSERT(r.uart.write(Pl011::kIbrd + 1, 0xff, 1) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.rd(Pl011::kIbrd), 0x5678u);
    // Byte write of DR transmits (earlycon); an unaligned DR read pops nothing.
    r.uart.write(Pl011::kDr, 'A', 1);
    CU_ASSERT_EQUAL(r.backend->out.size(), 1u);
    r.push({'x', 'y'});
    CU_ASSERT_EQUAL(r.uart.read(Pl011::kDr + 1, 1), 0u);
    CU_ASSERT_EQUAL(r.uart.read(Pl011::kDr, 1), static_cast<std::uint64_t>('x'));
}

void test_transmit() {
    Rig r;
    for (char c : std::string("hi\n")) {
        r.wr(Pl011::kDr, static_cast<std::uint8_t>(c) | 0xf00);  // bits above 7 ignored
    }
    CU_ASSERT_EQUAL(r.backend->out.size(), 3u);
    CU_ASSERT_EQUAL(r.backend->out[0], 'h');
    CU_ASSERT_EQUAL(r.backend->out[1], 'i');
    CU_ASSERT_EQUAL(r.backend->out[2], '\n');
    // Still ready for more: TXFE set, TXFF/BUSY clear.
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & (Pl011::kFrTxfe | Pl011::kFrTxff | Pl011::kFrBusy), Pl011::kFrTxfe);
    // Disabled UART still transmits (QEMU only logs).
    r.wr(Pl011::kCr, 0);
    r.wr(Pl011::kDr, 'z');
    CU_ASSERT_EQUAL(r.backend->out.size(), 4u);
}

void test_receive_non_fifo_and_overrun() {
    Rig r;  // LCR_H.FEN = 0: one-entry holding register
    r.push({'a'});
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & (Pl011::kFrRxfe | Pl011::kFrRxff), Pl011::kFrRxff);
    CU_ASSERT_EQUAL(r.uart.rx_room(), 0u);
    r.push({'b'});  // overrun: dropped
    CU_ASSERT_EQUAL(r.rd(Pl011::kRsr), 0x8u);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis) & Pl011::kIntOe, Pl011::kIntOe);
    CU_ASSERT_EQUAL(r.rd(Pl011::kDr), 0x800u | 'a');  // DR.OE with the byte
    CU_ASSERT_EQUAL(r.rd(Pl011::kDr), 0u);            // empty reads 0
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & Pl011::kFrRxfe, Pl011::kFrRxfe);
    r.wr(Pl011::kRsr, 0);  // UARTECR clears
    CU_ASSERT_EQUAL(r.rd(Pl011::kRsr), 0u);
    r.wr(Pl011::kIcr, Pl011::kIntOe);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), 0u);
}

void test_peek_has_no_side_effects() {
    Rig r;
    r.wr(Pl011::kLcrH, Pl011::kLcrFen | 0x60);
    r.push({'x', 'y'});
    CU_ASSERT_EQUAL(r.uart.peek(Pl011::kDr, 4).value_or(0), static_cast<std::uint64_t>('x'));
    CU_ASSERT_EQUAL(r.uart.peek(Pl011::kDr, 1).value_or(0), static_cast<std::uint64_t>('x'));  // still there
    CU_ASSERT_EQUAL(r.uart.peek(Pl011::kFr, 2).value_or(0) & Pl011::kFrRxfe, 0u);
    CU_ASSERT_EQUAL(r.uart.peek(Pl011::kLcrH + 1, 1).value_or(1), 0u);   // byte lanes as read()
    CU_ASSERT_EQUAL(r.rd(Pl011::kDr), static_cast<std::uint32_t>('x'));  // the guest pops it
    CU_ASSERT_EQUAL(r.uart.peek(Pl011::kDr, 4).value_or(0), static_cast<std::uint64_t>('y'));
}

void test_fifo_order_and_flush() {
    Rig r;
    r.wr(Pl011::kLcrH, Pl011::kLcrFen | 0x60);
    std::vector<std::uint8_t> in;
    for (int i = 0; i < 17; ++i)
        in.push_back(static_cast<std::uint8_t>('A' + i));
    CU_ASSERT_EQUAL(r.uart.rx_room(), 16u);
    r.push(in);
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & Pl011::kFrRxff, Pl011::kFrRxff);
    for (int i = 0; i < 16; ++i) {
        std::uint32_t want = static_cast<std::uint32_t>('A' + i) | (i == 0 ? 0x800u : 0u);
        CU_ASSERT_EQUAL(r.rd(Pl011::kDr), want);
    }
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & Pl011::kFrRxfe, Pl011::kFrRxfe);
    r.push({'1', '2'});
    r.wr(Pl011::kLcrH, 0x60);  // FEN off flushes
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & Pl011::kFrRxfe, Pl011::kFrRxfe);
}

void test_rx_trigger_and_timeout() {
    Rig r;
    r.wr(Pl011::kLcrH, Pl011::kLcrFen);
    r.wr(Pl011::kImsc, Pl011::kIntRx | Pl011::kIntRt);
    // IFLS reset 0x12: RX at 1/2 full = 8 entries.
    r.push({1, 2, 3});
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntRt);
    CU_ASSERT_EQUAL(r.rd(Pl011::kMis), Pl011::kIntRt);
    CU_ASSERT_TRUE(r.uart.irq_level());
    r.push({4, 5, 6, 7, 8});
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntRx);
    r.rd(Pl011::kDr);  // 7 left: below the level, the timeout takes over
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntRt);
    for (int i = 0; i < 7; ++i)
        r.rd(Pl011::kDr);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), 0u);
    CU_ASSERT_FALSE(r.uart.irq_level());
    // 1/8 full = 2 entries.
    r.wr(Pl011::kIfls, 0x00);
    r.push({9, 10});
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntRx);
    // ICR clears until the next event.
    r.wr(Pl011::kIcr, Pl011::kIntRx);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), 0u);
    CU_ASSERT_FALSE(r.uart.irq_level());
    // 7/8 full = 14 entries: 2 queued is below, so the timeout shows.
    r.wr(Pl011::kIfls, 4u << 3);
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntRt);
}

void test_tx_interrupt_and_edges() {
    Rig r;
    r.wr(Pl011::kImsc, Pl011::kIntTx);
    CU_ASSERT_FALSE(r.uart.irq_level());  // not raised at reset
    r.wr(Pl011::kDr, 'a');
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntTx);
    CU_ASSERT_EQUAL(r.rd(Pl011::kMis), Pl011::kIntTx);
    CU_ASSERT_TRUE(r.uart.irq_level());
    r.wr(Pl011::kIcr, Pl011::kIntTx);
    CU_ASSERT_FALSE(r.uart.irq_level());
    r.wr(Pl011::kDr, 'b');
    CU_ASSERT_TRUE(r.uart.irq_level());
    r.wr(Pl011::kImsc, 0);  // masking lowers the line, RIS keeps the bit
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntTx);
    CU_ASSERT_EQUAL(r.rd(Pl011::kMis), 0u);
    const std::vector<bool> want = {true, false, true, false};
    CU_ASSERT(r.edges == want);
    r.wr(Pl011::kImsc, Pl011::kIntTx);
    r.uart.reset();
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_EQUAL(r.edges.back(), false);
}

void test_loopback() {
    Rig r;
    r.wr(Pl011::kLcrH, Pl011::kLcrFen);
    r.wr(Pl011::kCr, Pl011::kCrUarten | Pl011::kCrTxe | Pl011::kCrRxe | Pl011::kCrLbe);
    CU_ASSERT_EQUAL(r.uart.rx_room(), 0u);
    r.push({'x'});  // UARTRXD disconnected
    CU_ASSERT_EQUAL(r.rd(Pl011::kFr) & Pl011::kFrRxfe, Pl011::kFrRxfe);
    r.wr(Pl011::kDr, 'L');
    CU_ASSERT_TRUE(r.backend->out.empty());
    CU_ASSERT_EQUAL(r.rd(Pl011::kRis), Pl011::kIntTx | Pl011::kIntRt);
    CU_ASSERT_EQUAL(r.rd(Pl011::kDr), static_cast<std::uint32_t>('L'));
}

void test_no_callback() {
    auto backend = std::make_shared<FakeBackend>();
    Pl011 uart(backend, {});
    uart.write(Pl011::kImsc, Pl011::kIntTx, 4);
    uart.write(Pl011::kDr, 'q', 4);
    CU_ASSERT_TRUE(uart.irq_level());
    CU_ASSERT_EQUAL(backend->out.size(), 1u);
}

constexpr kvmdbg::test::TestCase kRegisters[] = {
    {"reset values", test_reset_values},
    {"PeriphID/PCellID", test_id_registers},
    {"register masks and reset", test_register_masks},
    {"access widths", test_access_widths},
};
constexpr kvmdbg::test::TestCase kData[] = {
    {"transmit", test_transmit},
    {"non-FIFO receive and overrun", test_receive_non_fifo_and_overrun},
    {"FIFO order and flush", test_fifo_order_and_flush},
    {"peek: no FIFO pop", test_peek_has_no_side_effects},
    {"loopback", test_loopback},
};
constexpr kvmdbg::test::TestCase kInterrupts[] = {
    {"RX trigger levels and timeout", test_rx_trigger_and_timeout},
    {"TX interrupt and line edges", test_tx_interrupt_and_edges},
    {"no callback", test_no_callback},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {
    {"pl011 registers", kRegisters},
    {"pl011 data", kData},
    {"pl011 interrupts", kInterrupts},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
