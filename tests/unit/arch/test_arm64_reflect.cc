// arm64 reflection of the guest's own debug exceptions (arch/arm64/reflect.h):
// every event x every exception level / stack pointer / register width.
#include <string>

#include "arch/arm64/reflect.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::arm64;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

constexpr std::uint64_t kVbar = 0xffff800010000800ull;
constexpr std::uint64_t kPc = 0xffff800010234560ull;

// What KVM reports: always the lower-EL variant.
DecodedDebugExit event(DebugExceptionKind kind) {
    switch (kind) {
    case DebugExceptionKind::brk: return decode_debug_exit(0x3cu << 26 | 1u << 25 | 0x1234, 0, 0);
    case DebugExceptionKind::breakpoint: return decode_debug_exit(0x30u << 26 | 1u << 25 | 0x22, 0, 0);
    case DebugExceptionKind::software_step: return decode_debug_exit(0x32u << 26 | 1u << 25 | 0x22, 0, 0);
    case DebugExceptionKind::watchpoint:
        return decode_debug_exit(0x34u << 26 | 1u << 25 | 1u << 6 | 0x22, 0, 0xffff000000abcdefull);
    default: return decode_debug_exit(0x38u << 26, 0, 0);
    }
}

struct Mode {
    const char* name;
    std::uint64_t pstate;  // interrupts enabled, NZCV = 0b1010
    std::uint32_t offset;
    bool from_el1;
};

constexpr std::uint64_t kFlags = 0xa0000000ull;

const Mode kModes[] = {
    {"EL1h", kFlags | 0b00101, 0x200, true},
    {"EL1t", kFlags | 0b00100, 0x000, true},
    {"EL0t", kFlags | 0b00000, 0x400, false},
    {"EL0 AArch32 (usr)", kFlags | 0b10000, 0x600, false},
};

void check_all(bool with_ss) {
    const DebugExceptionKind kinds[] = {DebugExceptionKind::brk, DebugExceptionKind::breakpoint,
                                        DebugExceptionKind::software_step, DebugExceptionKind::watchpoint};
    for (const Mode& m : kModes) {
        for (DebugExceptionKind k : kinds) {
            ReflectInput in;
            in.pstate = m.pstate | (with_ss ? pstate::kSs : 0);
            in.pc = kPc;
            in.vbar_el1 = kVbar;
            in.event = event(k);
            auto r = plan_reflection(in);
            CU_ASSERT_FATAL(r.ok());
            const ReflectPlan& p = *r;
            // EC: BRK stays; others become the guest's variant.
            std::uint32_t want_ec = 0;
            switch (k) {
            case DebugExceptionKind::brk: want_ec = 0x3c; break;
            case DebugExceptionKind::breakpoint: want_ec = m.from_el1 ? 0x31 : 0x30; break;
            case DebugExceptionKind::software_step: want_ec = m.from_el1 ? 0x33 : 0x32; break;
            default: want_ec = m.from_el1 ? 0x35 : 0x34; break;
            }
            CU_ASSERT_EQUAL(esr_ec(p.esr_el1), want_ec);
            CU_ASSERT((p.esr_el1 & kEsrIl) != 0);
            CU_ASSERT_EQUAL(esr_iss(p.esr_el1), in.event.iss);
            CU_ASSERT_EQUAL(p.esr_el1 >> 32, 0ull);
            CU_ASSERT_EQUAL(p.writes_far, k == DebugExceptionKind::watchpoint);
            if (k == DebugExceptionKind::watchpoint) {
                CU_ASSERT_EQUAL(p.far_el1, 0xffff000000abcdefull);
            }
            CU_ASSERT_EQUAL(p.elr_el1, kPc);
            std::uint64_t want_spsr = in.pstate;
            if (k == DebugExceptionKind::software_step) {
                want_spsr &= ~pstate::kSs;
            }
            CU_ASSERT_EQUAL(p.spsr_el1, want_spsr);
            // EL1h, DAIF masked, SS/IL clear, NZCV kept.
            CU_ASSERT_EQUAL(p.pstate, kFlags | pstate::kDaif | 0b00101);
            CU_ASSERT_EQUAL(p.vector_offset, m.offset);
            CU_ASSERT_EQUAL(p.pc, kVbar + m.offset);
            // Never a no-op: the guest goes to its vector, not back to the BRK.
            CU_ASSERT(p.pc != in.pc);
        }
    }
}

void test_every_event_every_mode() { check_all(false); }
void test_every_event_every_mode_with_ss() { check_all(true); }

void test_exact_bytes_brk_from_el1h() {
    ReflectInput in;
    in.pstate = 0x60000005;  // Z C, EL1h, DAIF clear
    in.pc = 0x40080000;
    in.vbar_el1 = 0x40081000;
    in.event = event(DebugExceptionKind::brk);
    auto r = plan_reflection(in);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->esr_el1, 0xf2001234ull);
    CU_ASSERT_EQUAL(r->elr_el1, 0x40080000ull);
    CU_ASSERT_EQUAL(r->spsr_el1, 0x60000005ull);
    CU_ASSERT_EQUAL(r->pstate, 0x600003c5ull);
    CU_ASSERT_EQUAL(r->pc, 0x40081200ull);
}

void test_iss2_carried() {
    ReflectInput in;
    in.pstate = 0b00101;
    in.vbar_el1 = 0x800;
    in.event = decode_debug_exit(0x34u << 26 | 1u << 25 | 0x22, 0x12, 0x1000);
    auto r = plan_reflection(in);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->esr_el1, 0x12ull << 32 | 0x35ull << 26 | 1ull << 25 | 0x22);
}

