// GdbSession's console text with a stop (StopEvent::console): gdb is sent
// the text as O packets (its hex) immediately before the stop reply, in
// order and split at the session's console_chunk; a stop with no text sends
// no O packet; `?` repeats the stop reply alone. A device-access catch's
// stop (StopReason::device_access) is a SIGTRAP whose reply names no
// watchpoint or breakpoint reason, and one that arrives while gdb looks at
// another stop is reported at the next resume.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub-glue/packet_framer.h"
#include "tests/support/cunit_main.h"
#include "tests/unit/gdbstub/fake_target.h"

namespace {

using namespace kvmdbg::gdb;
using kvmdbg::test::FakeEvaluator;
using kvmdbg::test::FakeTarget;
using kvmdbg::test::Harness;
using kvmdbg::test::packets;
using Strings = std::vector<std::string>;

const std::string kRegs1 = "2:0133000000000000;1:0122000000000000;0:0111000000000000;";
const std::string kRegs2 = "2:0233000000000000;1:0222000000000000;0:0211000000000000;";
const std::string kCatchText = "Catch 1: CPU#0 wrote 0x80000000 to port 0xcf8 (4 bytes, pci-conf1)\n";

// "O" and two lowercase hex digits per character of `text`.
std::string o_packet(std::string_view text) {
    std::string out = "O";
    char buf[3];
    for (char c : text) {
        std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(c));
        out += buf;
    }
    return out;
}

StopEvent device_stop(ThreadId thread, std::uint64_t port, std::string console) {
    StopEvent ev{thread, StopReason::device_access, port, 0, 0};
    ev.console = std::move(console);
    return ev;
}

// A harness whose gdb announced swbreak+/hwbreak+ (so that a reason would
// show if the session gave one).
void announce(Harness& h) {
    h.no_ack();
    h.ask("qSupported:swbreak+;hwbreak+");
    h.target.log.clear();
}

void test_console_sent_as_o_packet_before_the_stop_reply() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.send_raw("vCont;c"), "");
    h.session.on_target_stop(device_stop(1, 0xcf8, kCatchText));
    CU_ASSERT_TRUE(h.drain() == (Strings{o_packet(kCatchText), "T05thread:1;" + kRegs1}));
    CU_ASSERT_EQUAL(h.session.state(), SessionState::stopped);
    CU_ASSERT_EQUAL(h.ask("qC"), "QC1");
}

void test_device_access_reply_has_no_watch_or_break_reason() {
    Harness h;
    announce(h);
    h.send_raw("vCont;c");
    h.session.on_target_stop(device_stop(2, 0xff000010, kCatchText));
    auto replies = h.drain();
    CU_ASSERT_EQUAL_FATAL(replies.size(), 2u);
    CU_ASSERT_EQUAL(replies[1], "T05thread:2;" + kRegs2);
    for (const char* reason : {"watch:", "rwatch:", "awatch:", "swbreak:", "hwbreak:"}) {
        CU_ASSERT_EQUAL(replies[1].find(reason), std::string::npos);
    }
}

void test_empty_console_sends_no_o_packet() {
    Harness h;
    announce(h);
    h.send_raw("vCont;c");
    h.session.on_target_stop(device_stop(1, 0xcf8, ""));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;" + kRegs1});
    // A breakpoint stop has no console text either.
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1"), "OK");
    h.send_raw("vCont;c");
    h.session.on_target_stop(StopEvent{2, StopReason::software_breakpoint, 0x3302, 0, 0});
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:2;" + kRegs2 + "swbreak:;"});
}

void test_question_mark_repeats_the_stop_reply_without_the_console() {
    Harness h;
    announce(h);
    h.send_raw("vCont;c");
    h.session.on_target_stop(device_stop(1, 0xcf8, kCatchText));
    h.drain();
    CU_ASSERT_TRUE(h.ask_all("?") == Strings{"T05thread:1;" + kRegs1});
}

void test_long_console_split_in_order_before_the_stop_reply() {
    FakeTarget target;
    FakeEvaluator evaluator;
    SessionOptions options;
    options.console_chunk = 16;
    GdbSession session(target, evaluator, options);
    session.on_connect();
    session.receive(frame_packet("QStartNoAckMode"));
    session.receive(frame_packet("vCont;c"));
    (void)session.take_output();
    session.on_target_stop(device_stop(1, 0xcf8, kCatchText));
    Strings want;
    for (std::size_t pos = 0; pos < kCatchText.size(); pos += 16) {
        want.push_back(o_packet(std::string_view(kCatchText).substr(pos, 16)));
    }
    CU_ASSERT_EQUAL(want.size(), 5u);  // 67 characters
    want.push_back("T05thread:1;" + kRegs1);
    CU_ASSERT_TRUE(packets(session.take_output()) == want);
}

// vCPU 2's catch fires while gdb looks at vCPU 1's breakpoint stop
// (all-stop: the session keeps it): the next resume reports it at once,
// console text first, instead of dropping it (it has no breakpoint or
// watchpoint that must still be set for it to count).
void test_device_stop_kept_while_stopped_is_reported_at_the_next_resume() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1"), "OK");
    h.send_raw("vCont;c");
    h.session.on_target_stop(StopEvent{1, StopReason::software_breakpoint, 0x3302, 0, 0});
    CU_ASSERT_EQUAL(h.drain().size(), 1u);
    h.session.on_target_stop(device_stop(2, 0xcf8, kCatchText));
    CU_ASSERT_TRUE(h.drain().empty());
    Strings got = packets(h.send_raw("vCont;c"));
    for (auto& more : h.drain()) {
        got.push_back(more);
    }
    CU_ASSERT_TRUE(got == (Strings{o_packet(kCatchText), "T05thread:2;" + kRegs2}));
}

const kvmdbg::test::TestCase kCases[] = {
    {"a device stop kept while stopped is reported at the next resume",
     test_device_stop_kept_while_stopped_is_reported_at_the_next_resume},
    {"console sent as O packet before the stop reply", test_console_sent_as_o_packet_before_the_stop_reply},
    {"device_access reply has no watch or break reason", test_device_access_reply_has_no_watch_or_break_reason},
    {"empty console sends no O packet", test_empty_console_sends_no_o_packet},
    {"? repeats the stop reply without the console", test_question_mark_repeats_the_stop_reply_without_the_console},
    {"long console split in order before the stop reply", test_long_console_split_in_order_before_the_stop_reply},
};
const kvmdbg::test::TestSuite kSuites[] = {{"session stop console", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
