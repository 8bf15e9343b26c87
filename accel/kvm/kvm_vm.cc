#include "accel/kvm/kvm_vm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>

#include <cstring>

#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

// KVM_CAP_SET_GUEST_DEBUG is 23 on every ISA, but <linux/kvm.h> defines it
// only where the ISA's uapi defines __KVM_HAVE_GUEST_DEBUG (riscv's Linux
// 6.1 headers do not, though riscv KVM gained the ioctl later).
constexpr long kCapSetGuestDebug = 23;
#ifdef KVM_CAP_SET_GUEST_DEBUG
static_assert(KVM_CAP_SET_GUEST_DEBUG == kCapSetGuestDebug);
#endif

void ignore_kick(int) {}

}  // namespace

Result<std::unique_ptr<KvmVm>> KvmVm::create(const KvmdbgVmConfig& config, const KvmdbgHostCallbacks& host) {
    auto backend = make_arch_backend(config);
    if (!backend) {
        return backend.error();
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
    long vm_fd = xioctl(system->fd(), KVM_CREATE_VM, (*backend)->vm_type(*system));
    if (auto s = ioctl_status(vm_fd, "KVM_CREATE_VM"); !s) {
        return s.error();
    }
    // The kick signal must interrupt KVM_RUN, not kill the process. This is
    // process-wide state; installing the same no-op handler twice is harmless.
    struct sigaction sa {};
    sa.sa_handler = ignore_kick;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);

    std::unique_ptr<KvmVm> vm(new KvmVm(std::move(system).value(), UniqueFd(static_cast<int>(vm_fd)), host,
                                        config.kernel_irqchip != 0, std::move(backend).value()));
    if (auto s = vm->backend_->setup_vm(*vm); !s) {
        return s.error();
    }
    if (auto s = vm->init_guest_debug(); !s) {
        return s.error();
    }
    return vm;
}

Result<std::unique_ptr<KvmVm>> KvmVm::adopt(int vm_fd, KvmdbgArch arch, const std::string& device_path) {
    KvmdbgVmConfig config{};
    config.arch = arch;
    auto backend = make_arch_backend(config);
    if (!backend) {
        return backend.error();
    }
    auto system = KvmSystem::open(device_path);
    if (!system) {
        return system.error();
    }
    if (vm_fd < 0) {
        return make_error(EBADF, "no VM fd");
    }
    // A VM fd answers KVM_CHECK_EXTENSION (api.rst 4.4, KVM_CAP_CHECK_EXTENSION_VM);
    // any other fd refuses the ioctl.
    if (xioctl(vm_fd, KVM_CHECK_EXTENSION, static_cast<unsigned long>(KVM_CAP_USER_MEMORY)) < 0) {
        return make_error(EBADF, "fd " + std::to_string(vm_fd) + " is not a KVM VM");
    }
    int copy = fcntl(vm_fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        return make_error(errno, "duplicating VM fd " + std::to_string(vm_fd));
    }
    std::unique_ptr<KvmVm> vm(
        new KvmVm(std::move(system).value(), UniqueFd(copy), KvmdbgHostCallbacks{}, false, std::move(backend).value()));
    vm->host_owned_ = true;
    if (auto s = vm->init_guest_debug(); !s) {
        return s.error();
    }
    return vm;
}

Status KvmVm::init_guest_debug() {
    // The start-up probe: what this host's KVM really does for a debugger.
    if (system_.check_extension(kCapSetGuestDebug) > 0) {
        auto caps = backend_->probe_debug(system_);
        if (!caps) {
            return make_error(caps.error().code, "host guest-debug probe: " + caps.error().message);
        }
        caps_ = *caps;
    }
    DebugReportTexts texts = backend_->debug_reports(caps_);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        reports_[i] = std::move(texts[i]);
    }
    auto debug = backend_->make_guest_debug(*this, caps_);
    if (!debug) {
        return debug.error();
    }
    debug_ = std::move(debug).value();
    return ok_status();
}

KvmVm::KvmVm(KvmSystem system, UniqueFd vm_fd, const KvmdbgHostCallbacks& host, bool irqchip,
             std::unique_ptr<ArchBackend> backend)
    : system_(std::move(system)),
      vm_fd_(std::move(vm_fd)),
      host_(host),
      irqchip_(irqchip),
      backend_(std::move(backend)) {}

KvmVm::~KvmVm() {
    // Destroying the vCPUs quits and joins their threads before the VM fd closes.
    vcpus_.clear();
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
    if (auto s = ioctl_status(xioctl(vm_fd_.get(), KVM_SET_USER_MEMORY_REGION, &region), "KVM_SET_USER_MEMORY_REGION");
        !s) {
        return s;
    }
    slots_.push_back(Slot{gpa, size, static_cast<std::uint8_t*>(host)});
    return ok_status();
}

