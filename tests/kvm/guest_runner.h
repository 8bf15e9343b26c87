// GuestRunner: boots one in-tree guest on the real /dev/kvm for the KVM
// tests, below the emulator binary: the real loaders (multiboot/ELF64) put
// it in RAM, the real accel-kvm plugin runs it, COM1 output is captured and
// the isa-debug-exit status recorded. Tests drive the guest-debug hooks
// directly and see every debug stop as an event.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "accel/accelerator.h"
#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/x86_boot_plan.h"

namespace kvmdbg::test {

class GuestRunner final : public accel::AccelHost {
public:
    /// Loads `kernel` (with `append`) into `ram_mib` MiB and creates the VM
    /// with `cpus` vCPUs, all parked. Errors carry the failing step.
    static Result<std::unique_ptr<GuestRunner>> create(const std::string& module, const std::string& kernel,
                                                       std::uint32_t cpus = 1, const std::string& append = "",
                                                       std::uint64_t ram_mib = 64);
    ~GuestRunner() override;

    accel::Accelerator& accel() { return *accel_; }
    hw::GuestRam& ram() { return ram_; }

    /// Resumes every vCPU (RUN).
    Status resume_all();
    /// The next event (debug stop, exit...), or nothing after `ms` or once
    /// the guest has written its debug-exit with no event left.
    std::optional<KvmdbgEvent> next_event(int ms = 10000);
    /// Waits for the guest's debug-exit; returns its status, -1 on timeout,
    /// -2 when a vCPU stopped for good (internal error, triple fault...).
    int wait_exit(int ms = 20000);
    /// Everything the guest wrote to COM1 so far.
    std::string serial();
    /// FNV-1a over all of RAM.
    std::uint64_t ram_checksum() const;

    KvmdbgIoResult pio(std::uint32_t cpu, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                       bool is_write) override;
    KvmdbgIoResult mmio(std::uint32_t cpu, std::uint64_t gpa, std::uint8_t* data, std::uint32_t size,
                        bool is_write) override;
    void event(const KvmdbgEvent& event) override;
    /// Asks `stop_filter` (on the vCPU thread) when one is set.
    bool wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) override;

    /// Decides breakpoint stops on the vCPU thread (AccelHost::wants_stop);
    /// set before resuming. Empty: every stop is wanted.
    std::function<bool(std::uint32_t, const KvmdbgDebugStop&)> stop_filter;

private:
    GuestRunner() = default;

    Log log_;
    hw::GuestRam ram_;
    std::unique_ptr<accel::Accelerator> accel_;
    std::uint32_t cpus_ = 1;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<KvmdbgEvent> events_;
    std::deque<std::string> messages_;
    std::string serial_;
    std::optional<int> exit_status_;
    bool fatal_ = false;
};

}  // namespace kvmdbg::test
