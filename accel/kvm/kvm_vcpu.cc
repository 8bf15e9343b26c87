#include "accel/kvm/kvm_vcpu.h"

#include <pthread.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <cstring>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vm.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

// The kick signal. Its handler does nothing: the point is that the signal
// interrupts KVM_RUN (EINTR) while immediate_exit covers the window before it.
constexpr int kKickSignal = SIGUSR1;

// The spin-wait hint (x86 PAUSE, Arm YIELD): lets a sibling hyperthread
// or the hypervisor run while this thread busy-polls.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void store_immediate_exit(kvm_run* run, std::uint8_t value) {
    __atomic_store_n(&run->immediate_exit, value, __ATOMIC_SEQ_CST);
}

}  // namespace

KvmVcpu::KvmVcpu(KvmVm& vm, std::uint32_t index, UniqueFd fd, MappedRegion run)
    : vm_(vm), index_(index), fd_(std::move(fd)), run_map_(std::move(run)) {}

KvmVcpu::~KvmVcpu() {
    if (host_thread_) {
        return;  // no thread to quit; the kvm_run page is the program's, left as it is
    }
    {
        std::lock_guard lock(mu_);
        quit_ = true;
        kick_locked();
        ++wake_seq_;
        cv_.notify_all();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

void KvmVcpu::spawn() {
    std::lock_guard lock(mu_);
    thread_alive_ = true;
    thread_ = std::thread([this] { thread_main(); });
}

void KvmVcpu::kick_locked() {
    // Dekker-style with the vCPU thread, which sets in_run_ before KVM_RUN
    // reads immediate_exit: either it sees immediate_exit = 1 or we see
    // in_run_ and signal. A thread outside KVM_RUN needs no signal (a
    // signal costs tens of us on a nested host).
    store_immediate_exit(run(), 1);
    if (thread_alive_ && in_run_.load(std::memory_order_seq_cst)) {
        pthread_kill(thread_.native_handle(), kKickSignal);
    }
}

void KvmVcpu::kick() {
    std::lock_guard lock(mu_);
    kick_locked();
}

Status KvmVcpu::run_on_vcpu(const Job& job) {
    if (host_thread_) {
        std::lock_guard lock(host_jobs_mu_);
        return job(*this);
    }
    if (on_own_thread()) {
        return job(*this);
    }
    PendingJob pending{&job, ok_status()};
    std::unique_lock lock(mu_);
    if (!thread_alive_) {
        return make_error(ESRCH, "vCPU " + std::to_string(index_) + " has no thread");
    }
    jobs_.push_back(&pending);
    kick_locked();
    ++wake_seq_;
    // Notified without the lock: a woken thread that must then wait for the
    // lock costs a second wake-up (tens of us on a nested host).
    lock.unlock();
    cv_.notify_all();
    lock.lock();
    cv_done_.wait(lock, [&] { return pending.done; });
    return pending.result;
}

void KvmVcpu::resume(Job before_run) {
    std::unique_lock lock(mu_);
    if (before_run) {
        if (before_run_) {
            // The previous resume's work has not run (paused first): keep its order.
            before_run_ = [first = std::move(before_run_), then = std::move(before_run)](KvmVcpu& self) -> Status {
                if (auto s = first(self); !s) {
                    return s;
                }
                return then(self);
            };
        } else {
            before_run_ = std::move(before_run);
        }
        if (!parked_) {
            kick_locked();  // in KVM_RUN: let it take the work before it goes on
        }
    }
    run_requested_ = true;
    pause_requested_ = false;
    keep_state_on_pause_ = false;
    ++resumes_;
    ++wake_seq_;
    lock.unlock();
    cv_.notify_all();  // see run_on_vcpu()
}

void KvmVcpu::request_pause(bool keep_state) {
    // No notify: a parked thread has nothing to do for a pause (waking it
    // costs a wake-up of another CPU), a running one is kicked.
    std::lock_guard lock(mu_);
    pause_requested_ = true;
    keep_state_on_pause_ = keep_state_on_pause_ || keep_state;
    run_requested_ = false;
    kick_locked();
}

void KvmVcpu::wait_parked() {
    std::unique_lock lock(mu_);
    cv_parked_.wait(lock, [&] { return parked_ || !thread_alive_; });
}

void KvmVcpu::wait_state_published() {
    std::unique_lock lock(mu_);
    cv_parked_.wait(lock, [&] { return !publishing_state_ || !thread_alive_; });
}

void KvmVcpu::flush_pending_io() {
    if (!io_pending_) {
        return;
    }
    io_pending_ = false;
    // Completes the access (and advances RIP) without entering the guest:
    // with immediate_exit set, KVM_RUN finishes userspace I/O and returns EINTR.
    store_immediate_exit(run(), 1);
    long rc = xioctl(fd(), KVM_RUN);
    if (rc >= 0) {
        // The kernel ran the guest after all (should not happen): handle the exit.
        handle_exit();
    }
}

void KvmVcpu::thread_main() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kKickSignal);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

    std::unique_lock lock(mu_);
    for (;;) {
        store_immediate_exit(run(), 0);
        if (!jobs_.empty() || quit_ || !run_requested_) {
            lock.unlock();
            flush_pending_io();
            lock.lock();
        }
        run_queued_jobs(lock);
        if (quit_) {
            break;
        }
        if (!run_requested_) {
            park_until_work(lock);
            continue;
        }
        run_guest_once(lock);
    }
    fail_jobs_after_quit_locked();
}

