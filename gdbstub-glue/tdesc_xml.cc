#include "gdbstub-glue/tdesc_xml.h"

#include <vector>

namespace kvmdbg::gdb {

std::string build_target_xml(const char* architecture, std::span<const TdescFeature> features) {
    std::string xml =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
        "<target version=\"1.0\">\n"
        "  <architecture>" +
        std::string(architecture) + "</architecture>\n";
    unsigned regnum = 0;
    for (const TdescFeature& f : features) {
        xml += "  <feature name=\"" + std::string(f.name) + "\">\n";
        for (const TdescReg& r : f.regs) {
            xml += "    <reg name=\"" + std::string(r.name) + "\" bitsize=\"" + std::to_string(r.bitsize) +
                   "\" type=\"" + r.type + "\" regnum=\"" + std::to_string(regnum++) + "\"";
            if (r.group != nullptr) {
                xml += " group=\"" + std::string(r.group) + "\"";
            }
            xml += "/>\n";
        }
        xml += "  </feature>\n";
    }
    xml += "</target>\n";
    return xml;
}

TargetDescription build_target_description(const char* architecture, std::span<const TdescFeature> features,
                                           TargetDescription::Expedited expedited, std::endian byte_order) {
    std::vector<std::uint32_t> sizes;
    for (const TdescFeature& f : features) {
        for (const TdescReg& r : f.regs) {
            sizes.push_back(r.bitsize / 8);
        }
    }
    return TargetDescription(std::move(sizes), {{"target.xml", build_target_xml(architecture, features)}}, expedited,
                             byte_order);
}

}  // namespace kvmdbg::gdb
