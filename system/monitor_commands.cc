// The gdb stub's monitor commands (qRcmd, gdb's `monitor CMD`), QEMU's HMP
// names where they exist. Output goes back to gdb as `O` packets.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "system/gdb_front_end.h"
#include "system/irqchip_monitor.h"
#include "system/isa_descriptor.h"
#include "system/monitor_numbers.h"

namespace kvmdbg::system {

namespace {

constexpr const char* kHelp =
    "help                      this text\n"
    "info registers            registers of every vCPU (x86-64 adds control and debug registers)\n"
    "info breakpoints          software breakpoints, hardware debug slots (debugger's, guest's, free)\n"
    "info capabilities         what the start-up probe found about this host's KVM\n"
    "info mtree                the machine's address map: RAM, ROM, each device's MMIO and ports\n"
    "info devices              the machine's devices, their ranges, which show registers\n"
    "info device NAME          a device's registers (COM1, pl011, cmos-rtc, pci-conf1, fw_cfg, ...)\n"
    "info pic                  the in-kernel 8259A PICs: IRR, IMR, ISR, ELCR, vector base, init state (x86)\n"
    "info ioapic               the in-kernel IOAPIC: ID and the 24 redirection entries decoded (x86)\n"
    "info lapic [N]            vCPU N's in-kernel local APIC (default 0): ID, SVR, ISR/TMR/IRR, LVT, timer, ICR (x86)\n"
    "catch io PORT[-PORT] [r|w|rw] [if value [& MASK] OP N]\n"
    "                          stop the vCPU that accesses these ports (default rw), after the access;\n"
    "                          OP: == != < <= > >= on the value written or read\n"
    "catch mmio ADDR[-ADDR] [r|w|rw] [if ...]\n"
    "                          the same for guest-physical addresses of emulated devices\n"
    "info catch                the catches, by number\n"
    "info stop-all [N]         how long the last N all-stops took (default: all kept), from the kick of\n"
    "                          every vCPU to all of them parked\n"
    "trace io on|off           record every device access (also -d io); no argument: show\n"
    "info io [N] [io RANGE|mmio RANGE|DEVICE]\n"
    "                          the last N recorded device accesses (default 20), filtered\n"
    "delete catch N            remove catch N\n"
    "xp /N[bhwg] ADDR          N units of guest-physical memory at ADDR, in hex\n"
    "sstep [noirq|irq]         single steps block interrupts (noirq) or not; no argument: show\n"
    "system_reset              reset the machine: RAM reloaded, every vCPU at its boot state (stays stopped)\n"
    "quit                      end kvmdbg with status 0\n";

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    for (std::string w; in >> w;) {
        words.push_back(w);
    }
    return words;
}

std::string xp(accel::Accelerator& accel, const std::vector<std::string>& w) {
    // xp /N[fmt] ADDR  (QEMU syntax; the format letter x is accepted and is the only one)
    unsigned count = 1;
    unsigned unit = 4;
    std::size_t arg = 1;
    if (w.size() > 1 && w[1].starts_with("/")) {
        std::string spec = w[1].substr(1);
        std::size_t digits = 0;
        while (digits < spec.size() && std::isdigit(static_cast<unsigned char>(spec[digits]))) {
            ++digits;
        }
        if (digits > 0) {
            count = static_cast<unsigned>(std::stoul(spec.substr(0, digits)));
        }
        for (char c : spec.substr(digits)) {
            switch (c) {
            case 'b': unit = 1; break;
            case 'h': unit = 2; break;
            case 'w': unit = 4; break;
            case 'g': unit = 8; break;
            case 'x': break;
            default: return std::string("xp: unsupported format '") + c + "' (use b, h, w, g, x)\n";
            }
        }
        arg = 2;
    }
    if (w.size() <= arg || count == 0 || count > 4096) {
        return "usage: xp /N[bhwg] ADDR (N from 1 to 4096)\n";
    }
    char* end = nullptr;
    std::uint64_t addr = std::strtoull(w[arg].c_str(), &end, 0);
    if (end == w[arg].c_str() || *end != '\0') {
        return "xp: bad address '" + w[arg] + "'\n";
    }
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(count) * unit);
    if (auto s = accel.read_memory(0, addr, buf, true); !s) {
        return "xp: " + s.error().message + "\n";
    }
    std::string out;
    char line[64];
    for (unsigned i = 0; i < count; ++i) {
        if (i % (16 / unit) == 0) {
            std::snprintf(line, sizeof line, "%s%016" PRIx64 ":", i == 0 ? "" : "\n", addr + i * unit);
            out += line;
        }
        std::uint64_t v = 0;
        for (unsigned b = 0; b < unit; ++b) {
            v |= static_cast<std::uint64_t>(buf[i * unit + b]) << (8 * b);
        }
        std::snprintf(line, sizeof line, " 0x%0*" PRIx64, static_cast<int>(unit * 2), v);
        out += line;
    }
    return out + "\n";
}