void KvmVcpu::run_queued_jobs(std::unique_lock<std::mutex>& lock) {
    while (!jobs_.empty()) {
        PendingJob* pending = jobs_.front();
        jobs_.pop_front();
        lock.unlock();
        Status result = (*pending->job)(*this);
        lock.lock();
        pending->result = std::move(result);
        pending->done = true;  // `pending` may be gone once the lock is released
        lock.unlock();
        cv_done_.notify_all();  // without the lock: see run_on_vcpu()
        lock.lock();
    }
}

void KvmVcpu::park_until_work(std::unique_lock<std::mutex>& lock) {
    if (!parked_ && keep_state_on_pause_) {
        park_with_state(lock);
    }
    if (!parked_) {
        parked_ = true;
        notify_parked_unlocked(lock);
    }
    wait_for_work(lock);
}

void KvmVcpu::notify_parked_unlocked(std::unique_lock<std::mutex>& lock) {
    // A waiter woken while this thread still holds mu_ (it would, on its
    // way into wait_for_work) finds the mutex taken, sleeps on it and is
    // woken a second time: two more context switches per pause on a busy
    // CPU, where the waiter (the gdb stub's thread, which runs at a higher
    // priority) preempts this one at the first wake-up.
    lock.unlock();
    cv_parked_.notify_all();
    lock.lock();
}

void KvmVcpu::park_with_state(std::unique_lock<std::mutex>& lock) {
    // Parked first: the all-stop's wait_parked() goes on at once, and the
    // registers its stop reply needs are read here while that thread wakes
    // up (a wake-up and five ioctls, one after the other, before). Until
    // they are in KvmVm's cache, get_state() waits for them
    // (wait_state_published) rather than queue a job behind the read. A
    // resume() that comes first drops them as every fill's race is
    // dropped (KvmVm, "The state cache"): the epoch taken before the read
    // has moved on, or the vCPU no longer counts as parked.
    parked_ = true;
    publishing_state_ = true;
    notify_parked_unlocked(lock);
    lock.unlock();
    const std::uint64_t epoch = vm_.state_epoch(index_);
    paused_state_.resize(vm_.backend().state_size());
    if (vm_.backend().load_state(*this, paused_state_.data())) {
        vm_.remember_state(index_, paused_state_.data(), epoch);
    }
    lock.lock();
    publishing_state_ = false;
    notify_parked_unlocked(lock);
}

