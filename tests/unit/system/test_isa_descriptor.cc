// The ISA descriptors (system/isa_descriptor.h): lookup by KvmdbgArch, the
// state size the plugin ABI fixes, g-block round trips through the
// accelerator's state blob for each ISA, p/P, pc, the register dump, and
// the refusal of blobs and blocks of the wrong size.
#include <cerrno>
#include <cstring>
#include <vector>

#include "accel/accelerator.h"
#include "arch/arm64/gdb_registers.h"
#include "arch/x86/gdb_registers.h"
#include "system/isa_descriptor.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::system::IsaDescriptor;
namespace x86 = kvmdbg::arch::x86;
namespace arm64 = kvmdbg::arch::arm64;

template <class State>
std::vector<std::uint8_t> blob_of(const State& st) {
    std::vector<std::uint8_t> blob(sizeof st);
    std::memcpy(blob.data(), &st, sizeof st);
    return blob;
}

template <class State>
State state_of(const std::vector<std::uint8_t>& blob) {
    State st;
    CU_ASSERT_FATAL(blob.size() == sizeof st);
    std::memcpy(&st, blob.data(), sizeof st);
    return st;
}

std::vector<std::uint8_t> le64(std::uint64_t v) {
    std::vector<std::uint8_t> out(8);
    for (unsigned i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    return out;
}

// Long mode, so that gdb's pc is rip (no segment base added).
KvmdbgX86State x86_sample() {
    KvmdbgX86State s{};
    for (unsigned i = 0; i < 16; ++i) {
        s.gpr[i] = 0x0101010101010101ull * (i + 1);
    }
    s.rip = 0xffffffff81000123ull;
    s.rflags = 0x246;
    s.cs.selector = 0x10;
    s.cs.l = 1;
    s.ss.selector = 0x18;
    s.fs.base = 0x7f0000001000ull;
    s.cr0 = 0x80050033;
    s.cr3 = 0x1000;
    s.cr4 = 0x20;
    s.efer = 0xd01;
    s.fcw = 0x37f;
    s.mxcsr = 0x1f80;
    s.xmm[3][0] = 0xab;
    s.dr7 = 0x400;  // not in the g block: must survive a G
    return s;
}

KvmdbgArm64State arm64_sample() {
    KvmdbgArm64State s{};
    for (unsigned i = 0; i < 31; ++i) {
        s.x[i] = 0x1111111100000000ull * (i + 1) + i;
    }
    s.sp_el0 = 0x0000ffffcafe0000ull;
    s.sp_el1 = 0xffff8000deadb000ull;
    s.pc = 0xffff800010080000ull;
    s.pstate = 0x3c5;  // EL1h
    s.v[2][0] = 0x5a;
    s.fpcr = 0x03c00000;
    s.sctlr_el1 = 0x30d0199d;
    s.mair_el1 = 0x4ff;
    return s;
}

const IsaDescriptor& lookup(KvmdbgArch arch) {
    auto isa = kvmdbg::system::find_isa_descriptor(arch);
    CU_ASSERT_FATAL(isa.ok());
    return **isa;
}

void test_lookup_and_sizes() {
    const IsaDescriptor& x = lookup(KVMDBG_ARCH_X86_64);
    CU_ASSERT_EQUAL(x.arch(), KVMDBG_ARCH_X86_64);
    CU_ASSERT_EQUAL(x.state_size(), sizeof(KvmdbgX86State));
    CU_ASSERT_EQUAL(x.state_size(), kvmdbg::accel::cpu_state_size(KVMDBG_ARCH_X86_64));
    CU_ASSERT_EQUAL(x.description().registers_size(), x86::kGdbRegistersSize);
    const IsaDescriptor& a = lookup(KVMDBG_ARCH_ARM64);
    CU_ASSERT_EQUAL(a.arch(), KVMDBG_ARCH_ARM64);
    CU_ASSERT_EQUAL(a.state_size(), sizeof(KvmdbgArm64State));
    CU_ASSERT_EQUAL(a.state_size(), kvmdbg::accel::cpu_state_size(KVMDBG_ARCH_ARM64));
    CU_ASSERT_EQUAL(a.description().registers_size(), arm64::kGdbRegistersSize);
    CU_ASSERT_PTR_NOT_NULL(a.description().annex("aarch64-core.xml"));
    // gdb steps over an aarch64 watchpoint stop before it reads the value.
    CU_ASSERT_FALSE(x.gdb_watchpoint_stops_before_access());
    CU_ASSERT_TRUE(a.gdb_watchpoint_stops_before_access());

    auto none = kvmdbg::system::find_isa_descriptor(static_cast<KvmdbgArch>(99));
    CU_ASSERT_FALSE(none.ok());
    if (!none) {
        CU_ASSERT_EQUAL(none.error().code, ENOTSUP);
    }
}

// g from the blob, one register changed in the block, G back into the blob:
// the blob's struct has the new value, other fields kept, and g reads back
// the changed block.
void check_g_round_trip(const IsaDescriptor& isa, std::vector<std::uint8_t> blob, unsigned regnum,
                        std::uint64_t value) {
    auto g = isa.registers_from_state(blob);
    CU_ASSERT_FATAL(g.ok());
    CU_ASSERT_EQUAL_FATAL(g->size(), isa.description().registers_size());
    std::size_t at = isa.description().register_offset(regnum);
    std::vector<std::uint8_t> bytes = le64(value);
    std::memcpy(g->data() + at, bytes.data(), 8);
    CU_ASSERT_FATAL(isa.registers_to_state(*g, blob).ok());
    auto back = isa.registers_from_state(blob);
    CU_ASSERT_FATAL(back.ok());
    CU_ASSERT_TRUE(*back == *g);
}

void test_x86_g_round_trip() {
    const IsaDescriptor& isa = lookup(KVMDBG_ARCH_X86_64);
    KvmdbgX86State s = x86_sample();
    auto g = isa.registers_from_state(blob_of(s));
    CU_ASSERT_FATAL(g.ok());
    CU_ASSERT_TRUE(*g == x86::gdb_registers_from_state(s));

    std::vector<std::uint8_t> blob = blob_of(s);
    check_g_round_trip(isa, blob, x86::kGdbRegRbp, 0x1234567890abcdefull);
    auto g2 = isa.registers_from_state(blob);
    std::memcpy(g2->data() + x86::gdb_register_offset(x86::kGdbRegRbp), le64(0x1234567890abcdefull).data(), 8);
    CU_ASSERT_FATAL(isa.registers_to_state(*g2, blob).ok());
    KvmdbgX86State after = state_of<KvmdbgX86State>(blob);
    CU_ASSERT_EQUAL(after.gpr[KVMDBG_X86_RBP], 0x1234567890abcdefull);
    CU_ASSERT_EQUAL(after.gpr[KVMDBG_X86_RSP], s.gpr[KVMDBG_X86_RSP]);
    CU_ASSERT_EQUAL(after.dr7, s.dr7);
    CU_ASSERT_EQUAL(after.rip, s.rip);
}

void test_arm64_g_round_trip() {
    const IsaDescriptor& isa = lookup(KVMDBG_ARCH_ARM64);
    KvmdbgArm64State s = arm64_sample();
    auto g = isa.registers_from_state(blob_of(s));
    CU_ASSERT_FATAL(g.ok());
    CU_ASSERT_TRUE(*g == arm64::gdb_registers_from_state(s));

    std::vector<std::uint8_t> blob = blob_of(s);
    check_g_round_trip(isa, blob, arm64::kGdbRegX0 + 7, 0xfeedfacecafebeefull);
    auto g2 = isa.registers_from_state(blob);
    std::memcpy(g2->data() + arm64::gdb_register_offset(7), le64(0xfeedfacecafebeefull).data(), 8);
    CU_ASSERT_FATAL(isa.registers_to_state(*g2, blob).ok());
    KvmdbgArm64State after = state_of<KvmdbgArm64State>(blob);
    CU_ASSERT_EQUAL(after.x[7], 0xfeedfacecafebeefull);
    CU_ASSERT_EQUAL(after.x[8], s.x[8]);
    CU_ASSERT_EQUAL(after.pc, s.pc);
    CU_ASSERT_EQUAL(after.sp_el1, s.sp_el1);
}

void test_single_registers_and_pc() {
    const IsaDescriptor& x = lookup(KVMDBG_ARCH_X86_64);
    std::vector<std::uint8_t> xb = blob_of(x86_sample());
    auto rip = x.read_register(xb, x86::kGdbRegRip);
    CU_ASSERT_FATAL(rip.ok());
    CU_ASSERT_TRUE(*rip == le64(x86_sample().rip));
    CU_ASSERT_TRUE(x.pc(xb).ok() && x.pc(xb).value() == x86_sample().rip);
    CU_ASSERT_TRUE(x.write_register(xb, x86::kGdbRegRip, le64(0x401000)).ok());
    CU_ASSERT_EQUAL(state_of<KvmdbgX86State>(xb).rip, 0x401000u);
    CU_ASSERT_FALSE(x.read_register(xb, x86::kGdbRegisterCount).ok());

    const IsaDescriptor& a = lookup(KVMDBG_ARCH_ARM64);
    std::vector<std::uint8_t> ab = blob_of(arm64_sample());
    auto pc = a.read_register(ab, arm64::kGdbRegPc);
    CU_ASSERT_FATAL(pc.ok());
    CU_ASSERT_TRUE(*pc == le64(arm64_sample().pc));
    CU_ASSERT_TRUE(a.write_register(ab, arm64::kGdbRegPc, le64(0x40080000)).ok());
    CU_ASSERT_EQUAL(state_of<KvmdbgArm64State>(ab).pc, 0x40080000u);
    CU_ASSERT_TRUE(a.pc(ab).ok() && a.pc(ab).value() == 0x40080000u);
}

// A blob of the other ISA's size, or one byte short, is refused and the
// blob is left as it was; so is a g block of the wrong size.
void check_size_mismatch(const IsaDescriptor& isa, std::vector<std::uint8_t> good) {
    auto g = isa.registers_from_state(good);
    CU_ASSERT_FATAL(g.ok());
    for (std::size_t size : {good.size() - 1, good.size() + 8, std::size_t{0}}) {
        std::vector<std::uint8_t> wrong(size, 0x5a);
        const std::vector<std::uint8_t> before = wrong;
        auto r = isa.registers_from_state(wrong);
        CU_ASSERT_FALSE(r.ok());
        if (!r) {
            CU_ASSERT_EQUAL(r.error().code, EINVAL);
        }
        CU_ASSERT_FALSE(isa.registers_to_state(*g, wrong).ok());
        CU_ASSERT_FALSE(isa.read_register(wrong, 0).ok());
        CU_ASSERT_FALSE(isa.write_register(wrong, 0, le64(1)).ok());
        CU_ASSERT_FALSE(isa.pc(wrong).ok());
        CU_ASSERT_FALSE(isa.register_dump(wrong).ok());
        CU_ASSERT_TRUE(wrong == before);
    }
    std::vector<std::uint8_t> short_g(g->begin(), g->end() - 1);
    const std::vector<std::uint8_t> before = good;
    CU_ASSERT_FALSE(isa.registers_to_state(short_g, good).ok());
    CU_ASSERT_FALSE(isa.write_register(good, 0, std::vector<std::uint8_t>(3)).ok());
    CU_ASSERT_TRUE(good == before);
}

void test_size_mismatch_rejected() {
    check_size_mismatch(lookup(KVMDBG_ARCH_X86_64), blob_of(x86_sample()));
    check_size_mismatch(lookup(KVMDBG_ARCH_ARM64), blob_of(arm64_sample()));
    // The two layouts differ in size, so neither accepts the other's blob.
    CU_ASSERT_FALSE(lookup(KVMDBG_ARCH_X86_64).registers_from_state(blob_of(arm64_sample())).ok());
    CU_ASSERT_FALSE(lookup(KVMDBG_ARCH_ARM64).registers_from_state(blob_of(x86_sample())).ok());
}

void test_register_dump() {
    auto x = lookup(KVMDBG_ARCH_X86_64).register_dump(blob_of(x86_sample()));
    CU_ASSERT_FATAL(x.ok());
    CU_ASSERT_TRUE(x->find("RIP=ffffffff81000123") != std::string::npos);

    auto a = lookup(KVMDBG_ARCH_ARM64).register_dump(blob_of(arm64_sample()));
    CU_ASSERT_FATAL(a.ok());
    CU_ASSERT_TRUE(a->find("pc       =ffff800010080000") != std::string::npos);
    CU_ASSERT_TRUE(a->find("sp_el1   =ffff8000deadb000") != std::string::npos);
    CU_ASSERT_TRUE(a->find("x30      =") != std::string::npos);
    CU_ASSERT_TRUE(a->find("v0") == std::string::npos);  // vectors are left to gdb
    CU_ASSERT_TRUE(!a->empty() && a->back() == '\n');
}

const kvmdbg::test::TestCase kCases[] = {
    {"lookup by ISA, state and g-block sizes", test_lookup_and_sizes},
    {"x86-64 g block round trip through the state blob", test_x86_g_round_trip},
    {"aarch64 g block round trip through the state blob", test_arm64_g_round_trip},
    {"p/P and pc on the state blob", test_single_registers_and_pc},
    {"state or g block of the wrong size rejected", test_size_mismatch_rejected},
    {"register dump", test_register_dump},
};
const kvmdbg::test::TestSuite kSuites[] = {{"isa_descriptor", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
