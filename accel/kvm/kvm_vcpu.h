// KvmVcpu: one vCPU, its fd, its kvm_run page and the thread that owns them.
//
// Threading (docs/design.md "Threads"): only the vCPU's own thread issues ioctls
// on its fd. Every other thread asks through run_on_vcpu(), which queues a
// job, kicks the vCPU out of KVM_RUN (SIGUSR1 + kvm_run->immediate_exit,
// Documentation/virt/kvm/api.rst "immediate_exit") and waits for the reply.
//
// Life cycle: the thread is spawned by spawn() and starts parked. resume()
// lets it run (or step once), pause() parks it again, and every exit the
// framework must see (shutdown, internal error, ...) parks it and is
// reported through the host event callback. Before parking after an I/O or
// MMIO exit the vCPU re-enters KVM_RUN once with immediate_exit=1 so that the
// kernel completes the access: registers read while parked are consistent.
#pragma once

#include <linux/kvm.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "accel/plugin_abi.h"
#include "common/mapped_region.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

class KvmVcpu {
public:
    /// Job run on the vCPU thread; receives the vCPU.
    using Job = std::function<Status(KvmVcpu&)>;

    KvmVcpu(KvmVm& vm, std::uint32_t index, UniqueFd fd, MappedRegion run);
    /// Quits and joins the thread.
    ~KvmVcpu();
    KvmVcpu(const KvmVcpu&) = delete;
    KvmVcpu& operator=(const KvmVcpu&) = delete;

    /// Spawns the thread, parked. Main thread, once.
    void spawn();
    /// Instead of spawn(), for a vCPU whose thread belongs to another
    /// program (KvmVm::adopt): run_on_vcpu() runs every job on the calling
    /// thread, one at a time (KVM itself makes an ioctl on a vCPU inside
    /// KVM_RUN wait for it), and the vCPU never counts as parked, so
    /// nothing is served from the state cache. Once, before any job.
    void run_on_host_thread() { host_thread_ = true; }

    /// Runs `job` on this vCPU's thread and returns its result. Called on the
    /// vCPU thread itself, runs it inline. Any thread.
    Status run_on_vcpu(const Job& job);

    /// Lets the vCPU run until an exit parks it (a debugger single step is
    /// armed beforehand through the guest-debug state). Any thread.
    /// `before_run`, if given, runs on the vCPU thread right before its next
    /// KVM_RUN (after any queued job), so that a resume needs no round trip
    /// (e.g. the guest-debug push); it is queued behind one not run yet. If
    /// it fails the vCPU parks with a KVMDBG_EVENT_RUN_ERROR event.
    void resume(Job before_run = {});

    /// Asks the vCPU to park and returns at once. Any thread.
    /// `keep_state`: a running vCPU reads its state on its own thread as it
    /// parks and leaves it in KvmVm's state cache (see park_with_state).
    void request_pause(bool keep_state = false);
    /// Waits until the vCPU is parked. Not on the vCPU thread.
    void wait_parked();
    /// Waits until a vCPU parked by request_pause(true) has its state in
    /// KvmVm's cache (or the read failed); at once otherwise. Not on the
    /// vCPU thread.
    void wait_state_published();

    /// Forces the vCPU out of KVM_RUN once. Any thread.
    void kick();

    /// How long the thread busy-polls for work after parking for the
    /// debugger (wait_for_work); 0: it sleeps at once. Any thread.
    void set_park_spin(std::chrono::microseconds budget) { spin_budget_us_ = budget.count(); }

    std::uint32_t index() const { return index_; }
    /// The VM this vCPU belongs to.
    KvmVm& vm() const { return vm_; }
    /// The vCPU fd. Use only on the vCPU thread (inside a Job).
    int fd() const { return fd_.get(); }
    /// The kvm_run page. Use only on the vCPU thread.
    kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_map_.data()); }
    bool on_own_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
    /// Parked, and no resume() pending: its registers cannot change until the next resume(). Any thread
    /// not holding this vCPU's lock (takes it).
    bool parked() const {
        std::lock_guard lock(const_cast<std::mutex&>(mu_));
        return !host_thread_ && parked_ && !run_requested_;
    }

