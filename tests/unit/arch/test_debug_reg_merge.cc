// Guest + debugger debug-register merge, DR6 translation into the guest's
// numbering, and MOV DR emulation (arch/x86/debug_reg_merge.h).
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "arch/x86/cpu_state.h"
#include "arch/x86/debug_reg_merge.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// The guest's own DR0 execute breakpoint, enabled with L0 (as KVM_GET_DEBUGREGS returns it).
X86DebugRegs guest_dr0_exec() {
    X86DebugRegs g;
    g.dr[0] = 0x401000;
    g.dr[1] = 0xdead0000;  // stale value in a disabled slot: must not be loaded
    g.dr7 = dr7::kFixed1 | dr7::local_enable(0);
    return g;
}

// ------------------------------------------------------------------- merge

void test_merge_guest_dr0_plus_two_watchpoints() {
    const std::vector<DebuggerRequestEntry> reqs = {
        {1, {DebugAccess::write, 0x2000, 4}},
        {2, {DebugAccess::access, 0x3000, 8}},
    };
    auto plan = merge_debug_regs(guest_dr0_exec(), reqs);
    CU_ASSERT_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan->regs.dr[0], 0x401000u);
    CU_ASSERT_EQUAL(plan->regs.dr[1], 0x2000u);
    CU_ASSERT_EQUAL(plan->regs.dr[2], 0x3000u);
    CU_ASSERT_EQUAL(plan->regs.dr[3], 0u);
    // bit 10 | GD | L0 | GE | G1 RW1=01 LEN1=11 | G2 RW2=11 LEN2=10
    CU_ASSERT_EQUAL(plan->regs.dr7, 0x0bd02629ull);
    CU_ASSERT(plan->owners[0].kind == SlotOwner::Kind::guest);
    CU_ASSERT_EQUAL(plan->owners[0].guest_slot, 0u);
    CU_ASSERT(plan->owners[1].kind == SlotOwner::Kind::debugger);
    CU_ASSERT_EQUAL(plan->owners[1].request_id, 1u);
    CU_ASSERT(plan->owners[2].kind == SlotOwner::Kind::debugger);
    CU_ASSERT_EQUAL(plan->owners[2].request_id, 2u);
    CU_ASSERT(plan->owners[3].kind == SlotOwner::Kind::free);
}

void test_merge_guest_slot_keeps_its_position() {
    // The guest uses DR2 only (write, 2 bytes, L2) and an I/O breakpoint in DR3
    // (R/W=10, G3); both are copied bit for bit at their own positions.
    X86DebugRegs g;
    g.dr[2] = 0x5000;
    g.dr[3] = 0x3f8;
    g.dr7 = dr7::kFixed1 | dr7::kLE;
    g.dr7 = dr7_set_slot(g.dr7, 2, {true, false, Dr7Rw::write, 2}).value();
    g.dr7 = dr7_set_slot(g.dr7, 3, {false, true, Dr7Rw::io, 1}).value();
    const std::vector<DebuggerRequestEntry> reqs = {{5, {DebugAccess::exec, 0x400000, 1}}};
    auto plan = merge_debug_regs(g, reqs);
    CU_ASSERT_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan->regs.dr[0], 0x400000u);
    CU_ASSERT_EQUAL(plan->regs.dr[2], 0x5000u);
    CU_ASSERT_EQUAL(plan->regs.dr[3], 0x3f8u);
    CU_ASSERT(plan->owners[0].kind == SlotOwner::Kind::debugger);
    CU_ASSERT(plan->owners[1].kind == SlotOwner::Kind::free);
    CU_ASSERT(plan->owners[2].kind == SlotOwner::Kind::guest && plan->owners[2].guest_slot == 2);
    CU_ASSERT(plan->owners[3].kind == SlotOwner::Kind::guest && plan->owners[3].guest_slot == 3);
    const std::uint64_t guest_slots = g.dr7 & 0xff00fff0ull & ~dr7::kFixed1 & ~dr7::kLE;
    CU_ASSERT_EQUAL(plan->regs.dr7,
                    dr7::kFixed1 | dr7::kGD | dr7::kLE | dr7::kGE | dr7::global_enable(0) | guest_slots);
}

