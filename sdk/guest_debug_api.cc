// The SDK's guest-debug core (sdk/guest_debug.h): the C functions forward
// to the KVM module's own core (accel/kvm/guest_debug_core.h) on a VM the
// program created and runs (KvmVm::adopt). No C++ exception or type leaves
// this file; failures become -errno plus a per-thread message.
#include <linux/kvm.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "accel/kvm/kvm_vm.h"
#include "sdk/guest_debug.h"

struct KvmdbgGuestDebug {
    std::unique_ptr<kvmdbg::accel::kvm::KvmVm> vm;
    std::string host_report;
};

namespace {

using kvmdbg::Error;
using kvmdbg::make_error;
using kvmdbg::ok_status;
using kvmdbg::Status;
using kvmdbg::accel::kvm::KvmVcpu;
using kvmdbg::accel::kvm::KvmVm;

thread_local std::string t_last_error;

int fail(const Error& error) {
    t_last_error = error.message;
    return error.code > 0 ? -error.code : -EINVAL;
}

int report(const Status& status) {
    if (status) {
        return 0;
    }
    return fail(status.error());
}

// Every entry point: a missing core is EINVAL, an exception (allocation)
// becomes its errno instead of crossing into C.
template <typename F>
int guarded(KvmdbgGuestDebug* gd, const char* what, F&& body) {
    if (gd == nullptr || !gd->vm) {
        return fail(make_error(EINVAL, std::string(what) + ": no guest-debug core"));
    }
    try {
        return body(*gd->vm);
    } catch (const std::bad_alloc&) {
        return fail(make_error(ENOMEM, std::string(what) + ": out of memory"));
    } catch (const std::exception& e) {
        return fail(make_error(EIO, std::string(what) + ": " + e.what()));
    }
}

kvmdbg::Result<KvmVcpu*> vcpu_of(KvmVm& vm, std::uint32_t cpu, const char* what) {
    KvmVcpu* v = vm.vcpu_at(cpu);
    if (v == nullptr) {
        return make_error(EINVAL, std::string(what) + ": no vCPU " + std::to_string(cpu) + " (" +
                                      std::to_string(vm.vcpu_count()) + " added)");
    }
    return v;
}

// A stop the debugger sees, in `*out`: 1; or 0 when the vCPU goes on.
int stop_result(const std::optional<KvmdbgDebugStop>& stop, KvmdbgDebugStop* out) {
    if (!stop) {
        return 0;
    }
    if (out != nullptr) {
        *out = *stop;
    }
    return 1;
}

void copy_message(const std::string& message, char* error, size_t error_size) {
    if (error != nullptr && error_size > 0) {
        std::snprintf(error, error_size, "%s", message.c_str());
    }
}

}  // namespace

