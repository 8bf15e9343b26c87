#include "gdbstub-glue/riscv64_target.h"

#include <array>

namespace kvmdbg::gdb {

namespace {

constexpr std::array<TdescReg, 33> kCpu{{
    {"zero", 64, "int", nullptr},    {"ra", 64, "code_ptr", nullptr}, {"sp", 64, "data_ptr", nullptr},
    {"gp", 64, "data_ptr", nullptr}, {"tp", 64, "data_ptr", nullptr}, {"t0", 64, "int", nullptr},
    {"t1", 64, "int", nullptr},      {"t2", 64, "int", nullptr},      {"fp", 64, "data_ptr", nullptr},
    {"s1", 64, "int", nullptr},      {"a0", 64, "int", nullptr},      {"a1", 64, "int", nullptr},
    {"a2", 64, "int", nullptr},      {"a3", 64, "int", nullptr},      {"a4", 64, "int", nullptr},
    {"a5", 64, "int", nullptr},      {"a6", 64, "int", nullptr},      {"a7", 64, "int", nullptr},
    {"s2", 64, "int", nullptr},      {"s3", 64, "int", nullptr},      {"s4", 64, "int", nullptr},
    {"s5", 64, "int", nullptr},      {"s6", 64, "int", nullptr},      {"s7", 64, "int", nullptr},
    {"s8", 64, "int", nullptr},      {"s9", 64, "int", nullptr},      {"s10", 64, "int", nullptr},
    {"s11", 64, "int", nullptr},     {"t3", 64, "int", nullptr},      {"t4", 64, "int", nullptr},
    {"t5", 64, "int", nullptr},      {"t6", 64, "int", nullptr},      {"pc", 64, "code_ptr", nullptr},
}};

constexpr std::array<TdescReg, 35> kFpu{{
    {"ft0", 64, "ieee_double", nullptr},  {"ft1", 64, "ieee_double", nullptr},  {"ft2", 64, "ieee_double", nullptr},
    {"ft3", 64, "ieee_double", nullptr},  {"ft4", 64, "ieee_double", nullptr},  {"ft5", 64, "ieee_double", nullptr},
    {"ft6", 64, "ieee_double", nullptr},  {"ft7", 64, "ieee_double", nullptr},  {"fs0", 64, "ieee_double", nullptr},
    {"fs1", 64, "ieee_double", nullptr},  {"fa0", 64, "ieee_double", nullptr},  {"fa1", 64, "ieee_double", nullptr},
    {"fa2", 64, "ieee_double", nullptr},  {"fa3", 64, "ieee_double", nullptr},  {"fa4", 64, "ieee_double", nullptr},
    {"fa5", 64, "ieee_double", nullptr},  {"fa6", 64, "ieee_double", nullptr},  {"fa7", 64, "ieee_double", nullptr},
    {"fs2", 64, "ieee_double", nullptr},  {"fs3", 64, "ieee_double", nullptr},  {"fs4", 64, "ieee_double", nullptr},
    {"fs5", 64, "ieee_double", nullptr},  {"fs6", 64, "ieee_double", nullptr},  {"fs7", 64, "ieee_double", nullptr},
    {"fs8", 64, "ieee_double", nullptr},  {"fs9", 64, "ieee_double", nullptr},  {"fs10", 64, "ieee_double", nullptr},
    {"fs11", 64, "ieee_double", nullptr}, {"ft8", 64, "ieee_double", nullptr},  {"ft9", 64, "ieee_double", nullptr},
    {"ft10", 64, "ieee_double", nullptr}, {"ft11", 64, "ieee_double", nullptr}, {"fflags", 32, "int", "float"},
    {"frm", 32, "int", "float"},          {"fcsr", 32, "int", "float"},
}};

constexpr std::array<TdescReg, 9> kCsr{{
    {"sstatus", 64, "int", "csr"},
    {"sie", 64, "int", "csr"},
    {"stvec", 64, "int", "csr"},
    {"sscratch", 64, "int", "csr"},
    {"sepc", 64, "int", "csr"},
    {"scause", 64, "int", "csr"},
    {"stval", 64, "int", "csr"},
    {"sip", 64, "int", "csr"},
    {"satp", 64, "int", "csr"},
}};

constexpr std::array<TdescFeature, 3> kFeatures{{
    {"org.gnu.gdb.riscv.cpu", kCpu},
    {"org.gnu.gdb.riscv.fpu", kFpu},
    {"org.gnu.gdb.riscv.csr", kCsr},
}};
constexpr const char* kArchitecture = "riscv:rv64";

}  // namespace

std::span<const TdescFeature> riscv64_features() { return kFeatures; }

std::string riscv64_target_xml() { return build_target_xml(kArchitecture, kFeatures); }

TargetDescription riscv64_target_description() {
    return build_target_description(kArchitecture, kFeatures, {32u, 2u, 8u}, std::endian::little);
}

}  // namespace kvmdbg::gdb
