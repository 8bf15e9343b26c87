// GdbSession against a fake DebugTarget: connection, acks and no-ack mode,
// framing errors, random traffic, registers, memory (E14, partial reads,
// PhyMemMode), QEMU step flags. Threads, queries, breakpoints, detach and
// kill are in test_gdb_session_queries.cc; resuming and stopping in
// test_gdb_session_resume.cc.
#include <cstring>
#include <string>
#include <vector>

#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/packet_framer.h"
#include "tests/support/cunit_main.h"
#include "tests/unit/gdbstub/fake_target.h"

namespace {

using namespace kvmdbg::gdb;
using kvmdbg::test::FakeTarget;
using kvmdbg::test::Harness;
using Strings = std::vector<std::string>;

// ------------------------------------------------------------- connection

void test_connect_stops_all() {
    FakeTarget target;
    kvmdbg::test::FakeEvaluator evaluator;
    GdbSession session(target, evaluator);
    CU_ASSERT_TRUE(target.log.empty());
    session.on_connect();
    CU_ASSERT_TRUE(target.log == Strings{"stop_all"});
    CU_ASSERT_EQUAL(session.state(), SessionState::stopped);
    CU_ASSERT_TRUE(session.ack_mode());
    CU_ASSERT_FALSE(session.has_output());
}

void test_qsupported_byte_exact_with_ack() {
    Harness h;
    std::string out = h.send_raw("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;xmlRegisters=i386");
    CU_ASSERT_EQUAL(out,
                    "+" + frame_packet(
                              "PacketSize=20000;qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+;swbreak+;"
                              "hwbreak+;vContSupported+;ConditionalBreakpoints+;binary-upload+"));
    // A memory map is offered only when the target has one.
    h.target.regions = {{MemoryRegion::Kind::ram, 0, 0x1000}};
    CU_ASSERT_EQUAL(
        h.ask("qSupported"),
        "PacketSize=20000;qXfer:features:read+;qXfer:threads:read+;qXfer:memory-map:read+;QStartNoAckMode+;swbreak+;"
        "hwbreak+;vContSupported+;ConditionalBreakpoints+;binary-upload+");
}

void test_no_ack_mode() {
    Harness h;
    CU_ASSERT_EQUAL(h.send_raw("QStartNoAckMode"), "+$OK#9a");
    CU_ASSERT_FALSE(h.session.ack_mode());
    h.session.receive("+");  // gdb's ack of our OK: ignored
    CU_ASSERT_EQUAL(h.send_raw("qC"), "$QC1#c5");
}

void test_nack_resends_last_packet() {
    Harness h;
    std::string first = h.send_raw("qC");
    CU_ASSERT_EQUAL(first, "+$QC1#c5");
    h.session.receive("-");
    CU_ASSERT_EQUAL(h.session.take_output(), "$QC1#c5");
    h.session.receive("+");
    CU_ASSERT_FALSE(h.session.has_output());
    // In no-ack mode a '-' is noise.
    h.no_ack();
    h.session.receive("-");
    CU_ASSERT_FALSE(h.session.has_output());
}

void test_bad_checksum() {
    Harness h;
    h.session.receive("$qC#00");
    CU_ASSERT_EQUAL(h.session.take_output(), "-");
    h.session.receive("$qC#zz");
    CU_ASSERT_EQUAL(h.session.take_output(), "-");
    // The resend is answered.
    h.session.receive("$qC#b4");
    CU_ASSERT_EQUAL(h.session.take_output(), "+$QC1#c5");
    h.no_ack();
    h.session.receive("$qC#00");
    CU_ASSERT_EQUAL(h.session.take_output(), frame_packet("E22"));
}

void test_oversized_packet_survives() {
    FakeTarget target;
    kvmdbg::test::FakeEvaluator evaluator;
    SessionOptions options;
    options.max_packet_size = 16;
    GdbSession session(target, evaluator, options);
    session.on_connect();
    session.receive(frame_packet(std::string(17, 'q')));
    CU_ASSERT_EQUAL(session.take_output(), "+" + frame_packet("E22"));
    session.receive(frame_packet(std::string(16, 'q')));  // at the cap: unknown, empty reply
    CU_ASSERT_EQUAL(session.take_output(), "+$#00");
    session.receive(frame_packet("qC"));
    CU_ASSERT_EQUAL(session.take_output(), "+$QC1#c5");
}

void test_oversized_default_one_mib() {
    Harness h;
    h.no_ack();
    std::string big = "M1000,1:" + std::string((1u << 20), '0');
    h.session.receive(frame_packet(big));
    CU_ASSERT_EQUAL(h.session.take_output(), frame_packet("E22"));
    CU_ASSERT_TRUE(h.target.calls("write_memory").empty());
    CU_ASSERT_EQUAL(h.ask("qC"), "QC1");
}

void test_unknown_and_malformed() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.send_raw("vMustReplyEmpty"), "$#00");
    CU_ASSERT_EQUAL(h.ask("qTStatus"), "");
    CU_ASSERT_EQUAL(h.ask("qCRC:1000,10"), "");
    CU_ASSERT_EQUAL(h.ask("!"), "");
    CU_ASSERT_EQUAL(h.ask("mzz,1"), "E22");
    CU_ASSERT_EQUAL(h.ask("Hx1"), "E22");
    CU_ASSERT_EQUAL(h.ask("Z0,1000"), "E22");
    // Still answering.
    CU_ASSERT_EQUAL(h.ask("qC"), "QC1");
}

