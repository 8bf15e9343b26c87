#include "accel/kvm/vcpu_exit_report.h"

#include <cstdio>

#include "arch/x86/register_dump.h"
#include "common/hex_string.h"

namespace kvmdbg::accel::kvm {

namespace {

std::string code_line(std::span<const std::uint8_t> code) {
    std::string msg = "code bytes at RIP:";
    if (code.empty()) {
        msg += " (not mapped)";
    }
    for (std::uint8_t b : code) {
        char buf[4];
        std::snprintf(buf, sizeof buf, " %02x", b);
        msg += buf;
    }
    return msg + '\n';
}

const char* suberror_name(std::uint32_t suberror) {
    switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
    default: return "unknown suberror";
    }
}

}  // namespace

std::string exit_reason_name(std::uint32_t reason) {
    switch (reason) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "KVM_EXIT_IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_SET_TPR: return "KVM_EXIT_SET_TPR";
    case KVM_EXIT_TPR_ACCESS: return "KVM_EXIT_TPR_ACCESS";
    case KVM_EXIT_NMI: return "KVM_EXIT_NMI";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
    default: return "exit reason " + std::to_string(reason);
    }
}

std::uint64_t x86_pc_linear(const KvmdbgX86State& st) {
    constexpr std::uint64_t kEferLma = 1ull << 10;
    if ((st.efer & kEferLma) != 0 && st.cs.l) {
        return st.rip;
    }
    return (st.cs.base + st.rip) & 0xffffffffull;
}

std::string describe_internal_error(const kvm_run& run, std::uint32_t cpu, const KvmdbgX86State& st,
                                    std::span<const std::uint8_t> code) {
    std::uint32_t sub = run.internal.suberror;
    std::string msg = "KVM internal error on vCPU " + std::to_string(cpu) + ": suberror " + std::to_string(sub) + " (" +
                      suberror_name(sub) + ") at RIP=" + hex_string(st.rip);
    msg += '\n' + code_line(code);
    std::uint32_t n = run.internal.ndata;
    if (n > 0) {
        msg += "extra data:";
        for (std::uint32_t i = 0; i < n && i < 16; ++i) {
            msg += ' ' + hex_string(run.internal.data[i]);
        }
        msg += '\n';
    }
    return msg + arch::x86::format_register_dump(st);
}

std::string describe_shutdown(std::uint32_t cpu, const KvmdbgX86State& st, std::span<const std::uint8_t> code) {
    return "vCPU " + std::to_string(cpu) + " shut down (triple fault) at RIP=" + hex_string(st.rip) + "\n" +
           code_line(code) + arch::x86::format_register_dump(st);
}

std::string describe_fail_entry(const kvm_run& run, std::uint32_t cpu, const KvmdbgX86State& st) {
    return "KVM entry failed on vCPU " + std::to_string(cpu) + ": hardware reason " +
           hex_string(run.fail_entry.hardware_entry_failure_reason) + " (host cpu " +
           std::to_string(run.fail_entry.cpu) + ")\n" + arch::x86::format_register_dump(st);
}

}  // namespace kvmdbg::accel::kvm
