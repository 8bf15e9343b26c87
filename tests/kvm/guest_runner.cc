#include "tests/kvm/guest_runner.h"

#include <chrono>
#include <cstdio>
#include <cstring>

#include "accel/plugin_loader.h"
#include "hw-models/loaders/x86_kernel_loader.h"

namespace kvmdbg::test {

namespace {

constexpr std::uint16_t kCom1 = 0x3f8;
constexpr std::uint16_t kDebugExit = 0xf4;

}  // namespace

Result<std::unique_ptr<GuestRunner>> GuestRunner::create(const std::string& module, const std::string& kernel,
                                                         std::uint32_t cpus, const std::string& append,
                                                         std::uint64_t ram_mib) {
    std::unique_ptr<GuestRunner> r(new GuestRunner);
    r->cpus_ = cpus;
    if (auto s = r->ram_.add_region(0, ram_mib << 20); !s) {
        return s.error();
    }
    hw::X86KernelOptions options;
    options.kernel_path = kernel;
    options.append = append;
    auto plan = hw::load_x86_kernel(options, r->ram_, r->log_);
    if (!plan) {
        return plan.error();
    }
    auto plugin = accel::load_accel_plugin_file(module);
    if (!plugin) {
        return plugin.error();
    }
    auto accel = accel::Accelerator::create(std::move(plugin).value(), accel::AccelConfig{}, *r);
    if (!accel) {
        return accel.error();
    }
    r->accel_ = std::move(accel).value();
    for (const auto& region : r->ram_.regions()) {
        if (auto s = r->accel_->map_ram(region.gpa, region.memory.size(), region.memory.data(), false); !s) {
            return s.error();
        }
    }
    if (auto s = r->accel_->create_vcpus(cpus); !s) {
        return s.error();
    }
    for (std::uint32_t i = 0; i < cpus; ++i) {
        if (i == 0 || plan->all_vcpus_start_at_entry) {
            if (auto s = r->accel_->set_x86_state(i, plan->vcpu_state(i, cpus)); !s) {
                return s.error();
            }
            if (i != 0) {
                (void)r->accel_->set_mp_runnable(i);
            }
        }
    }
    if (auto s = r->accel_->start(true); !s) {
        return s.error();
    }
    return r;
}

GuestRunner::~GuestRunner() {
    if (accel_) {
        (void)accel_->pause_all();
    }
    accel_.reset();
}

Status GuestRunner::resume_all() {
    for (std::uint32_t i = 0; i < cpus_; ++i) {
        if (auto s = accel_->resume(i, KVMDBG_RESUME_RUN); !s) {
            return s;
        }
    }
    return ok_status();
}

KvmdbgIoResult GuestRunner::pio(std::uint32_t, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                                bool is_write) {
    std::lock_guard lock(mu_);
    if (port == kCom1 && is_write) {
        serial_.push_back(static_cast<char>(data[0]));
    } else if (port == kCom1 + 5 && !is_write) {
        data[0] = 0x60;  // LSR: transmitter empty
    } else if (port == kDebugExit && is_write) {
        std::uint32_t v = 0;
        std::memcpy(&v, data, size < 4 ? size : 4);
        exit_status_ = static_cast<int>((v << 1) | 1);
        cv_.notify_all();
        return KVMDBG_IO_PARK;
    } else if (!is_write) {
        std::memset(data, 0xff, size);
    }
    return KVMDBG_IO_CONTINUE;
}

KvmdbgIoResult GuestRunner::mmio(std::uint32_t, std::uint64_t, std::uint8_t* data, std::uint32_t size, bool is_write) {
    if (!is_write) {
        std::memset(data, 0xff, size);
    }
    return KVMDBG_IO_CONTINUE;
}

bool GuestRunner::wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) {
    return !stop_filter || stop_filter(cpu, stop);
}

void GuestRunner::event(const KvmdbgEvent& e) {
    std::lock_guard lock(mu_);
    KvmdbgEvent copy = e;
    messages_.push_back(e.message != nullptr ? e.message : "");
    copy.message = nullptr;
    if (e.kind != KVMDBG_EVENT_DEBUG) {
        std::printf("vCPU %u event %u: %s\n", e.cpu, e.kind, e.message != nullptr ? e.message : "");
        fatal_ = true;  // the guest cannot go on: wait_exit() must not wait for it
    }
    events_.push_back(copy);
    cv_.notify_all();
}

std::optional<KvmdbgEvent> GuestRunner::next_event(int ms) {
    std::unique_lock lock(mu_);
    // A guest that wrote its debug-exit sends no further event: no wait.
    if (!cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return !events_.empty() || exit_status_; }) ||
        events_.empty()) {
        return std::nullopt;
    }
    KvmdbgEvent e = events_.front();
    events_.pop_front();
    return e;
}

int GuestRunner::wait_exit(int ms) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return exit_status_.has_value() || fatal_; })) {
        return -1;
    }
    return exit_status_.value_or(-2);
}

std::string GuestRunner::serial() {
    std::lock_guard lock(mu_);
    return serial_;
}

std::uint64_t GuestRunner::ram_checksum() const {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const auto& r : ram_.regions()) {
        const std::uint8_t* p = r.memory.data();
        for (std::size_t i = 0; i < r.memory.size(); ++i) {
            h = (h ^ p[i]) * 0x100000001b3ull;
        }
    }
    return h;
}

}  // namespace kvmdbg::test
