#include "gdbstub-glue/thread_list.h"

#include <cstdio>

namespace kvmdbg::gdb {

namespace {

std::string xml_escaped(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c; break;
        }
    }
    return out;
}

}  // namespace

std::string thread_list_xml(std::span<const ThreadListEntry> threads) {
    std::string out = "<?xml version=\"1.0\"?>\n<threads>\n";
    for (const ThreadListEntry& t : threads) {
        char head[96];
        std::snprintf(head, sizeof head, "  <thread id=\"%llx\" core=\"%u\" name=\"",
                      static_cast<unsigned long long>(t.id), t.core);
        out += head;
        out += xml_escaped(t.name);
        out += "\">";
        out += xml_escaped(t.extra);
        out += "</thread>\n";
    }
    out += "</threads>\n";
    return out;
}

}  // namespace kvmdbg::gdb