private:
    struct PendingJob {
        const Job* job;
        Status result;
        bool done = false;
    };

    /// The vCPU thread: runs queued jobs, parks, or runs the guest once
    /// per turn until quit.
    void thread_main();
    /// Runs every queued run_on_vcpu() job. Lock held on entry and exit.
    void run_queued_jobs(std::unique_lock<std::mutex>& lock);
    /// Marks the vCPU parked (waking wait_parked()) and waits for work.
    void park_until_work(std::unique_lock<std::mutex>& lock);
    /// Parks, then reads the vCPU's state into KvmVm's cache, so that the
    /// read which follows a pause (a stop reply's registers) needs no
    /// round trip to this thread: a wake-up of each thread saved. Lock
    /// held on entry and exit.
    void park_with_state(std::unique_lock<std::mutex>& lock);
    /// Wakes wait_parked() with mu_ released in between (held on entry and
    /// exit), so that the waiter need not sleep again on the mutex.
    void notify_parked_unlocked(std::unique_lock<std::mutex>& lock);
    /// One resume's turn: the pre-run job, KVM_RUN, the exit; parks the
    /// vCPU when it must stop. Lock held on entry and exit.
    void run_guest_once(std::unique_lock<std::mutex>& lock);
    /// The resume's pre-run job (guest-debug push); false (the error
    /// reported as a run-error event) when the vCPU must not run.
    bool prepare_run(const Job& before_run);
    /// KVM_RUN and its exit; false when the vCPU must park.
    bool enter_guest();
    /// At quit: marks the thread gone and fails the jobs that raced with it.
    void fail_jobs_after_quit_locked();
    /// Parked: waits for a job, a resume or quit. After a debugger stop it
    /// first spins (busy-polls wake_seq_) for up to kParkSpin, since a
    /// wake-up of a sleeping thread on another CPU costs tens of us on a
    /// nested host; then it sleeps on cv_. Lock held on entry and exit.
    void wait_for_work(std::unique_lock<std::mutex>& lock);
    void kick_locked();
    /// Completes a pending I/O or MMIO access without running the guest.
    void flush_pending_io();
    /// Handles the exit in run(); returns false when the vCPU must park.
    bool handle_exit();
    /// The guest-debug core's verdict on a debug exit, `stepping` as before
    /// it: parks with the stop unless there is none or the host passes over
    /// it (a false target-side condition while continuing). Returns false
    /// when the vCPU parked.
    bool after_debug_exit(std::optional<KvmdbgDebugStop> stop, bool stepping);
    /// Passes the I/O or MMIO exit in run() to the host: KVMDBG_IO_PARK
    /// when any of its accesses said so, else KVMDBG_IO_STOP when any asked
    /// for a debugger stop (filling `device_stop`), else KVMDBG_IO_CONTINUE.
    KvmdbgIoResult handle_io(KvmdbgDebugStop& device_stop);
    KvmdbgIoResult handle_mmio(KvmdbgDebugStop& device_stop);
    /// handle_io()/handle_mmio()'s verdict applied: returns false when the
    /// vCPU parked.
    bool after_io(KvmdbgIoResult result, const KvmdbgDebugStop& device_stop);
    /// After the I/O of a single-stepped instruction: completes it without
    /// running further and reports the step.
    bool finish_stepped_io();
    /// After an access the host wants the debugger to see: completes the
    /// instruction without running further (and the further pieces of a
    /// string instruction KVM asks for), then parks with `stop`.
    bool stop_after_io(const KvmdbgDebugStop& stop);
    /// Parks the vCPU (unless a resume() came in since its KVM_RUN
    /// returned), then reports the event to the host: waiters of
    /// wait_parked() need not wait for the host's handling of the event.
    void park_with_event(std::uint32_t kind, int error, std::string message, const KvmdbgDebugStop* stop = nullptr);
    /// Marks the vCPU parked unless resumed since resumes_seen_. Lock held.
    void park_locked();
    /// A debugger breakpoint stop the host does not want (a false
    /// target-side condition) while the vCPU was continuing: prepares the
    /// step-over and continues. Returns false when the stop must be
    /// reported after all.
    bool host_passes_over(const KvmdbgDebugStop& stop);

    KvmVm& vm_;
    const std::uint32_t index_;
    UniqueFd fd_;
    MappedRegion run_map_;
    std::thread thread_;

    std::mutex mu_;
    std::condition_variable cv_;         // wakes the vCPU thread
    std::condition_variable cv_parked_;  // wakes waiters of wait_parked()
    std::condition_variable cv_done_;    // wakes run_on_vcpu() callers
    std::deque<PendingJob*> jobs_;
    Job before_run_;  // see resume()
    bool run_requested_ = false;
    // Counts resume() calls (written under mu_): an exit parks the vCPU only
    // if no resume() came in after KVM_RUN returned.
    std::atomic<std::uint64_t> resumes_{0};
    // resumes_ as the last KVM_RUN returned (vCPU thread only): an exit
    // parks the vCPU only if it is unchanged.
    std::uint64_t resumes_seen_ = 0;
    // True while the vCPU thread is inside the KVM_RUN that runs the guest:
    // a kick signals the thread only then (immediate_exit covers the entry
    // window: both are seq_cst, see kick_locked()).
    std::atomic<bool> in_run_{false};
    // Bumped (under mu_) with every notify of cv_, so that the parked
    // thread can watch it without the lock while it spins (wait_for_work).
    std::atomic<std::uint64_t> wake_seq_{0};
    // Parked for the debugger (vCPU thread only): the next request comes
    // within a protocol round trip, so the thread spins for it first.
    bool debugger_stop_ = false;
    std::atomic<std::int64_t> spin_budget_us_{0};  // set_park_spin()
    bool pause_requested_ = false;
    bool keep_state_on_pause_ = false;  // request_pause(true) (so also pause_requested_), until the next resume
    bool parked_ = true;
    // Parked, its state not yet in KvmVm's cache (park_with_state):
    // wait_state_published() waits on.
    bool publishing_state_ = false;
    std::vector<std::uint8_t> paused_state_;  // vCPU thread only
    bool quit_ = false;
    bool thread_alive_ = false;
    bool io_pending_ = false;   // touched by the vCPU thread only
    bool host_thread_ = false;  // run_on_host_thread()
    // Serialises the jobs of a host-thread vCPU (recursive: a job may run
    // another on the same vCPU).
    std::recursive_mutex host_jobs_mu_;
};

}  // namespace kvmdbg::accel::kvm
