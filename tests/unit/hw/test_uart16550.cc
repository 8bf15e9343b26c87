// Uart16550: register semantics byte for byte (PC16550D datasheet), DLAB,
// FIFO and overrun, IIR priorities, interrupt-line edges, loopback, output.
#include "hw-models/devices/uart16550.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::CharBackend;
using kvmdbg::hw::IoOutcome;
using kvmdbg::hw::Uart16550;

namespace {

constexpr unsigned RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6,
                   SCR = 7;

class FakeBackend final : public CharBackend {
public:
    void write(std::span<const std::uint8_t> bytes) override { out.insert(out.end(), bytes.begin(), bytes.end()); }
    std::vector<std::uint8_t> out;
};

struct Rig {
    std::shared_ptr<FakeBackend> backend = std::make_shared<FakeBackend>();
    std::vector<bool> edges;  // every level the callback reported, in order
    Uart16550 uart{backend, [this](bool level) { edges.push_back(level); }};

    std::uint8_t in(unsigned reg) { return static_cast<std::uint8_t>(uart.read(reg, 1)); }
    void out(unsigned reg, std::uint8_t v) { CU_ASSERT(uart.write(reg, v, 1) == IoOutcome::proceed); }
    void push(std::vector<std::uint8_t> bytes) { uart.push_input(bytes); }
};

void test_reset_values() {
    Rig r;
    CU_ASSERT_EQUAL(r.in(IER), 0x00);
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
    CU_ASSERT_EQUAL(r.in(LCR), 0x00);
    CU_ASSERT_EQUAL(r.in(MCR), 0x00);
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);  // THRE | TEMT
    CU_ASSERT_EQUAL(r.in(MSR), 0xb0);  // DCD | DSR | CTS, no deltas
    CU_ASSERT_EQUAL(r.in(SCR), 0x00);
    CU_ASSERT_EQUAL(r.in(RBR), 0x00);
    r.out(LCR, 0x80);
    CU_ASSERT_EQUAL(r.in(DLL), 12);
    CU_ASSERT_EQUAL(r.in(DLM), 0);
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_TRUE(r.edges.empty());
}

void test_scratch_lcr_mcr_ier_masks() {
    Rig r;
    r.out(SCR, 0xa5);
    CU_ASSERT_EQUAL(r.in(SCR), 0xa5);
    r.out(SCR, 0x5a);
    CU_ASSERT_EQUAL(r.in(SCR), 0x5a);
    r.out(LCR, 0x7f);  // all but DLAB
    CU_ASSERT_EQUAL(r.in(LCR), 0x7f);
    r.out(LCR, 0x03);
    r.out(MCR, 0xff);
    CU_ASSERT_EQUAL(r.in(MCR), 0x1f);  // bits 7:5 read 0
    r.out(MCR, 0x0b);
    CU_ASSERT_EQUAL(r.in(MCR), 0x0b);
    // 0xff entered loopback (RI rose with OUT1); leaving it dropped RI: TERI.
    CU_ASSERT_EQUAL(r.in(MSR), 0xb4);
    r.out(IER, 0xff);
    CU_ASSERT_EQUAL(r.in(IER), 0x0f);  // bits 7:4 read 0
    r.out(IER, 0x00);
    CU_ASSERT_EQUAL(r.in(IER), 0x00);
    // LSR and MSR are read-only.
    r.out(LSR, 0x00);
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    r.out(MSR, 0x00);
    CU_ASSERT_EQUAL(r.in(MSR), 0xb0);
}

void test_dlab_switches_registers() {
    Rig r;
    r.out(IER, 0x05);
    r.out(LCR, 0x83);  // DLAB, 8N1
    r.out(DLL, 0x01);  // 115200 baud
    r.out(DLM, 0x02);
    CU_ASSERT_EQUAL(r.in(DLL), 0x01);
    CU_ASSERT_EQUAL(r.in(DLM), 0x02);
    CU_ASSERT_TRUE(r.backend->out.empty());  // DLL write is not a THR write
    r.out(LCR, 0x03);
    CU_ASSERT_EQUAL(r.in(IER), 0x05);  // IER untouched by the DLM write
    r.out(LCR, 0x83);
    CU_ASSERT_EQUAL(r.in(DLL), 0x01);
    CU_ASSERT_EQUAL(r.in(DLM), 0x02);
    // IIR, LCR, MCR, LSR, SCR do not depend on DLAB.
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
    CU_ASSERT_EQUAL(r.in(LCR), 0x83);
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    // Input received while DLAB is set is read once DLAB is clear.
    r.push({'q'});
    CU_ASSERT_EQUAL(r.in(DLL), 0x01);
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);
    r.out(LCR, 0x03);
    CU_ASSERT_EQUAL(r.in(RBR), 'q');
}

