// GdbSession against a fake DebugTarget: threads (qfThreadInfo chunks,
// qThreadExtraInfo, H, T, qC), qXfer features and memory-map, qRcmd, Z/z
// bookkeeping, detach and kill.
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

// ----------------------------------------------------------------- threads

void test_thread_queries() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("qfThreadInfo"), "m1,2");
    CU_ASSERT_EQUAL(h.ask("qsThreadInfo"), "l");
    CU_ASSERT_EQUAL(h.ask("qsThreadInfo"), "l");
    CU_ASSERT_EQUAL(h.ask("qC"), "QC1");
    CU_ASSERT_EQUAL(h.ask("Hg2"), "OK");
    CU_ASSERT_EQUAL(h.ask("qC"), "QC2");
    CU_ASSERT_EQUAL(h.ask("Hc-1"), "OK");
    CU_ASSERT_EQUAL(h.ask("T1"), "OK");
    CU_ASSERT_EQUAL(h.ask("T2"), "OK");
    CU_ASSERT_EQUAL(h.ask("T3"), "E22");
    CU_ASSERT_EQUAL(h.ask("T0"), "E22");
    CU_ASSERT_EQUAL(h.ask("qAttached"), "1");
    CU_ASSERT_EQUAL(h.ask("qAttached:1"), "1");
    h.target.states = {ThreadRunState::paused, ThreadRunState::halted};
    CU_ASSERT_EQUAL(h.ask("qThreadExtraInfo,1"), encode_hex_text("CPU#0 [paused]"));
    CU_ASSERT_EQUAL(h.ask("qThreadExtraInfo,2"), encode_hex_text("CPU#1 [halted]"));
    h.target.states[1] = ThreadRunState::running;
    CU_ASSERT_EQUAL(h.ask("qThreadExtraInfo,2"), "4350552331205b72756e6e696e675d");
    CU_ASSERT_EQUAL(h.ask("qThreadExtraInfo,3"), "E22");
}

void test_thread_list_chunks() {
    Harness h(300);
    h.no_ack();
    std::string first = h.ask("qfThreadInfo");
    std::string expected = "m1";
    for (int t = 2; t <= 256; ++t) {
        expected += "," + format_hex(static_cast<std::uint64_t>(t));
    }
    CU_ASSERT_EQUAL(first, expected);
    std::string second = h.ask("qsThreadInfo");
    CU_ASSERT_TRUE(second.starts_with("m101,102,"));
    CU_ASSERT_TRUE(second.ends_with(",12c"));
    CU_ASSERT_EQUAL(h.ask("qsThreadInfo"), "l");
    // A new listing starts over.
    CU_ASSERT_EQUAL(h.ask("qfThreadInfo"), expected);
}

// ----------------------------------------------------------------- queries

void test_xfer_features() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:target.xml:0,5"), "m<targ");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:target.xml:5,1000"), "let>fake</target>");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:target.xml:0,1000"), "l<target>fake</target>");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:target.xml:15,10"), "l");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:target.xml:100,10"), "l");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:nope.xml:0,10"), "E00");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:odd.xml:0,100"), std::string("la}]b}\x0a"
                                                                            "c}\x03"
                                                                            "d}\x04"
                                                                            "e"));
    CU_ASSERT_EQUAL(h.ask("qXfer:features:read:target.xml:0"), "E22");
    CU_ASSERT_EQUAL(h.ask("qXfer:features:write:target.xml:0:abc"), "");
    CU_ASSERT_EQUAL(h.ask("qXfer:osdata:read::0,100"), "");
}