void test_split_and_noise() {
    Harness h;
    h.no_ack();
    std::string bytes = "garbage" + frame_packet("qC") + "\r\n" + frame_packet("qAttached");
    for (char c : bytes) {
        h.session.receive(std::string_view(&c, 1));
    }
    CU_ASSERT_TRUE(kvmdbg::test::packets(h.session.take_output()) == (Strings{"QC1", "1"}));
}

// --------------------------------------------------------------- registers

void test_halt_reason_and_registers() {
    Harness h;
    h.no_ack();
    // Expedited pc (2), sp (1), fp (0), little-endian.
    CU_ASSERT_EQUAL(h.ask("?"), "T05thread:1;2:0133000000000000;1:0122000000000000;0:0111000000000000;");
    CU_ASSERT_EQUAL(h.ask("g"),
                    "0111000000000000"
                    "0122000000000000"
                    "0133000000000000"
                    "46000000");
    CU_ASSERT_EQUAL(h.ask("g").size(), 56u);
    CU_ASSERT_EQUAL(h.ask("Hg2"), "OK");
    CU_ASSERT_EQUAL(h.ask("g"),
                    "0211000000000000"
                    "0222000000000000"
                    "0233000000000000"
                    "46000000");
    CU_ASSERT_EQUAL(h.ask("p2"), "0233000000000000");
    CU_ASSERT_EQUAL(h.ask("p3"), "46000000");
    CU_ASSERT_EQUAL(h.ask("p4"), "E22");
    CU_ASSERT_EQUAL(h.ask("P3=78563412"), "OK");
    CU_ASSERT_EQUAL(h.target.reg(2, 3), 0x12345678u);
    CU_ASSERT_EQUAL(h.target.reg(1, 3), 0x46u);
    CU_ASSERT_EQUAL(h.ask("P3=00"), "E22");
    CU_ASSERT_EQUAL(h.ask("P9=00000000"), "E22");
    CU_ASSERT_EQUAL(h.ask("G00"), "E22");
    std::string g(56, '0');
    g.replace(32, 2, "ff");  // pc low byte
    CU_ASSERT_EQUAL(h.ask("G" + g), "OK");
    CU_ASSERT_EQUAL(h.target.reg(2, 2), 0xffu);
    CU_ASSERT_EQUAL(h.target.reg(1, 2), 0x3301u);
    CU_ASSERT_EQUAL(h.ask("Hg0"), "OK");  // any thread: the last stopped one
    CU_ASSERT_EQUAL(h.ask("p2"), "0133000000000000");
    CU_ASSERT_EQUAL(h.ask("Hg3"), "E22");
}

// ------------------------------------------------------------------ memory