void KvmVcpu::run_guest_once(std::unique_lock<std::mutex>& lock) {
    parked_ = false;
    debugger_stop_ = false;
    // A resume() that arrives while this run's exit is being handled (the
    // host may answer the stop event at once) must not be undone by the
    // park below.
    resumes_seen_ = resumes_.load();
    Job before_run = std::move(before_run_);
    before_run_ = nullptr;
    lock.unlock();

    const bool keep_running = (!before_run || prepare_run(before_run)) && enter_guest();
    lock.lock();
    if (!keep_running) {
        park_locked();
    }
}

bool KvmVcpu::prepare_run(const Job& before_run) {
    flush_pending_io();  // as for a queued job: the access completes first
    if (Status s = before_run(*this); !s) {
        park_with_event(KVMDBG_EVENT_RUN_ERROR, -s.error().code,
                        "vCPU " + std::to_string(index_) + " could not be prepared to run: " + s.error().message);
        return false;
    }
    return true;
}

bool KvmVcpu::enter_guest() {
    io_pending_ = false;  // this KVM_RUN completes any pending access first
    in_run_.store(true, std::memory_order_seq_cst);
    long rc = xioctl(fd(), KVM_RUN);
    in_run_.store(false, std::memory_order_seq_cst);
    resumes_seen_ = resumes_.load();  // a resume() from now on answers this exit
    if (rc >= 0) {
        return handle_exit();
    }
    if (rc == -EINTR || rc == -EAGAIN) {
        return true;
    }
    park_with_event(KVMDBG_EVENT_RUN_ERROR, static_cast<int>(rc),
                    "KVM_RUN failed on vCPU " + std::to_string(index_) + ": " + std::strerror(static_cast<int>(-rc)));
    return false;
}

void KvmVcpu::fail_jobs_after_quit_locked() {
    parked_ = true;
    thread_alive_ = false;
    cv_parked_.notify_all();
    // Fail any job that raced with quit.
    for (PendingJob* pending : jobs_) {
        pending->result = make_error(ESRCH, "vCPU " + std::to_string(index_) + " is gone");
        pending->done = true;
    }
    jobs_.clear();
    cv_done_.notify_all();
}

void KvmVcpu::wait_for_work(std::unique_lock<std::mutex>& lock) {
    auto work = [&] { return quit_ || !jobs_.empty() || run_requested_; };
    const std::int64_t budget_us = spin_budget_us_.load(std::memory_order_relaxed);
    if (debugger_stop_ && !work() && budget_us > 0) {
        std::uint64_t seen = wake_seq_.load(std::memory_order_acquire);
        lock.unlock();
        auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(budget_us);
        while (wake_seq_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
            for (int i = 0; i < 16; ++i) {
                cpu_relax();
            }
        }
        lock.lock();
    }
    cv_.wait(lock, work);
}

void KvmVcpu::park_locked() {
    if (resumes_ != resumes_seen_) {
        return;  // resumed while the exit was handled: run on
    }
    run_requested_ = false;
    if (!parked_) {
        parked_ = true;
        cv_parked_.notify_all();
    }
}

void KvmVcpu::park_with_event(std::uint32_t kind, int error, std::string message, const KvmdbgDebugStop* stop) {
    KvmdbgEvent event{};
    if (stop != nullptr) {
        event.debug = *stop;
    }
    event.kind = kind;
    event.cpu = index_;
    event.error = error;
    event.interrupts_enabled = run()->if_flag;
    event.message = message.c_str();
    // A debugger stop carries the registers: they are read here, on the
    // vCPU's own thread, instead of through a run_on_vcpu round trip for the
    // stop reply (it always needs them). The vCPU parks right after, so they
    // stay right until resumed, and KvmVm's state cache serves them to the
    // debugger's next reads (memory through the vCPU's paging too). A
    // breakpoint hit nobody wants (a false target-side condition) never
    // gets here: host_passes_over() drops it first.
    std::vector<std::uint8_t> state;
    if (kind == KVMDBG_EVENT_DEBUG && stop != nullptr) {
        state.resize(vm_.backend().state_size());
        if (vm_.backend().load_state(*this, state.data())) {
            event.state = state.data();
            event.state_size = static_cast<std::uint32_t>(state.size());
        }
    }
    {
        // Parked before the host hears of it: the host's stop handling
        // (all-stop's pause_all) finds this vCPU parked and need not kick it.
        // Nothing below touches the vCPU; a pending I/O is completed by
        // the thread loop before any job or run.
        std::lock_guard lock(mu_);
        park_locked();
        debugger_stop_ = kind == KVMDBG_EVENT_DEBUG;
    }
    if (event.state != nullptr && !io_pending_) {
        vm_.remember_state(index_, event.state);  // only if still parked (a resume may have come)
    }
    if (vm_.host().event != nullptr) {
        vm_.host().event(vm_.host().opaque, &event);
    }
}

