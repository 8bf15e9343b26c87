#include "accel/kvm/kvm_vm.h"

#include <linux/kvm.h>
#include <signal.h>

#include <cstring>

#include "accel/kvm/kvm_flex_structs.h"
#include "accel/kvm/x86_vcpu_state.h"

namespace kvmdbg::accel::kvm {

namespace {

// Addresses QEMU uses for the VMX real-mode helpers (just below the BIOS).
constexpr std::uint64_t kTssAddr = 0xfffbd000;
constexpr std::uint64_t kIdentityMapAddr = 0xfffbc000;
constexpr int kMaxCpuidEntries = 256;

Status check(long rc, const std::string& what) {
    if (rc < 0) {
        int err = static_cast<int>(-rc);
        return make_error(err, what + " failed: " + std::strerror(err));
    }
    return ok_status();
}

void ignore_kick(int) {}

}  // namespace

Result<std::unique_ptr<KvmVm>> KvmVm::create(const KvmdbgVmConfig& config,
                                             const KvmdbgHostCallbacks& host) {
    if (config.arch != KVMDBG_ARCH_X86_64) {
        return make_error(ENOTSUP, "this KVM module drives x86-64 guests only");
    }
    if (host.pio == nullptr || host.mmio == nullptr) {
        return make_error(EINVAL, "host callbacks pio and mmio are mandatory");
    }
    std::string path = config.device_path != nullptr ? config.device_path : "/dev/kvm";
    auto system = KvmSystem::open(path);
    if (!system) {
        return system.error();
    }
    for (long cap : {KVM_CAP_USER_MEMORY, KVM_CAP_IMMEDIATE_EXIT}) {
        if (system->check_extension(cap) <= 0) {
            return make_error(ENOTSUP, path + " lacks required capability " + std::to_string(cap));
        }
    }
    long vm_fd = xioctl(system->fd(), KVM_CREATE_VM, 0ul);
    if (vm_fd < 0) {
        return make_error(static_cast<int>(-vm_fd),
                          "KVM_CREATE_VM failed: " + std::string(std::strerror(static_cast<int>(-vm_fd))));
    }
    // The kick signal must interrupt KVM_RUN, not kill the process. This is
    // process-wide state; installing the same no-op handler twice is harmless.
    struct sigaction sa {};
    sa.sa_handler = ignore_kick;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);

    std::unique_ptr<KvmVm> vm(new KvmVm(std::move(system).value(), UniqueFd(static_cast<int>(vm_fd)),
                                        host, config.kernel_irqchip != 0));
    if (auto s = vm->setup_x86(); !s) {
        return s.error();
    }
    // The start-up probe: what this host's KVM really does for a debugger.
    if (vm->system_.check_extension(KVM_CAP_SET_GUEST_DEBUG) > 0) {
        auto caps = probe_host_debug(vm->system_);
        if (!caps) {
            return make_error(caps.error().code, "host guest-debug probe: " + caps.error().message);
        }
        vm->caps_ = *caps;
    }
    vm->reports_[KVMDBG_REPORT_SUMMARY] = one_line_summary(vm->caps_);
    vm->reports_[KVMDBG_REPORT_DETAILS] = describe(vm->caps_);
    vm->reports_[KVMDBG_REPORT_ADAPTATION] = adaptation_notice(vm->caps_);

    GuestDebugHost debug_host;
    debug_host.block_irq = vm->caps_.block_irq;
    if (vm->caps_.exception_payload) {
        kvm_enable_cap cap{};
        cap.cap = KVM_CAP_EXCEPTION_PAYLOAD;
        cap.args[0] = 1;
        debug_host.exception_payload = xioctl(vm->vm_fd_.get(), KVM_ENABLE_CAP, &cap) == 0;
    }
    // Where int3 does not exit to us, software breakpoints use hardware slots.
    debug_host.sw_breakpoints_intercepted = vm->caps_.sw_breakpoint_exits;
    vm->debug_ = std::make_unique<GuestDebug>(*vm, debug_host);
    return vm;
}

KvmVm::KvmVm(KvmSystem system, UniqueFd vm_fd, const KvmdbgHostCallbacks& host, bool irqchip)
    : system_(std::move(system)), vm_fd_(std::move(vm_fd)), host_(host), irqchip_(irqchip) {}

KvmVm::~KvmVm() {
    // Destroying the vCPUs quits and joins their threads before the VM fd closes.
    vcpus_.clear();
}

