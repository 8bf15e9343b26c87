#include "accel/plugin_loader.h"

#include <sys/stat.h>

#include <cstring>

#ifdef KVMDBG_ACCEL_STATIC
extern "C" const KvmdbgAccelOps* kvmdbg_accel_kvm_static_entry(void);
#endif

namespace kvmdbg::accel {

namespace {

struct MandatoryOp {
    const char* name;
    bool present;
};

}  // namespace

Status validate_accel_ops(const KvmdbgAccelOps* ops, const std::string& where) {
    if (ops == nullptr) {
        return make_error(EINVAL, where + ": entry point returned no ops table");
    }
    if (ops->abi_version != KVMDBG_ACCEL_ABI_VERSION) {
        return make_error(EPROTO, where + ": accelerator ABI version " + std::to_string(ops->abi_version) +
                                      ", kvmdbg needs version " + std::to_string(KVMDBG_ACCEL_ABI_VERSION));
    }
    if (ops->struct_size < sizeof(KvmdbgAccelOps)) {
        return make_error(EPROTO, where + ": ops table of " + std::to_string(ops->struct_size) +
                                      " bytes is smaller than the " + std::to_string(sizeof(KvmdbgAccelOps)) +
                                      " kvmdbg needs");
    }
    const MandatoryOp mandatory[] = {
        {"create", ops->create != nullptr},
        {"destroy", ops->destroy != nullptr},
        {"last_error", ops->last_error != nullptr},
        {"map_ram", ops->map_ram != nullptr},
        {"create_vcpus", ops->create_vcpus != nullptr},
        {"get_cpu_state", ops->get_cpu_state != nullptr},
        {"set_cpu_state", ops->set_cpu_state != nullptr},
        {"set_mp_runnable", ops->set_mp_runnable != nullptr},
        {"start", ops->start != nullptr},
        {"pause_all", ops->pause_all != nullptr},
        {"resume", ops->resume != nullptr},
        {"kick", ops->kick != nullptr},
    };
    for (const auto& op : mandatory) {
        if (!op.present) {
            return make_error(EINVAL, where + ": mandatory accelerator op '" + op.name + "' is missing");
        }
    }
    return ok_status();
}

Result<AccelPlugin> load_accel_plugin_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        return make_error(err == ENOENT ? ENOENT : err,
                          "accelerator module " + path + " not found: " + std::strerror(err));
    }
    GModule* raw = g_module_open(path.c_str(), static_cast<GModuleFlags>(G_MODULE_BIND_LOCAL));
    if (raw == nullptr) {
        return make_error(ENOEXEC, "cannot load accelerator module " + path + ": " + g_module_error());
    }
    std::unique_ptr<GModule, GModuleCloser> module(raw);
    gpointer symbol = nullptr;
    if (!g_module_symbol(raw, KVMDBG_ACCEL_ENTRY_SYMBOL, &symbol) || symbol == nullptr) {
        return make_error(ENOSYS, "accelerator module " + path + " has no entry symbol " + KVMDBG_ACCEL_ENTRY_SYMBOL);
    }
    auto entry = reinterpret_cast<KvmdbgAccelEntryFn>(symbol);
    const KvmdbgAccelOps* ops = entry();
    if (auto s = validate_accel_ops(ops, "accelerator module " + path); !s) {
        return s.error();
    }
    // An accepted module stays mapped until the process ends: it installs
    // process-wide state (the KVM module's SIGUSR1 kick handler) that a
    // signal arriving after the accelerator is gone would otherwise jump into
    // unmapped code (seen: SIGSEGV under rel_kvm_run_signal_storm when the
    // accelerator failed to start).
    g_module_make_resident(raw);
    return AccelPlugin{path, ops, std::move(module)};
}

Result<AccelPlugin> load_accel_plugin(const std::string& name, const std::string& module_dir) {
    if (name != "kvm") {
        return make_error(EINVAL, "accelerator '" + name + "' is not supported (only kvm)");
    }
#ifdef KVMDBG_ACCEL_STATIC
    (void)module_dir;
    const KvmdbgAccelOps* ops = kvmdbg_accel_kvm_static_entry();
    if (auto s = validate_accel_ops(ops, "built-in kvm accelerator"); !s) {
        return s.error();
    }
    return AccelPlugin{"built-in", ops, nullptr};
#else
    return load_accel_plugin_file(module_dir + "/accel-" + name + ".so");
#endif
}

}  // namespace kvmdbg::accel
