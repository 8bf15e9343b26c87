// GdbSession resuming and stopping against a fake DebugTarget: legacy c/s,
// vCont semantics (only the named threads run), all-stop (stop_all before
// the stop reply), Ctrl-C, stop reply contents, target-side conditions
// (false: silent resume with the same action), range stepping, stop events
// that arrive while stopped, QEMU step flags, machine exit.
#include <string>
#include <vector>

#include "gdbstub-glue/packet_framer.h"
#include "tests/support/cunit_main.h"
#include "tests/unit/gdbstub/fake_target.h"

namespace {

using namespace kvmdbg::gdb;
using kvmdbg::test::Harness;
using Strings = std::vector<std::string>;

const std::string kRegs1 = "2:0133000000000000;1:0122000000000000;0:0111000000000000;";
const std::string kRegs2 = "2:0233000000000000;1:0222000000000000;0:0211000000000000;";

StopEvent bp(ThreadId thread, std::uint64_t addr, StopReason reason = StopReason::software_breakpoint) {
    return StopEvent{thread, reason, addr, 0, 0};
}

StopEvent step_done(ThreadId thread) { return StopEvent{thread, StopReason::step, 0, 0, 0}; }

// A harness whose gdb announced swbreak+/hwbreak+.
void announce(Harness& h) {
    h.no_ack();
    h.ask("qSupported:swbreak+;hwbreak+");
    h.target.log.clear();
}

void test_continue_and_breakpoint_stop() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1"), "OK");
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.send_raw("c"), "");  // the reply comes with the stop
    CU_ASSERT_TRUE(h.target.log == Strings{"resume 1:c 2:c flags=3"});
    CU_ASSERT_EQUAL(h.session.state(), SessionState::running);
    h.session.on_target_stop(bp(2, 0x3302));
    // All-stop: stop_all happened, with nothing queued yet, then the reply.
    CU_ASSERT_TRUE(h.target.calls("stop_all") == Strings{"stop_all"});
    CU_ASSERT_EQUAL(h.target.stop_all_reported.back(), 2u);  // the thread the reply reports
    CU_ASSERT_TRUE(h.target.output_pending_at_stop_all == std::vector<bool>{false});
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:2;" + kRegs2 + "swbreak:;"});
    CU_ASSERT_EQUAL(h.session.state(), SessionState::stopped);
    // The stopped thread becomes current; ? repeats the stop.
    CU_ASSERT_EQUAL(h.ask("qC"), "QC2");
    CU_ASSERT_EQUAL(h.ask("?"), "T05thread:2;" + kRegs2 + "swbreak:;");
}

void test_stop_reply_reasons() {
    Harness h;
    announce(h);
    struct Case {
        StopEvent ev;
        std::string reply;
    };
    const Case cases[] = {
        {bp(1, 0x3301, StopReason::hardware_breakpoint), "T05thread:1;" + kRegs1 + "hwbreak:;"},
        {bp(1, 0x1010, StopReason::write_watchpoint), "T05thread:1;" + kRegs1 + "watch:1010;"},
        {bp(2, 0x1011, StopReason::read_watchpoint), "T05thread:2;" + kRegs2 + "rwatch:1011;"},
        {bp(1, 0xffffffff81000000, StopReason::access_watchpoint),
         "T05thread:1;" + kRegs1 + "awatch:ffffffff81000000;"},
        {step_done(2), "T05thread:2;" + kRegs2},
        {StopEvent{1, StopReason::signal, 0, kSigSegv, 0}, "T0bthread:1;" + kRegs1},
        {StopEvent{2, StopReason::interrupt, 0, 0, 0}, "T02thread:2;" + kRegs2},
    };
    for (const Case& c : cases) {
        h.send_raw("vCont;c");
        h.session.on_target_stop(c.ev);
        auto replies = h.drain();
        CU_ASSERT_EQUAL(replies.size(), 1u);
        if (!replies.empty()) {
            CU_ASSERT_EQUAL(replies[0], c.reply);
        }
    }
}

void test_no_swbreak_unless_gdb_asked() {
    Harness h;
    h.no_ack();
    h.send_raw("c");
    h.session.on_target_stop(bp(1, 0x3301));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;" + kRegs1});
    h.send_raw("c");
    h.session.on_target_stop(bp(1, 0x3301, StopReason::hardware_breakpoint));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;" + kRegs1});
}