// catch io|mmio FIRST[-LAST] [r|w|rw] [if value [& MASK] OP N]
std::string add_catch(DeviceAccessCatches& catches, std::vector<std::string> w) {
    const char* usage = "usage: catch io PORT[-PORT] [r|w|rw] [if COND] | catch mmio ADDR[-ADDR] [r|w|rw] [if COND]\n";
    std::optional<CatchCondition> condition;
    if (auto at = std::find(w.begin(), w.end(), "if"); at != w.end()) {
        auto parsed = CatchCondition::parse({at + 1, w.end()});
        if (!parsed) {
            return "catch: " + parsed.error().message + "\n";
        }
        condition = std::move(parsed).value();
        w.erase(at, w.end());
    }
    if (w.size() < 3 || w.size() > 4 || (w[1] != "io" && w[1] != "mmio")) {
        return usage;
    }
    const bool io = w[1] == "io";
    auto range = parse_monitor_range(w[2]);
    if (!range) {
        return "catch: bad range '" + w[2] + "' (FIRST or FIRST-LAST, LAST not below FIRST)\n";
    }
    const auto [first, last] = *range;
    if (io && last > 0xffff) {
        return "catch: ports go up to 0xffff\n";
    }
    AccessDirection direction = AccessDirection::both;
    if (w.size() == 4) {
        if (w[3] == "r") {
            direction = AccessDirection::read;
        } else if (w[3] == "w") {
            direction = AccessDirection::write;
        } else if (w[3] != "rw") {
            return usage;
        }
    }
    std::string when = condition ? " if " + condition->text() : "";
    unsigned id = catches.add(io ? hw::AddressSpace::pio : hw::AddressSpace::mmio, first, last, direction,
                              std::move(condition));
    char buf[160];
    std::snprintf(buf, sizeof buf, "Catch %u: %s 0x%" PRIx64 "-0x%" PRIx64 " (%s)", id, io ? "ports" : "mmio", first,
                  last, w.size() == 4 ? w[3].c_str() : "rw");
    return buf + when + "\n";
}

// info io [N] [FILTER...]
std::string info_io(const DeviceAccessTrace& trace, const std::vector<std::string>& w) {
    std::size_t n = 20;
    std::size_t filter_at = 2;
    if (w.size() > 2) {
        if (auto count = parse_monitor_number(w[2])) {
            n = static_cast<std::size_t>(std::min<std::uint64_t>(*count, DeviceAccessTrace::kCapacity));
            filter_at = 3;
        }
    }
    auto filter = TraceFilter::parse({w.begin() + static_cast<std::ptrdiff_t>(filter_at), w.end()});
    if (!filter) {
        return "info io: " + filter.error().message + "\n";
    }
    auto entries = trace.last(n, *filter);
    std::string out;
    if (!trace.enabled() && trace.total() == 0) {
        out = "The device-access trace is off (monitor trace io on, or -d io).\n";
    }
    for (const auto& e : entries) {
        out += DeviceAccessTrace::format(e) + "\n";
    }
    return out.empty() ? "No accesses recorded.\n" : out;
}

}  // namespace