bool KvmVcpu::host_passes_over(const KvmdbgDebugStop& stop) {
    const KvmdbgHostCallbacks& host = vm_.host();
    if (host.debug_stop == nullptr || (stop.reason != KVMDBG_STOP_SW_BREAK && stop.reason != KVMDBG_STOP_HW_BREAK)) {
        return false;
    }
    if (host.debug_stop(host.opaque, index_, &stop) != KVMDBG_STOP_PASS) {
        return false;
    }
    // What a resume of the host would do (step over the breakpoint, then
    // continue), here on the vCPU's thread: no wake-up of any other thread.
    auto before_run = vm_.debug().prepare_resume(index_, false);
    if (!before_run) {
        return false;
    }
    return !*before_run || static_cast<bool>((*before_run)(*this));
}

namespace {

KvmdbgDebugStop device_stop_of(std::uint64_t addr, std::uint32_t size, bool is_write) {
    KvmdbgDebugStop stop{};
    stop.reason = KVMDBG_STOP_DEVICE;
    stop.type = is_write ? KVMDBG_WP_WRITE : KVMDBG_WP_READ;
    stop.addr = addr;
    stop.len = size;
    return stop;
}

}  // namespace

KvmdbgIoResult KvmVcpu::handle_io(KvmdbgDebugStop& device_stop) {
    kvm_run* r = run();
    auto* data = reinterpret_cast<std::uint8_t*>(r) + r->io.data_offset;
    bool is_write = r->io.direction == KVM_EXIT_IO_OUT;
    KvmdbgIoResult result = KVMDBG_IO_CONTINUE;
    io_pending_ = true;
    for (std::uint32_t i = 0; i < r->io.count; ++i) {
        int outcome = vm_.host().pio(vm_.host().opaque, index_, r->io.port, data + i * r->io.size, r->io.size,
                                     is_write ? 1 : 0);
        if (outcome == KVMDBG_IO_PARK) {
            result = KVMDBG_IO_PARK;
        } else if (outcome == KVMDBG_IO_STOP && result == KVMDBG_IO_CONTINUE) {
            result = KVMDBG_IO_STOP;
            device_stop = device_stop_of(r->io.port, r->io.size, is_write);
        }
    }
    return result;
}

KvmdbgIoResult KvmVcpu::handle_mmio(KvmdbgDebugStop& device_stop) {
    kvm_run* r = run();
    io_pending_ = true;
    int outcome = vm_.host().mmio(vm_.host().opaque, index_, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
                                  r->mmio.is_write);
    if (outcome == KVMDBG_IO_STOP) {
        device_stop = device_stop_of(r->mmio.phys_addr, r->mmio.len, r->mmio.is_write != 0);
        return KVMDBG_IO_STOP;
    }
    return outcome == KVMDBG_IO_PARK ? KVMDBG_IO_PARK : KVMDBG_IO_CONTINUE;
}

bool KvmVcpu::after_io(KvmdbgIoResult result, const KvmdbgDebugStop& device_stop) {
    switch (result) {
    case KVMDBG_IO_PARK: return false;
    case KVMDBG_IO_STOP: return stop_after_io(device_stop);
    case KVMDBG_IO_CONTINUE: break;
    }
    return vm_.debug().stepping(index_) ? finish_stepped_io() : true;
}