extern "C" {

KvmdbgGuestDebug* kvmdbg_guest_debug_new(int vm_fd, uint32_t arch, char* error, size_t error_size) {
    try {
        if (arch != KVMDBG_ARCH_X86_64 && arch != KVMDBG_ARCH_ARM64) {
            copy_message("kvmdbg_guest_debug_new: unknown ISA " + std::to_string(arch), error, error_size);
            return nullptr;
        }
        auto vm = KvmVm::adopt(vm_fd, static_cast<KvmdbgArch>(arch), "/dev/kvm");
        if (!vm) {
            copy_message("kvmdbg_guest_debug_new: " + vm.error().message, error, error_size);
            return nullptr;
        }
        if (!(*vm)->supports_guest_debug()) {
            copy_message("kvmdbg_guest_debug_new: this host's KVM cannot debug guests (no KVM_CAP_SET_GUEST_DEBUG)",
                         error, error_size);
            return nullptr;
        }
        auto* gd = new KvmdbgGuestDebug;
        gd->vm = std::move(vm).value();
        gd->host_report = gd->vm->debug_report(KVMDBG_REPORT_SUMMARY) + "\n" +
                          gd->vm->debug_report(KVMDBG_REPORT_ADAPTATION);
        return gd;
    } catch (const std::exception& e) {
        copy_message(std::string("kvmdbg_guest_debug_new: ") + e.what(), error, error_size);
        return nullptr;
    }
}

int kvmdbg_guest_debug_add_ram(KvmdbgGuestDebug* gd, uint64_t gpa, uint64_t size, void* host) {
    return guarded(gd, "kvmdbg_guest_debug_add_ram", [&](KvmVm& vm) { return report(vm.adopt_ram(gpa, size, host)); });
}

int kvmdbg_guest_debug_add_vcpu(KvmdbgGuestDebug* gd, uint32_t cpu, int vcpu_fd) {
    return guarded(gd, "kvmdbg_guest_debug_add_vcpu", [&](KvmVm& vm) { return report(vm.adopt_vcpu(cpu, vcpu_fd)); });
}

int kvmdbg_guest_debug_insert(KvmdbgGuestDebug* gd, uint32_t type, uint64_t addr, uint64_t len) {
    return guarded(gd, "kvmdbg_guest_debug_insert", [&](KvmVm& vm) {
        if (vm.vcpu_count() == 0) {
            return fail(make_error(EINVAL, "kvmdbg_guest_debug_insert: add the vCPUs first"));
        }
        return report(vm.debug().insert(type, addr, len));
    });
}

int kvmdbg_guest_debug_remove(KvmdbgGuestDebug* gd, uint32_t type, uint64_t addr, uint64_t len) {
    return guarded(gd, "kvmdbg_guest_debug_remove",
                   [&](KvmVm& vm) { return report(vm.debug().remove(type, addr, len)); });
}

int kvmdbg_guest_debug_remove_all(KvmdbgGuestDebug* gd) {
    return guarded(gd, "kvmdbg_guest_debug_remove_all", [&](KvmVm& vm) { return report(vm.debug().remove_all()); });
}

int kvmdbg_guest_debug_get_state(KvmdbgGuestDebug* gd, uint32_t cpu, void* state, uint32_t size) {
    return guarded(gd, "kvmdbg_guest_debug_get_state", [&](KvmVm& vm) {
        if (state == nullptr) {
            return fail(make_error(EINVAL, "kvmdbg_guest_debug_get_state: no buffer"));
        }
        return report(vm.get_state(cpu, state, size));
    });
}

int kvmdbg_guest_debug_set_state(KvmdbgGuestDebug* gd, uint32_t cpu, const void* state, uint32_t size) {
    return guarded(gd, "kvmdbg_guest_debug_set_state", [&](KvmVm& vm) {
        if (state == nullptr) {
            return fail(make_error(EINVAL, "kvmdbg_guest_debug_set_state: no state"));
        }
        return report(vm.set_state(cpu, state, size));
    });
}

int kvmdbg_guest_debug_read_memory(KvmdbgGuestDebug* gd, uint32_t cpu, uint64_t addr, void* buf, uint64_t len,
                                   int physical) {
    return guarded(gd, "kvmdbg_guest_debug_read_memory", [&](KvmVm& vm) {
        if (buf == nullptr && len != 0) {
            return fail(make_error(EINVAL, "kvmdbg_guest_debug_read_memory: no buffer"));
        }
        return report(vm.debug().read_memory(cpu, addr, {static_cast<std::uint8_t*>(buf), len}, physical != 0));
    });
}

int kvmdbg_guest_debug_write_memory(KvmdbgGuestDebug* gd, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len,
                                    int physical) {
    return guarded(gd, "kvmdbg_guest_debug_write_memory", [&](KvmVm& vm) {
        if (buf == nullptr && len != 0) {
            return fail(make_error(EINVAL, "kvmdbg_guest_debug_write_memory: no bytes"));
        }
        return report(vm.debug().write_memory(cpu, addr, {static_cast<const std::uint8_t*>(buf), len}, physical != 0));
    });
}

int kvmdbg_guest_debug_before_run(KvmdbgGuestDebug* gd, uint32_t cpu, int step) {
    return guarded(gd, "kvmdbg_guest_debug_before_run", [&](KvmVm& vm) {
        auto v = vcpu_of(vm, cpu, "kvmdbg_guest_debug_before_run");
        if (!v) {
            return fail(v.error());
        }
        auto job = vm.debug().prepare_resume(cpu, step != 0);
        if (!job) {
            return fail(job.error());
        }
        if (!*job) {
            return 0;
        }
        return report((*v)->run_on_vcpu(*job));
    });
}

int kvmdbg_guest_debug_handle_exit(KvmdbgGuestDebug* gd, uint32_t cpu, KvmdbgDebugStop* stop) {
    return guarded(gd, "kvmdbg_guest_debug_handle_exit", [&](KvmVm& vm) {
        auto v = vcpu_of(vm, cpu, "kvmdbg_guest_debug_handle_exit");
        if (!v) {
            return fail(v.error());
        }
        const std::uint32_t reason = (*v)->run()->exit_reason;
        std::optional<KvmdbgDebugStop> result;
        (void)(*v)->run_on_vcpu([&](KvmVcpu& self) {
            result = reason == KVM_EXIT_DEBUG ? vm.debug().on_debug_exit(self)
                                              : vm.debug().on_uncaught_breakpoint(self);
            return ok_status();
        });
        if (reason != KVM_EXIT_DEBUG && !result) {
            return fail(make_error(EINVAL, "kvmdbg_guest_debug_handle_exit: vCPU " + std::to_string(cpu) +
                                               " exited for reason " + std::to_string(reason) +
                                               ", not KVM_EXIT_DEBUG nor a planted breakpoint"));
        }
        return stop_result(result, stop);
    });
}

int kvmdbg_guest_debug_stepping(KvmdbgGuestDebug* gd, uint32_t cpu) {
    return guarded(gd, "kvmdbg_guest_debug_stepping", [&](KvmVm& vm) {
        auto v = vcpu_of(vm, cpu, "kvmdbg_guest_debug_stepping");
        if (!v) {
            return fail(v.error());
        }
        return vm.debug().stepping(cpu) ? 1 : 0;
    });
}

int kvmdbg_guest_debug_io_done(KvmdbgGuestDebug* gd, uint32_t cpu, KvmdbgDebugStop* stop) {
    return guarded(gd, "kvmdbg_guest_debug_io_done", [&](KvmVm& vm) {
        auto v = vcpu_of(vm, cpu, "kvmdbg_guest_debug_io_done");
        if (!v) {
            return fail(v.error());
        }
        std::optional<KvmdbgDebugStop> result;
        (void)(*v)->run_on_vcpu([&](KvmVcpu& self) {
            result = vm.debug().on_step_completed(self);
            return ok_status();
        });
        return stop_result(result, stop);
    });
}

const char* kvmdbg_guest_debug_host_report(KvmdbgGuestDebug* gd) {
    return gd != nullptr ? gd->host_report.c_str() : "";
}

const char* kvmdbg_guest_debug_last_error(void) { return t_last_error.c_str(); }

void kvmdbg_guest_debug_free(KvmdbgGuestDebug* gd) {
    if (gd == nullptr) {
        return;
    }
    if (gd->vm && gd->vm->vcpu_count() > 0) {
        (void)gd->vm->debug().remove_all();  // guest memory as it was, guest debug off
    }
    delete gd;
}

}  // extern "C"