void test_merge_no_guest_slots_sets_gd() {
    X86DebugRegs g;  // nothing enabled
    g.dr7 = dr7::kFixed1;
    auto plan = merge_debug_regs(g, {});
    CU_ASSERT_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan->regs.dr7, dr7::kFixed1 | dr7::kGD);
    CU_ASSERT_EQUAL(free_slot_count(plan.value()), 4u);
}

X86DebugRegs guest_three_slots() {
    X86DebugRegs g;
    g.dr[0] = 0x401000;
    g.dr[1] = 0x402000;
    g.dr[3] = 0x6000;
    g.dr7 = dr7::kFixed1 | dr7::local_enable(0) | dr7::global_enable(1);
    g.dr7 = dr7_set_slot(g.dr7, 3, {true, false, Dr7Rw::write, 8}).value();
    return g;
}

void test_merge_exhaustion_keeps_guest_slots() {
    const X86DebugRegs g = guest_three_slots();
    const std::vector<DebuggerRequestEntry> reqs = {
        {1, {DebugAccess::exec, 0x400000, 1}},
        {2, {DebugAccess::write, 0x2000, 4}},
    };
    auto plan = merge_debug_regs(g, reqs);
    CU_ASSERT_FATAL(!plan.ok());
    CU_ASSERT_EQUAL(plan.error().code, ENOSPC);
    CU_ASSERT(contains(plan.error().message, "the guest uses 3"));
    CU_ASSERT(contains(plan.error().message, "write watchpoint at 0x2000"));

    // The guest-initiated path evicts the debugger, never the guest.
    MergedDebugRegs m = merge_debug_regs_evicting(g, reqs);
    CU_ASSERT_EQUAL_FATAL(m.evicted.size(), 1u);
    CU_ASSERT_EQUAL(m.evicted[0], 2u);
    for (unsigned n : {0u, 1u, 3u}) {
        CU_ASSERT(m.plan.owners[n].kind == SlotOwner::Kind::guest);
        CU_ASSERT_EQUAL(m.plan.owners[n].guest_slot, n);
        CU_ASSERT_EQUAL(m.plan.regs.dr[n], g.dr[n]);
        CU_ASSERT_EQUAL(dr7_clear_slot(g.dr7, n) ^ g.dr7, dr7_clear_slot(m.plan.regs.dr7, n) ^ m.plan.regs.dr7);
    }
    CU_ASSERT(m.plan.owners[2].kind == SlotOwner::Kind::debugger);
    CU_ASSERT_EQUAL(m.plan.regs.dr[2], 0x400000u);
}

void test_merge_split_request_does_not_fit_beside_guest() {
    X86DebugRegs g;
    g.dr[0] = 0x401000;
    g.dr[1] = 0x402000;
    g.dr7 = dr7::kFixed1 | dr7::local_enable(0) | dr7::local_enable(1);
    // 0x1003 len 6 needs 3 slots, 2 free.
    const std::vector<DebuggerRequestEntry> reqs = {{9, {DebugAccess::write, 0x1003, 6}}};
    auto plan = merge_debug_regs(g, reqs);
    CU_ASSERT_FATAL(!plan.ok());
    CU_ASSERT_EQUAL(plan.error().code, ENOSPC);
    CU_ASSERT(contains(plan.error().message, "the guest uses 2"));
    CU_ASSERT(contains(plan.error().message, "needs 3"));
    // A 2-slot split fits.
    const std::vector<DebuggerRequestEntry> two = {{9, {DebugAccess::write, 0x1002, 4}}};
    auto ok = merge_debug_regs(g, two);
    CU_ASSERT_FATAL(ok.ok());
    CU_ASSERT_EQUAL(ok->regs.dr[2], 0x1002u);
    CU_ASSERT_EQUAL(ok->regs.dr[3], 0x1004u);
}

