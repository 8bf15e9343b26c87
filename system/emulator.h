// Emulator: everything one `build/kvmdbg` process runs, wired together.
//
// It asks the machine registry (hw-models/machine_registry.h) for the
// machine -M names (the host's default without -M), builds it, creates the
// accelerator (accel, loaded as a plugin) from the machine's configuration,
// and runs the GLib main loop. It is the host of both: the accelerator's
// vCPU threads call pio()/mmio()/event(), the devices call
// request_exit()/request_reset()/set_irq_line(). The main loop serves
// serial input and signals and ends when the guest or the user ends the
// run. The debugger's side (gdb server, stop queue, monitor commands) is a
// GdbFrontEnd (gdb_front_end.h) the Emulator feeds; the Emulator never asks
// which machine it runs.
//
// Exit status of run() (QEMU-compatible):
//   the isa-debug-exit status (V << 1) | 1 when the guest wrote V (pc-lite),
//     the test-exit device's status (virt, docs/user-guide.md);
//   0 on a clean guest power-off (ACPI on pc-lite, PSCI SYSTEM_OFF on virt), on a guest reset request with
//     -no-reboot (without it the machine is reset and runs on), on
//     SIGINT/SIGTERM, or when every vCPU halted with no interrupt source
//     left (kernel-irqchip=off only);
//   1 on an error (one clear first line on stderr, details after it).
#pragma once

#include <glib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "accel/accelerator.h"
#include "common/log.h"
#include "common/result.h"
#include "hw-models/machine.h"
#include "hw-models/machine_host.h"
#include "system/accel_machine_port.h"
#include "system/cli.h"
#include "system/device_access_catches.h"
#include "system/device_access_trace.h"
#include "system/gdb_endpoint.h"
#include "system/gdb_front_end.h"
#include "system/isa_descriptor.h"

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
    KvmdbgIoResult pio(std::uint32_t cpu, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                       bool is_write) override;
    KvmdbgIoResult mmio(std::uint32_t cpu, std::uint64_t gpa, std::uint8_t* data, std::uint32_t size,
                        bool is_write) override;
    void event(const KvmdbgEvent& event) override;
    /// vCPU thread: a breakpoint stop whose target-side conditions are all
    /// false is not wanted (AccelDebugTarget::wants_stop).
    bool wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) override;

    // hw::MachineHost (vCPU threads)
    void request_exit(int status, const std::string& reason) override;
    /// With -no-reboot ends the run with status 0, as QEMU does; otherwise
    /// resets the machine from the main loop (reset_machine()) and runs it.
    void request_reset(const std::string& reason) override;
    void request_poweroff(const std::string& reason) override;
    void set_irq_line(std::uint32_t irq, bool level) override;

private:
    Emulator(const CliOptions& options, Log& log);
    Status build();
    /// The machine -M names (or the host's default), built and loaded.
    Status build_machine(const std::optional<GdbEndpoint>& gdb_endpoint);
    /// Loads the accelerator plugin and creates the VM from the machine's
    /// configuration; says what the host forces on the debugger when gdb is in use.
    Status create_accel(const std::string& accel_name);
    /// Once the accelerator exists: maps the machine's memory, creates the
    /// vCPUs, gives them their boot state and starts the gdb server when
    /// one is asked for.
    Status bring_up(const std::optional<GdbEndpoint>& gdb_endpoint);
    /// With a gdb stub, once the vCPU threads exist: the main thread (the
    /// stub's) runs ahead of them (system/stub_thread_priority.h), where the
    /// host allows it; logged under guest_debug. Fails only on a malformed
    /// $KVMDBG_STUB_NICE.
    Status prioritise_stub_thread();
    /// Main thread: reloads RAM and every vCPU's boot state (QEMU's
    /// system_reset, hw::Machine::reset); `resume`: let every vCPU run
    /// afterwards (else they stay stopped, e.g. under a debugger's
    /// `monitor system_reset`). A failure ends the run with status 1.
    Status reset_machine(const std::string& reason, bool resume);
    /// Any thread: reset the machine from the main loop, then run it.
    void schedule_reset(const std::string& reason);
    /// Ends the main loop with `status`; the first request wins. Any thread.
    void finish(int status, std::string message);
    void watch_serial_input();
    static gboolean on_serial_input(gint fd, GIOCondition condition, gpointer self);
    static gboolean on_signal(gpointer self);
    /// A fatal vCPU event under a debugger: gdb gets a SIGSEGV stop.
    void queue_fatal_stop(const KvmdbgEvent& event);
    /// pio()/mmio(): the device's answer, then the debugger's catches.
    KvmdbgIoResult device_access(std::uint32_t cpu, hw::AddressSpace space, std::uint64_t addr, std::uint8_t* data,
                                 std::uint32_t size, bool is_write);
    /// vCPU thread, tracing on: records `access` with the vCPU's pc.
    void trace_access(std::uint32_t cpu, const DeviceAccess& access);
    /// The debugger resumes `cpu`: true when that ends the machine instead
    /// (the guest's exit write a catch stopped; see device_access).
    bool exit_on_resume(std::uint32_t cpu);
    bool has_deferred_exit(std::uint32_t cpu);

    const CliOptions options_;
    Log& log_;
    std::unique_ptr<hw::Machine> machine_;
    std::unique_ptr<accel::Accelerator> accel_;
    std::unique_ptr<AccelMachinePort> accel_port_;  // accel_ as the machine sees it
    DeviceAccessCatches catches_;                   // set by the debugger, checked on vCPU threads
    DeviceAccessTrace trace_;                       // -d io, monitor trace io
    const IsaDescriptor* isa_ = nullptr;            // the machine's, for the trace's pc
    std::unique_ptr<GdbFrontEnd> gdb_;              // exists once accel_ does
    GMainLoop* loop_ = nullptr;
    std::vector<guint> sources_;

    std::mutex finish_mu_;
    bool finished_ = false;
    int exit_status_ = 0;
    std::string exit_message_;
    std::atomic<std::uint32_t> halted_vcpus_{0};
    // A caught write that asked the machine to exit (isa-debug-exit): the
    // status waits here until the debugger resumes that vCPU.
    std::mutex deferred_exit_mu_;
    std::vector<std::optional<int>> deferred_exit_;  // per vCPU
};

/// Directory accel-*.so modules are loaded from: $KVMDBG_MODULE_DIR, else
/// accel/kvm beside the running binary (the build tree), else the
/// installed module directory.
std::string accel_module_dir();

}  // namespace kvmdbg::system