// One round trip for gdb's thread list after a stop, names and state inside.
void test_xfer_threads() {
    Harness h;  // two threads
    h.no_ack();
    h.target.states = {ThreadRunState::paused, ThreadRunState::running};
    std::string xml =
        "<?xml version=\"1.0\"?>\n<threads>\n"
        "  <thread id=\"1\" core=\"0\" name=\"CPU#0\">CPU#0 [paused]</thread>\n"
        "  <thread id=\"2\" core=\"1\" name=\"CPU#1\">CPU#1 [running]</thread>\n"
        "</threads>\n";
    // As binary data: each '#' goes as "}" + ('#' ^ 0x20).
    auto escaped = [](std::string text) {
        for (std::size_t at; (at = text.find('#')) != std::string::npos;) {
            text.replace(at, 1, "}\x03");
        }
        return text;
    };
    CU_ASSERT_EQUAL(h.ask("qXfer:threads:read::0,fff"), "l" + escaped(xml));
    // In pieces: the document is the snapshot taken at offset 0.
    CU_ASSERT_EQUAL(h.ask("qXfer:threads:read::0,20"), "m" + escaped(xml.substr(0, 0x20)));
    h.target.states = {ThreadRunState::running, ThreadRunState::running};
    CU_ASSERT_EQUAL(h.ask("qXfer:threads:read::20,fff"), "l" + escaped(xml.substr(0x20)));
    CU_ASSERT_EQUAL(h.ask("qXfer:threads:read:x:0,fff"), "E00");
    // 17 threads: ids are hex, as in qfThreadInfo.
    Harness many(17);
    many.no_ack();
    std::string doc = many.ask("qXfer:threads:read::0,fff");
    CU_ASSERT(doc.find(escaped("<thread id=\"11\" core=\"16\" name=\"CPU#16\">")) != std::string::npos);
}

void test_xfer_memory_map() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("qXfer:memory-map:read::0,1000"), "");  // no map
    h.target.regions = {{MemoryRegion::Kind::rom, 0xf0000, 0x10000}, {MemoryRegion::Kind::ram, 0, 0x9fc00}};
    std::string xml =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" "
        "\"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
        "<memory-map>\n"
        "  <memory type=\"ram\" start=\"0x0\" length=\"0x9fc00\"/>\n"
        "  <memory type=\"rom\" start=\"0xf0000\" length=\"0x10000\"/>\n"
        "</memory-map>\n";
    CU_ASSERT_EQUAL(h.ask("qXfer:memory-map:read::0,1000"), "l" + xml);
    CU_ASSERT_EQUAL(h.ask("qXfer:memory-map:read::0,10"), "m" + xml.substr(0, 16));
    CU_ASSERT_EQUAL(h.ask("qXfer:memory-map:read::10,1000"), "l" + xml.substr(16));
    CU_ASSERT_EQUAL(h.ask("qXfer:memory-map:read:x:0,10"), "E00");
}

void test_monitor() {
    Harness h;
    h.no_ack();
    CU_ASSERT_TRUE(h.ask_all("qRcmd," + encode_hex_text("info registers")) == (Strings{"O68656c6c6f0a", "OK"}));
    CU_ASSERT_TRUE(h.target.calls("monitor") == Strings{"monitor info registers"});
    h.target.monitor_output = "";
    CU_ASSERT_TRUE(h.ask_all("qRcmd,6869") == Strings{"OK"});
    h.target.monitor_output = std::string(5000, 'a');
    auto replies = h.ask_all("qRcmd,6869");
    CU_ASSERT_EQUAL(replies.size(), 3u);
    CU_ASSERT_EQUAL(replies[0].size(), 1u + 2 * 4096);
    CU_ASSERT_EQUAL(replies[1].size(), 1u + 2 * 904);
    CU_ASSERT_EQUAL(replies[2], "OK");
    CU_ASSERT_EQUAL(h.ask("qRcmd,6"), "E22");
    CU_ASSERT_EQUAL(h.ask("qRcmd,zz"), "E22");
}

// ------------------------------------------------------------- breakpoints