// ---------------------------------------------------------------- DR6 view

void test_guest_view_dr6_identity_and_debugger_bits_dropped() {
    const std::vector<DebuggerRequestEntry> reqs = {{1, {DebugAccess::exec, 0x400000, 1}}};
    auto plan = merge_debug_regs(guest_dr0_exec(), reqs);  // DR0 guest, DR1 debugger
    CU_ASSERT_FATAL(plan.ok());
    // B0 (guest) stays B0; B1 (debugger) and B3 (free) are dropped.
    CU_ASSERT_EQUAL(guest_view_dr6(dr6::kInit | 0b1011, plan.value()), dr6::kInit | 0b0001);
    // BS, BT, BD and cleared active-low bits are preserved; fixed ones added.
    CU_ASSERT_EQUAL(guest_view_dr6(dr6::kBS | dr6::kBT | dr6::kBD | 0b0010, plan.value()),
                    dr6::kFixed1 | dr6::kBS | dr6::kBT | dr6::kBD);
    CU_ASSERT_EQUAL(guest_view_dr6(dr6::kFixed1 | dr6::kBLD | 0b0001, plan.value()),
                    dr6::kFixed1 | dr6::kBLD | 0b0001);  // RTM clear stays clear
    CU_ASSERT_EQUAL(guest_view_dr6(0xffffffff00000000ull | dr6::kInit, plan.value()), dr6::kInit);
}

void test_guest_view_dr6_renumbers_relocated_slots() {
    // A plan whose guest slots do not sit at their own positions (built by
    // hand: the translation must follow the owner table, not assume identity).
    DebugRegPlan plan;
    plan.owners[0] = SlotOwner{SlotOwner::Kind::debugger, 0, 4, {DebugAccess::exec, 0x1, 1}};
    plan.owners[1] = SlotOwner{SlotOwner::Kind::guest, 3, 0, {}};
    plan.owners[2] = SlotOwner{SlotOwner::Kind::guest, 0, 0, {}};
    CU_ASSERT_EQUAL(guest_view_dr6(dr6::kInit | dr6::hit(1), plan), dr6::kInit | dr6::hit(3));
    CU_ASSERT_EQUAL(guest_view_dr6(dr6::kInit | dr6::hit(2), plan), dr6::kInit | dr6::hit(0));
    CU_ASSERT_EQUAL(guest_view_dr6(dr6::kInit | dr6::hit(0) | dr6::hit(1) | dr6::hit(2) | dr6::kBS, plan),
                    dr6::kInit | dr6::hit(3) | dr6::hit(0) | dr6::kBS);
}

// ---------------------------------------------------------------- MOV DR

MovDrContext ctx64() {
    MovDrContext c;
    c.regs.dr[0] = 0x1111;
    c.regs.dr[1] = 0x2222;
    c.regs.dr[2] = 0x3333;
    c.regs.dr[3] = 0x4444;
    c.regs.dr6 = dr6::kInit | dr6::hit(1);
    c.regs.dr7 = dr7::kFixed1 | dr7::local_enable(1);
    for (unsigned i = 0; i < 16; ++i) {
        c.gpr[i] = 0xa0a0a0a000000000ull + i;
    }
    return c;
}

MovDrOutcome emulate(std::vector<std::uint8_t> bytes, const MovDrContext& c) {
    auto r = emulate_mov_dr(bytes, c);
    CU_ASSERT_FATAL(r.ok());
    return r.value();
}