Status KvmVm::adopt_ram(std::uint64_t gpa, std::uint64_t size, void* host) {
    if (!host_owned_) {
        return make_error(EINVAL, "RAM of a VM kvmdbg created is mapped with map_ram");
    }
    if (size == 0 || host == nullptr || gpa + size < gpa) {
        return make_error(EINVAL, "RAM must be non-empty, with a host address");
    }
    for (const auto& s : slots_) {
        if (gpa < s.gpa + s.size && s.gpa < gpa + size) {
            return make_error(EINVAL, "RAM at guest-physical " + hex_string(gpa) + " overlaps RAM added before");
        }
    }
    slots_.push_back(Slot{gpa, size, static_cast<std::uint8_t*>(host)});
    return ok_status();
}

Status KvmVm::adopt_vcpu(std::uint32_t cpu, int vcpu_fd) {
    if (!host_owned_) {
        return make_error(EINVAL, "vCPUs of a VM kvmdbg created are made with create_vcpus");
    }
    if (cpu != vcpus_.size()) {
        return make_error(EINVAL, "vCPU " + std::to_string(cpu) + " added out of order: vCPU " +
                                      std::to_string(vcpus_.size()) + " comes next");
    }
    if (vcpu_fd < 0) {
        return make_error(EBADF, "no vCPU fd");
    }
    int copy = fcntl(vcpu_fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        return make_error(errno, "duplicating vCPU fd " + std::to_string(vcpu_fd));
    }
    UniqueFd fd(copy);
    // The kvm_run page is the vCPU's own mapping: a second one shares it.
    auto run = MappedRegion::of_fd(fd.get(), static_cast<std::size_t>(system_.vcpu_mmap_size()),
                                   "kvm_run of vCPU " + std::to_string(cpu));
    if (!run) {
        return make_error(run.error().code,
                          run.error().message + " (is fd " + std::to_string(vcpu_fd) + " a vCPU of this VM?)");
    }
    {
        std::lock_guard lock(cache_mu_);
        cache_.resize(cpu + 1);
    }
    vcpus_.push_back(std::make_unique<KvmVcpu>(*this, cpu, std::move(fd), std::move(run).value()));
    vcpus_.back()->run_on_host_thread();
    debug_->set_vcpu_count(cpu + 1);
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
    {
        std::lock_guard lock(cache_mu_);
        cache_.resize(count);  // before any vCPU exists: get_state() indexes it
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        long fd = xioctl(vm_fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(i));
        if (fd < 0) {
            return ioctl_status(fd, "KVM_CREATE_VCPU " + std::to_string(i));
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
        if (auto s = vcpus_.back()->run_on_vcpu([this](KvmVcpu& v) { return backend_->init_vcpu(*this, v); }); !s) {
            return s;
        }
    }
    Status created = backend_->vcpus_created(*this);
    for (std::uint32_t i = 0; i < count; ++i) {
        forget_state(i);  // the backend may have set up registers directly
    }
    return created;
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

Status KvmVm::get_state(std::uint32_t cpu, void* out, std::uint32_t size) {
    if (size != backend_->state_size()) {
        return make_error(EINVAL, "cpu state size " + std::to_string(size) + " does not match this ISA's " +
                                      std::to_string(backend_->state_size()));
    }
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    KvmVcpu& vcpu = **v;
    if (!vcpu.on_own_thread()) {
        vcpu.wait_state_published();  // a pause's read on its way to the cache
    }
    std::uint64_t epoch = 0;
    bool parked = false;
    {
        std::lock_guard lock(cache_mu_);
        StateCache& c = cache_[cpu];
        parked = vcpu.parked();
        if (parked && c.valid) {
            std::memcpy(out, c.state.data(), size);
            return ok_status();
        }
        epoch = c.epoch;
        ++c.loads;
    }
    Status s = vcpu.run_on_vcpu([this, out](KvmVcpu& self) { return backend_->load_state(self, out); });
    if (s && parked) {
        // Parked before the read and no invalidation since: a parked vCPU
        // runs again only through resume()/start(), which bump the epoch.
        std::lock_guard lock(cache_mu_);
        StateCache& c = cache_[cpu];
        if (c.epoch == epoch) {
            auto* bytes = static_cast<const std::uint8_t*>(out);
            c.state.assign(bytes, bytes + size);
            c.valid = true;
        }
    }
    return s;
}

void KvmVm::remember_state(std::uint32_t cpu, const void* state, std::optional<std::uint64_t> epoch) {
    if (cpu >= vcpus_.size() || state == nullptr) {
        return;
    }
    std::lock_guard lock(cache_mu_);
    // Checked under the cache's lock: a resume() that comes in after this
    // check bumps the epoch (after it resumed) only once the state is stored.
    if (!vcpus_[cpu]->parked()) {
        return;
    }
    StateCache& c = cache_[cpu];
    if (epoch && c.epoch != *epoch) {
        return;
    }
    auto* bytes = static_cast<const std::uint8_t*>(state);
    c.state.assign(bytes, bytes + backend_->state_size());
    c.valid = true;
}

void KvmVm::forget_state(std::uint32_t cpu) {
    std::lock_guard lock(cache_mu_);
    if (cpu < cache_.size()) {
        ++cache_[cpu].epoch;
        cache_[cpu].valid = false;
    }
}

std::uint64_t KvmVm::state_epoch(std::uint32_t cpu) const {
    std::lock_guard lock(cache_mu_);
    return cpu < cache_.size() ? cache_[cpu].epoch : 0;
}

std::uint64_t KvmVm::state_loads(std::uint32_t cpu) const {
    std::lock_guard lock(cache_mu_);
    return cpu < cache_.size() ? cache_[cpu].loads : 0;
}

Status KvmVm::changing_state(std::uint32_t cpu, const KvmVcpu::Job& job) {
    auto v = vcpu(cpu);
    if (!v) {
        return v.error();
    }
    // Before: no cached copy outlives the change. After: a get_state() that
    // read while the change ran does not store what it read.
    forget_state(cpu);
    Status s = (*v)->run_on_vcpu(job);
    forget_state(cpu);
    return s;
}

Status KvmVm::set_state(std::uint32_t cpu, const void* in, std::uint32_t size) {
    if (size != backend_->state_size()) {
        return make_error(EINVAL, "cpu state size " + std::to_string(size) + " does not match this ISA's " +
                                      std::to_string(backend_->state_size()));
    }
    return changing_state(cpu, [this, in](KvmVcpu& self) { return backend_->store_state(self, in); });
}

Status KvmVm::set_mp_runnable(std::uint32_t cpu) {
    return changing_state(cpu, [this](KvmVcpu& self) { return backend_->set_mp_runnable(*this, self); });
}

Status KvmVm::wait_for_sipi(std::uint32_t cpu) {
    return changing_state(cpu, [this](KvmVcpu& self) { return backend_->wait_for_sipi(*this, self); });
}

Status KvmVm::power_off_vcpu(std::uint32_t cpu) {
    return changing_state(cpu, [this](KvmVcpu& self) { return backend_->power_off_vcpu(*this, self); });
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
        for (std::uint32_t i = 0; i < vcpus_.size(); ++i) {
            forget_state(i);
            vcpus_[i]->resume();
            forget_state(i);  // see get_state(): a read that raced is not kept
        }
    }
    return ok_status();
}

Status KvmVm::pause_all(std::optional<std::uint32_t> keep_state_of) {
    if (keep_state_of && *keep_state_of >= vcpus_.size()) {
        return make_error(EINVAL, "no vCPU " + std::to_string(*keep_state_of));
    }
    for (auto& v : vcpus_) {
        if (v->on_own_thread()) {
            return make_error(EDEADLK, "pause_all called on a vCPU thread");
        }
    }
    for (auto& v : vcpus_) {
        v->request_pause(keep_state_of == v->index());
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
    auto before_run = debug_->prepare_resume(cpu, single_step);
    if (!before_run) {
        return before_run.error();
    }
    forget_state(cpu);
    (*v)->resume(std::move(before_run).value());
    forget_state(cpu);  // see get_state(): a read that raced is not kept
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

void KvmVm::set_park_spin(std::chrono::microseconds budget) {
    for (auto& v : vcpus_) {
        v->set_park_spin(budget);
    }
}

Status KvmVm::set_irq_line(std::uint32_t irq, bool level) {
    if (!irqchip_) {
        return make_error(ENOTSUP, "no in-kernel irqchip");
    }
    return backend_->set_irq_line(*this, irq, level);
}

Status KvmVm::get_irqchip(std::uint32_t chip, std::uint32_t cpu, void* out, std::uint64_t size) {
    if (!irqchip_) {
        return make_error(ENOTSUP, "this VM has no in-kernel irqchip (kernel-irqchip=off)");
    }
    return backend_->get_irqchip(*this, chip, cpu, out, size);
}

bool KvmVm::supports_guest_debug() const { return system_.check_extension(kCapSetGuestDebug) > 0; }

}  // namespace kvmdbg::accel::kvm
