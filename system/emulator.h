// Emulator: everything one `build/kvmdbg` process runs, wired together.
//
// It owns the machine (hw-models: pc-lite on x86-64 hosts, virt on aarch64
// hosts; -M picks it, the default follows the host), the accelerator
// (accel, loaded as a plugin) and the GLib main loop, and it is the host of both: the
// accelerator's vCPU threads call pio()/mmio()/event(), the devices call
// request_exit()/request_reset()/set_irq_line(). The main loop serves
// serial input and signals and ends when the guest or the user ends the run.
//
// Exit status of run() (QEMU-compatible):
//   the isa-debug-exit status (V << 1) | 1 when the guest wrote V (pc-lite),
//     the test-exit device's status (virt, docs/user-guide.md);
//   0 on a clean guest power-off (ACPI on pc-lite, PSCI SYSTEM_OFF on virt), on a guest reset request (kvmdbg cannot
//     reset the machine: it exits as QEMU does with -no-reboot), on
//     SIGINT/SIGTERM, or when every vCPU halted with no interrupt source
//     left (kernel-irqchip=off only);
//   1 on an error (one clear first line on stderr, details after it).
#pragma once

#include <glib.h>

#include <atomic>
#include <deque>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accel/accelerator.h"
#include "common/log.h"
#include "common/result.h"
#include "hw-models/pc/pc_lite.h"
#include "hw-models/virt/virt.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/gdb_session.h"
#include "system/accel_debug_target.h"
#include "system/busy_poll_policy.h"
#include "system/busy_poll_window.h"
#include "system/cli.h"
#include "system/gdb_server.h"

namespace kvmdbg::system {

class Emulator final : public accel::AccelHost, public hw::MachineHost {
public:
    /// Builds the machine, loads the kernel, creates the VM and its vCPUs.
    /// Errors are fatal set-up errors with a clear message. Main thread.
    static Result<std::unique_ptr<Emulator>> create(const CliOptions& options, Log& log);
    ~Emulator() override;

    /// Starts the vCPUs (parked with -S) and runs the main loop until the
    /// run ends; returns the process exit status. Main thread, once.
    int run();

    // accel::AccelHost (vCPU threads)
    bool pio(std::uint32_t cpu, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
             bool is_write) override;
    bool mmio(std::uint32_t cpu, std::uint64_t gpa, std::uint8_t* data, std::uint32_t size,
              bool is_write) override;
    void event(const KvmdbgEvent& event) override;
    /// vCPU thread: a breakpoint stop whose target-side conditions are all
    /// false is not wanted (AccelDebugTarget::wants_stop).
    bool wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) override;

    // hw::MachineHost (vCPU threads)
    void request_exit(int status, const std::string& reason) override;
    /// Machine reset is not implemented: ends the run with status 0, as
    /// QEMU does with -no-reboot; without -no-reboot it first says so on
    /// stderr ("kvmdbg: guest requested a reset (REASON); machine reset is
    /// not supported, exiting").
    void request_reset(const std::string& reason) override;
    void request_poweroff(const std::string& reason) override;
    void set_irq_line(std::uint32_t irq, bool level) override;

private:
    Emulator(const CliOptions& options, Log& log);
    Status build();
    /// The pc-lite machine (x86-64 hosts) and the virt machine (aarch64
    /// hosts, emulator_virt.cc).
    Status build_pc(const std::string& accel_name, const std::optional<GdbEndpoint>& gdb_endpoint);
    Status build_virt(const std::string& accel_name, const std::optional<GdbEndpoint>& gdb_endpoint);
    /// Loads the accelerator plugin and creates the VM; says what the host
    /// forces on the debugger when gdb is in use.
    Status create_accel(const std::string& accel_name, const accel::AccelConfig& config);
    /// Both machines, once the accelerator exists: maps `ram`, creates the
    /// vCPUs, gives them their boot state with `boot` and starts the gdb
    /// server when one is asked for.
    Status bring_up(hw::GuestRam& ram, Status (Emulator::*boot)(bool), const std::optional<GdbEndpoint>& gdb_endpoint);
    /// virt: every vCPU's boot state from arm64_plan_; `reset`: re-initialise
    /// them first (KVM_ARM_VCPU_INIT: reset values, APs powered off).
    Status boot_virt_vcpus(bool reset);
    /// The machine's MMIO/PIO bus, serial backend and serial receiver.
    hw::IoBus& bus();
    hw::CharBackend& serial_backend();
    std::size_t serial_rx_room();
    void serial_push_input(std::span<const std::uint8_t> bytes);
    /// Sets every vCPU's boot state from plan_; `reset`: after a machine
    /// reset (multiboot APs wait for SIPI again).
    Status boot_vcpus(bool reset);
    /// Any thread: reset the machine from the main loop, then run it.
    void schedule_reset(const std::string& reason);
    /// Ends the main loop with `status`; the first request wins. Any thread.
    void finish(int status, std::string message);
    void watch_serial_input();
    static gboolean on_serial_input(gint fd, GIOCondition condition, gpointer self);
    static gboolean on_signal(gpointer self);