void test_mov_from_dr7_to_rax() {
    MovDrContext c = ctx64();
    MovDrOutcome o = emulate({0x0f, 0x21, 0xf8, 0x90}, c);  // mov %dr7,%rax ; nop
    CU_ASSERT(o.action == MovDrAction::done);
    CU_ASSERT_EQUAL(o.length, 3u);
    CU_ASSERT_EQUAL(o.dr, 7u);
    CU_ASSERT(!o.to_dr);
    CU_ASSERT_EQUAL(o.gpr[KVMDBG_X86_RAX], c.regs.dr7);
    for (unsigned i = 1; i < 16; ++i) {
        CU_ASSERT_EQUAL(o.gpr[i], c.gpr[i]);
    }
    CU_ASSERT(std::memcmp(&o.regs, &c.regs, sizeof c.regs) == 0);
    // mod is ignored: 0f 21 38 is the same instruction.
    MovDrOutcome m = emulate({0x0f, 0x21, 0x38}, c);
    CU_ASSERT_EQUAL(m.gpr[KVMDBG_X86_RAX], c.regs.dr7);
}

void test_mov_gpr_encoding_order() {
    MovDrContext c = ctx64();
    // 0f 21 d3: reg=2 (DR2), rm=3 = rbx (kvm_regs index 1, not 3).
    MovDrOutcome o = emulate({0x0f, 0x21, 0xd3}, c);
    CU_ASSERT_EQUAL(o.gpr[KVMDBG_X86_RBX], 0x3333u);
    CU_ASSERT_EQUAL(o.gpr[KVMDBG_X86_RDX], c.gpr[KVMDBG_X86_RDX]);
    // Every rm: 0f 23 /r with reg=0 writes DR0 from that register.
    const unsigned order[8] = {KVMDBG_X86_RAX, KVMDBG_X86_RCX, KVMDBG_X86_RDX, KVMDBG_X86_RBX,
                               KVMDBG_X86_RSP, KVMDBG_X86_RBP, KVMDBG_X86_RSI, KVMDBG_X86_RDI};
    for (unsigned rm = 0; rm < 8; ++rm) {
        MovDrOutcome w = emulate({0x0f, 0x23, static_cast<std::uint8_t>(0xc0 | rm)}, c);
        CU_ASSERT_EQUAL(w.regs.dr[0], c.gpr[order[rm]]);
        MovDrOutcome x = emulate({0x41, 0x0f, 0x23, static_cast<std::uint8_t>(0xc0 | rm)}, c);
        CU_ASSERT_EQUAL(x.regs.dr[0], c.gpr[8 + rm]);
        CU_ASSERT_EQUAL(x.length, 4u);
    }
}

void test_mov_to_dr_with_rex_b() {
    MovDrContext c = ctx64();
    c.gpr[KVMDBG_X86_R9] = 0xffff800000401000ull;
    MovDrOutcome o = emulate({0x41, 0x0f, 0x23, 0xc9}, c);  // mov %r9,%dr1
    CU_ASSERT(o.action == MovDrAction::done);
    CU_ASSERT_EQUAL(o.length, 4u);
    CU_ASSERT(o.to_dr);
    CU_ASSERT_EQUAL(o.dr, 1u);
    CU_ASSERT_EQUAL(o.regs.dr[1], 0xffff800000401000ull);
    CU_ASSERT_EQUAL(o.regs.dr[0], 0x1111u);
    CU_ASSERT(std::memcmp(o.gpr.data(), c.gpr.data(), sizeof c.gpr) == 0);
    // REX.W is harmless; 66 is ignored; REX then 66 makes the REX void.
    CU_ASSERT_EQUAL(emulate({0x48, 0x0f, 0x21, 0xf8}, c).length, 4u);
    CU_ASSERT_EQUAL(emulate({0x66, 0x0f, 0x21, 0xf8}, c).length, 4u);
    MovDrOutcome v = emulate({0x41, 0x66, 0x0f, 0x23, 0xc1}, c);
    CU_ASSERT_EQUAL(v.length, 5u);
    CU_ASSERT_EQUAL(v.regs.dr[0], c.gpr[KVMDBG_X86_RCX]);
}