Status KvmVm::setup_x86() {
    if (auto s = check(xioctl(vm_fd_.get(), KVM_SET_TSS_ADDR, kTssAddr), "KVM_SET_TSS_ADDR"); !s) {
        return s;
    }
    std::uint64_t identity = kIdentityMapAddr;
    if (system_.check_extension(KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
        if (auto s = check(xioctl(vm_fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity),
                           "KVM_SET_IDENTITY_MAP_ADDR");
            !s) {
            return s;
        }
    }
    if (!irqchip_) {
        return ok_status();
    }
    if (system_.check_extension(KVM_CAP_IRQCHIP) <= 0) {
        return make_error(ENOTSUP, "the host has no in-kernel irqchip (use kernel-irqchip=off)");
    }
    if (auto s = check(xioctl(vm_fd_.get(), KVM_CREATE_IRQCHIP, 0ul), "KVM_CREATE_IRQCHIP"); !s) {
        return s;
    }
    if (system_.check_extension(KVM_CAP_PIT2) > 0) {
        kvm_pit_config pit{};
        pit.flags = KVM_PIT_SPEAKER_DUMMY;
        if (auto s = check(xioctl(vm_fd_.get(), KVM_CREATE_PIT2, &pit), "KVM_CREATE_PIT2"); !s) {
            return s;
        }
    }
    return ok_status();
}

Status KvmVm::map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only) {
    if (started_) {
        return make_error(EBUSY, "RAM must be mapped before the vCPUs start");
    }
    if (((gpa | size | reinterpret_cast<std::uintptr_t>(host)) & 0xfff) != 0 || size == 0) {
        return make_error(EINVAL, "RAM mapping must be page aligned and non-empty");
    }
    kvm_userspace_memory_region region{};
    region.slot = static_cast<__u32>(slots_.size());
    region.flags = read_only ? KVM_MEM_READONLY : 0;
    region.guest_phys_addr = gpa;
    region.memory_size = size;
    region.userspace_addr = reinterpret_cast<std::uintptr_t>(host);
    if (auto s = check(xioctl(vm_fd_.get(), KVM_SET_USER_MEMORY_REGION, &region),
                       "KVM_SET_USER_MEMORY_REGION");
        !s) {
        return s;
    }
    slots_.push_back(Slot{gpa, size, static_cast<std::uint8_t*>(host)});
    return ok_status();
}

std::span<std::uint8_t> KvmVm::guest_bytes(std::uint64_t gpa, std::uint64_t len) const {
    for (const auto& s : slots_) {
        if (gpa >= s.gpa && gpa - s.gpa < s.size && len <= s.size - (gpa - s.gpa)) {
            return {s.host + (gpa - s.gpa), static_cast<std::size_t>(len)};
        }
    }
    return {};
}

Status KvmVm::setup_cpuid(KvmVcpu& vcpu) {
    std::vector<std::uint8_t> buf(sizeof(KvmCpuid2Header) + kMaxCpuidEntries * sizeof(kvm_cpuid_entry2));
    auto* header = reinterpret_cast<KvmCpuid2Header*>(buf.data());
    auto* entries = reinterpret_cast<kvm_cpuid_entry2*>(buf.data() + sizeof(KvmCpuid2Header));
    header->nent = kMaxCpuidEntries;
    if (auto s = check(xioctl(system_.fd(), kKvmGetSupportedCpuid, buf.data()), "KVM_GET_SUPPORTED_CPUID");
        !s) {
        return s;
    }
    // Give each vCPU its own APIC ID, as QEMU does (CPUID.1:EBX[31:24], 0xB/0x1F:EDX).
    for (__u32 i = 0; i < header->nent; ++i) {
        kvm_cpuid_entry2& e = entries[i];
        if (e.function == 1) {
            e.ebx = (e.ebx & 0x00ffffffu) | (vcpu.index() << 24);
        } else if (e.function == 0xb || e.function == 0x1f) {
            e.edx = vcpu.index();
        }
    }
    return vcpu.run_on_vcpu([&buf](KvmVcpu& v) {
        return check(xioctl(v.fd(), kKvmSetCpuid2, buf.data()), "KVM_SET_CPUID2");
    });
}

Status KvmVm::create_vcpus(std::uint32_t count) {
    if (!vcpus_.empty() || count == 0) {
        return make_error(EINVAL, "vCPUs can be created once, at least one");
    }
    long max = system_.check_extension(KVM_CAP_MAX_VCPUS);
    if (max <= 0) {
        max = system_.check_extension(KVM_CAP_NR_VCPUS);
    }
    if (max > 0 && count > static_cast<std::uint64_t>(max)) {
        return make_error(EINVAL, "the host supports at most " + std::to_string(max) + " vCPUs");
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        long fd = xioctl(vm_fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(i));
        if (fd < 0) {
            return check(fd, "KVM_CREATE_VCPU " + std::to_string(i));
        }
        UniqueFd vcpu_fd(static_cast<int>(fd));
        auto run = MappedRegion::of_fd(vcpu_fd.get(), static_cast<std::size_t>(system_.vcpu_mmap_size()),
                                       "kvm_run of vCPU " + std::to_string(i));
        if (!run) {
            return run.error();
        }
        vcpus_.push_back(std::make_unique<KvmVcpu>(*this, i, std::move(vcpu_fd), std::move(run).value()));
        debug_->set_vcpu_count(i + 1);
        vcpus_.back()->spawn();
        if (auto s = setup_cpuid(*vcpus_.back()); !s) {
            return s;
        }
    }
    return ok_status();
}