    // ---- gdb stub (main thread unless noted)
    Status start_gdb_server(const GdbEndpoint& endpoint);
    void on_gdb_connect();
    void on_gdb_bytes(std::string_view bytes);
    void on_gdb_disconnect();
    /// Sends the session's output; acts on detach/kill/exit.
    void pump_gdb();
    /// Any thread: queues a stop for the session and wakes the main loop.
    void queue_stop(const gdb::StopEvent& stop);
    static gboolean dispatch_stops(gpointer self);
    std::string monitor_command(std::string_view command);

public:
    /// Main thread: reloads RAM and every vCPU's boot state (QEMU's
    /// system_reset); `resume`: let every vCPU run afterwards (else they stay
    /// stopped, e.g. under a debugger).
    Status reset_machine(const std::string& reason, bool resume);

private:

    const CliOptions options_;
    Log& log_;
    std::unique_ptr<hw::PcLite> machine_;  // pc-lite, or
    std::unique_ptr<hw::Virt> virt_;       // virt
    std::unique_ptr<accel::Accelerator> accel_;
    hw::X86BootPlan plan_{};
    hw::Arm64BootPlan arm64_plan_{};
    GMainLoop* loop_ = nullptr;
    std::vector<guint> sources_;

    std::mutex finish_mu_;
    bool finished_ = false;
    int exit_status_ = 0;
    std::string exit_message_;
    std::atomic<std::uint32_t> halted_vcpus_{0};

    std::unique_ptr<AccelDebugTarget> gdb_target_;
    gdb::AgentExprConditionEvaluator gdb_conditions_;
    std::unique_ptr<gdb::GdbSession> gdb_session_;
    std::unique_ptr<GdbServer> gdb_server_;
    // Opened on every exchange with gdb: the main loop polls without
    // sleeping until the next packet or stop (busy_poll_window.h).
    std::unique_ptr<BusyPollWindow> busy_poll_;
    BusyPollPolicy busy_poll_policy_;
    std::chrono::microseconds busy_poll_budget_{0};  // what busy_poll_ and the vCPUs use now
    /// Main thread: applies busy_poll_policy_'s current budget to the main
    /// loop's window and the parked vCPUs when it changed.
    void apply_busy_poll_budget();
    std::atomic<bool> debugger_attached_{false};  // read on vCPU threads
    std::mutex stops_mu_;
    std::deque<gdb::StopEvent> stops_;
    bool stop_dispatch_pending_ = false;  // guarded by stops_mu_
};

/// Directory accel-*.so modules are loaded from: $KVMDBG_MODULE_DIR, else
/// accel/kvm beside the running binary (the build tree), else the
/// installed module directory.
std::string accel_module_dir();

}  // namespace kvmdbg::system