void test_vcont_semantics() {
    Harness h(3);
    announce(h);
    CU_ASSERT_EQUAL(h.ask("vCont?"), "vCont;c;C;s;S;r");
    struct Case {
        const char* packet;
        const char* resume;
    };
    const Case cases[] = {
        {"vCont;s:1", "resume 1:s 2:- 3:- flags=3"},  // a step runs nobody else
        {"vCont;s:1;c", "resume 1:s 2:c 3:c flags=3"},
        {"vCont;c", "resume 1:c 2:c 3:c flags=3"},
        {"vCont;c:2", "resume 1:- 2:c 3:- flags=3"},
        {"vCont;c:-1", "resume 1:c 2:c 3:c flags=3"},
        {"vCont;C0b:1;c", "resume 1:c/11 2:c 3:c flags=3"},
        {"vCont;S05:3;s:2", "resume 1:- 2:s 3:s/5 flags=3"},
        {"vCont;c;s:2", "resume 1:c 2:s 3:c flags=3"},      // the named action wins
        {"vCont;s:2;c:2;c", "resume 1:c 2:s 3:c flags=3"},  // leftmost for a thread
        {"vCont;r3300,3310:1;c", "resume 1:s 2:c 3:c flags=3"},
    };
    for (const Case& c : cases) {
        h.target.log.clear();
        CU_ASSERT_EQUAL(h.send_raw(c.packet), "");
        CU_ASSERT_TRUE(h.target.log == Strings{c.resume});
        CU_ASSERT_EQUAL(h.session.state(), SessionState::running);
        h.session.on_target_stop(step_done(2));  // not range stepping: reported
        CU_ASSERT_EQUAL(h.drain().size(), 1u);
    }
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.ask("vCont;c:4"), "E22");
    CU_ASSERT_EQUAL(h.ask("vCont;t"), "E22");  // nothing would run
    CU_ASSERT_EQUAL(h.ask("vCont;q"), "E22");
    CU_ASSERT_EQUAL(h.ask("vCont"), "E22");
    CU_ASSERT_TRUE(h.target.calls("resume").empty());
    CU_ASSERT_EQUAL(h.session.state(), SessionState::stopped);
}

void test_legacy_step_and_continue() {
    Harness h(3);
    announce(h);
    h.send_raw("s");
    CU_ASSERT_TRUE(h.target.calls("resume") == Strings{"resume 1:s 2:- 3:- flags=3"});
    h.session.on_target_stop(step_done(1));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;" + kRegs1});
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.ask("Hc3"), "OK");
    h.send_raw("S0b");
    CU_ASSERT_TRUE(h.target.calls("resume") == Strings{"resume 1:- 2:- 3:s/11 flags=3"});
    h.session.on_target_stop(step_done(3));
    h.drain();
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.ask("Hc-1"), "OK");
    h.send_raw("C02;3400");  // continue at an address: the pc is written first
    CU_ASSERT_TRUE(h.target.log == (Strings{"write_register 3 2", "resume 1:c 2:c 3:c/2 flags=3"}));
    CU_ASSERT_EQUAL(h.target.reg(3, 2), 0x3400u);
}

void test_ctrl_c() {
    Harness h;
    announce(h);
    h.session.receive("\x03");  // while stopped: nothing
    CU_ASSERT_FALSE(h.session.has_output());
    CU_ASSERT_TRUE(h.target.log.empty());
    h.send_raw("vCont;c");
    h.target.log.clear();
    h.session.receive("\x03");
    // Registers are read once for the stop reply, after every vCPU stopped.
    CU_ASSERT_TRUE(h.target.log == (Strings{"stop_all", "read_registers 1"}));
    CU_ASSERT_EQUAL(h.target.stop_all_reported.back(), 1u);  // named: it keeps its registers at hand
    CU_ASSERT_TRUE(h.target.output_pending_at_stop_all == std::vector<bool>{false});
    CU_ASSERT_TRUE(h.drain() == Strings{"T02thread:1;" + kRegs1});
    CU_ASSERT_EQUAL(h.session.state(), SessionState::stopped);
    // The stop gdb's Ctrl-C raced with is held back, not lost.
    h.session.on_target_stop(StopEvent{2, StopReason::signal, 0, kSigSegv, 0});
    CU_ASSERT_FALSE(h.session.has_output());
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.send_raw("vCont;c"), frame_packet("T0bthread:2;" + kRegs2));
    CU_ASSERT_TRUE(h.target.calls("resume").empty());
}

