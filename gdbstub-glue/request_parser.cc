#include "gdbstub-glue/request_parser.h"

#include <array>

#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb {

namespace {

using namespace detail;

using ParseFn = std::optional<Request> (*)(std::string_view);

struct Entry {
    std::string_view prefix;
    ParseFn parse;
};

// Packets that take no argument. A one-letter command with trailing text is
// malformed; a longer name with trailing text is some other packet
// ("qCRC:" is not "qC"), which kvmdbg does not know.
template <typename T>
std::optional<Request> no_args(std::string_view text) {
    if (!text.empty()) {
        return std::nullopt;
    }
    return Request{T{}};
}

template <typename T>
std::optional<Request> letter_no_args(std::string_view text) {
    if (!text.empty()) {
        return malformed("unexpected argument");
    }
    return Request{T{}};
}

std::optional<Request> parse_kill(std::string_view text) {
    if (!text.empty()) {
        return malformed("k takes no argument");
    }
    return Request{Kill{false}};
}

std::optional<Request> parse_vkill(std::string_view text) {
    if (!text.empty() && text.front() != ';') {
        return std::nullopt;
    }
    return Request{Kill{true}};
}

std::optional<Request> parse_thread_list_first(std::string_view text) {
    if (!text.empty()) {
        return std::nullopt;
    }
    return Request{QueryThreadList{true}};
}

std::optional<Request> parse_thread_list_next(std::string_view text) {
    if (!text.empty()) {
        return std::nullopt;
    }
    return Request{QueryThreadList{false}};
}

// Longer names before their prefixes ("vCont?" before "vCont",
// "qqemu.sstepbits" before "qqemu.sstep").
constexpr std::array kTable{
    Entry{"qXfer:", parse_xfer},
    Entry{"qSupported", parse_supported},
    Entry{"qRcmd,", parse_rcmd},
    Entry{"qThreadExtraInfo,", parse_thread_extra_info},
    Entry{"qfThreadInfo", parse_thread_list_first},
    Entry{"qsThreadInfo", parse_thread_list_next},
    Entry{"qAttached", parse_attached},
    Entry{"qC", no_args<QueryCurrentThread>},
    Entry{"qqemu.Supported", no_args<QemuQuerySupported>},
    Entry{"qqemu.sstepbits", no_args<QemuQueryStepBits>},
    Entry{"qqemu.sstep", no_args<QemuQueryStepFlags>},
    Entry{"qqemu.PhyMemMode", no_args<QemuQueryPhysicalMode>},
    Entry{"Qqemu.sstep=", parse_qemu_set_sstep},
    Entry{"Qqemu.PhyMemMode:", parse_qemu_set_phy_mem_mode},
    Entry{"QStartNoAckMode", no_args<StartNoAckMode>},
    Entry{"vCont?", no_args<VContQuery>},
    Entry{"vCont", parse_vcont},
    Entry{"vKill", parse_vkill},
    Entry{"?", letter_no_args<QueryHaltReason>},
    Entry{"g", parse_read_registers},
    Entry{"G", parse_write_registers},
    Entry{"p", parse_read_register},
    Entry{"P", parse_write_register},
    Entry{"m", parse_read_memory_hex},
    Entry{"M", parse_write_memory_hex},
    Entry{"x", parse_read_memory_bin},
    Entry{"X", parse_write_memory_bin},
    Entry{"c", parse_continue},
    Entry{"C", parse_continue_signal},
    Entry{"s", parse_step},
    Entry{"S", parse_step_signal},
    Entry{"Z", parse_insert_breakpoint},
    Entry{"z", parse_remove_breakpoint},
    Entry{"H", parse_set_thread},
    Entry{"T", parse_thread_alive},
    Entry{"D", parse_detach},
    Entry{"k", parse_kill},
};

}  // namespace

std::optional<Request> parse_request(std::string_view payload) {
    for (const Entry& e : kTable) {
        if (payload.starts_with(e.prefix)) {
            return e.parse(payload.substr(e.prefix.size()));
        }
    }
    return std::nullopt;
}

}  // namespace kvmdbg::gdb
