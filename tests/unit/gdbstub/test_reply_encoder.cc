// Reply payloads byte for byte: errors, stop replies, exit, thread lists,
// console output, qXfer chunks, binary memory, qSupported; the memory-map
// XML and the target description's register offsets.
#include <string>
#include <vector>

#include "gdbstub-glue/memory_map.h"
#include "gdbstub-glue/reply_encoder.h"
#include "gdbstub-glue/target_description.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::gdb;

void test_error_replies() {
    CU_ASSERT_EQUAL(error_reply(EFAULT), "E14");
    CU_ASSERT_EQUAL(error_reply(EINVAL), "E22");
    CU_ASSERT_EQUAL(error_reply(ENOSPC), "E28");
    CU_ASSERT_EQUAL(error_reply(1), "E01");
    CU_ASSERT_EQUAL(error_reply(-EFAULT), "E14");
}

void test_stop_replies() {
    StopReply r;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T05thread:1;");
    r.signal = 2;
    r.thread = 0x1c;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T02thread:1c;");
    r.signal = 5;
    r.thread = 1;
    r.registers = {{16, {0x10, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00}},
                   {7, {0xf0, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}}};
    r.reason = StopReply::Reason::swbreak;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T05thread:1;10:1000400000000000;7:f0ff000000000000;swbreak:;");
    r.registers.clear();
    r.reason = StopReply::Reason::hwbreak;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T05thread:1;hwbreak:;");
    r.reason = StopReply::Reason::watch;
    r.address = 0x7ffe0010;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T05thread:1;watch:7ffe0010;");
    r.reason = StopReply::Reason::rwatch;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T05thread:1;rwatch:7ffe0010;");
    r.reason = StopReply::Reason::awatch;
    r.address = 0;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T05thread:1;awatch:0;");
    r.reason = StopReply::Reason::none;
    r.signal = 11;
    CU_ASSERT_EQUAL(encode_stop_reply(r), "T0bthread:1;");
}

void test_exit_reply() {
    CU_ASSERT_EQUAL(encode_exit_reply(0), "W00");
    CU_ASSERT_EQUAL(encode_exit_reply(0x21), "W21");
    CU_ASSERT_EQUAL(encode_exit_reply(0x1ff), "Wff");
}

void test_thread_lists() {
    std::vector<ThreadId> ids{1, 2, 10, 255};
    CU_ASSERT_EQUAL(encode_thread_list(ids), "m1,2,a,ff");
    CU_ASSERT_EQUAL(encode_thread_list(std::span(ids).first(1)), "m1");
    CU_ASSERT_EQUAL(encode_thread_list({}), "l");
}

void test_console_output() {
    CU_ASSERT_EQUAL(encode_console_output("OK\n"), "O4f4b0a");
    auto packets = encode_console_output_packets("abcde", 2);
    CU_ASSERT_TRUE(packets == (std::vector<std::string>{"O6162", "O6364", "O65"}));
    CU_ASSERT_TRUE(encode_console_output_packets("", 2).empty());
}

void test_xfer_chunks() {
    const std::string doc = "<a>$#*}</a>";
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 0, 100), std::string("l<a>}\x04}\x03}\x0a}]</a>"));
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 0, 3), "m<a>");
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 3, 2), std::string("m}\x04}\x03"));
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 7, 4), "l</a>");
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 11, 4), "l");
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 0xffffffffffffffffu, 0xffffffffffffffffu), "l");
    CU_ASSERT_EQUAL(encode_xfer_chunk(doc, 10, 0xffffffffffffffffu), "l>");
}

void test_binary_memory() {
    const std::uint8_t bytes[] = {0x00, '#', 0x7d, 0x41};
    CU_ASSERT_EQUAL(encode_binary_memory(bytes), std::string("b\x00}\x03}]A", 7));
    CU_ASSERT_EQUAL(encode_binary_memory({}), "b");
}

void test_supported() {
    SupportedFeatures f;
    CU_ASSERT_EQUAL(
        encode_supported(f),
        "PacketSize=20000;qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+;"
        "ConditionalBreakpoints+;binary-upload+");
    f.packet_size = 0x4000;
    f.memory_map = true;
    CU_ASSERT_EQUAL(
        encode_supported(f),
        "PacketSize=4000;qXfer:features:read+;qXfer:threads:read+;qXfer:memory-map:read+;QStartNoAckMode+;swbreak+;"
        "hwbreak+;vContSupported+;ConditionalBreakpoints+;binary-upload+");
    CU_ASSERT_EQUAL(std::string(kVContActions), "vCont;c;C;s;S;r");
}

