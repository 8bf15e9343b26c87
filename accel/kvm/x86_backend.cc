// The x86-64 ArchBackend (arch_backend.h): VM set-up with the in-kernel
// PIC/IOAPIC/PIT, CPUID per vCPU, KvmdbgX86State through the x86 register
// ioctls, the x86 exits (triple fault, emulation failure with hint-NOP
// completion, failed entry), and the guest-debug core with X86DebugHooks
// and the behavioural probe.
// Compiled only into a module built for an x86-64 host.
#include <linux/kvm.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "accel/kvm/arch_backend.h"
#include "accel/kvm/guest_debug_core.h"
#include "accel/kvm/guest_instruction_probe.h"
#include "accel/kvm/kvm_flex_structs.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/vcpu_exit_report.h"
#include "accel/kvm/x86_debug_hooks.h"
#include "accel/kvm/x86_irqchip.h"
#include "accel/kvm/x86_vcpu_state.h"
#include "accel/plugin_abi_x86.h"
#include "arch/x86/cpuid_features.h"
#include "arch/x86/hint_nop.h"
#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

// Addresses QEMU uses for the VMX real-mode helpers (just below the BIOS).
constexpr std::uint64_t kTssAddr = 0xfffbd000;
constexpr std::uint64_t kIdentityMapAddr = 0xfffbc000;
constexpr int kMaxCpuidEntries = 256;
constexpr std::uint32_t kCpuidHypervisorBit = 1u << 31;  // CPUID.1:ECX

// Up to 16 code bytes at the guest's PC, stopping at the first unmapped byte.
std::vector<std::uint8_t> code_bytes_at_pc(const KvmVm& vm, const KvmdbgX86State& st) {
    GuestMemory mem = x86_guest_memory(vm, st);
    std::vector<std::uint8_t> out;
    std::uint64_t pc = x86_pc_linear(st);
    for (unsigned i = 0; i < 16; ++i) {
        std::uint8_t byte = 0;
        if (!mem.read(pc + i, {&byte, 1})) {
            break;
        }
        out.push_back(byte);
    }
    return out;
}

// A reserved-NOP (0F 19..1F /r: rdssp, endbr, multi-byte nop) executes as a
// NOP while CR4.CET is clear; some hosts' KVM emulators fail on it (Xen's
// rdsspq on the PVM hosts of docs/hosts.md). Complete it here: advance RIP and go on.
bool skip_hint_nop(KvmVcpu& vcpu, KvmdbgX86State& st, const std::vector<std::uint8_t>& code) {
    if ((st.cr4 & arch::x86::kCr4Cet) != 0) {
        return false;
    }
    auto len = arch::x86::hint_nop_length(code, st.cs.l != 0, st.cs.db != 0);
    if (!len) {
        return false;
    }
    st.rip += *len;
    return static_cast<bool>(store_x86_state(vcpu.fd(), st));
}

ArchExitOutcome park(std::uint32_t kind, int error, std::string message) {
    ArchExitOutcome out;
    out.kind = kind;
    out.error = error;
    out.message = std::move(message);
    return out;
}

class X86Backend final : public ArchBackend {
public:
    KvmdbgArch arch() const override { return KVMDBG_ARCH_X86_64; }
    std::uint32_t state_size() const override { return KVMDBG_X86_64_STATE_SIZE; }
    unsigned long vm_type(const KvmSystem&) const override { return 0; }

    Status setup_vm(KvmVm& vm) override {
        // api.rst 4.40 KVM_SET_TSS_ADDR, 4.60 KVM_SET_IDENTITY_MAP_ADDR,
        // 4.24 KVM_CREATE_IRQCHIP, 4.71 KVM_CREATE_PIT2.
        if (auto s = ioctl_status(xioctl(vm.fd(), KVM_SET_TSS_ADDR, kTssAddr), "KVM_SET_TSS_ADDR"); !s) {
            return s;
        }
        std::uint64_t identity = kIdentityMapAddr;
        if (vm.system().check_extension(KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
            if (auto s = ioctl_status(xioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, &identity),
                                      "KVM_SET_IDENTITY_MAP_ADDR");
                !s) {
                return s;
            }
        }
        if (auto s = probe_guest_cpuid(vm.system()); !s) {
            return s;
        }
        if (!vm.irqchip()) {
            return ok_status();
        }
        if (vm.system().check_extension(KVM_CAP_IRQCHIP) <= 0) {
            return make_error(ENOTSUP, "the host has no in-kernel irqchip (use kernel-irqchip=off)");
        }
        if (auto s = ioctl_status(xioctl(vm.fd(), KVM_CREATE_IRQCHIP, 0ul), "KVM_CREATE_IRQCHIP"); !s) {
            return s;
        }
        if (vm.system().check_extension(KVM_CAP_PIT2) > 0) {
            kvm_pit_config pit{};
            pit.flags = KVM_PIT_SPEAKER_DUMMY;
            if (auto s = ioctl_status(xioctl(vm.fd(), KVM_CREATE_PIT2, &pit), "KVM_CREATE_PIT2"); !s) {
                return s;
            }
        }
        return ok_status();
    }

