#include "gdbstub-glue/ppc_target.h"

#include <array>

namespace kvmdbg::gdb {

namespace {

constexpr std::array<TdescReg, 38> kCore{{
    {"r0", 32, "uint32", nullptr},  {"r1", 32, "uint32", nullptr},  {"r2", 32, "uint32", nullptr},
    {"r3", 32, "uint32", nullptr},  {"r4", 32, "uint32", nullptr},  {"r5", 32, "uint32", nullptr},
    {"r6", 32, "uint32", nullptr},  {"r7", 32, "uint32", nullptr},  {"r8", 32, "uint32", nullptr},
    {"r9", 32, "uint32", nullptr},  {"r10", 32, "uint32", nullptr}, {"r11", 32, "uint32", nullptr},
    {"r12", 32, "uint32", nullptr}, {"r13", 32, "uint32", nullptr}, {"r14", 32, "uint32", nullptr},
    {"r15", 32, "uint32", nullptr}, {"r16", 32, "uint32", nullptr}, {"r17", 32, "uint32", nullptr},
    {"r18", 32, "uint32", nullptr}, {"r19", 32, "uint32", nullptr}, {"r20", 32, "uint32", nullptr},
    {"r21", 32, "uint32", nullptr}, {"r22", 32, "uint32", nullptr}, {"r23", 32, "uint32", nullptr},
    {"r24", 32, "uint32", nullptr}, {"r25", 32, "uint32", nullptr}, {"r26", 32, "uint32", nullptr},
    {"r27", 32, "uint32", nullptr}, {"r28", 32, "uint32", nullptr}, {"r29", 32, "uint32", nullptr},
    {"r30", 32, "uint32", nullptr}, {"r31", 32, "uint32", nullptr}, {"pc", 32, "code_ptr", nullptr},
    {"msr", 32, "uint32", nullptr}, {"cr", 32, "uint32", nullptr},  {"lr", 32, "code_ptr", nullptr},
    {"ctr", 32, "uint32", nullptr}, {"xer", 32, "uint32", nullptr},
}};

constexpr std::array<TdescFeature, 1> kFeatures{{{"org.gnu.gdb.power.core", kCore}}};
constexpr const char* kArchitecture = "powerpc:e500";

}  // namespace

std::span<const TdescFeature> ppc_e500_features() { return kFeatures; }

std::string ppc_e500_target_xml() { return build_target_xml(kArchitecture, kFeatures); }

TargetDescription ppc_e500_target_description() {
    return build_target_description(kArchitecture, kFeatures, {32u, 1u, std::nullopt}, std::endian::big);
}

}  // namespace kvmdbg::gdb