void test_memory_read() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("m1000,4"), "00010203");
    CU_ASSERT_EQUAL(h.ask("m10fe,4"), "feff");  // partial: the rest is unmapped
    CU_ASSERT_EQUAL(h.ask("m2000,4"), "E14");
    CU_ASSERT_EQUAL(h.ask("m0,4"), "E14");
    CU_ASSERT_EQUAL(h.ask("m1000,0"), "");
    CU_ASSERT_EQUAL(h.ask("mffffffffffffffff,10"), "E14");            // no wrap-around
    CU_ASSERT_EQUAL(h.ask("m1000,ffffffffffffffff").size(), 0x200u);  // capped, then partial
    CU_ASSERT_EQUAL(h.ask("m1000,"), "E22");
}

void test_memory_read_binary() {
    Harness h;
    h.no_ack();
    // 0x23 '#', 0x24 '$', 0x2a '*' and 0x7d '}' are escaped.
    CU_ASSERT_EQUAL(h.ask("x1022,3"), std::string("b\"}\x03}\x04"));
    CU_ASSERT_EQUAL(h.ask("x1029,3"), std::string(")}\x0a+").insert(0, "b"));
    CU_ASSERT_EQUAL(h.ask("x107c,3"), std::string("b|}]~"));
    CU_ASSERT_EQUAL(h.ask("x1000,0"), "b");
    CU_ASSERT_EQUAL(h.ask("x3000,1"), "E14");
}

void test_memory_write() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("M1000,2:abcd"), "OK");
    CU_ASSERT_EQUAL(h.target.ram[0], 0xab);
    CU_ASSERT_EQUAL(h.target.ram[1], 0xcd);
    CU_ASSERT_EQUAL(h.ask("M1000,3:abcd"), "E22");
    CU_ASSERT_EQUAL(h.ask("M3000,1:00"), "E14");
    std::string x = "X1004,4:";
    x += "}\x03}\x04}]*";  // '#', '$', '}', and an unescaped '*' tolerated
    CU_ASSERT_EQUAL(h.ask(x), "OK");
    CU_ASSERT_EQUAL(h.target.ram[4], '#');
    CU_ASSERT_EQUAL(h.target.ram[5], '$');
    CU_ASSERT_EQUAL(h.target.ram[6], '}');
    CU_ASSERT_EQUAL(h.target.ram[7], '*');
    auto writes = h.target.calls("write_memory").size();
    CU_ASSERT_EQUAL(h.ask("X1000,0:"), "OK");  // gdb's probe writes nothing
    CU_ASSERT_EQUAL(h.target.calls("write_memory").size(), writes);
    CU_ASSERT_EQUAL(h.ask("X1000,2:a"), "E22");
}

void test_physical_memory_mode() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("qqemu.PhyMemMode"), "0");
    CU_ASSERT_EQUAL(h.ask("m0,2"), "E14");
    CU_ASSERT_EQUAL(h.ask("Qqemu.PhyMemMode:1"), "OK");
    CU_ASSERT_EQUAL(h.session.address_space(), AddressSpace::physical);
    CU_ASSERT_EQUAL(h.ask("qqemu.PhyMemMode"), "1");
    CU_ASSERT_EQUAL(h.ask("m0,2"), "a0a1");
    CU_ASSERT_EQUAL(h.ask("M0,1:55"), "OK");
    CU_ASSERT_EQUAL(h.target.phys[0], 0x55);
    CU_ASSERT_EQUAL(h.ask("Qqemu.PhyMemMode:0"), "OK");
    CU_ASSERT_EQUAL(h.ask("m1000,1"), "00");
    CU_ASSERT_EQUAL(h.ask("Qqemu.PhyMemMode:"), "E22");
}

void test_qemu_sstep() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("qqemu.Supported"), "sstepbits;sstep;PhyMemMode");
    CU_ASSERT_EQUAL(h.ask("qqemu.sstepbits"), "ENABLE=1,NOIRQ=2");
    CU_ASSERT_EQUAL(h.ask("qqemu.sstep"), "0x3");  // kvmdbg default: ENABLE|NOIRQ
    CU_ASSERT_EQUAL(h.ask("Qqemu.sstep=1"), "OK");
    CU_ASSERT_EQUAL(h.ask("qqemu.sstep"), "0x1");
    CU_ASSERT_EQUAL(h.ask("Qqemu.sstep=4"), "E22");  // NOTIMER unsupported here
    CU_ASSERT_EQUAL(h.ask("qqemu.sstep"), "0x1");
    CU_ASSERT_EQUAL(h.ask("Qqemu.sstep=0x3"), "OK");
    CU_ASSERT_EQUAL(h.session.step_flags(), 3u);
    CU_ASSERT_EQUAL(h.ask("Qqemu.sstep=zz"), "E22");

    Harness all;
    all.target.supported_flags = 7;
    all.no_ack();
    CU_ASSERT_EQUAL(all.ask("qqemu.sstepbits"), "ENABLE=1,NOIRQ=2,NOTIMER=4");
    CU_ASSERT_EQUAL(all.ask("Qqemu.sstep=7"), "OK");
    CU_ASSERT_EQUAL(all.ask("qqemu.sstep"), "0x7");
}

