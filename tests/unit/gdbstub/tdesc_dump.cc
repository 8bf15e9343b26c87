// Helper for tdesc_gdb_check.py: prints the target.xml of an ISA
// (`tdesc_dump ppc|s390x|riscv64 xml`) or the hex g packet of a sample
// state (`... g`) whose pc and stack pointer are known, so that a real gdb
// can read both and show those values.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "arch/ppc/gdb_registers.h"
#include "arch/riscv64/gdb_registers.h"
#include "arch/s390x/gdb_registers.h"
#include "gdbstub-glue/ppc_target.h"
#include "gdbstub-glue/riscv64_target.h"
#include "gdbstub-glue/s390x_target.h"

namespace {

void print_hex(const std::vector<std::uint8_t>& bytes) {
    for (std::uint8_t b : bytes)
        std::printf("%02x", b);
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: tdesc_dump ppc|s390x|riscv64 xml|g\n");
        return 2;
    }
    std::string isa = argv[1];
    bool xml = std::strcmp(argv[2], "xml") == 0;
    using namespace kvmdbg;
    if (isa == "ppc") {
        arch::ppc::PpcE500State s;
        s.pc = 0x12345678;
        s.gpr[1] = 0x0badcafe;
        xml ? (void)std::fputs(gdb::ppc_e500_target_xml().c_str(), stdout)
            : print_hex(arch::ppc::gdb_registers_from_state(s));
    } else if (isa == "s390x") {
        arch::s390x::S390State s;
        s.psw_mask = 0x0000000180000000ull;
        s.psw_addr = 0x123456789aull;
        s.gprs[15] = 0x0badcafe00ull;
        xml ? (void)std::fputs(gdb::s390x_target_xml().c_str(), stdout)
            : print_hex(arch::s390x::gdb_registers_from_state(s));
    } else if (isa == "riscv64") {
        arch::riscv64::Riscv64State s;
        s.pc = 0x80201234;
        s.x[2] = 0x0badcafe00ull;
        xml ? (void)std::fputs(gdb::riscv64_target_xml().c_str(), stdout)
            : print_hex(arch::riscv64::gdb_registers_from_state(s));
    } else {
        std::fprintf(stderr, "unknown isa %s\n", argv[1]);
        return 2;
    }
    return 0;
}