void test_false_condition_resumes_silently() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3301,1;X1,00"), "OK");
    h.send_raw("vCont;c");
    h.target.log.clear();
    h.session.on_target_stop(bp(1, 0x3301));
    CU_ASSERT_FALSE(h.session.has_output());
    CU_ASSERT_TRUE(h.target.log == Strings{"resume 1:c flags=3"});  // thread 1 alone, no stop_all
    CU_ASSERT_EQUAL(h.session.state(), SessionState::running);
    CU_ASSERT_TRUE(h.evaluator.seen == (std::vector<std::vector<std::uint8_t>>{{0x00}}));
    // gdb changes the condition: replaced, not inserted twice.
    h.session.receive("\x03");
    h.drain();
    CU_ASSERT_EQUAL(h.ask("Z0,3301,1;X1,01"), "OK");
    CU_ASSERT_EQUAL(h.target.inserted.size(), 1u);
    h.send_raw("vCont;c");
    h.session.on_target_stop(bp(1, 0x3301));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;" + kRegs1 + "swbreak:;"});
}

void test_condition_lists() {
    Harness h;
    announce(h);
    struct Case {
        const char* z;
        bool reported;
    };
    const Case cases[] = {
        {"Z0,3301,1;X1,00X1,01", true},           // any true condition reports
        {"Z0,3301,1;X1,00;X1,00", false},         // ';'-separated, all false
        {"Z0,3301,1;X1,ee", true},                // an evaluation error reports
        {"Z0,3301,1;X2,2602", true},              // reads pc (0x3301) through the target
        {"Z0,3301,1;X2,2604", true},              // no register 4: error, reports
        {"Z0,3301,1;X1,00;cmds:0,X1,00", false},  // commands ignored
        {"Z0,3301,1", true},                      // unconditional again
    };
    for (const Case& c : cases) {
        CU_ASSERT_EQUAL(h.ask(c.z), "OK");
        h.send_raw("vCont;c");
        h.target.log.clear();
        h.session.on_target_stop(bp(1, 0x3301));
        auto replies = h.drain();
        CU_ASSERT_EQUAL(replies.size(), c.reported ? 1u : 0u);
        CU_ASSERT_EQUAL(h.target.calls("resume").size(), c.reported ? 0u : 1u);
        if (!c.reported) {
            h.session.receive("\x03");
            h.drain();
        }
    }
    // A stop at an address with no breakpoint of gdb's is reported as is.
    h.send_raw("vCont;c");
    h.session.on_target_stop(bp(2, 0x5000));
    CU_ASSERT_EQUAL(h.drain().size(), 1u);
    // A hardware breakpoint's conditions are its own.
    CU_ASSERT_EQUAL(h.ask("Z1,3302,1;X1,00"), "OK");
    h.send_raw("vCont;c");
    h.target.log.clear();
    h.session.on_target_stop(bp(2, 0x3302, StopReason::hardware_breakpoint));
    CU_ASSERT_FALSE(h.session.has_output());
    CU_ASSERT_TRUE(h.target.log == Strings{"resume 2:c flags=3"});
}

