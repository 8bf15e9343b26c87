#include "tests/unit/gdbstub/fake_target.h"

#include <algorithm>

#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/packet_framer.h"

namespace kvmdbg::test {

using namespace gdb;

FakeTarget::FakeTarget(unsigned threads)
    : ram(kRamSize),
      phys(kPhysSize),
      threads_(threads),
      description_({8, 8, 8, 4}, {{"target.xml", "<target>fake</target>"}, {"odd.xml", "a}b*c#d$e"}},
                   TargetDescription::Expedited{2, 1, 0}) {
    for (std::size_t i = 0; i < ram.size(); ++i) {
        ram[i] = static_cast<std::uint8_t>(i);
    }
    for (std::size_t i = 0; i < phys.size(); ++i) {
        phys[i] = static_cast<std::uint8_t>(0xa0 + i);
    }
    for (ThreadId t = 1; t <= static_cast<ThreadId>(threads); ++t) {
        regs_[t] = std::vector<std::uint8_t>(28);
        set_reg(t, 0, 0x1100 + static_cast<std::uint64_t>(t));
        set_reg(t, 1, 0x2200 + static_cast<std::uint64_t>(t));
        set_reg(t, 2, 0x3300 + static_cast<std::uint64_t>(t));
        set_reg(t, 3, 0x46);
        states.push_back(ThreadRunState::paused);
    }
}

void FakeTarget::set_reg(ThreadId thread, unsigned regnum, std::uint64_t value) {
    auto& r = regs_.at(thread);
    std::size_t off = description_.register_offset(regnum);
    for (std::size_t i = 0; i < description_.register_size(regnum); ++i) {
        r[off + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

std::uint64_t FakeTarget::reg(ThreadId thread, unsigned regnum) const {
    const auto& r = regs_.at(thread);
    std::size_t off = description_.register_offset(regnum);
    std::vector<std::uint8_t> raw(r.begin() + static_cast<long>(off),
                                  r.begin() + static_cast<long>(off + description_.register_size(regnum)));
    return register_value(raw, std::endian::little);
}

std::vector<std::string> FakeTarget::calls(std::string_view prefix) const {
    std::vector<std::string> out;
    for (const auto& line : log) {
        if (line.starts_with(prefix)) {
            out.push_back(line);
        }
    }
    return out;
}

Result<std::vector<std::uint8_t>> FakeTarget::read_registers(ThreadId thread) {
    log.push_back("read_registers " + std::to_string(thread));
    return regs_.at(thread);
}

Status FakeTarget::write_registers(ThreadId thread, std::span<const std::uint8_t> data) {
    log.push_back("write_registers " + std::to_string(thread));
    regs_.at(thread).assign(data.begin(), data.end());
    return ok_status();
}

Result<std::vector<std::uint8_t>> FakeTarget::read_register(ThreadId thread, unsigned regnum) {
    const auto& r = regs_.at(thread);
    std::size_t off = description_.register_offset(regnum);
    return std::vector<std::uint8_t>(r.begin() + static_cast<long>(off),
                                     r.begin() + static_cast<long>(off + description_.register_size(regnum)));
}

Status FakeTarget::write_register(ThreadId thread, unsigned regnum, std::span<const std::uint8_t> value) {
    log.push_back("write_register " + std::to_string(thread) + " " + std::to_string(regnum));
    auto& r = regs_.at(thread);
    std::copy(value.begin(), value.end(), r.begin() + static_cast<long>(description_.register_offset(regnum)));
    return ok_status();
}

Result<std::size_t> FakeTarget::read_memory(ThreadId, std::uint64_t addr, std::span<std::uint8_t> out,
                                            AddressSpace space) {
    const auto& mem = space == AddressSpace::physical ? phys : ram;
    std::uint64_t base = space == AddressSpace::physical ? 0 : kRamBase;
    if (addr < base || addr >= base + mem.size()) {
        return make_error(EFAULT, "unmapped");
    }
    std::size_t n = std::min<std::size_t>(out.size(), base + mem.size() - addr);
    std::copy_n(mem.begin() + static_cast<long>(addr - base), n, out.begin());
    return n;
}

Status FakeTarget::write_memory(ThreadId, std::uint64_t addr, std::span<const std::uint8_t> data, AddressSpace space) {
    auto& mem = space == AddressSpace::physical ? phys : ram;
    std::uint64_t base = space == AddressSpace::physical ? 0 : kRamBase;
    if (addr < base || addr + data.size() > base + mem.size()) {
        return make_error(EFAULT, "unmapped");
    }
    std::copy(data.begin(), data.end(), mem.begin() + static_cast<long>(addr - base));
    log.push_back("write_memory " + format_hex(addr) + " " + std::to_string(data.size()));
    return ok_status();
}

Status FakeTarget::insert_breakpoint(const Breakpoint& bp) {
    log.push_back("insert " + std::to_string(static_cast<int>(bp.type)) + "," + format_hex(bp.addr) + "," +
                  format_hex(bp.kind));
    if (insert_error != 0) {
        return make_error(insert_error, "cannot");
    }
    inserted.push_back(bp);
    return ok_status();
}

Status FakeTarget::remove_breakpoint(const Breakpoint& bp) {
    log.push_back("remove " + std::to_string(static_cast<int>(bp.type)) + "," + format_hex(bp.addr) + "," +
                  format_hex(bp.kind));
    inserted.erase(std::remove(inserted.begin(), inserted.end(), bp), inserted.end());
    return ok_status();
}

void FakeTarget::remove_all_breakpoints() {
    log.push_back("remove_all");
    inserted.clear();
}

Status FakeTarget::resume(std::span<const ResumeRequest> requests, std::uint32_t flags) {
    std::string line = "resume";
    for (const ResumeRequest& r : requests) {
        line += " " + std::to_string(r.thread) + ":" +
                (r.kind == ResumeKind::continue_ ? "c"
                 : r.kind == ResumeKind::step    ? "s"
                                                 : "-");
        if (r.signal != 0) {
            line += "/" + std::to_string(r.signal);
        }
    }
    line += " flags=" + std::to_string(flags);
    log.push_back(line);
    return ok_status();
}

void FakeTarget::stop_all(gdb::ThreadId reported) {
    log.push_back("stop_all");
    stop_all_reported.push_back(reported);
    if (session != nullptr) {
        output_pending_at_stop_all.push_back(session->has_output());
    }
}

ThreadRunState FakeTarget::thread_state(ThreadId thread) const {
    return states.at(static_cast<std::size_t>(thread - 1));
}

std::string FakeTarget::monitor(std::string_view command) {
    log.push_back("monitor " + std::string(command));
    return monitor_output;
}

Result<bool> FakeEvaluator::evaluate(std::span<const std::uint8_t> bytecode, AgentContext& context) {
    seen.emplace_back(bytecode.begin(), bytecode.end());
    if (fn) {
        return fn(bytecode, context);
    }
    if (bytecode.size() == 2 && bytecode[0] == 0x26) {
        auto v = context.read_register(bytecode[1]);
        if (!v) {
            return v.error();
        }
        return *v != 0;
    }
    if (bytecode.size() == 1 && bytecode[0] == 0xee) {
        return make_error(EINVAL, "bad bytecode");
    }
    return bytecode.size() == 1 && bytecode[0] == 1;
}

std::vector<std::string> packets(std::string_view bytes) {
    std::vector<std::string> out;
    PacketFramer framer;
    for (const FrameEvent& ev : framer.feed(bytes)) {
        if (ev.kind == FrameEvent::Kind::packet) {
            out.push_back(ev.payload);
        } else if (ev.kind == FrameEvent::Kind::bad_checksum) {
            out.emplace_back("<bad checksum>");
        }
    }
    return out;
}

Harness::Harness(unsigned threads) : target(threads), session(target, evaluator) {
    target.session = &session;
    session.on_connect();
    target.log.clear();
    target.output_pending_at_stop_all.clear();
}

std::string Harness::send_raw(std::string_view payload) {
    session.receive(frame_packet(payload));
    return session.take_output();
}

std::vector<std::string> Harness::ask_all(std::string_view payload) { return packets(send_raw(payload)); }

std::string Harness::ask(std::string_view payload) {
    auto replies = ask_all(payload);
    if (replies.empty()) {
        return "<none>";
    }
    if (replies.size() > 1) {
        return "<many>";
    }
    return replies.front();
}

std::vector<std::string> Harness::drain() { return packets(session.take_output()); }

void Harness::no_ack() { send_raw("QStartNoAckMode"); }

}  // namespace kvmdbg::test
