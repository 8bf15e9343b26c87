// qSupported, qXfer (features, memory-map, threads), qRcmd (gdb manual, "General Query Packets") and QEMU's
// vendor packets (QEMU gdbstub.c: qqemu.Supported, qqemu.sstepbits,
// qqemu.sstep, Qqemu.sstep=, qqemu.PhyMemMode, Qqemu.PhyMemMode:).
#include <cstdio>

#include "gdbstub-glue/gdb_session.h"
#include "gdbstub-glue/memory_map.h"
#include "gdbstub-glue/reply_encoder.h"
#include "gdbstub-glue/thread_list.h"

namespace kvmdbg::gdb {

void GdbSession::handle(const QuerySupported& q) {
    for (const std::string& f : q.features) {
        if (f == "swbreak+") {
            gdb_swbreak_ = true;
        } else if (f == "hwbreak+") {
            gdb_hwbreak_ = true;
        }
    }
    SupportedFeatures features;
    features.packet_size = options_.advertised_packet_size;
    features.memory_map = !target_.memory_map().empty();
    send(encode_supported(features));
}

void GdbSession::handle(const XferRead& x) {
    if (x.object == "features") {
        const std::string* doc = target_.description().annex(x.annex);
        if (doc == nullptr) {
            send("E00");  // "annex was invalid" (qXfer read replies)
            return;
        }
        send(encode_xfer_chunk(*doc, x.offset, x.length));
        return;
    }
    if (x.object == "memory-map") {
        if (!x.annex.empty()) {
            send("E00");
            return;
        }
        if (x.offset == 0 || memory_map_xml_.empty()) {
            auto regions = target_.memory_map();
            if (regions.empty()) {
                send("");
                return;
            }
            memory_map_xml_ = memory_map_xml(regions);
        }
        send(encode_xfer_chunk(memory_map_xml_, x.offset, x.length));
        return;
    }
    if (x.object == "threads") {
        if (!x.annex.empty()) {
            send("E00");
            return;
        }
        if (x.offset == 0 || threads_xml_.empty()) {
            std::vector<ThreadListEntry> threads;
            for (ThreadId t = 1; t <= static_cast<ThreadId>(target_.thread_count()); ++t) {
                threads.push_back(
                    {t, static_cast<unsigned>(t - 1), "CPU#" + std::to_string(t - 1), thread_extra_info(t)});
            }
            threads_xml_ = thread_list_xml(threads);
        }
        send(encode_xfer_chunk(threads_xml_, x.offset, x.length));
        return;
    }
    send("");  // other objects are not supported
}

void GdbSession::handle(const MonitorCommand& m) {
    forget_registers();  // e.g. system_reset
    std::string output = target_.monitor(m.command);
    forget_registers();
    for (const std::string& packet : encode_console_output_packets(output, options_.console_chunk)) {
        send(packet);
    }
    send("OK");
}

void GdbSession::handle(const QemuQuerySupported&) { send("sstepbits;sstep;PhyMemMode"); }

void GdbSession::handle(const QemuQueryStepBits&) {
    std::uint32_t supported = target_.supported_step_flags();
    std::string reply = "ENABLE=1";
    if (supported & step_flags::kNoIrq) {
        reply += ",NOIRQ=2";
    }
    if (supported & step_flags::kNoTimer) {
        reply += ",NOTIMER=4";
    }
    send(reply);
}

void GdbSession::handle(const QemuQueryStepFlags&) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", step_flags_);
    send(buf);
}

void GdbSession::handle(const QemuSetStepFlags& s) {
    std::uint64_t supported = target_.supported_step_flags() | step_flags::kEnable;
    if ((s.flags & ~supported) != 0) {
        send(error_reply(EINVAL));
        return;
    }
    step_flags_ = static_cast<std::uint32_t>(s.flags);
    send("OK");
}

void GdbSession::handle(const QemuQueryPhysicalMode&) { send(space_ == AddressSpace::physical ? "1" : "0"); }

void GdbSession::handle(const QemuSetPhysicalMode& s) {
    space_ = s.physical ? AddressSpace::physical : AddressSpace::virtual_;
    if (conditions_published_) {
        publish_conditions();  // their memory reads follow the new mode
    }
    send("OK");
}

}  // namespace kvmdbg::gdb