void test_entry_features() {
    ReflectInput in;
    in.pstate = 0b00000 | pstate::kUao | pstate::kBtype | pstate::kIl;
    in.vbar_el1 = 0x1000;
    in.event = event(DebugExceptionKind::brk);
    in.features = {true, true, true, true};
    in.sctlr_el1 = sctlr::kDssbs;  // SPAN = 0: PAN set; DSSBS = 1: SSBS set
    auto r = plan_reflection(in);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->pstate, pstate::kDaif | 0b00101 | pstate::kPan | pstate::kSsbs | pstate::kTco);
    in.sctlr_el1 = sctlr::kSpan;
    in.pstate |= pstate::kSsbs;
    r = plan_reflection(in);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->pstate & (pstate::kPan | pstate::kSsbs), 0ull);
    // Without the features, PAN/UAO/SSBS/TCO pass through unchanged.
    in.features = {};
    in.pstate = pstate::kUao | pstate::kPan;
    r = plan_reflection(in);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->pstate, pstate::kUao | pstate::kPan | pstate::kDaif | 0b00101);
}

void test_aarch32_state_bits_dropped() {
    ReflectInput in;
    in.pstate = 0xf8000000ull | 0x0600fc20ull | 0b10000;  // NZCV Q, IT/GE/T bits, usr
    in.vbar_el1 = 0x2000;
    in.event = event(DebugExceptionKind::breakpoint);
    auto r = plan_reflection(in);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->pstate, 0xf0000000ull | pstate::kDaif | 0b00101);
    CU_ASSERT_EQUAL(r->spsr_el1, in.pstate);
    CU_ASSERT_EQUAL(r->pc, 0x2600ull);
}

void test_refusals() {
    ReflectInput in;
    in.vbar_el1 = 0x1000;
    in.event = event(DebugExceptionKind::brk);
    in.pstate = 0b01001;  // EL2h
    auto r = plan_reflection(in);
    CU_ASSERT(!r.ok() && r.error().code == ENOTSUP && contains(r.error().message, "EL2"));
    in.pstate = 0b01101;  // EL3h
    CU_ASSERT(!plan_reflection(in).ok());
    in.pstate = 0b10011;  // AArch32 svc
    r = plan_reflection(in);
    CU_ASSERT(!r.ok() && r.error().code == ENOTSUP);
    in.pstate = 0b00101;
    in.vbar_el1 = 0x1080;
    r = plan_reflection(in);
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "VBAR_EL1 0x1080"));
    in.vbar_el1 = 0x1000;
    in.event = event(DebugExceptionKind::unknown);
    r = plan_reflection(in);
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "0x38"));
}

// Random exits and guest states: classification never crashes and a
// reflection either lands on one of the four synchronous vectors or is
// refused with a message.
void test_random_exits() {
    std::uint64_t seed = 0x2545f4914f6cdd1dull;
    auto next = [&seed]() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed;
    };
    DebugRegPlan plan = make_debug_reg_plan({6, 4});
    CU_ASSERT_FATAL(place_debug_request(plan, 1, {DebugAccess::write, 0x1003, 14}).ok());
    CU_ASSERT_FATAL(place_debug_request(plan, 2, {DebugAccess::exec, 0x4000, 4}).ok());
    unsigned planned = 0;
    for (int i = 0; i < 20000; ++i) {
        std::uint32_t hsr = static_cast<std::uint32_t>(next());
        if (i % 2 == 0) {  // half of them with a debug EC
            const std::uint32_t ecs[] = {0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x3c};
            hsr = (hsr & 0x3ffffff) | ecs[next() % 7] << 26;
        }
        DebugExitInfo e{hsr,
                        static_cast<std::uint32_t>(next()),
                        0x1000 + next() % 0x20,
                        0x4000 + (next() % 2) * 4,
                        (next() & 1) != 0,
                        (next() & 1) != 0};
        DebugEvent ev = classify_debug_exit(e, plan);
        CU_ASSERT(!ev.valueless_by_exception());
        ReflectInput in;
        in.pstate = next() & 0xffffffffull;
        in.pc = next();
        in.vbar_el1 = (i % 3 == 0) ? next() : next() & ~0x7ffull;
        in.sctlr_el1 = next();
        in.event = decode_debug_exit(e.hsr, e.hsr_high, e.far);
        auto r = plan_reflection(in);
        if (r.ok()) {
            ++planned;
            std::uint64_t off = r->pc - in.vbar_el1;
            CU_ASSERT(off == 0 || off == 0x200 || off == 0x400 || off == 0x600);
            CU_ASSERT_EQUAL(r->pstate & 0x1f, 0b00101ull);
            CU_ASSERT_EQUAL(r->pstate & pstate::kDaif, pstate::kDaif);
            CU_ASSERT_EQUAL(r->elr_el1, in.pc);
        } else {
            CU_ASSERT(!r.error().message.empty());
        }
    }
    CU_ASSERT(planned > 0);
}

const kvmdbg::test::TestCase kCases[] = {
    {"every event x every mode", test_every_event_every_mode},
    {"every event x every mode, PSTATE.SS set", test_every_event_every_mode_with_ss},
    {"exact bytes: BRK from EL1h", test_exact_bytes_brk_from_el1h},
    {"ISS2 carried", test_iss2_carried},
    {"PAN/UAO/SSBS/TCO on entry", test_entry_features},
    {"AArch32 state bits dropped", test_aarch32_state_bits_dropped},
    {"refusals", test_refusals},
    {"random exits and states", test_random_exits},
};
const kvmdbg::test::TestSuite kSuites[] = {{"arm64 reflection", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