void test_breakpoints() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("Z0,1010,1"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z0,1010,1;X1,01"), "OK");  // same breakpoint, new condition
    CU_ASSERT_TRUE(h.target.calls("insert") == Strings{"insert 0,1010,1"});
    CU_ASSERT_EQUAL(h.session.breakpoint_count(), 1u);
    CU_ASSERT_EQUAL(h.ask("Z1,1020,1"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z2,1030,4"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z3,1030,4"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z4,1030,8"), "OK");
    CU_ASSERT_EQUAL(h.session.breakpoint_count(), 5u);
    CU_ASSERT_EQUAL(h.ask("z0,1010,1"), "OK");
    CU_ASSERT_EQUAL(h.ask("z0,1010,1"), "OK");  // idempotent, no second remove
    CU_ASSERT_TRUE(h.target.calls("remove") == Strings{"remove 0,1010,1"});
    CU_ASSERT_EQUAL(h.ask("Z5,1010,1"), "");  // unknown type
    CU_ASSERT_EQUAL(h.ask("z7,1010,1"), "");
    CU_ASSERT_EQUAL(h.ask("Z0,1010"), "E22");
    CU_ASSERT_EQUAL(h.ask("Z2,1030,4;X1,01"), "E22");
    CU_ASSERT_EQUAL(h.ask("Z0,1010,1;Xz"), "E22");
    h.target.insert_error = ENOSPC;
    CU_ASSERT_EQUAL(h.ask("Z1,1040,1"), "E28");
    h.target.insert_error = EFAULT;
    CU_ASSERT_EQUAL(h.ask("Z0,9000,1"), "E14");
    h.target.insert_error = ENOTSUP;
    CU_ASSERT_EQUAL(h.ask("Z4,1050,1"), "");  // unsupported: gdb falls back
    CU_ASSERT_EQUAL(h.session.breakpoint_count(), 4u);
}

// --------------------------------------------------------- detach and kill

void test_detach_removes_everything() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.ask("Z0,1010,1"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z2,1030,4"), "OK");
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.ask("D"), "OK");
    CU_ASSERT_TRUE(h.target.log == (Strings{"remove_all", "detach"}));
    CU_ASSERT_TRUE(h.target.inserted.empty());
    CU_ASSERT_EQUAL(h.session.state(), SessionState::detached);
    CU_ASSERT_TRUE(h.session.finished());
    CU_ASSERT_FALSE(h.session.exit_status().has_value());
    // Nothing more is read or answered.
    CU_ASSERT_EQUAL(h.send_raw("qC"), "");
    h.session.on_target_stop(StopEvent{1, StopReason::step, 0, 0, 0});
    CU_ASSERT_FALSE(h.session.has_output());

    Harness pid;
    pid.no_ack();
    CU_ASSERT_EQUAL(pid.ask("D;1"), "OK");
    CU_ASSERT_EQUAL(pid.session.state(), SessionState::detached);
}

void test_kill() {
    Harness h;
    h.no_ack();
    CU_ASSERT_EQUAL(h.send_raw("k"), "");  // gdb does not wait for a reply
    CU_ASSERT_EQUAL(h.session.state(), SessionState::killed);
    CU_ASSERT_TRUE(h.session.finished());
    CU_ASSERT_TRUE(h.session.exit_status() == 0);
    CU_ASSERT_TRUE(h.target.calls("kill") == Strings{"kill"});

    Harness v;
    v.no_ack();
    CU_ASSERT_EQUAL(v.ask("vKill;1"), "OK");
    CU_ASSERT_EQUAL(v.session.state(), SessionState::killed);
    CU_ASSERT_TRUE(v.session.exit_status() == 0);
}

const kvmdbg::test::TestCase kQueries[] = {
    {"thread queries", test_thread_queries},
    {"thread list chunks", test_thread_list_chunks},
    {"qXfer features", test_xfer_features},
    {"qXfer memory-map", test_xfer_memory_map},
    {"qXfer threads", test_xfer_threads},
    {"qRcmd", test_monitor},
    {"Z and z", test_breakpoints},
    {"detach", test_detach_removes_everything},
    {"kill", test_kill},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"session queries", kQueries},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