// The target gets the conditional breakpoints after every change, to
// evaluate them where the stop happens: only the (type, address) groups
// with a condition, unconditional siblings of another kind included.
void test_conditions_published() {
    Harness h;
    announce(h);
    auto& pub = h.target.published;
    CU_ASSERT_EQUAL(h.ask("Z0,3301,1"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z1,4000,1"), "OK");
    CU_ASSERT_TRUE(pub.empty());  // nothing conditional: nothing sent
    CU_ASSERT_EQUAL(h.ask("Z0,3301,2;X1,00"), "OK");
    CU_ASSERT_EQUAL_FATAL(pub.size(), 1u);
    CU_ASSERT_FATAL(pub.back() != nullptr);
    auto lists = pub.back()->at(BreakpointType::software, 0x3301);
    CU_ASSERT_EQUAL_FATAL(lists.size(), 2u);
    CU_ASSERT_TRUE(lists[0]->empty());  // kind 1: unconditional, makes the stop unconditional
    CU_ASSERT_EQUAL(lists[1]->size(), 1u);
    CU_ASSERT_TRUE(pub.back()->at(BreakpointType::hardware, 0x4000).empty());
    CU_ASSERT_EQUAL(pub.back()->size(), 2u);
    CU_ASSERT_TRUE(h.target.published_space == AddressSpace::virtual_);
    // Physical mode: the conditions' memory reads follow it.
    CU_ASSERT_EQUAL(h.ask("Qqemu.PhyMemMode:1"), "OK");
    CU_ASSERT_EQUAL(pub.size(), 2u);
    CU_ASSERT_TRUE(h.target.published_space == AddressSpace::physical);
    // The last condition goes: the target hears "none".
    CU_ASSERT_EQUAL(h.ask("z0,3301,2"), "OK");
    CU_ASSERT_EQUAL_FATAL(pub.size(), 3u);
    CU_ASSERT_TRUE(pub.back() == nullptr);
    CU_ASSERT_EQUAL(h.ask("z0,3301,1"), "OK");
    CU_ASSERT_EQUAL(pub.size(), 3u);  // still none: not sent again
    // Detach clears them.
    CU_ASSERT_EQUAL(h.ask("Z1,4000,1;X1,01"), "OK");
    CU_ASSERT_EQUAL(pub.size(), 4u);
    CU_ASSERT_EQUAL(h.ask("D"), "OK");
    CU_ASSERT_EQUAL_FATAL(pub.size(), 5u);
    CU_ASSERT_TRUE(pub.back() == nullptr);
}

void test_false_condition_keeps_step_action() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1;X1,00"), "OK");
    h.send_raw("vCont;c:1;s:2");
    h.target.log.clear();
    h.session.on_target_stop(bp(2, 0x3302));
    CU_ASSERT_TRUE(h.target.log == Strings{"resume 2:s flags=3"});
    CU_ASSERT_FALSE(h.session.has_output());
}

void test_range_step() {
    Harness h;
    announce(h);
    h.send_raw("vCont;r3300,3310:1");
    CU_ASSERT_TRUE(h.target.calls("resume") == Strings{"resume 1:s 2:- flags=3"});
    h.target.log.clear();
    h.target.set_reg(1, 2, 0x3304);
    h.session.on_target_stop(step_done(1));
    CU_ASSERT_FALSE(h.session.has_output());
    CU_ASSERT_TRUE(h.target.log == (Strings{"read_registers 1", "resume 1:s flags=3"}));
    h.target.set_reg(1, 2, 0x330f);
    h.session.on_target_stop(step_done(1));
    CU_ASSERT_FALSE(h.session.has_output());
    h.target.log.clear();
    h.target.set_reg(1, 2, 0x3310);  // end is exclusive
    h.session.on_target_stop(step_done(1));
    // One register read serves the range check and the stop reply.
    CU_ASSERT_TRUE(h.target.log == (Strings{"read_registers 1", "stop_all"}));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;2:1033000000000000;1:0122000000000000;0:0111000000000000;"});
    // The range is gone after the stop: a plain step stops at once.
    h.target.set_reg(1, 2, 0x3304);
    h.send_raw("vCont;s:1");
    h.session.on_target_stop(step_done(1));
    CU_ASSERT_EQUAL(h.drain().size(), 1u);
}

void test_pending_stop_reported_on_resume() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3301,1"), "OK");
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1"), "OK");
    h.send_raw("vCont;c");
    h.session.on_target_stop(bp(1, 0x3301));
    h.session.on_target_stop(bp(2, 0x3302));  // same instant, other vCPU
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;" + kRegs1 + "swbreak:;"});
    // Stepping thread 1 alone does not release thread 2's stop.
    h.target.log.clear();
    h.send_raw("vCont;s:1");
    CU_ASSERT_TRUE(h.target.calls("resume") == Strings{"resume 1:s 2:- flags=3"});
    h.session.on_target_stop(step_done(1));
    h.drain();
    // Resuming thread 2 reports its stop without running anything.
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.send_raw("vCont;c"), frame_packet("T05thread:2;" + kRegs2 + "swbreak:;"));
    CU_ASSERT_TRUE(h.target.calls("resume").empty());
    CU_ASSERT_EQUAL(h.session.state(), SessionState::stopped);
    h.send_raw("vCont;c");
    CU_ASSERT_EQUAL(h.target.calls("resume").size(), 1u);
}

