#include "gdbstub-glue/x86_64_target.h"

#include <array>

namespace kvmdbg::gdb {

namespace {

constexpr std::array<RegisterInfo, x86_64::kRegisterCount> kRegisters{{
    {"rax", 64, "int64", nullptr},     {"rbx", 64, "int64", nullptr},     {"rcx", 64, "int64", nullptr},
    {"rdx", 64, "int64", nullptr},     {"rsi", 64, "int64", nullptr},     {"rdi", 64, "int64", nullptr},
    {"rbp", 64, "data_ptr", nullptr},  {"rsp", 64, "data_ptr", nullptr},  {"r8", 64, "int64", nullptr},
    {"r9", 64, "int64", nullptr},      {"r10", 64, "int64", nullptr},     {"r11", 64, "int64", nullptr},
    {"r12", 64, "int64", nullptr},     {"r13", 64, "int64", nullptr},     {"r14", 64, "int64", nullptr},
    {"r15", 64, "int64", nullptr},     {"rip", 64, "code_ptr", nullptr},  {"eflags", 32, "x86_eflags", nullptr},
    {"cs", 32, "int32", nullptr},      {"ss", 32, "int32", nullptr},      {"ds", 32, "int32", nullptr},
    {"es", 32, "int32", nullptr},      {"fs", 32, "int32", nullptr},      {"gs", 32, "int32", nullptr},
    {"fs_base", 64, "int64", nullptr}, {"gs_base", 64, "int64", nullptr}, {"k_gs_base", 64, "int64", nullptr},
    {"cr0", 64, "x86_cr0", nullptr},   {"cr2", 64, "int64", nullptr},     {"cr3", 64, "x86_cr3", nullptr},
    {"cr4", 64, "x86_cr4", nullptr},   {"cr8", 64, "int64", nullptr},     {"efer", 64, "x86_efer", nullptr},
    {"st0", 80, "i387_ext", nullptr},  {"st1", 80, "i387_ext", nullptr},  {"st2", 80, "i387_ext", nullptr},
    {"st3", 80, "i387_ext", nullptr},  {"st4", 80, "i387_ext", nullptr},  {"st5", 80, "i387_ext", nullptr},
    {"st6", 80, "i387_ext", nullptr},  {"st7", 80, "i387_ext", nullptr},  {"fctrl", 32, "int", "float"},
    {"fstat", 32, "int", "float"},     {"ftag", 32, "int", "float"},      {"fiseg", 32, "int", "float"},
    {"fioff", 32, "int", "float"},     {"foseg", 32, "int", "float"},     {"fooff", 32, "int", "float"},
    {"fop", 32, "int", "float"},       {"xmm0", 128, "vec128", nullptr},  {"xmm1", 128, "vec128", nullptr},
    {"xmm2", 128, "vec128", nullptr},  {"xmm3", 128, "vec128", nullptr},  {"xmm4", 128, "vec128", nullptr},
    {"xmm5", 128, "vec128", nullptr},  {"xmm6", 128, "vec128", nullptr},  {"xmm7", 128, "vec128", nullptr},
    {"xmm8", 128, "vec128", nullptr},  {"xmm9", 128, "vec128", nullptr},  {"xmm10", 128, "vec128", nullptr},
    {"xmm11", 128, "vec128", nullptr}, {"xmm12", 128, "vec128", nullptr}, {"xmm13", 128, "vec128", nullptr},
    {"xmm14", 128, "vec128", nullptr}, {"xmm15", 128, "vec128", nullptr}, {"mxcsr", 32, "x86_mxcsr", "vector"},
}};

struct Field {
    const char* name;
    unsigned start, end;
};

struct Flags {
    const char* id;
    unsigned size;
    std::span<const Field> fields;
};

// Bit positions: Intel SDM Vol. 1 3.4.3 (EFLAGS), 10.2.3 (MXCSR);
// Vol. 3A 2.5 (CR0, CR3, CR4), 2.2.1 (EFER).
constexpr Field kEflags[] = {{"CF", 0, 0},    {"PF", 2, 2},   {"AF", 4, 4},   {"ZF", 6, 6},   {"SF", 7, 7},
                             {"TF", 8, 8},    {"IF", 9, 9},   {"DF", 10, 10}, {"OF", 11, 11}, {"IOPL", 12, 13},
                             {"NT", 14, 14},  {"RF", 16, 16}, {"VM", 17, 17}, {"AC", 18, 18}, {"VIF", 19, 19},
                             {"VIP", 20, 20}, {"ID", 21, 21}};
constexpr Field kCr0[] = {{"PE", 0, 0},   {"MP", 1, 1},   {"EM", 2, 2},   {"TS", 3, 3},   {"ET", 4, 4},  {"NE", 5, 5},
                          {"WP", 16, 16}, {"AM", 18, 18}, {"NW", 29, 29}, {"CD", 30, 30}, {"PG", 31, 31}};
constexpr Field kCr3[] = {{"PCID", 0, 11}, {"PDBR", 12, 63}};
constexpr Field kCr4[] = {{"VME", 0, 0},     {"PVI", 1, 1},       {"TSD", 2, 2},          {"DE", 3, 3},
                          {"PSE", 4, 4},     {"PAE", 5, 5},       {"MCE", 6, 6},          {"PGE", 7, 7},
                          {"PCE", 8, 8},     {"OSFXSR", 9, 9},    {"OSXMMEXCPT", 10, 10}, {"UMIP", 11, 11},
                          {"LA57", 12, 12},  {"VMXE", 13, 13},    {"SMXE", 14, 14},       {"FSGSBASE", 16, 16},
                          {"PCIDE", 17, 17}, {"OSXSAVE", 18, 18}, {"SMEP", 20, 20},       {"SMAP", 21, 21},
                          {"PKE", 22, 22}};
constexpr Field kEfer[] = {{"SCE", 0, 0},    {"LME", 8, 8},     {"LMA", 10, 10},   {"NXE", 11, 11},
                           {"SVME", 12, 12}, {"LMSLE", 13, 13}, {"FFXSR", 14, 14}, {"TCE", 15, 15}};
constexpr Field kMxcsr[] = {{"IE", 0, 0},   {"DE", 1, 1},   {"ZE", 2, 2},   {"OE", 3, 3},  {"UE", 4, 4},
                            {"PE", 5, 5},   {"DAZ", 6, 6},  {"IM", 7, 7},   {"DM", 8, 8},  {"ZM", 9, 9},
                            {"OM", 10, 10}, {"UM", 11, 11}, {"PM", 12, 12}, {"FZ", 15, 15}};

constexpr Flags kFlags[] = {
    {"x86_eflags", 4, kEflags}, {"x86_cr0", 8, kCr0},   {"x86_cr3", 8, kCr3},
    {"x86_cr4", 8, kCr4},       {"x86_efer", 8, kEfer}, {"x86_mxcsr", 4, kMxcsr},
};

// gdb's predefined vector element types (ieee_single, int8, ...) combined
// into the union gdb's own i386 descriptions call vec128.
constexpr const char* kVectorTypes =
    "    <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "    <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "    <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
    "    <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
    "    <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
    "    <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
    "    <union id=\"vec128\">\n"
    "      <field name=\"v4_float\" type=\"v4f\"/>\n"
    "      <field name=\"v2_double\" type=\"v2d\"/>\n"
    "      <field name=\"v16_int8\" type=\"v16i8\"/>\n"
    "      <field name=\"v8_int16\" type=\"v8i16\"/>\n"
    "      <field name=\"v4_int32\" type=\"v4i32\"/>\n"
    "      <field name=\"v2_int64\" type=\"v2i64\"/>\n"
    "      <field name=\"uint128\" type=\"uint128\"/>\n"
    "    </union>\n";

}  // namespace

std::span<const RegisterInfo> x86_64_registers() { return kRegisters; }

std::string x86_64_target_xml() {
    std::string xml =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
        "<target version=\"1.0\">\n"
        "  <architecture>i386:x86-64</architecture>\n"
        "  <feature name=\"org.gnu.gdb.i386.core\">\n";
    for (const Flags& f : kFlags) {
        xml += "    <flags id=\"" + std::string(f.id) + "\" size=\"" + std::to_string(f.size) + "\">\n";
        for (const Field& field : f.fields) {
            xml += "      <field name=\"" + std::string(field.name) + "\" start=\"" + std::to_string(field.start) +
                   "\" end=\"" + std::to_string(field.end) + "\"/>\n";
        }
        xml += "    </flags>\n";
    }
    xml += kVectorTypes;
    for (unsigned n = 0; n < kRegisters.size(); ++n) {
        const RegisterInfo& r = kRegisters[n];
        xml += "    <reg name=\"" + std::string(r.name) + "\" bitsize=\"" + std::to_string(r.bitsize) + "\" type=\"" +
               r.type + "\"";
        if (n == 0) {
            xml += " regnum=\"0\"";
        }
        if (r.group != nullptr) {
            xml += " group=\"" + std::string(r.group) + "\"";
        }
        xml += "/>\n";
    }
    xml += "  </feature>\n</target>\n";
    return xml;
}

TargetDescription x86_64_target_description() {
    std::vector<std::uint32_t> sizes;
    for (const RegisterInfo& r : kRegisters) {
        sizes.push_back(r.bitsize / 8);
    }
    TargetDescription::Expedited expedited{x86_64::kRip, x86_64::kRsp, x86_64::kRbp};
    return TargetDescription(std::move(sizes), {{"target.xml", x86_64_target_xml()}}, expedited, std::endian::little);
}

}  // namespace kvmdbg::gdb
