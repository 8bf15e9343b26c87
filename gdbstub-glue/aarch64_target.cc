#include "gdbstub-glue/aarch64_target.h"

#include <array>

namespace kvmdbg::gdb {

namespace aarch64 {

namespace {

constexpr std::array<Register, kRegisterCount> kRegisters{{
    {"x0", 64, "int", nullptr},
    {"x1", 64, "int", nullptr},
    {"x2", 64, "int", nullptr},
    {"x3", 64, "int", nullptr},
    {"x4", 64, "int", nullptr},
    {"x5", 64, "int", nullptr},
    {"x6", 64, "int", nullptr},
    {"x7", 64, "int", nullptr},
    {"x8", 64, "int", nullptr},
    {"x9", 64, "int", nullptr},
    {"x10", 64, "int", nullptr},
    {"x11", 64, "int", nullptr},
    {"x12", 64, "int", nullptr},
    {"x13", 64, "int", nullptr},
    {"x14", 64, "int", nullptr},
    {"x15", 64, "int", nullptr},
    {"x16", 64, "int", nullptr},
    {"x17", 64, "int", nullptr},
    {"x18", 64, "int", nullptr},
    {"x19", 64, "int", nullptr},
    {"x20", 64, "int", nullptr},
    {"x21", 64, "int", nullptr},
    {"x22", 64, "int", nullptr},
    {"x23", 64, "int", nullptr},
    {"x24", 64, "int", nullptr},
    {"x25", 64, "int", nullptr},
    {"x26", 64, "int", nullptr},
    {"x27", 64, "int", nullptr},
    {"x28", 64, "int", nullptr},
    {"x29", 64, "int", nullptr},
    {"x30", 64, "int", nullptr},
    {"sp", 64, "data_ptr", nullptr},
    {"pc", 64, "code_ptr", nullptr},
    {"cpsr", 32, "cpsr_flags", nullptr},
    {"v0", 128, "aarch64v", nullptr},
    {"v1", 128, "aarch64v", nullptr},
    {"v2", 128, "aarch64v", nullptr},
    {"v3", 128, "aarch64v", nullptr},
    {"v4", 128, "aarch64v", nullptr},
    {"v5", 128, "aarch64v", nullptr},
    {"v6", 128, "aarch64v", nullptr},
    {"v7", 128, "aarch64v", nullptr},
    {"v8", 128, "aarch64v", nullptr},
    {"v9", 128, "aarch64v", nullptr},
    {"v10", 128, "aarch64v", nullptr},
    {"v11", 128, "aarch64v", nullptr},
    {"v12", 128, "aarch64v", nullptr},
    {"v13", 128, "aarch64v", nullptr},
    {"v14", 128, "aarch64v", nullptr},
    {"v15", 128, "aarch64v", nullptr},
    {"v16", 128, "aarch64v", nullptr},
    {"v17", 128, "aarch64v", nullptr},
    {"v18", 128, "aarch64v", nullptr},
    {"v19", 128, "aarch64v", nullptr},
    {"v20", 128, "aarch64v", nullptr},
    {"v21", 128, "aarch64v", nullptr},
    {"v22", 128, "aarch64v", nullptr},
    {"v23", 128, "aarch64v", nullptr},
    {"v24", 128, "aarch64v", nullptr},
    {"v25", 128, "aarch64v", nullptr},
    {"v26", 128, "aarch64v", nullptr},
    {"v27", 128, "aarch64v", nullptr},
    {"v28", 128, "aarch64v", nullptr},
    {"v29", 128, "aarch64v", nullptr},
    {"v30", 128, "aarch64v", nullptr},
    {"v31", 128, "aarch64v", nullptr},
    {"fpsr", 32, "int", nullptr},
    {"fpcr", 32, "int", nullptr},
    {"sctlr_el1", 64, "uint64", "system"},
    {"tcr_el1", 64, "uint64", "system"},
    {"ttbr0_el1", 64, "uint64", "system"},
    {"ttbr1_el1", 64, "uint64", "system"},
    {"vbar_el1", 64, "code_ptr", "system"},
    {"esr_el1", 64, "uint64", "system"},
    {"far_el1", 64, "uint64", "system"},
    {"elr_el1", 64, "code_ptr", "system"},
    {"spsr_el1", 64, "uint64", "system"},
    {"mdscr_el1", 64, "uint64", "system"},
    {"mair_el1", 64, "uint64", "system"},
    {"sp_el0", 64, "data_ptr", "system"},
    {"sp_el1", 64, "data_ptr", "system"},
}};

constexpr const char* kHeader =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n";

// PSTATE bits as gdb's own aarch64-core.xml names them (ARM ARM SPSR_EL1).
constexpr const char* kCpsrFlags =
    "  <flags id=\"cpsr_flags\" size=\"4\">\n"
    "    <field name=\"SP\" start=\"0\" end=\"0\"/>\n"
    "    <field name=\"EL\" start=\"2\" end=\"3\"/>\n"
    "    <field name=\"nRW\" start=\"4\" end=\"4\"/>\n"
    "    <field name=\"F\" start=\"6\" end=\"6\"/>\n"
    "    <field name=\"I\" start=\"7\" end=\"7\"/>\n"
    "    <field name=\"A\" start=\"8\" end=\"8\"/>\n"
    "    <field name=\"D\" start=\"9\" end=\"9\"/>\n"
    "    <field name=\"BTYPE\" start=\"10\" end=\"11\"/>\n"
    "    <field name=\"SSBS\" start=\"12\" end=\"12\"/>\n"
    "    <field name=\"IL\" start=\"20\" end=\"20\"/>\n"
    "    <field name=\"SS\" start=\"21\" end=\"21\"/>\n"
    "    <field name=\"PAN\" start=\"22\" end=\"22\"/>\n"
    "    <field name=\"UAO\" start=\"23\" end=\"23\"/>\n"
    "    <field name=\"DIT\" start=\"24\" end=\"24\"/>\n"
    "    <field name=\"TCO\" start=\"25\" end=\"25\"/>\n"
    "    <field name=\"V\" start=\"28\" end=\"28\"/>\n"
    "    <field name=\"C\" start=\"29\" end=\"29\"/>\n"
    "    <field name=\"Z\" start=\"30\" end=\"30\"/>\n"
    "    <field name=\"N\" start=\"31\" end=\"31\"/>\n"
    "  </flags>\n";

// gdb's aarch64v union (features/aarch64-fpu.xml) from its predefined
// element types.
constexpr const char* kVectorTypes =
    "  <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "  <vector id=\"v2u\" type=\"uint64\" count=\"2\"/>\n"
    "  <vector id=\"v2i\" type=\"int64\" count=\"2\"/>\n"
    "  <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "  <vector id=\"v4u\" type=\"uint32\" count=\"4\"/>\n"
    "  <vector id=\"v4i\" type=\"int32\" count=\"4\"/>\n"
    "  <vector id=\"v8f\" type=\"ieee_half\" count=\"8\"/>\n"
    "  <vector id=\"v8u\" type=\"uint16\" count=\"8\"/>\n"
    "  <vector id=\"v8i\" type=\"int16\" count=\"8\"/>\n"
    "  <vector id=\"v16u\" type=\"uint8\" count=\"16\"/>\n"
    "  <vector id=\"v16i\" type=\"int8\" count=\"16\"/>\n"
    "  <vector id=\"v1u\" type=\"uint128\" count=\"1\"/>\n"
    "  <vector id=\"v1i\" type=\"int128\" count=\"1\"/>\n"
    "  <union id=\"vnd\">\n"
    "    <field name=\"f\" type=\"v2d\"/>\n"
    "    <field name=\"u\" type=\"v2u\"/>\n"
    "    <field name=\"s\" type=\"v2i\"/>\n"
    "  </union>\n"
    "  <union id=\"vns\">\n"
    "    <field name=\"f\" type=\"v4f\"/>\n"
    "    <field name=\"u\" type=\"v4u\"/>\n"
    "    <field name=\"s\" type=\"v4i\"/>\n"
    "  </union>\n"
    "  <union id=\"vnh\">\n"
    "    <field name=\"f\" type=\"v8f\"/>\n"
    "    <field name=\"u\" type=\"v8u\"/>\n"
    "    <field name=\"s\" type=\"v8i\"/>\n"
    "  </union>\n"
    "  <union id=\"vnb\">\n"
    "    <field name=\"u\" type=\"v16u\"/>\n"
    "    <field name=\"s\" type=\"v16i\"/>\n"
    "  </union>\n"
    "  <union id=\"vnq\">\n"
    "    <field name=\"u\" type=\"v1u\"/>\n"
    "    <field name=\"s\" type=\"v1i\"/>\n"
    "  </union>\n"
    "  <union id=\"aarch64v\">\n"
    "    <field name=\"d\" type=\"vnd\"/>\n"
    "    <field name=\"s\" type=\"vns\"/>\n"
    "    <field name=\"h\" type=\"vnh\"/>\n"
    "    <field name=\"b\" type=\"vnb\"/>\n"
    "    <field name=\"q\" type=\"vnq\"/>\n"
    "  </union>\n";

std::string regs_xml(unsigned first, unsigned last) {
    std::string xml;
    for (unsigned n = first; n <= last; ++n) {
        const Register& r = kRegisters[n];
        xml += "  <reg name=\"" + std::string(r.name) + "\" bitsize=\"" + std::to_string(r.bitsize) + "\"";
        if (r.type != nullptr) {
            xml += " type=\"" + std::string(r.type) + "\"";
        }
        if (n == first) {
            xml += " regnum=\"" + std::to_string(n) + "\"";
        }
        if (r.group != nullptr) {
            xml += " group=\"" + std::string(r.group) + "\"";
        }
        xml += "/>\n";
    }
    return xml;
}

}  // namespace

std::span<const Register> registers() { return kRegisters; }

std::string core_xml() {
    return std::string(kHeader) + "<feature name=\"org.gnu.gdb.aarch64.core\">\n" + kCpsrFlags + regs_xml(kX0, kCpsr) +
           "</feature>\n";
}

std::string fpu_xml() {
    return std::string(kHeader) + "<feature name=\"org.gnu.gdb.aarch64.fpu\">\n" + kVectorTypes + regs_xml(kV0, kFpcr) +
           "</feature>\n";
}

std::string sys_xml() {
    return std::string(kHeader) + "<feature name=\"org.kvmdbg.aarch64.sys\">\n" + regs_xml(kSctlrEl1, kSpEl1) +
           "</feature>\n";
}

std::string target_xml() {
    return "<?xml version=\"1.0\"?>\n"
           "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
           "<target version=\"1.0\">\n"
           "  <architecture>aarch64</architecture>\n"
           "  <xi:include href=\"aarch64-core.xml\"/>\n"
           "  <xi:include href=\"aarch64-fpu.xml\"/>\n"
           "  <xi:include href=\"aarch64-sys.xml\"/>\n"
           "</target>\n";
}

}  // namespace aarch64

TargetDescription aarch64_target_description() {
    std::vector<std::uint32_t> sizes;
    for (const aarch64::Register& r : aarch64::registers()) {
        sizes.push_back(r.bitsize / 8);
    }
    TargetDescription::Expedited expedited{aarch64::kPc, aarch64::kSp, aarch64::kFp};
    return TargetDescription(std::move(sizes),
                             {{"target.xml", aarch64::target_xml()},
                              {"aarch64-core.xml", aarch64::core_xml()},
                              {"aarch64-fpu.xml", aarch64::fpu_xml()},
                              {"aarch64-sys.xml", aarch64::sys_xml()}},
                             expedited, std::endian::little);
}

}  // namespace kvmdbg::gdb