void test_output_reaches_backend() {
    Rig r;
    for (std::uint8_t c : std::vector<std::uint8_t>{'o', 'k', '\n', 0x00, 0xff}) {
        r.out(THR, c);
        CU_ASSERT_EQUAL(r.in(LSR)&0x60, 0x60);  // transmitter always empty
    }
    std::vector<std::uint8_t> want{'o', 'k', '\n', 0x00, 0xff};
    CU_ASSERT_TRUE(r.backend->out == want);
    // FIFO mode transmits the same way.
    r.out(FCR, 0x07);
    r.out(THR, 'x');
    CU_ASSERT_EQUAL(r.backend->out.back(), 'x');
    CU_ASSERT_EQUAL(r.backend->out.size(), 6u);
}

void test_non_fifo_receive_and_overrun() {
    Rig r;
    CU_ASSERT_EQUAL(r.uart.rx_room(), 1u);
    r.push({'a'});
    CU_ASSERT_EQUAL(r.uart.rx_room(), 0u);
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);
    r.push({'b'});  // overwrites 'a', sets OE
    CU_ASSERT_EQUAL(r.in(LSR), 0x63);
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);  // reading LSR cleared OE
    CU_ASSERT_EQUAL(r.in(RBR), 'b');
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    CU_ASSERT_EQUAL(r.in(RBR), 'b');   // empty: RBR keeps the last byte
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);  // no FIFO bits
}

void test_fifo_receive_order_and_overflow() {
    Rig r;
    r.out(FCR, 0x01);
    CU_ASSERT_EQUAL(r.in(IIR), 0xc1);
    CU_ASSERT_EQUAL(r.uart.rx_room(), 16u);
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < 20; ++i) {
        bytes.push_back(static_cast<std::uint8_t>('A' + i));
    }
    r.push(bytes);  // 16 fit, 4 overrun and are lost
    CU_ASSERT_EQUAL(r.uart.rx_room(), 0u);
    CU_ASSERT_EQUAL(r.in(LSR), 0x63);
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);
    for (int i = 0; i < 16; ++i) {
        CU_ASSERT_EQUAL(r.in(RBR), 'A' + i);
    }
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    CU_ASSERT_EQUAL(r.uart.rx_room(), 16u);
    // The ring wraps: 10 in, 8 out, 14 more in (2 + 14 = 16, no overrun).
    for (int i = 0; i < 10; ++i) {
        r.push({static_cast<std::uint8_t>(i)});
    }
    for (int i = 0; i < 8; ++i) {
        CU_ASSERT_EQUAL(r.in(RBR), i);
    }
    for (int i = 10; i < 24; ++i) {
        r.push({static_cast<std::uint8_t>(i)});
    }
    CU_ASSERT_EQUAL(r.uart.rx_room(), 0u);
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);  // full but no overrun
    for (int i = 8; i < 24; ++i) {
        CU_ASSERT_EQUAL(r.in(RBR), i);
    }
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
}

void test_fcr_clear_and_mode_change() {
    Rig r;
    r.out(FCR, 0x01);
    r.push({'a', 'b', 'c'});
    r.out(FCR, 0x03);  // clear RX FIFO, stay enabled
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    r.push({'d', 'e'});
    r.out(FCR, 0x00);  // disabling clears the FIFOs
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
    r.push({'f'});
    r.out(FCR, 0x01);  // enabling starts empty too
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    CU_ASSERT_EQUAL(r.in(IIR), 0xc1);
    r.push({'g'});
    r.out(FCR, 0xc1);  // re-programming the trigger keeps the data
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);
    CU_ASSERT_EQUAL(r.in(RBR), 'g');
}

void test_iir_priorities() {
    Rig r;
    r.out(MCR, 0x08);
    r.out(IER, 0x0f);
    CU_ASSERT_EQUAL(r.in(IIR), 0x02);  // THR empty right after enabling
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);  // reading IIR cleared it
    // Modem status: toggling loopback changes the modem inputs.
    r.out(MCR, 0x18);  // loop + OUT2: DCD stays, DSR/CTS drop
    CU_ASSERT_EQUAL(r.in(IIR), 0x00);
    CU_ASSERT_EQUAL(r.in(MSR), 0x80 | 0x03);  // DCD, DDSR, DCTS
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
    r.out(MCR, 0x08);
    (void)r.in(MSR);
    // Overrun (line status) outranks received data, which outranks THRE.
    r.out(THR, 'x');  // THRE pending again
    r.push({'a'});
    r.push({'b'});
    CU_ASSERT_EQUAL(r.in(IIR), 0x06);
    CU_ASSERT_EQUAL(r.in(LSR), 0x63);
    CU_ASSERT_EQUAL(r.in(IIR), 0x04);
    CU_ASSERT_EQUAL(r.in(RBR), 'b');
    CU_ASSERT_EQUAL(r.in(IIR), 0x02);
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
    // Disabled sources do not show.
    r.out(IER, 0x00);
    r.push({'c'});
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
    CU_ASSERT_EQUAL(r.in(RBR), 'c');
}