std::string GdbFrontEnd::monitor_command(std::string_view command) {
    auto w = split_words(command);
    if (w.empty() || w[0] == "help" || w[0] == "?") {
        return kHelp;
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "registers") {
        // The dump is the ISA descriptor's: the accelerator's state blob as
        // the VM's ISA lays it out.
        const IsaDescriptor& isa = target_->isa();
        std::string out;
        for (std::uint32_t cpu = 0; cpu < cpus_; ++cpu) {
            auto st = accel_.get_state(cpu);
            auto dump = st ? isa.register_dump(*st) : Result<std::string>(st.error());
            out += "CPU#" + std::to_string(cpu) + "\n";
            out += dump ? *dump : "  " + dump.error().message + "\n";
        }
        return out;
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "breakpoints") {
        return accel_.debug_report(KVMDBG_REPORT_BREAKPOINTS);
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "capabilities") {
        return accel_.debug_report(KVMDBG_REPORT_DETAILS);
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "mtree") {
        return hooks_.address_map ? hooks_.address_map() : "info mtree: no machine\n";
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "devices") {
        return hooks_.device_list ? hooks_.device_list() : "info devices: no machine\n";
    }
    if (w[0] == "info" && w.size() == 3 && w[1] == "device") {
        auto state = hooks_.device_state ? hooks_.device_state(w[2]) : std::nullopt;
        if (!state) {
            return "info device: no device " + w[2] + " (info devices lists them)\n";
        }
        return state->empty() ? w[2] + ": no registers to show\n" : *state;
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "pic") {
        return monitor_info_pic(accel_);
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "ioapic") {
        return monitor_info_ioapic(accel_);
    }
    if (w[0] == "info" && (w.size() == 2 || w.size() == 3) && w[1] == "lapic") {
        auto cpu = w.size() == 3 ? parse_monitor_number(w[2]) : std::optional<std::uint64_t>(0);
        if (!cpu) {
            return "usage: info lapic [N] (N: a vCPU index, default 0)\n";
        }
        return monitor_info_lapic(accel_, *cpu, cpus_);
    }
    if (w[0] == "info" && (w.size() == 2 || w.size() == 3) && w[1] == "stop-all") {
        auto last = w.size() == 3 ? parse_monitor_number(w[2])
                                  : std::optional<std::uint64_t>(StopAllTimings::kCapacity);
        if (!last || *last == 0) {
            return "usage: info stop-all [N] (N: how many of the latest all-stops, at least 1)\n";
        }
        return target_->stop_all_timings().report(
            static_cast<std::size_t>(std::min<std::uint64_t>(*last, StopAllTimings::kCapacity)));
    }
    if (w[0] == "info" && w.size() == 2 && w[1] == "catch") {
        return DeviceAccessCatches::format_list(catches_.list());
    }
    if (w[0] == "trace" && w.size() >= 2 && w[1] == "io") {
        if (w.size() == 3 && (w[2] == "on" || w[2] == "off")) {
            trace_.set_enabled(w[2] == "on");
        } else if (w.size() != 2) {
            return "usage: trace io on|off\n";
        }
        return std::string("device-access trace ") + (trace_.enabled() ? "on" : "off") + ", " +
               std::to_string(trace_.total()) + " accesses recorded\n";
    }
    if (w[0] == "info" && w.size() >= 2 && w[1] == "io") {
        return info_io(trace_, w);
    }
    if (w[0] == "catch") {
        return add_catch(catches_, w);
    }
    if (w[0] == "delete" && w.size() == 3 && w[1] == "catch") {
        auto id = parse_monitor_number(w[2]);
        if (!id || *id != static_cast<unsigned>(*id) || !catches_.remove(static_cast<unsigned>(*id))) {
            return "delete catch: no catch " + w[2] + "\n";
        }
        return "Deleted catch " + w[2] + "\n";
    }
    if (w[0] == "xp") {
        return xp(accel_, w);
    }
    if (w[0] == "sstep") {
        if (w.size() == 1) {
            return target_->step_blocks_irq() ? "sstep: noirq (single steps block interrupts)\n"
                                              : "sstep: irq (interrupts may arrive during single steps)\n";
        }
        bool noirq = w[1] == "noirq";
        if (!noirq && w[1] != "irq") {
            return "usage: sstep [noirq|irq]\n";
        }
        if (auto s = target_->set_step_blocks_irq(noirq); !s) {
            return "sstep: " + s.error().message + "\n";
        }
        return noirq ? "single steps now block interrupts\n" : "single steps now let interrupts in\n";
    }
    if (w[0] == "system_reset") {
        // Under the debugger the vCPUs stay stopped: gdb sees the reset
        // state at once and `continue` boots the guest again.
        if (auto s = hooks_.reset_machine("monitor system_reset"); !s) {
            return "system_reset: " + s.error().message + "\n";
        }
        return "machine reset: RAM reloaded, every vCPU at its boot state\n";
    }
    if (w[0] == "quit" || w[0] == "q") {
        hooks_.finish(0, "");
        return "";
    }
    return "unknown command '" + std::string(command) + "' (monitor help lists the commands)\n";
}

}  // namespace kvmdbg::system