void test_mov_dr6_dr7_writes_fixed_bits_and_gp() {
    MovDrContext c = ctx64();
    c.gpr[KVMDBG_X86_RAX] = 0;  // mov %rax,%dr7 with 0: bit 10 stays set
    MovDrOutcome o = emulate({0x0f, 0x23, 0xf8}, c);
    CU_ASSERT(o.action == MovDrAction::done);
    CU_ASSERT_EQUAL(o.regs.dr7, dr7::kFixed1);
    c.gpr[KVMDBG_X86_RAX] = 0xffffffffull;  // reserved 12, 14, 15 read as 0
    CU_ASSERT_EQUAL(emulate({0x0f, 0x23, 0xf8}, c).regs.dr7, 0xffff2fffull);
    c.gpr[KVMDBG_X86_RAX] = 0;  // mov %rax,%dr6 with 0
    CU_ASSERT_EQUAL(emulate({0x0f, 0x23, 0xf0}, c).regs.dr6, dr6::kFixed1);
    c.gpr[KVMDBG_X86_RAX] = dr6::kBS | dr6::hit(2) | dr6::kRTM | (1u << 12);
    CU_ASSERT_EQUAL(emulate({0x0f, 0x23, 0xf0}, c).regs.dr6, dr6::kFixed1 | dr6::kBS | dr6::hit(2) | dr6::kRTM);
    // 1s in bits 63:32 of DR6/DR7: #GP(0), nothing changes.
    c.gpr[KVMDBG_X86_RAX] = 1ull << 32;
    for (std::uint8_t modrm : {0xf8, 0xf0}) {
        MovDrOutcome g = emulate({0x0f, 0x23, modrm}, c);
        CU_ASSERT(g.action == MovDrAction::raise_gp);
        CU_ASSERT_EQUAL(g.length, 0u);
        CU_ASSERT(std::memcmp(&g.regs, &c.regs, sizeof c.regs) == 0);
    }
}

void test_mov_dr4_dr5_alias_or_ud() {
    MovDrContext c = ctx64();
    c.gpr[KVMDBG_X86_RSI] = dr6::kBS;
    // 0f 23 e6: reg=4 (DR4), rm=6 (rsi). CR4.DE=0: alias of DR6.
    MovDrOutcome o = emulate({0x0f, 0x23, 0xe6}, c);
    CU_ASSERT(o.action == MovDrAction::done);
    CU_ASSERT_EQUAL(o.dr, 6u);
    CU_ASSERT_EQUAL(o.regs.dr6, dr6::kFixed1 | dr6::kBS);
    // 0f 21 ef: reg=5 (DR5 -> DR7), rm=7 (rdi).
    MovDrOutcome r = emulate({0x0f, 0x21, 0xef}, c);
    CU_ASSERT_EQUAL(r.dr, 7u);
    CU_ASSERT_EQUAL(r.gpr[KVMDBG_X86_RDI], c.regs.dr7);
    c.cr4_de = true;
    for (std::uint8_t modrm : {0xe6, 0xef}) {
        MovDrOutcome u = emulate({0x0f, 0x21, modrm}, c);
        CU_ASSERT(u.action == MovDrAction::raise_ud);
        CU_ASSERT_EQUAL(u.length, 0u);
    }
}

void test_mov_ud_for_rex_r_and_lock() {
    MovDrContext c = ctx64();
    CU_ASSERT(emulate({0x44, 0x0f, 0x21, 0xc0}, c).action == MovDrAction::raise_ud);  // DR8
    CU_ASSERT(emulate({0xf0, 0x0f, 0x23, 0xc0}, c).action == MovDrAction::raise_ud);  // LOCK
}

void test_mov_guest_gd_raises_db() {
    MovDrContext c = ctx64();
    c.regs.dr7 |= dr7::kGD;
    MovDrOutcome o = emulate({0x0f, 0x23, 0xc0}, c);  // mov %rax,%dr0
    CU_ASSERT(o.action == MovDrAction::raise_db);
    CU_ASSERT_EQUAL(o.length, 0u);
    CU_ASSERT_EQUAL(o.regs.dr[0], c.regs.dr[0]);         // not executed
    CU_ASSERT_EQUAL(o.regs.dr6, c.regs.dr6 | dr6::kBD);  // sticky bits kept
    CU_ASSERT_EQUAL(o.regs.dr7, c.regs.dr7 & ~dr7::kGD);
    // #UD takes precedence over the guest's GD.
    c.cr4_de = true;
    CU_ASSERT(emulate({0x0f, 0x21, 0xe0}, c).action == MovDrAction::raise_ud);
}