bool KvmVcpu::stop_after_io(const KvmdbgDebugStop& stop) {
    const bool stepping = vm_.debug().stepping(index_);
    for (;;) {
        io_pending_ = false;
        store_immediate_exit(run(), 1);
        long rc = xioctl(fd(), KVM_RUN);
        store_immediate_exit(run(), 0);
        if (rc < 0) {
            break;  // completed; no guest instruction ran after it
        }
        // KVM wants more of a string instruction's accesses first, or
        // reported something else: handle it as usual, then stop.
        kvm_run* r = run();
        KvmdbgDebugStop ignored{};
        if (r->exit_reason == KVM_EXIT_IO || r->exit_reason == KVM_EXIT_MMIO) {
            auto more = r->exit_reason == KVM_EXIT_IO ? handle_io(ignored) : handle_mmio(ignored);
            if (more == KVMDBG_IO_PARK) {
                return false;
            }
            continue;
        }
        if (!handle_exit()) {
            return false;  // parked for that exit; it is reported instead
        }
        break;
    }
    if (stepping) {
        // The step finished with the access: the debug core's step state
        // ends as after any step; the device stop is the one reported.
        (void)vm_.debug().on_step_completed(*this);
    }
    park_with_event(KVMDBG_EVENT_DEBUG, 0, "vCPU " + std::to_string(index_) + " stopped on a device access", &stop);
    return false;
}

bool KvmVcpu::finish_stepped_io() {
    io_pending_ = false;
    store_immediate_exit(run(), 1);
    long rc = xioctl(fd(), KVM_RUN);
    store_immediate_exit(run(), 0);
    if (rc >= 0) {
        return handle_exit();  // the kernel reported the step itself (KVM_EXIT_DEBUG)
    }
    auto stop = vm_.debug().on_step_completed(*this);
    if (!stop) {
        return true;
    }
    park_with_event(KVMDBG_EVENT_DEBUG, 0, "vCPU " + std::to_string(index_) + " stopped for the debugger", &*stop);
    return false;
}

bool KvmVcpu::after_debug_exit(std::optional<KvmdbgDebugStop> stop, bool stepping) {
    // Only a continue may be passed over here: a hit during a step is the
    // debugger's to judge (its step must not become a continue).
    if (!stop || (!stepping && host_passes_over(*stop))) {
        return true;
    }
    park_with_event(KVMDBG_EVENT_DEBUG, 0, "vCPU " + std::to_string(index_) + " stopped for the debugger", &*stop);
    return false;
}

bool KvmVcpu::handle_exit() {
    kvm_run* r = run();
    switch (r->exit_reason) {
    case KVM_EXIT_IO: {
        KvmdbgDebugStop device_stop{};
        return after_io(handle_io(device_stop), device_stop);
    }
    case KVM_EXIT_MMIO: {
        KvmdbgDebugStop device_stop{};
        return after_io(handle_mmio(device_stop), device_stop);
    }
    case KVM_EXIT_INTR: return true;
    case KVM_EXIT_DEBUG: {
        const bool stepping = vm_.debug().stepping(index_);
        return after_debug_exit(vm_.debug().on_debug_exit(*this), stepping);
    }
    case KVM_EXIT_HLT:
        park_with_event(KVMDBG_EVENT_HALTED, 0,
                        "vCPU " + std::to_string(index_) + " halted" + (r->if_flag ? "" : " with interrupts disabled"));
        return false;
    default: break;
    }
    // A breakpoint the host stops at without KVM_EXIT_DEBUG (x86 PVM hosts:
    // an emulation failure at a planted int3).
    const bool stepping = vm_.debug().stepping(index_);
    if (auto stop = vm_.debug().on_uncaught_breakpoint(*this)) {
        return after_debug_exit(stop, stepping);
    }
    // SHUTDOWN, INTERNAL_ERROR, FAIL_ENTRY, SYSTEM_EVENT, ...: the ISA's business.
    ArchExitOutcome outcome = vm_.backend().handle_exit(*this);
    if (outcome.keep_running) {
        return true;
    }
    park_with_event(outcome.kind, outcome.error, outcome.message);
    return false;
}

}  // namespace kvmdbg::accel::kvm