    Status init_vcpu(KvmVm& vm, KvmVcpu& vcpu) override {
        // api.rst 4.46 KVM_SET_CPUID2 with what KVM_GET_SUPPORTED_CPUID offers.
        std::vector<std::uint8_t> buf(sizeof(KvmCpuid2Header) + kMaxCpuidEntries * sizeof(kvm_cpuid_entry2));
        auto* header = reinterpret_cast<KvmCpuid2Header*>(buf.data());
        auto* entries = reinterpret_cast<kvm_cpuid_entry2*>(buf.data() + sizeof(KvmCpuid2Header));
        header->nent = kMaxCpuidEntries;
        if (auto s = ioctl_status(xioctl(vm.system().fd(), kKvmGetSupportedCpuid, buf.data()),
                                  "KVM_GET_SUPPORTED_CPUID");
            !s) {
            return s;
        }
        // Give each vCPU its own APIC ID, as QEMU does (CPUID.1:EBX[31:24], 0xB/0x1F:EDX),
        // and say that a hypervisor runs it (CPUID.1:ECX[31], which KVM leaves to
        // userspace): without it a guest ignores the KVM leaves at 0x40000000 that
        // KVM_GET_SUPPORTED_CPUID lists (Linux then has no kvm-clock and must
        // calibrate the TSC against the PIT, which fails on slow hosts).
        for (__u32 i = 0; i < header->nent; ++i) {
            kvm_cpuid_entry2& e = entries[i];
            if (e.function == 1) {
                e.ebx = (e.ebx & 0x00ffffffu) | (vcpu.index() << 24);
                e.ecx |= kCpuidHypervisorBit;
            } else if (e.function == 0xb || e.function == 0x1f) {
                e.edx = vcpu.index();
            }
        }
        hide_features(std::span(entries, header->nent));
        return ioctl_status(xioctl(vcpu.fd(), kKvmSetCpuid2, buf.data()), "KVM_SET_CPUID2");
    }

    Status vcpus_created(KvmVm&) override { return ok_status(); }

    // The instruction probe (guest_instruction_probe.h): which CPUID features
    // this host's KVM cannot run, hidden from every vCPU of this VM. Its
    // notice goes to stderr once per process.
    Status probe_guest_cpuid(const KvmSystem& system) {
        auto probe = probe_guest_instructions(system);
        if (!probe) {
            return make_error(probe.error().code, "CPUID instruction probe: " + probe.error().message);
        }
        hidden_ = probe->hide;
        static std::atomic<bool> told{false};
        if (std::string notice = hidden_features_notice(*probe); !notice.empty() && !told.exchange(true)) {
            std::fprintf(stderr, "%s\n", notice.c_str());
        }
        return ok_status();
    }

    void hide_features(std::span<kvm_cpuid_entry2> entries) const {
        if (!hidden_.any()) {
            return;
        }
        std::vector<arch::x86::CpuidLeaf> leaves;
        for (const auto& e : entries) {
            leaves.push_back({e.function, e.index, e.eax, e.ebx, e.ecx, e.edx});
        }
        arch::x86::hide_cpuid_features(leaves, hidden_);
        for (std::size_t i = 0; i < entries.size(); ++i) {
            entries[i].eax = leaves[i].eax;
            entries[i].ebx = leaves[i].ebx;
            entries[i].ecx = leaves[i].ecx;
            entries[i].edx = leaves[i].edx;
        }
    }

    Status load_state(KvmVcpu& vcpu, void* out) override {
        return load_x86_state(vcpu.fd(), *static_cast<KvmdbgX86State*>(out));
    }
    Status store_state(KvmVcpu& vcpu, const void* in) override {
        return store_x86_state(vcpu.fd(), *static_cast<const KvmdbgX86State*>(in));
    }

    Status set_mp_runnable(KvmVm& vm, KvmVcpu& vcpu) override {
        if (!vm.irqchip()) {
            return ok_status();  // without a local APIC every vCPU is runnable
        }
        kvm_mp_state mp{KVM_MP_STATE_RUNNABLE};
        return ioctl_status(xioctl(vcpu.fd(), KVM_SET_MP_STATE, &mp), "KVM_SET_MP_STATE");
    }

    Status wait_for_sipi(KvmVm& vm, KvmVcpu& vcpu) override {
        if (!vm.irqchip()) {
            return ok_status();
        }
        kvm_mp_state mp{KVM_MP_STATE_INIT_RECEIVED};
        return ioctl_status(xioctl(vcpu.fd(), KVM_SET_MP_STATE, &mp), "KVM_SET_MP_STATE");
    }

    Status power_off_vcpu(KvmVm&, KvmVcpu& vcpu) override {
        return make_error(ENOTSUP, "vCPU " + std::to_string(vcpu.index()) +
                                       ": x86 vCPUs are not powered off at a machine reset (APs wait for "
                                       "INIT/SIPI: wait_for_sipi)");
    }