void test_memory_map_xml() {
    const MemoryRegion regions[] = {
        {MemoryRegion::Kind::rom, 0xfffc0000, 0x40000},
        {MemoryRegion::Kind::ram, 0x100000, 0x7f00000},
        {MemoryRegion::Kind::ram, 0x200, 0},  // empty: left out
        {MemoryRegion::Kind::ram, 0, 0xa0000},
    };
    CU_ASSERT_EQUAL(memory_map_xml(regions),
                    "<?xml version=\"1.0\"?>\n"
                    "<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" "
                    "\"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
                    "<memory-map>\n"
                    "  <memory type=\"ram\" start=\"0x0\" length=\"0xa0000\"/>\n"
                    "  <memory type=\"ram\" start=\"0x100000\" length=\"0x7f00000\"/>\n"
                    "  <memory type=\"rom\" start=\"0xfffc0000\" length=\"0x40000\"/>\n"
                    "</memory-map>\n");
}

void test_target_description_layout() {
    TargetDescription d({8, 4, 10, 16}, {{"target.xml", "<t/>"}}, {0, 1, std::nullopt});
    CU_ASSERT_EQUAL(d.register_count(), 4u);
    CU_ASSERT_EQUAL(d.registers_size(), 38u);
    CU_ASSERT_EQUAL(d.register_offset(0), 0u);
    CU_ASSERT_EQUAL(d.register_offset(2), 12u);
    CU_ASSERT_EQUAL(d.register_offset(3), 22u);
    CU_ASSERT_EQUAL(d.register_offset(4), 38u);
    CU_ASSERT_EQUAL(d.register_size(2), 10u);
    CU_ASSERT_EQUAL(d.register_size(4), 0u);
    CU_ASSERT_EQUAL(d.register_size(1ull << 40), 0u);
    // One register out of a whole g block; nothing for a bad number or block.
    std::vector<std::uint8_t> block(38);
    for (std::size_t i = 0; i < block.size(); ++i) {
        block[i] = static_cast<std::uint8_t>(i);
    }
    auto r2 = d.register_in(block, 2);
    CU_ASSERT_TRUE(r2 && r2->size() == 10 && r2->front() == 12 && r2->back() == 21);
    auto r3 = d.register_in(block, 3);
    CU_ASSERT_TRUE(r3 && r3->size() == 16 && r3->front() == 22 && r3->back() == 37);
    CU_ASSERT_FALSE(d.register_in(block, 4).has_value());
    CU_ASSERT_FALSE(d.register_in(std::span(block).first(37), 0).has_value());
    CU_ASSERT_PTR_NOT_NULL(d.annex("target.xml"));
    CU_ASSERT_PTR_NULL(d.annex("other.xml"));
    CU_ASSERT_TRUE(d.expedited().pc == 0u && d.expedited().sp == 1u && !d.expedited().fp);
    CU_ASSERT_EQUAL(register_value({0x01, 0x02}, std::endian::little), 0x0201u);
    CU_ASSERT_EQUAL(register_value({0x01, 0x02}, std::endian::big), 0x0102u);
    CU_ASSERT_EQUAL(register_value({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, std::endian::little), 0x0807060504030201u);
    CU_ASSERT_EQUAL(register_value({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, std::endian::big), 0x030405060708090au);
    TargetDescription empty;
    CU_ASSERT_EQUAL(empty.registers_size(), 0u);
}

const kvmdbg::test::TestCase kCases[] = {
    {"errors", test_error_replies},
    {"stop replies", test_stop_replies},
    {"exit", test_exit_reply},
    {"thread lists", test_thread_lists},
    {"console output", test_console_output},
    {"qXfer chunks", test_xfer_chunks},
    {"x reply", test_binary_memory},
    {"qSupported", test_supported},
    {"memory map XML", test_memory_map_xml},
    {"target description layout", test_target_description_layout},
};
const kvmdbg::test::TestSuite kSuites[] = {{"reply encoder", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
