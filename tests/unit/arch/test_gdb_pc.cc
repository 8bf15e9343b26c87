// gdb's pc in real and virtual-8086 mode is the linear CS.base + IP.
#include <cstring>

#include "arch/x86/gdb_registers.h"
#include "tests/support/cunit_main.h"

namespace {

namespace x86 = kvmdbg::arch::x86;

KvmdbgX86State real_mode(std::uint64_t cs_base, std::uint64_t ip) {
    KvmdbgX86State s{};
    s.cs.base = cs_base;
    s.cs.selector = static_cast<std::uint16_t>(cs_base >> 4);
    s.rip = ip;
    s.rflags = 2;
    return s;
}

std::uint64_t pc_in_g_packet(const KvmdbgX86State& s) {
    auto g = x86::gdb_registers_from_state(s);
    std::uint64_t pc = 0;
    std::memcpy(&pc, g.data() + x86::gdb_register_offset(x86::kGdbRegRip), 8);
    return pc;
}

void test_real_mode_reset_vector() {
    auto s = real_mode(0xffff0000, 0xfff0);  // the reset state: CS base ffff0000
    CU_ASSERT(x86::segmented_pc(s));
    CU_ASSERT_EQUAL(x86::gdb_pc_from_rip(s), 0xfffffff0u);  // the descriptor cache base, not CS*16
    auto bios = real_mode(0xf0000, 0xe05b);
    CU_ASSERT_EQUAL(pc_in_g_packet(bios), 0xfe05bu);
}

void test_write_back_keeps_cs() {
    auto s = real_mode(0x8000, 0x10);
    std::uint64_t pc = 0x8123;
    std::vector<std::uint8_t> v(8);
    std::memcpy(v.data(), &pc, 8);
    CU_ASSERT(x86::gdb_register_write(s, x86::kGdbRegRip, v).ok());
    CU_ASSERT_EQUAL(s.rip, 0x123u);
    CU_ASSERT_EQUAL(s.cs.base, 0x8000u);
    auto back = x86::gdb_register_read(s, x86::kGdbRegRip);
    CU_ASSERT_FATAL(back.ok());
    std::uint64_t read = 0;
    std::memcpy(&read, back->data(), 8);
    CU_ASSERT_EQUAL(read, 0x8123u);
}

void test_vm86_and_protected() {
    auto vm86 = real_mode(0x20000, 0x40);
    vm86.cr0 = 1;               // protected mode...
    vm86.rflags |= 1ull << 17;  // ...running a virtual-8086 task
    CU_ASSERT_EQUAL(x86::gdb_pc_from_rip(vm86), 0x20040u);
    KvmdbgX86State flat{};
    flat.cr0 = 1;
    flat.cs.base = 0x1000;  // ignored: protected mode pc is EIP
    flat.rip = 0x401000;
    CU_ASSERT(!x86::segmented_pc(flat));
    CU_ASSERT_EQUAL(pc_in_g_packet(flat), 0x401000u);
}

const kvmdbg::test::TestCase kCases[] = {
    {"real-mode pc is CS.base + IP", test_real_mode_reset_vector},
    {"writing pc sets IP, keeps CS", test_write_back_keeps_cs},
    {"vm86 segmented, protected flat", test_vm86_and_protected},
};

const kvmdbg::test::TestSuite kSuites[] = {{"gdb_pc", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