void test_stale_pending_stops_dropped() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1"), "OK");
    h.send_raw("vCont;c");
    h.session.receive("\x03");
    h.drain();
    h.session.on_target_stop(bp(2, 0x3302));
    h.session.on_target_stop(step_done(2));
    CU_ASSERT_EQUAL(h.ask("z0,3302,1"), "OK");  // gdb removed it meanwhile
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.send_raw("vCont;c"), "");
    CU_ASSERT_TRUE(h.target.log == Strings{"resume 1:c 2:c flags=3"});
    CU_ASSERT_EQUAL(h.session.state(), SessionState::running);
}

void test_step_enable_flag() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Qqemu.sstep=0"), "OK");
    h.send_raw("vCont;s:1");  // QEMU: with ENABLE clear a step continues
    CU_ASSERT_TRUE(h.target.calls("resume") == Strings{"resume 1:c 2:- flags=0"});
    h.session.receive("\x03");
    h.drain();
    CU_ASSERT_EQUAL(h.ask("Qqemu.sstep=3"), "OK");
    h.target.log.clear();
    h.send_raw("vCont;s:2");
    CU_ASSERT_TRUE(h.target.calls("resume") == Strings{"resume 1:- 2:s flags=3"});
}

void test_machine_exit() {
    Harness h;
    announce(h);
    h.send_raw("vCont;c");
    h.session.on_target_stop(StopEvent{1, StopReason::exited, 0, 0, 3});
    CU_ASSERT_TRUE(h.drain() == Strings{"W03"});
    CU_ASSERT_EQUAL(h.session.state(), SessionState::exited);
    CU_ASSERT_TRUE(h.session.finished());
    CU_ASSERT_FALSE(h.session.exit_status().has_value());
    CU_ASSERT_EQUAL(h.send_raw("?"), "");
}

void test_exit_while_stopped_waits_for_resume() {
    Harness h;
    announce(h);
    h.session.on_target_stop(StopEvent{1, StopReason::exited, 0, 0, 0});
    CU_ASSERT_FALSE(h.session.has_output());  // gdb is not waiting for a reply
    CU_ASSERT_FALSE(h.session.finished());
    CU_ASSERT_EQUAL(h.ask("qC"), "QC1");
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.send_raw("vCont;s:2"), frame_packet("W00"));
    CU_ASSERT_TRUE(h.target.calls("resume").empty());
    CU_ASSERT_EQUAL(h.session.state(), SessionState::exited);
}

void test_kill_while_running() {
    Harness h;
    announce(h);
    h.send_raw("vCont;c");
    CU_ASSERT_EQUAL(h.send_raw("k"), "");
    CU_ASSERT_EQUAL(h.session.state(), SessionState::killed);
    CU_ASSERT_TRUE(h.session.exit_status() == 0);
    h.session.on_target_stop(step_done(1));
    CU_ASSERT_FALSE(h.session.has_output());
}

// One target register read per thread per stop: the stop reply, g and p
// share it; a write, a resume or a monitor command drops it.
void test_register_cache() {
    Harness h;
    announce(h);
    h.send_raw("vCont;c");
    h.session.on_target_stop(bp(2, 0x3302));
    h.drain();
    CU_ASSERT_TRUE(h.target.calls("read_registers") == Strings{"read_registers 2"});
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.ask("p0").size(), 16u);
    CU_ASSERT_EQUAL(h.ask("g").size(), 2 * h.target.description().registers_size());
    CU_ASSERT_TRUE(h.target.calls("read_registers").empty());
    // Another thread's registers are read once, too.
    CU_ASSERT_EQUAL(h.ask("Hg1"), "OK");
    h.ask("g");
    h.ask("p7");
    CU_ASSERT_TRUE(h.target.calls("read_registers") == Strings{"read_registers 1"});
    // A register write drops the cache: the next read sees the new value.
    CU_ASSERT_EQUAL(h.ask("P2=0044000000000000"), "OK");
    h.target.log.clear();
    CU_ASSERT_EQUAL(h.ask("p2"), "0044000000000000");
    CU_ASSERT_TRUE(h.target.calls("read_registers") == Strings{"read_registers 1"});
    // So does a monitor command (system_reset changes every register).
    h.target.set_reg(1, 2, 0x5500);
    h.ask("qRcmd,68656c70");  // "help"
    CU_ASSERT_EQUAL(h.ask("p2"), "0055000000000000");
    // And a resume: the vCPU runs, its registers change.
    h.send_raw("vCont;s:1");
    h.target.set_reg(1, 2, 0x6600);
    h.session.on_target_stop(step_done(1));
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:1;2:0066000000000000;1:0122000000000000;0:0111000000000000;"});
}

