// The accel-kvm module's side of the plugin ABI (accel/plugin_abi.h): a
// static ops table whose functions forward to KvmVm and turn Result/Status
// into -errno plus a per-thread last-error message. No C++ exception or type
// leaves this file.
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "accel/kvm/kvm_vm.h"
#include "accel/plugin_abi.h"

struct KvmdbgAccel {
    std::unique_ptr<kvmdbg::accel::kvm::KvmVm> vm;
    std::mutex error_mu;
    std::unordered_map<std::thread::id, std::string> errors;  // last error per calling thread
};

namespace kvmdbg::accel::kvm {

namespace {

void copy_message(const std::string& message, char* err, size_t err_size) {
    if (err != nullptr && err_size > 0) {
        std::snprintf(err, err_size, "%s", message.c_str());
    }
}

int report(KvmdbgAccel* accel, const Status& status) {
    if (status) {
        return 0;
    }
    std::lock_guard lock(accel->error_mu);
    accel->errors[std::this_thread::get_id()] = status.error().message;
    return -status.error().code;
}

KvmdbgAccel* op_create(const KvmdbgVmConfig* config, const KvmdbgHostCallbacks* callbacks, char* err, size_t err_size) {
    if (config == nullptr || callbacks == nullptr) {
        copy_message("accel-kvm: missing configuration", err, err_size);
        return nullptr;
    }
    try {
        auto vm = KvmVm::create(*config, *callbacks);
        if (!vm) {
            copy_message(vm.error().message, err, err_size);
            return nullptr;
        }
        auto* accel = new KvmdbgAccel;
        accel->vm = std::move(vm).value();
        return accel;
    } catch (const std::exception& e) {
        copy_message(std::string("accel-kvm: ") + e.what(), err, err_size);
        return nullptr;
    }
}

void op_destroy(KvmdbgAccel* accel) { delete accel; }

const char* op_last_error(KvmdbgAccel* accel) {
    std::lock_guard lock(accel->error_mu);
    auto it = accel->errors.find(std::this_thread::get_id());
    return it == accel->errors.end() ? "" : it->second.c_str();
}

int op_map_ram(KvmdbgAccel* accel, uint64_t gpa, uint64_t size, void* host, int read_only) {
    return report(accel, accel->vm->map_ram(gpa, size, host, read_only != 0));
}

int op_create_vcpus(KvmdbgAccel* accel, uint32_t count) { return report(accel, accel->vm->create_vcpus(count)); }

// The blob's tag must name the VM's own ISA: a host built for another
// layout gets EINVAL before any byte is copied (the size is checked by KvmVm).
Status check_state_layout(KvmdbgAccel* accel, uint32_t layout, const char* op) {
    KvmdbgArch arch = accel->vm->backend().arch();
    if (layout != static_cast<uint32_t>(arch)) {
        return make_error(EINVAL, std::string(op) + ": state layout " + std::to_string(layout) +
                                      " is not this VM's ISA (" + std::to_string(arch) + ")");
    }
    return ok_status();
}

int op_get_cpu_state(KvmdbgAccel* accel, uint32_t cpu, uint32_t layout, void* state, uint32_t size) {
    if (state == nullptr) {
        return report(accel, make_error(EINVAL, "get_cpu_state: no buffer"));
    }
    if (auto s = check_state_layout(accel, layout, "get_cpu_state"); !s) {
        return report(accel, s);
    }
    return report(accel, accel->vm->get_state(cpu, state, size));
}

int op_set_cpu_state(KvmdbgAccel* accel, uint32_t cpu, uint32_t layout, const void* state, uint32_t size) {
    if (state == nullptr) {
        return report(accel, make_error(EINVAL, "set_cpu_state: no state"));
    }
    if (auto s = check_state_layout(accel, layout, "set_cpu_state"); !s) {
        return report(accel, s);
    }
    return report(accel, accel->vm->set_state(cpu, state, size));
}

int op_set_mp_runnable(KvmdbgAccel* accel, uint32_t cpu) { return report(accel, accel->vm->set_mp_runnable(cpu)); }

int op_start(KvmdbgAccel* accel, int paused) { return report(accel, accel->vm->start(paused != 0)); }

int op_pause_all(KvmdbgAccel* accel) { return report(accel, accel->vm->pause_all()); }

int op_pause_all_keeping_state(KvmdbgAccel* accel, uint32_t cpu) { return report(accel, accel->vm->pause_all(cpu)); }

int op_resume(KvmdbgAccel* accel, uint32_t cpu, uint32_t mode) {
    return report(accel, accel->vm->resume(cpu, mode == KVMDBG_RESUME_STEP));
}

int op_kick(KvmdbgAccel* accel, uint32_t cpu) { return report(accel, accel->vm->kick(cpu)); }

int op_set_irq_line(KvmdbgAccel* accel, uint32_t irq, int level) {
    return report(accel, accel->vm->set_irq_line(irq, level != 0));
}

int op_supports_guest_debug(KvmdbgAccel* accel) { return accel->vm->supports_guest_debug() ? 1 : 0; }

long op_capability(KvmdbgAccel* accel, long cap) { return accel->vm->capability(cap); }

int op_insert_breakpoint(KvmdbgAccel* accel, uint32_t type, uint64_t addr, uint64_t len) {
    return report(accel, accel->vm->debug().insert(type, addr, len));
}

int op_remove_breakpoint(KvmdbgAccel* accel, uint32_t type, uint64_t addr, uint64_t len) {
    return report(accel, accel->vm->debug().remove(type, addr, len));
}

int op_remove_all_breakpoints(KvmdbgAccel* accel) { return report(accel, accel->vm->debug().remove_all()); }

int op_update_guest_debug(KvmdbgAccel* accel, uint32_t cpu) { return report(accel, accel->vm->debug().update(cpu)); }

int op_read_memory(KvmdbgAccel* accel, uint32_t cpu, uint64_t addr, void* buf, uint64_t len, uint32_t flags) {
    return report(accel, accel->vm->debug().read_memory(cpu, addr, {static_cast<std::uint8_t*>(buf), len},
                                                        (flags & KVMDBG_MEM_PHYS) != 0));
}

int op_translate(KvmdbgAccel* accel, uint32_t cpu, uint64_t addr, uint64_t* gpa) {
    auto r = accel->vm->debug().translate(cpu, addr);
    if (r) {
        *gpa = *r;
        return 0;
    }
    return report(accel, r.error());
}

int op_write_memory(KvmdbgAccel* accel, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len, uint32_t flags) {
    return report(accel, accel->vm->debug().write_memory(cpu, addr, {static_cast<const std::uint8_t*>(buf), len},
                                                         (flags & KVMDBG_MEM_PHYS) != 0));
}

int op_set_debug_option(KvmdbgAccel* accel, uint32_t option, uint64_t value) {
    switch (option) {
    case KVMDBG_OPT_STEP_BLOCK_IRQ: return report(accel, accel->vm->debug().set_step_blocks_irq(value != 0));
    case KVMDBG_OPT_PARK_SPIN_US:
        if (value > 1000000) {
            return report(accel, make_error(EINVAL, "park spin of " + std::to_string(value) + " us: at most 1 s"));
        }
        accel->vm->set_park_spin(std::chrono::microseconds(value));
        return 0;
    default: return report(accel, make_error(EINVAL, "unknown guest-debug option " + std::to_string(option)));
    }
}

const char* op_debug_report(KvmdbgAccel* accel, uint32_t kind) { return accel->vm->debug_report(kind).c_str(); }

int op_wait_for_sipi(KvmdbgAccel* accel, uint32_t cpu) { return report(accel, accel->vm->wait_for_sipi(cpu)); }

int op_power_off_vcpu(KvmdbgAccel* accel, uint32_t cpu) { return report(accel, accel->vm->power_off_vcpu(cpu)); }

int op_get_irqchip(KvmdbgAccel* accel, uint32_t chip, uint32_t cpu, void* buf, uint64_t size) {
    if (buf == nullptr) {
        return report(accel, make_error(EINVAL, "get_irqchip: no buffer"));
    }
    return report(accel, accel->vm->get_irqchip(chip, cpu, buf, size));
}

constexpr KvmdbgAccelOps kOps = {
    .abi_version = KVMDBG_ACCEL_ABI_VERSION,
    .struct_size = sizeof(KvmdbgAccelOps),
    .name = "kvm",
    .create = op_create,
    .destroy = op_destroy,
    .last_error = op_last_error,
    .map_ram = op_map_ram,
    .create_vcpus = op_create_vcpus,
    .get_cpu_state = op_get_cpu_state,
    .set_cpu_state = op_set_cpu_state,
    .set_mp_runnable = op_set_mp_runnable,
    .start = op_start,
    .pause_all = op_pause_all,
    .resume = op_resume,
    .kick = op_kick,
    .set_irq_line = op_set_irq_line,
    .supports_guest_debug = op_supports_guest_debug,
    .insert_breakpoint = op_insert_breakpoint,
    .remove_breakpoint = op_remove_breakpoint,
    .remove_all_breakpoints = op_remove_all_breakpoints,
    .update_guest_debug = op_update_guest_debug,
    .capability = op_capability,
    .read_memory = op_read_memory,
    .write_memory = op_write_memory,
    .set_debug_option = op_set_debug_option,
    .debug_report = op_debug_report,
    .wait_for_sipi = op_wait_for_sipi,
    .power_off_vcpu = op_power_off_vcpu,
    .translate = op_translate,
    .get_irqchip = op_get_irqchip,
    .pause_all_keeping_state = op_pause_all_keeping_state,
};

}  // namespace

}  // namespace kvmdbg::accel::kvm

// The module's one exported symbol. With -Daccel_static=true it is linked
// into the binary under another name so that it does not become a global.
#ifdef KVMDBG_ACCEL_STATIC
extern "C" const KvmdbgAccelOps* kvmdbg_accel_kvm_static_entry(void) { return &kvmdbg::accel::kvm::kOps; }
#else
extern "C" __attribute__((visibility("default"))) const KvmdbgAccelOps* kvmdbg_accel_entry(void) {
    return &kvmdbg::accel::kvm::kOps;
}
#endif
