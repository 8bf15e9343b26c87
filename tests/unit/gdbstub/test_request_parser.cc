// parse_request: every packet kvmdbg implements, field by field, and the
// malformed (E22) and unknown (empty reply) paths of each family.
#include <string>
#include <vector>

#include "gdbstub-glue/request_parser.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::gdb;
using Bytes = std::vector<std::uint8_t>;

// The request as a T, by value (the parse result is a temporary).
template <typename T>
std::optional<T> as(const std::optional<Request>& r) {
    if (r && std::holds_alternative<T>(*r)) {
        return std::get<T>(*r);
    }
    return std::nullopt;
}

bool is_malformed(std::string_view payload) { return as<MalformedPacket>(parse_request(payload)).has_value(); }
bool is_unknown(std::string_view payload) { return !parse_request(payload).has_value(); }

void test_simple_packets() {
    CU_ASSERT_TRUE(as<QueryHaltReason>(parse_request("?")).has_value());
    CU_ASSERT_TRUE(as<ReadRegisters>(parse_request("g")).has_value());
    CU_ASSERT_TRUE(as<VContQuery>(parse_request("vCont?")).has_value());
    CU_ASSERT_TRUE(as<StartNoAckMode>(parse_request("QStartNoAckMode")).has_value());
    CU_ASSERT_TRUE(as<QueryCurrentThread>(parse_request("qC")).has_value());
    CU_ASSERT_TRUE(as<QueryThreadList>(parse_request("qfThreadInfo"))->first);
    CU_ASSERT_FALSE(as<QueryThreadList>(parse_request("qsThreadInfo"))->first);
    CU_ASSERT_TRUE(as<QueryAttached>(parse_request("qAttached")).has_value());
    CU_ASSERT_TRUE(as<QueryAttached>(parse_request("qAttached:1")).has_value());
    CU_ASSERT_TRUE(as<Detach>(parse_request("D")).has_value());
    CU_ASSERT_TRUE(as<Detach>(parse_request("D;1")).has_value());
    CU_ASSERT_FALSE(as<Kill>(parse_request("k"))->reply);
    CU_ASSERT_TRUE(as<Kill>(parse_request("vKill;1"))->reply);
    CU_ASSERT_TRUE(as<Kill>(parse_request("vKill"))->reply);
    CU_ASSERT_TRUE(as<QemuQuerySupported>(parse_request("qqemu.Supported")).has_value());
    CU_ASSERT_TRUE(as<QemuQueryStepBits>(parse_request("qqemu.sstepbits")).has_value());
    CU_ASSERT_TRUE(as<QemuQueryStepFlags>(parse_request("qqemu.sstep")).has_value());
    CU_ASSERT_TRUE(as<QemuQueryPhysicalMode>(parse_request("qqemu.PhyMemMode")).has_value());
    // Trailing text on a one-letter command is malformed.
    CU_ASSERT_TRUE(is_malformed("?x"));
    CU_ASSERT_TRUE(is_malformed("gx"));
    CU_ASSERT_TRUE(is_malformed("k1"));
    CU_ASSERT_TRUE(is_malformed("Dx"));
}

void test_unknown_packets() {
    for (const char* p : {"",
                          "vMustReplyEmpty",
                          "qTStatus",
                          "qOffsets",
                          "qSymbol::",
                          "!",
                          "vAttach;1",
                          "qCRC:0,4",
                          "qfThreadInfoX",
                          "qAttachedX",
                          "qSupportedX",
                          "vContX",
                          "vKillX",
                          "QNonStop:0",
                          "qqemu.sstepx",
                          "QStartNoAckModeX",
                          "qXfer:features:write:a:0:b",
                          "Z5,1000,1",
                          "zf,1000,1",
                          "bc",
                          "i",
                          "R00",
                          "qL1200000000000000000",
                          "vFile:open:x"}) {
        CU_ASSERT_TRUE(is_unknown(p));
    }
}