// Registers the target sends along with a stop (read as the vCPU parked)
// fill the cache: the stop reply and gdb's g need no target read. Those of
// a stop kept for later, or of the wrong size, are not used.
void test_registers_with_stop() {
    Harness h;
    announce(h);
    CU_ASSERT_EQUAL(h.ask("Z0,3302,1"), "OK");
    h.send_raw("vCont;c");
    StopEvent ev = bp(2, 0x3302);
    auto regs = h.target.read_registers(2);
    CU_ASSERT_FATAL(regs.ok());
    ev.registers = *regs;
    ev.registers[h.target.description().register_offset(0)] = 0x77;  // differs from the target's own
    h.target.log.clear();
    h.session.on_target_stop(ev);
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:2;2:0233000000000000;1:0222000000000000;0:7711000000000000;"
                                        "swbreak:;"});
    CU_ASSERT_EQUAL(h.ask("p0"), "7711000000000000");
    CU_ASSERT_TRUE(h.target.calls("read_registers").empty());
    // Wrong size: ignored, read from the target.
    h.send_raw("vCont;s:2");
    ev = step_done(2);
    ev.registers.assign(3, 0x77);
    h.session.on_target_stop(ev);
    CU_ASSERT_TRUE(h.drain() == Strings{"T05thread:2;" + kRegs2});
    CU_ASSERT_TRUE(h.target.calls("read_registers") == Strings{"read_registers 2"});
    // A stop that arrives while stopped is reported later: its registers
    // may be stale by then (here gdb writes one) and are read again.
    ev = bp(1, 0x3302);
    auto regs1 = h.target.read_registers(1);
    CU_ASSERT_FATAL(regs1.ok());
    ev.registers = *regs1;
    ev.registers[h.target.description().register_offset(0)] = 0x77;
    h.session.on_target_stop(ev);
    CU_ASSERT_EQUAL(h.ask("Hg1"), "OK");
    CU_ASSERT_EQUAL(h.ask("P0=0088000000000000"), "OK");
    CU_ASSERT_EQUAL(h.send_raw("vCont;c"),
                    frame_packet("T05thread:1;2:0133000000000000;1:0122000000000000;0:0088000000000000;swbreak:;"));
}

const kvmdbg::test::TestCase kResume[] = {
    {"c, breakpoint, all-stop", test_continue_and_breakpoint_stop},
    {"stop reply reasons", test_stop_reply_reasons},
    {"swbreak only if gdb asked", test_no_swbreak_unless_gdb_asked},
    {"vCont semantics", test_vcont_semantics},
    {"legacy s/S/c/C", test_legacy_step_and_continue},
    {"Ctrl-C", test_ctrl_c},
    {"step flags", test_step_enable_flag},
    {"machine exit", test_machine_exit},
    {"exit while stopped", test_exit_while_stopped_waits_for_resume},
    {"kill while running", test_kill_while_running},
    {"register cache", test_register_cache},
    {"registers sent with the stop", test_registers_with_stop},
};
const kvmdbg::test::TestCase kConditions[] = {
    {"false condition: silent resume", test_false_condition_resumes_silently},
    {"condition lists", test_condition_lists},
    {"conditions published to the target", test_conditions_published},
    {"false condition keeps step", test_false_condition_keeps_step_action},
    {"range step", test_range_step},
    {"pending stop on resume", test_pending_stop_reported_on_resume},
    {"stale pending stops", test_stale_pending_stops_dropped},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"session resume", kResume},
    {"session conditions", kConditions},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