// Random packets of every family, random stop events and raw noise: the
// session answers each packet with exactly one reply (or the documented
// several for qRcmd) and keeps answering.
void test_random_traffic() {
    Harness h(4);
    h.no_ack();
    const char* prefixes[] = {"?",
                              "g",
                              "G",
                              "p",
                              "P",
                              "m",
                              "M",
                              "x",
                              "X",
                              "c",
                              "C",
                              "s",
                              "S",
                              "vCont?",
                              "vCont;",
                              "Z0,",
                              "Z1,",
                              "Z2,",
                              "Z4,",
                              "z0,",
                              "z3,",
                              "Hg",
                              "Hc",
                              "T",
                              "qC",
                              "qfThreadInfo",
                              "qsThreadInfo",
                              "qThreadExtraInfo,",
                              "qAttached",
                              "qSupported:",
                              "qXfer:features:read:target.xml:",
                              "qXfer:memory-map:read::",
                              "Qqemu.sstep=",
                              "qqemu.sstep",
                              "qqemu.sstepbits",
                              "Qqemu.PhyMemMode:",
                              "qqemu.PhyMemMode",
                              "qZ",
                              "v"};
    const char alphabet[] = "0123456789abcdef,:;=-Xx}#$*rsStc\x03";
    std::uint32_t seed = 42;
    auto next = [&seed] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    for (int i = 0; i < 20000; ++i) {
        std::string payload = prefixes[next() % std::size(prefixes)];
        for (unsigned n = next() % 24; n > 0; --n) {
            payload += alphabet[next() % (sizeof alphabet - 1)];
        }
        if (payload.find('#') != std::string::npos || payload.find('$') != std::string::npos) {
            h.session.receive(payload);  // raw noise, possibly half packets
        } else {
            h.session.receive(frame_packet(payload));
        }
        if (next() % 8 == 0) {
            StopEvent ev{static_cast<ThreadId>(next() % 6), static_cast<StopReason>(next() % 8), next(), 11, 0};
            h.session.on_target_stop(ev);
        }
        if (next() % 16 == 0) {
            h.session.receive("\x03");
        }
        h.session.take_output();
        CU_ASSERT_FALSE_FATAL(h.session.finished());
    }
    h.session.receive("#00");  // leave any half packet
    h.session.take_output();
    auto replies = h.ask_all("qAttached");
    CU_ASSERT_FALSE(replies.empty());
    CU_ASSERT_EQUAL(replies.back(), "1");
}

const kvmdbg::test::TestCase kConnection[] = {
    {"connect stops all", test_connect_stops_all},
    {"qSupported byte exact, acked", test_qsupported_byte_exact_with_ack},
    {"QStartNoAckMode", test_no_ack_mode},
    {"nack resends", test_nack_resends_last_packet},
    {"bad checksum", test_bad_checksum},
    {"oversized packet", test_oversized_packet_survives},
    {"1 MiB cap", test_oversized_default_one_mib},
    {"unknown and malformed", test_unknown_and_malformed},
    {"split input and noise", test_split_and_noise},
    {"random traffic", test_random_traffic},
};
const kvmdbg::test::TestCase kData[] = {
    {"? and registers", test_halt_reason_and_registers}, {"memory read, E14, partial", test_memory_read},
    {"x binary read", test_memory_read_binary},          {"M and X", test_memory_write},
    {"PhyMemMode", test_physical_memory_mode},           {"qemu.sstep", test_qemu_sstep},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"session connection", kConnection},
    {"session data", kData},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