void test_registers() {
    auto G = as<WriteRegisters>(parse_request("G0011aAfF"));
    CU_ASSERT_TRUE(G && G->data == (Bytes{0x00, 0x11, 0xaa, 0xff}));
    CU_ASSERT_EQUAL(as<ReadRegister>(parse_request("p10"))->regnum, 16u);
    auto P = as<WriteRegister>(parse_request("P1f=01020304"));
    CU_ASSERT_TRUE(P && P->regnum == 31 && P->value == (Bytes{1, 2, 3, 4}));
    for (const char* bad : {"G", "G0", "G0g", "p", "px", "p-1", "P", "P1", "P1=", "P=00", "P1=0", "Px=00"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
}

void test_memory() {
    auto m = as<ReadMemory>(parse_request("mffffffff81000000,40"));
    CU_ASSERT_TRUE(m && m->addr == 0xffffffff81000000u && m->length == 0x40 && !m->binary);
    auto x = as<ReadMemory>(parse_request("x1000,0"));
    CU_ASSERT_TRUE(x && x->addr == 0x1000 && x->length == 0 && x->binary);
    auto M = as<WriteMemory>(parse_request("M1000,2:abCD"));
    CU_ASSERT_TRUE(M && M->addr == 0x1000 && M->data == (Bytes{0xab, 0xcd}));
    auto M0 = as<WriteMemory>(parse_request("M1000,0:"));
    CU_ASSERT_TRUE(M0 && M0->data.empty());
    std::string bin = "X2000,5:a}\x03}\x04}]}\x0a";
    auto X = as<WriteMemory>(parse_request(bin));
    CU_ASSERT_TRUE(X && X->addr == 0x2000 && X->data == (Bytes{'a', '#', '$', '}', '*'}));
    // ':' and ',' inside binary data are data.
    auto Xc = as<WriteMemory>(parse_request("X0,3::,:"));
    CU_ASSERT_TRUE(Xc && Xc->data == (Bytes{':', ',', ':'}));
    for (const char* bad :
         {"m", "m1000", "m1000,", "m,4", "mxyz,4", "m1000,4,5", "m10000000000000000,1", "x1000", "M1000,2",
          "M1000,2:ab", "M1000,1:abc", "M1000,1:zz", "Mx,1:00", "X1000,2:a", "X1000,1:ab", "X1000,1:}", "X1000,1"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
}

void test_resume() {
    auto c = as<Resume>(parse_request("c"));
    CU_ASSERT_TRUE(c && !c->step && c->signal == 0 && !c->addr);
    auto ca = as<Resume>(parse_request("c400000"));
    CU_ASSERT_TRUE(ca && ca->addr == 0x400000u);
    auto s = as<Resume>(parse_request("s"));
    CU_ASSERT_TRUE(s && s->step && !s->addr);
    auto C = as<Resume>(parse_request("C0b"));
    CU_ASSERT_TRUE(C && !C->step && C->signal == 11 && !C->addr);
    auto S = as<Resume>(parse_request("S05;1000"));
    CU_ASSERT_TRUE(S && S->step && S->signal == 5 && S->addr == 0x1000u);
    for (const char* bad : {"cx", "sq", "C", "Cxx", "C100", "S05;", "S05;zz", "C;1000"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
}

void test_vcont() {
    auto v = as<VCont>(parse_request("vCont;s:1;c"));
    CU_ASSERT_FATAL(v.has_value());
    CU_ASSERT_EQUAL(v->actions.size(), 2u);
    CU_ASSERT_TRUE(v->actions[0].kind == VContAction::Kind::step && v->actions[0].thread == 1);
    CU_ASSERT_TRUE(v->actions[1].kind == VContAction::Kind::continue_ && !v->actions[1].thread);

    auto all = as<VCont>(parse_request("vCont;C0b:2;S05:-1;t:1c;r1000,2000:3"));
    CU_ASSERT_FATAL(all.has_value());
    CU_ASSERT_EQUAL(all->actions.size(), 4u);
    CU_ASSERT_TRUE(all->actions[0].kind == VContAction::Kind::continue_ && all->actions[0].signal == 11 &&
                   all->actions[0].thread == 2);
    CU_ASSERT_TRUE(all->actions[1].kind == VContAction::Kind::step && all->actions[1].signal == 5 &&
                   all->actions[1].thread == kAllThreads);
    CU_ASSERT_TRUE(all->actions[2].kind == VContAction::Kind::stop && all->actions[2].thread == 0x1c);
    CU_ASSERT_TRUE(all->actions[3].kind == VContAction::Kind::range_step && all->actions[3].range_start == 0x1000 &&
                   all->actions[3].range_end == 0x2000 && all->actions[3].thread == 3);
    for (const char* bad : {"vCont", "vCont;", "vCont;c;", "vCont;x", "vCont;c:", "vCont;c:zz", "vCont;C", "vCont;C:1",
                            "vCont;s1", "vCont;r1000", "vCont;r2000,1000:1", "vCont;c:-2"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
}

void test_breakpoints() {
    auto z = as<InsertBreakpoint>(parse_request("Z0,401010,1"));
    CU_ASSERT_TRUE(z && z->type == BreakpointType::software && z->addr == 0x401010 && z->kind == 1 &&
                   z->conditions.empty());
    auto w = as<InsertBreakpoint>(parse_request("Z4,7ffe0000,8"));
    CU_ASSERT_TRUE(w && w->type == BreakpointType::access_watch && w->kind == 8);
    // gdb 13 writes condition entries back to back.
    auto c = as<InsertBreakpoint>(parse_request("Z1,1000,1;X3,220127X2,2201"));
    CU_ASSERT_TRUE(c && c->type == BreakpointType::hardware && c->conditions.size() == 2);
    CU_ASSERT_TRUE(c && c->conditions[0] == (Bytes{0x22, 0x01, 0x27}) && c->conditions[1] == (Bytes{0x22, 0x01}));
    auto sep = as<InsertBreakpoint>(parse_request("Z0,1000,1;X1,00;X1,01"));
    CU_ASSERT_TRUE(sep && sep->conditions.size() == 2);
    auto cmds = as<InsertBreakpoint>(parse_request("Z0,1000,1;X1,01;cmds:0,X3,220127"));
    CU_ASSERT_TRUE(cmds && cmds->conditions == std::vector<Bytes>{{0x01}});
    auto only_cmds = as<InsertBreakpoint>(parse_request("Z0,1000,1;cmds:1,X3,220127"));
    CU_ASSERT_TRUE(only_cmds && only_cmds->conditions.empty());
    auto r = as<RemoveBreakpoint>(parse_request("z3,1234,2"));
    CU_ASSERT_TRUE(r && r->type == BreakpointType::read_watch && r->addr == 0x1234 && r->kind == 2);
    for (const char* bad :
         {"Z", "Z0", "Z0,1000", "Z0,,1", "Zx,1000,1", "Z0,1000,1;X", "Z0,1000,1;X0,", "Z0,1000,1;X2,22",
          "Z0,1000,1;X1,zz", "Z0,1000,1;Y1,00", "Z2,1000,4;X1,01", "z0,1000", "z0,1000,1;X1,01", "z", "zq,1,1"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
    CU_ASSERT_TRUE(is_unknown("Z5,1000,1"));
    CU_ASSERT_TRUE(is_unknown("z10,1000,1"));
}

void test_threads() {
    auto hg = as<SetThread>(parse_request("Hg1c"));
    CU_ASSERT_TRUE(hg && hg->op == SetThread::Op::general && hg->thread == 0x1c);
    auto hc = as<SetThread>(parse_request("Hc-1"));
    CU_ASSERT_TRUE(hc && hc->op == SetThread::Op::continue_ && hc->thread == kAllThreads);
    CU_ASSERT_EQUAL(as<SetThread>(parse_request("Hg0"))->thread, kAnyThread);
    CU_ASSERT_EQUAL(as<ThreadAlive>(parse_request("T2"))->thread, 2);
    CU_ASSERT_EQUAL(as<QueryThreadExtraInfo>(parse_request("qThreadExtraInfo,a"))->thread, 10);
    for (const char* bad : {"H", "Hg", "Hx1", "Hgz", "Hg-2", "Hgp1.1", "T", "Tz", "qThreadExtraInfo,",
                            "qThreadExtraInfo,q", "Hg80000000"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
}

void test_queries() {
    auto sup = as<QuerySupported>(parse_request("qSupported:multiprocess+;swbreak+;;xmlRegisters=i386"));
    CU_ASSERT_TRUE(sup &&
                   sup->features == (std::vector<std::string>{"multiprocess+", "swbreak+", "xmlRegisters=i386"}));
    CU_ASSERT_TRUE(as<QuerySupported>(parse_request("qSupported"))->features.empty());
    auto x = as<XferRead>(parse_request("qXfer:features:read:target.xml:0,ffb"));
    CU_ASSERT_TRUE(x && x->object == "features" && x->annex == "target.xml" && x->offset == 0 && x->length == 0xffb);
    auto mm = as<XferRead>(parse_request("qXfer:memory-map:read::100,200"));
    CU_ASSERT_TRUE(mm && mm->object == "memory-map" && mm->annex.empty() && mm->offset == 0x100);
    auto rc = as<MonitorCommand>(parse_request("qRcmd,696e666f20726567"));
    CU_ASSERT_TRUE(rc && rc->command == "info reg");
    CU_ASSERT_TRUE(as<MonitorCommand>(parse_request("qRcmd,"))->command.empty());
    CU_ASSERT_EQUAL(as<QemuSetStepFlags>(parse_request("Qqemu.sstep=3"))->flags, 3u);
    CU_ASSERT_EQUAL(as<QemuSetStepFlags>(parse_request("Qqemu.sstep=0x5"))->flags, 5u);
    CU_ASSERT_TRUE(as<QemuSetPhysicalMode>(parse_request("Qqemu.PhyMemMode:1"))->physical);
    CU_ASSERT_FALSE(as<QemuSetPhysicalMode>(parse_request("Qqemu.PhyMemMode:0"))->physical);
    for (const char* bad :
         {"qXfer:features", "qXfer:features:read", "qXfer:features:read:target.xml", "qXfer:features:read:target.xml:0",
          "qXfer:features:read:target.xml:x,1", "qRcmd,6", "qRcmd,zz", "Qqemu.sstep=", "Qqemu.sstep=0x",
          "Qqemu.sstep=q", "Qqemu.PhyMemMode:", "Qqemu.PhyMemMode:x"}) {
        CU_ASSERT_TRUE(is_malformed(bad));
    }
}

void test_hostile_inputs() {
    // Every prefix of a long valid packet, and bytes that are not text:
    // parse_request answers each without crashing.
    std::string p = "Z0,ffffffff81000000,1;X3,220127X2,2201;cmds:0,X1,01";
    for (std::size_t n = 0; n <= p.size(); ++n) {
        (void)parse_request(p.substr(0, n));
    }
    std::string binary;
    for (int i = 0; i < 256; ++i) {
        binary.push_back(static_cast<char>(i));
    }
    for (char first : std::string("?gGpPmMxXcCsSZzHTDkvqQ")) {
        (void)parse_request(std::string(1, first) + binary);
    }
    CU_ASSERT_TRUE(is_malformed("Z0,1000,1;X8000000000000000,00"));
    CU_ASSERT_TRUE(is_malformed("Z0,1000,1;Xffffffffffffffffff,00"));
}

const kvmdbg::test::TestCase kCases[] = {
    {"simple packets", test_simple_packets},
    {"unknown packets", test_unknown_packets},
    {"registers", test_registers},
    {"memory", test_memory},
    {"c C s S", test_resume},
    {"vCont", test_vcont},
    {"Z z", test_breakpoints},
    {"threads", test_threads},
    {"queries", test_queries},
    {"hostile inputs", test_hostile_inputs},
};
const kvmdbg::test::TestSuite kSuites[] = {{"request parser", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