void test_mov_32bit_mode() {
    MovDrContext c = ctx64();
    c.long_mode = false;
    c.gpr[KVMDBG_X86_RAX] = 0xdeadbeef00401000ull;
    MovDrOutcome o = emulate({0x0f, 0x23, 0xc0}, c);
    CU_ASSERT_EQUAL(o.regs.dr[0], 0x401000u);
    c.regs.dr[3] = 0x123456789ull;
    CU_ASSERT_EQUAL(emulate({0x0f, 0x21, 0xd9}, c).gpr[KVMDBG_X86_RCX], 0x23456789u);  // mov %dr3,%ecx
    // 0x41 is INC ECX outside 64-bit mode, not a prefix.
    auto r = emulate_mov_dr(std::vector<std::uint8_t>{0x41, 0x0f, 0x23, 0xc0}, c);
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, EINVAL);
}

void test_mov_not_a_mov_dr() {
    MovDrContext c = ctx64();
    const std::vector<std::vector<std::uint8_t>> bad = {
        {},
        {0x0f},
        {0x0f, 0x21},
        {0x0f, 0x22, 0xc0},
        {0x0f, 0x20, 0xc0},
        {0x90, 0x0f, 0x21, 0xf8},
        {0xcc},
        std::vector<std::uint8_t>(15, 0x66),
    };
    for (const auto& b : bad) {
        auto r = emulate_mov_dr(b, c);
        CU_ASSERT_FATAL(!r.ok());
        CU_ASSERT_EQUAL(r.error().code, EINVAL);
        CU_ASSERT(contains(r.error().message, "not a MOV"));
    }
    auto r = emulate_mov_dr(std::vector<std::uint8_t>{0x0f, 0x22, 0xc0}, c);
    CU_ASSERT(contains(r.error().message, "0f 22 c0"));
}

const kvmdbg::test::TestCase kMergeCases[] = {
    {"guest DR0 exec + 2 debugger watchpoints", test_merge_guest_dr0_plus_two_watchpoints},
    {"guest slots keep their position, bit for bit", test_merge_guest_slot_keeps_its_position},
    {"GD set even with no slots", test_merge_no_guest_slots_sets_gd},
    {"exhaustion keeps the guest's slots", test_merge_exhaustion_keeps_guest_slots},
    {"split request beside the guest", test_merge_split_request_does_not_fit_beside_guest},
};

const kvmdbg::test::TestCase kDr6Cases[] = {
    {"identity, debugger bits dropped", test_guest_view_dr6_identity_and_debugger_bits_dropped},
    {"relocated guest slots renumbered", test_guest_view_dr6_renumbers_relocated_slots},
};

const kvmdbg::test::TestCase kMovDrCases[] = {
    {"mov %dr7,%rax", test_mov_from_dr7_to_rax},
    {"GPR encoding order and REX.B", test_mov_gpr_encoding_order},
    {"mov %r9,%dr1 and prefixes", test_mov_to_dr_with_rex_b},
    {"DR6/DR7 writes: fixed bits, #GP", test_mov_dr6_dr7_writes_fixed_bits_and_gp},
    {"DR4/DR5 alias or #UD", test_mov_dr4_dr5_alias_or_ud},
    {"#UD for REX.R and LOCK", test_mov_ud_for_rex_r_and_lock},
    {"guest GD raises #DB", test_mov_guest_gd_raises_db},
    {"32-bit mode", test_mov_32bit_mode},
    {"not a MOV DR", test_mov_not_a_mov_dr},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"merge", kMergeCases},
    {"guest_view_dr6", kDr6Cases},
    {"mov_dr", kMovDrCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
