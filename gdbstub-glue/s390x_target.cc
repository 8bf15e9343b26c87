#include "gdbstub-glue/s390x_target.h"

#include <array>

namespace kvmdbg::gdb {

namespace {

constexpr std::array<TdescReg, 18> kCore{{
    {"pswm", 64, "uint64", nullptr},
    {"pswa", 64, "code_ptr", nullptr},
    {"r0", 64, "uint64", nullptr},
    {"r1", 64, "uint64", nullptr},
    {"r2", 64, "uint64", nullptr},
    {"r3", 64, "uint64", nullptr},
    {"r4", 64, "uint64", nullptr},
    {"r5", 64, "uint64", nullptr},
    {"r6", 64, "uint64", nullptr},
    {"r7", 64, "uint64", nullptr},
    {"r8", 64, "uint64", nullptr},
    {"r9", 64, "uint64", nullptr},
    {"r10", 64, "uint64", nullptr},
    {"r11", 64, "uint64", nullptr},
    {"r12", 64, "uint64", nullptr},
    {"r13", 64, "uint64", nullptr},
    {"r14", 64, "uint64", nullptr},
    {"r15", 64, "data_ptr", nullptr},
}};

constexpr std::array<TdescReg, 16> kAcr{{
    {"acr0", 32, "uint32", "access"},
    {"acr1", 32, "uint32", "access"},
    {"acr2", 32, "uint32", "access"},
    {"acr3", 32, "uint32", "access"},
    {"acr4", 32, "uint32", "access"},
    {"acr5", 32, "uint32", "access"},
    {"acr6", 32, "uint32", "access"},
    {"acr7", 32, "uint32", "access"},
    {"acr8", 32, "uint32", "access"},
    {"acr9", 32, "uint32", "access"},
    {"acr10", 32, "uint32", "access"},
    {"acr11", 32, "uint32", "access"},
    {"acr12", 32, "uint32", "access"},
    {"acr13", 32, "uint32", "access"},
    {"acr14", 32, "uint32", "access"},
    {"acr15", 32, "uint32", "access"},
}};

constexpr std::array<TdescReg, 17> kFpr{{
    {"fpc", 32, "uint32", "float"},
    {"f0", 64, "ieee_double", "float"},
    {"f1", 64, "ieee_double", "float"},
    {"f2", 64, "ieee_double", "float"},
    {"f3", 64, "ieee_double", "float"},
    {"f4", 64, "ieee_double", "float"},
    {"f5", 64, "ieee_double", "float"},
    {"f6", 64, "ieee_double", "float"},
    {"f7", 64, "ieee_double", "float"},
    {"f8", 64, "ieee_double", "float"},
    {"f9", 64, "ieee_double", "float"},
    {"f10", 64, "ieee_double", "float"},
    {"f11", 64, "ieee_double", "float"},
    {"f12", 64, "ieee_double", "float"},
    {"f13", 64, "ieee_double", "float"},
    {"f14", 64, "ieee_double", "float"},
    {"f15", 64, "ieee_double", "float"},
}};

constexpr std::array<TdescFeature, 3> kFeatures{{
    {"org.gnu.gdb.s390.core", kCore},
    {"org.gnu.gdb.s390.acr", kAcr},
    {"org.gnu.gdb.s390.fpr", kFpr},
}};
constexpr const char* kArchitecture = "s390:64-bit";

}  // namespace

std::span<const TdescFeature> s390x_features() { return kFeatures; }

std::string s390x_target_xml() { return build_target_xml(kArchitecture, kFeatures); }

TargetDescription s390x_target_description() {
    return build_target_description(kArchitecture, kFeatures, {1u, 17u, std::nullopt}, std::endian::big);
}

}  // namespace kvmdbg::gdb