void test_fifo_trigger_and_timeout() {
    Rig r;
    r.out(MCR, 0x08);
    r.out(FCR, 0x81);  // FIFO on, trigger 8
    r.out(IER, 0x01);
    r.push({1, 2, 3});
    CU_ASSERT_EQUAL(r.in(IIR), 0xcc);  // below trigger: character timeout
    r.push({4, 5, 6, 7, 8});
    CU_ASSERT_EQUAL(r.in(IIR), 0xc4);  // at trigger: data available
    CU_ASSERT_EQUAL(r.in(RBR), 1);
    CU_ASSERT_EQUAL(r.in(IIR), 0xcc);
    for (int i = 2; i <= 8; ++i) {
        CU_ASSERT_EQUAL(r.in(RBR), i);
    }
    CU_ASSERT_EQUAL(r.in(IIR), 0xc1);
    r.out(FCR, 0xc1);  // trigger 14
    r.push(std::vector<std::uint8_t>(13, 'z'));
    CU_ASSERT_EQUAL(r.in(IIR), 0xcc);
    r.push({'z'});
    CU_ASSERT_EQUAL(r.in(IIR), 0xc4);
    r.out(FCR, 0x41);  // trigger 4 (FIFO kept: no clear bit, no mode change)
    CU_ASSERT_EQUAL(r.in(IIR), 0xc4);
    // FCR written without FIFO enable drops the FIFO (and the data).
    r.out(FCR, 0x40);
    CU_ASSERT_EQUAL(r.in(IIR), 0x01);
}

void test_irq_line_transitions_and_out2_gate() {
    Rig r;
    r.out(IER, 0x01);
    r.push({'a'});
    CU_ASSERT_FALSE(r.uart.irq_level());  // OUT2 clear: line gated off
    CU_ASSERT_TRUE(r.edges.empty());
    r.out(MCR, 0x08);
    CU_ASSERT_TRUE(r.uart.irq_level());
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true}));
    (void)r.in(RBR);
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false}));
    // A second push raises again; reading IIR does not clear RX data.
    r.push({'b'});
    (void)r.in(IIR);
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false, true}));
    r.out(MCR, 0x00);  // dropping OUT2 lowers the line
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false, true, false}));
    (void)r.in(RBR);
    CU_ASSERT_EQUAL(r.edges.size(), 4u);  // no change: no callback
}

void test_thr_write_gives_a_new_edge() {
    Rig r;
    r.out(MCR, 0x08);
    r.out(IER, 0x02);
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true}));
    // Each THR write drops the THRE interrupt and raises it again when the
    // byte has gone, so an edge-triggered PIC sees every completion.
    r.out(THR, 'a');
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false, true}));
    CU_ASSERT_EQUAL(r.in(IIR), 0x02);
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false, true, false}));
    r.out(THR, 'b');
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false, true, false, true}));
    r.out(IER, 0x00);
    CU_ASSERT_FALSE(r.uart.irq_level());
    std::vector<std::uint8_t> want{'a', 'b'};
    CU_ASSERT_TRUE(r.backend->out == want);
}

void test_loopback() {
    Rig r;
    r.out(MCR, 0x10);                  // loop, all modem outputs low
    CU_ASSERT_EQUAL(r.in(MSR), 0x0b);  // DCD, DSR, CTS dropped: deltas
    CU_ASSERT_EQUAL(r.in(MSR), 0x00);
    r.out(MCR, 0x1f);                  // DTR RTS OUT1 OUT2 -> DSR CTS RI DCD
    CU_ASSERT_EQUAL(r.in(MSR), 0xfb);  // RI rose: no TERI
    r.out(MCR, 0x1b);                  // OUT1 drops: RI 1->0 gives TERI
    CU_ASSERT_EQUAL(r.in(MSR), 0xb4);
    // Transmitted bytes come back; nothing reaches the backend.
    r.out(THR, 'L');
    CU_ASSERT_TRUE(r.backend->out.empty());
    CU_ASSERT_EQUAL(r.in(LSR), 0x61);
    CU_ASSERT_EQUAL(r.in(RBR), 'L');
    // The serial input is disconnected.
    CU_ASSERT_EQUAL(r.uart.rx_room(), 0u);
    r.push({'X'});
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    // Interrupts work inside the chip but OUT2 cannot enable the PC line.
    r.out(IER, 0x01);
    r.out(THR, 'M');
    CU_ASSERT_EQUAL(r.in(IIR), 0x04);
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_EQUAL(r.in(RBR), 'M');
    // Leaving loopback restores the modem lines and the real output.
    r.out(MCR, 0x0b);
    CU_ASSERT_EQUAL(r.in(MSR)&0xf0, 0xb0);
    r.out(THR, 'o');
    CU_ASSERT_TRUE((r.backend->out == std::vector<std::uint8_t>{'o'}));
}