Result<KvmVcpu*> KvmVm::vcpu(std::uint32_t cpu) {
    if (cpu >= vcpus_.size()) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    return vcpus_[cpu].get();
}

const std::string& KvmVm::debug_report(std::uint32_t kind) const {
    static_assert(KVMDBG_REPORT_ADAPTATION == 2, "reports_ holds one text per report kind");
    if (kind == KVMDBG_REPORT_BREAKPOINTS) {
        std::lock_guard lock(report_mu_);
        breakpoint_report_ = debug_->describe_breakpoints();
        return breakpoint_report_;
    }
    return reports_[kind <= KVMDBG_REPORT_ADAPTATION ? kind : std::uint32_t{KVMDBG_REPORT_SUMMARY}];
}

Result<KvmdbgX86State> KvmVm::vcpu_state(std::uint32_t cpu) {
    KvmdbgX86State st{};
    if (auto s = get_state(cpu, st); !s) {
        return s.error();
    }
    return st;
}

Status KvmVm::get_state(std::uint32_t cpu, KvmdbgX86State& out) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    return (*v)->run_on_vcpu([&out](KvmVcpu& self) { return load_x86_state(self.fd(), out); });
}

Status KvmVm::set_state(std::uint32_t cpu, const KvmdbgX86State& in) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    return (*v)->run_on_vcpu([&in](KvmVcpu& self) { return store_x86_state(self.fd(), in); });
}

Status KvmVm::set_mp_runnable(std::uint32_t cpu) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    if (!irqchip_) {
        return ok_status();  // without a local APIC every vCPU is runnable
    }
    return (*v)->run_on_vcpu([](KvmVcpu& self) {
        kvm_mp_state mp{KVM_MP_STATE_RUNNABLE};
        return check(xioctl(self.fd(), KVM_SET_MP_STATE, &mp), "KVM_SET_MP_STATE");
    });
}

Status KvmVm::wait_for_sipi(std::uint32_t cpu) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    if (!irqchip_) {
        return ok_status();
    }
    return (*v)->run_on_vcpu([](KvmVcpu& self) {
        kvm_mp_state mp{KVM_MP_STATE_INIT_RECEIVED};
        return check(xioctl(self.fd(), KVM_SET_MP_STATE, &mp), "KVM_SET_MP_STATE");
    });
}

Status KvmVm::start(bool paused) {
    if (started_) {
        return make_error(EBUSY, "the VM is already started");
    }
    if (vcpus_.empty()) {
        return make_error(EINVAL, "no vCPUs to start");
    }
    started_ = true;
    if (!paused) {
        for (auto& v : vcpus_) {
            v->resume();
        }
    }
    return ok_status();
}

Status KvmVm::pause_all() {
    for (auto& v : vcpus_) {
        if (v->on_own_thread()) {
            return make_error(EDEADLK, "pause_all called on a vCPU thread");
        }
    }
    for (auto& v : vcpus_) {
        v->request_pause();
    }
    for (auto& v : vcpus_) {
        v->wait_parked();
    }
    return ok_status();
}

Status KvmVm::resume(std::uint32_t cpu, bool single_step) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    if (auto s = debug_->prepare_resume(cpu, single_step); !s) {
        return s;
    }
    (*v)->resume();
    return ok_status();
}

Status KvmVm::kick(std::uint32_t cpu) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    (*v)->kick();
    return ok_status();
}

Status KvmVm::set_irq_line(std::uint32_t irq, bool level) {
    if (!irqchip_) {
        return make_error(ENOTSUP, "no in-kernel irqchip");
    }
    kvm_irq_level line{};
    line.irq = irq;
    line.level = level ? 1 : 0;
    return check(xioctl(vm_fd_.get(), KVM_IRQ_LINE, &line), "KVM_IRQ_LINE");
}

bool KvmVm::supports_guest_debug() const {
    return system_.check_extension(KVM_CAP_SET_GUEST_DEBUG) > 0;
}

}  // namespace kvmdbg::accel::kvm