    Status set_irq_line(KvmVm& vm, std::uint32_t irq, bool level) override {
        kvm_irq_level line{};
        line.irq = irq;  // a GSI of the in-kernel PIC/IOAPIC
        line.level = level ? 1 : 0;
        return ioctl_status(xioctl(vm.fd(), KVM_IRQ_LINE, &line), "KVM_IRQ_LINE");
    }

    Status get_irqchip(KvmVm& vm, std::uint32_t chip, std::uint32_t cpu, void* out, std::uint64_t size) override {
        return read_x86_irqchip(vm, chip, cpu, out, size);
    }

    ArchExitOutcome handle_exit(KvmVcpu& vcpu) override {
        const kvm_run& r = *vcpu.run();
        const std::uint32_t index = vcpu.index();
        KvmdbgX86State st{};
        Status loaded = load_x86_state(vcpu.fd(), st);
        std::string regs_note = loaded ? "" : "\n(registers unavailable: " + loaded.error().message + ")";
        switch (r.exit_reason) {
        case KVM_EXIT_SHUTDOWN:
            return park(KVMDBG_EVENT_SHUTDOWN, 0,
                        describe_shutdown(index, st, code_bytes_at_pc(vcpu.vm(), st)) + regs_note);
        case KVM_EXIT_INTERNAL_ERROR: {
            auto code = code_bytes_at_pc(vcpu.vm(), st);
            if (loaded && r.internal.suberror == KVM_INTERNAL_ERROR_EMULATION && skip_hint_nop(vcpu, st, code)) {
                ArchExitOutcome go;
                go.keep_running = true;
                return go;
            }
            return park(KVMDBG_EVENT_INTERNAL_ERROR, static_cast<int>(r.internal.suberror),
                        describe_internal_error(r, index, st, code) + regs_note);
        }
        case KVM_EXIT_FAIL_ENTRY:
            return park(KVMDBG_EVENT_FAIL_ENTRY, 0, describe_fail_entry(r, index, st) + regs_note);
        case KVM_EXIT_SYSTEM_EVENT:
            return park(KVMDBG_EVENT_SHUTDOWN, 0,
                        "vCPU " + std::to_string(index) + " system event " + std::to_string(r.system_event.type));
        default:
            return park(KVMDBG_EVENT_UNHANDLED_EXIT, static_cast<int>(r.exit_reason),
                        "vCPU " + std::to_string(index) + ": unhandled " + exit_reason_name(r.exit_reason) +
                            " at RIP=" + hex_string(st.rip));
        }
    }

    Result<HostDebugCaps> probe_debug(const KvmSystem& system) override { return probe_host_debug(system); }

    DebugReportTexts debug_reports(const HostDebugCaps& caps) const override {
        return {one_line_summary(caps), describe(caps), adaptation_notice(caps)};
    }

    Result<std::unique_ptr<GuestDebug>> make_guest_debug(KvmVm& vm, const HostDebugCaps& caps) override {
        X86DebugHost host;
        host.block_irq = caps.block_irq;
        if (caps.exception_payload) {
            kvm_enable_cap cap{};
            cap.cap = KVM_CAP_EXCEPTION_PAYLOAD;
            cap.args[0] = 1;
            host.exception_payload = xioctl(vm.fd(), KVM_ENABLE_CAP, &cap) == 0;
        }
        // Where int3 does not exit to us, software breakpoints use hardware
        // slots. KVMDBG_X86_SW_BP=int3 writes int3 anyway (tests only: the
        // software-breakpoint table and its step-over on a host whose KVM
        // does not intercept int3; docs/guest-debug.md).
        const char* sw_bp = std::getenv("KVMDBG_X86_SW_BP");
        host.sw_breakpoints_intercepted = caps.sw_breakpoint_exits ||
                                          (sw_bp != nullptr && std::string_view(sw_bp) == "int3");
        // Where an int3 in kernel code stops as an emulation failure, gdb's
        // breakpoints there are int3s after all (host_debug_probe.h).
        host.plant_int3_in_kernel_code = plants_int3_in_kernel_code(caps);
        // Where RF skips a hardware breakpoint once, a continue needs no step-over.
        host.resume_flag = caps.hw_bp_resume_flag;
        auto core = GuestDebugCore::create(vm, std::make_unique<X86DebugHooks>(vm, host));
        if (!core) {
            return core.error();
        }
        return std::unique_ptr<GuestDebug>(std::move(*core));
    }

private:
    arch::x86::HiddenCpuidFeatures hidden_;
};

}  // namespace

// The module is built for one host ISA: this file is its backend factory on x86-64.
Result<std::unique_ptr<ArchBackend>> make_arch_backend(const KvmdbgVmConfig& config) {
    if (config.arch != KVMDBG_ARCH_X86_64) {
        return make_error(ENOTSUP, "this KVM module drives x86-64 guests only");
    }
    return std::unique_ptr<ArchBackend>(std::make_unique<X86Backend>());
}

}  // namespace kvmdbg::accel::kvm