void test_wide_accesses_split_into_bytes() {
    Rig r;
    r.out(SCR, 0x42);
    r.out(LCR, 0x03);
    // 2-byte read at offset 2: IIR then LCR.
    CU_ASSERT_EQUAL(r.uart.read(2, 2), 0x0301u);
    // 4-byte read at offset 4: MCR, LSR, MSR, SCR.
    CU_ASSERT_EQUAL(r.uart.read(4, 4), 0x42b06000u);
    // Bytes past the last register read as an empty bus.
    CU_ASSERT_EQUAL(r.uart.read(7, 2), 0xff42u);
    // 2-byte write at offset 0: THR then IER.
    CU_ASSERT(r.uart.write(0, 0x0541, 2) == IoOutcome::proceed);
    CU_ASSERT_TRUE((r.backend->out == std::vector<std::uint8_t>{'A'}));
    CU_ASSERT_EQUAL(r.in(IER), 0x05);
}

void test_reset_lowers_line() {
    Rig r;
    r.out(MCR, 0x08);
    r.out(IER, 0x01);
    r.out(SCR, 0x99);
    r.push({'a'});
    CU_ASSERT_TRUE(r.uart.irq_level());
    r.uart.reset();
    CU_ASSERT_FALSE(r.uart.irq_level());
    CU_ASSERT_TRUE((r.edges == std::vector<bool>{true, false}));
    CU_ASSERT_EQUAL(r.in(LSR), 0x60);
    CU_ASSERT_EQUAL(r.in(SCR), 0x00);
    CU_ASSERT_EQUAL(r.in(MCR), 0x00);
}

void test_no_callback_is_fine() {
    auto backend = std::make_shared<FakeBackend>();
    Uart16550 uart(backend, nullptr);
    uart.write(MCR, 0x08, 1);
    uart.write(IER, 0x02, 1);
    CU_ASSERT_TRUE(uart.irq_level());
}

constexpr kvmdbg::test::TestCase kRegisters[] = {
    {"reset values", test_reset_values},
    {"scratch, LCR, MCR, IER masks", test_scratch_lcr_mcr_ier_masks},
    {"DLAB switches registers 0 and 1", test_dlab_switches_registers},
    {"wide accesses split into bytes", test_wide_accesses_split_into_bytes},
    {"reset lowers the line", test_reset_lowers_line},
};
constexpr kvmdbg::test::TestCase kData[] = {
    {"output reaches the backend", test_output_reaches_backend},
    {"non-FIFO receive and overrun", test_non_fifo_receive_and_overrun},
    {"FIFO order and overflow", test_fifo_receive_order_and_overflow},
    {"FCR clear and mode change", test_fcr_clear_and_mode_change},
    {"loopback", test_loopback},
};
constexpr kvmdbg::test::TestCase kInterrupts[] = {
    {"IIR priorities", test_iir_priorities},
    {"FIFO trigger level and timeout", test_fifo_trigger_and_timeout},
    {"IRQ line transitions and OUT2 gate", test_irq_line_transitions_and_out2_gate},
    {"THR write gives a new edge", test_thr_write_gives_a_new_edge},
    {"no callback", test_no_callback_is_fine},
};
// monitor info device COM1: every register as a read would show it, with
// no read's side effects (the received byte stays, LSR keeps DR).
void test_state_text_shows_registers_without_side_effects() {
    Rig r;
    r.out(IER, 0x01);
    r.out(SCR, 0x5a);
    r.push({0x41});
    std::string before = r.uart.state_text();
    CU_ASSERT(before.find("IER        = 0x01\n") != std::string::npos);
    CU_ASSERT(before.find("SCR        = 0x5a\n") != std::string::npos);
    CU_ASSERT(before.find("LSR        = 0x61\n") != std::string::npos);  // DR | THRE | TEMT
    CU_ASSERT(before.find("IIR        = 0x04\n") != std::string::npos);  // received data available
    CU_ASSERT(before.find("rx FIFO    = 0x01\n") != std::string::npos);
    CU_ASSERT(before.find("divisor    = 0x000c\n") != std::string::npos);
    CU_ASSERT_EQUAL(r.uart.state_text(), before);
    CU_ASSERT_EQUAL(r.in(RBR), 0x41);  // still there for the guest
}

constexpr kvmdbg::test::TestCase kState[] = {
    {"state_text shows the registers without side effects", test_state_text_shows_registers_without_side_effects},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {
    {"uart16550 registers", kRegisters},
    {"uart16550 state text", kState},
    {"uart16550 data", kData},
    {"uart16550 interrupts", kInterrupts},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
