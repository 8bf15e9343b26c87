// A test-only accelerator plugin: implements every mandatory op of the
// plugin ABI in memory (no KVM), so the loader and the Accelerator wrapper
// can be tested on any host. Records what the framework asked of it. Its
// vCPU state is the x86-64 blob (accel/plugin_abi_x86.h); any other layout
// tag or size is refused with EINVAL, as the ABI asks.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "accel/plugin_abi.h"
#include "accel/plugin_abi_x86.h"

struct KvmdbgAccel {
    KvmdbgHostCallbacks host;
    std::vector<KvmdbgX86State> cpus;
    int started = 0;
    int paused = 0;
    std::uint64_t ram_mapped = 0;
    char error[128] = "";
};

namespace {

int fail(KvmdbgAccel* a, int err, const char* msg) {
    std::snprintf(a->error, sizeof a->error, "fake: %s", msg);
    return -err;
}

KvmdbgAccel* fake_create(const KvmdbgVmConfig* config, const KvmdbgHostCallbacks* cb, char* err, size_t err_size) {
    if (config->arch != KVMDBG_ARCH_X86_64) {
        std::snprintf(err, err_size, "fake: only x86-64");
        return nullptr;
    }
    auto* a = new KvmdbgAccel{};
    a->host = *cb;
    return a;
}

void fake_destroy(KvmdbgAccel* a) { delete a; }
const char* fake_last_error(KvmdbgAccel* a) { return a->error; }

int fake_map_ram(KvmdbgAccel* a, uint64_t, uint64_t size, void* host, int) {
    if (host == nullptr) {
        return fail(a, EINVAL, "no host memory");
    }
    a->ram_mapped += size;
    return 0;
}

int fake_create_vcpus(KvmdbgAccel* a, uint32_t n) {
    if (n == 0 || n > 8) {
        return fail(a, EINVAL, "between 1 and 8 vCPUs");
    }
    a->cpus.assign(n, KvmdbgX86State{});
    return 0;
}

int fake_get(KvmdbgAccel* a, uint32_t cpu, uint32_t layout, void* out, uint32_t size) {
    if (layout != KVMDBG_ARCH_X86_64) {
        return fail(a, EINVAL, "not the x86-64 state layout");
    }
    if (cpu >= a->cpus.size() || size != KVMDBG_X86_64_STATE_SIZE) {
        return fail(a, EINVAL, "bad vCPU or size");
    }
    std::memcpy(out, &a->cpus[cpu], size);
    return 0;
}

int fake_set(KvmdbgAccel* a, uint32_t cpu, uint32_t layout, const void* in, uint32_t size) {
    if (layout != KVMDBG_ARCH_X86_64) {
        return fail(a, EINVAL, "not the x86-64 state layout");
    }
    if (cpu >= a->cpus.size() || size != KVMDBG_X86_64_STATE_SIZE) {
        return fail(a, EINVAL, "bad vCPU or size");
    }
    std::memcpy(&a->cpus[cpu], in, size);
    return 0;
}

int fake_runnable(KvmdbgAccel* a, uint32_t cpu) { return cpu < a->cpus.size() ? 0 : fail(a, EINVAL, "bad vCPU"); }

// start() performs one port write of the vCPU count to port 0x80 through the
// host callback, so tests can see callbacks cross the boundary.
int fake_start(KvmdbgAccel* a, int paused) {
    a->started = 1;
    a->paused = paused;
    auto count = static_cast<uint8_t>(a->cpus.size());
    a->host.pio(a->host.opaque, 0, 0x80, &count, 1, 1);
    return 0;
}

int fake_pause_all(KvmdbgAccel* a) {
    a->paused = 1;
    return 0;
}

int fake_resume(KvmdbgAccel* a, uint32_t cpu, uint32_t mode) {
    if (cpu >= a->cpus.size()) {
        return fail(a, EINVAL, "bad vCPU");
    }
    if (mode == KVMDBG_RESUME_STEP) {
        a->cpus[cpu].rip += 1;
    }
    a->paused = 0;
    return 0;
}

[[maybe_unused]] int fake_kick(KvmdbgAccel* a, uint32_t cpu) {
    return cpu < a->cpus.size() ? 0 : fail(a, EINVAL, "bad vCPU");
}

int fake_supports_guest_debug(KvmdbgAccel*) { return 0; }

}  // namespace

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION KVMDBG_ACCEL_ABI_VERSION
#endif
#ifndef FAKE_STRUCT_SIZE
#define FAKE_STRUCT_SIZE sizeof(KvmdbgAccelOps)
#endif

static const KvmdbgAccelOps kFakeOps = {
    .abi_version = FAKE_ABI_VERSION,
    .struct_size = FAKE_STRUCT_SIZE,
    .name = "fake",
    .create = fake_create,
    .destroy = fake_destroy,
    .last_error = fake_last_error,
    .map_ram = fake_map_ram,
    .create_vcpus = fake_create_vcpus,
    .get_cpu_state = fake_get,
    .set_cpu_state = fake_set,
    .set_mp_runnable = fake_runnable,
    .start = fake_start,
    .pause_all = fake_pause_all,
    .resume = fake_resume,
#ifdef FAKE_MISSING_KICK
    .kick = nullptr,
#else
    .kick = fake_kick,
#endif
    .set_irq_line = nullptr,
    .supports_guest_debug = fake_supports_guest_debug,
    .insert_breakpoint = nullptr,
    .remove_breakpoint = nullptr,
    .remove_all_breakpoints = nullptr,
    .update_guest_debug = nullptr,
    .capability = nullptr,
    .read_memory = nullptr,
    .write_memory = nullptr,
    .set_debug_option = nullptr,
    .debug_report = nullptr,
    .wait_for_sipi = nullptr,
    .power_off_vcpu = nullptr,
    .translate = nullptr,
    .get_irqchip = nullptr,
    .pause_all_keeping_state = nullptr,
};

#if defined(FAKE_NULL_OPS)
// The entry point exists but returns no table.
extern "C" __attribute__((visibility("default"))) const KvmdbgAccelOps* kvmdbg_accel_entry(void) {
    return kFakeOps.name == nullptr ? &kFakeOps : nullptr;
}
#elif !defined(FAKE_NO_ENTRY)
extern "C" __attribute__((visibility("default"))) const KvmdbgAccelOps* kvmdbg_accel_entry(void) { return &kFakeOps; }
#else
// Same code, but the entry point has the wrong name.
extern "C" __attribute__((visibility("default"))) const KvmdbgAccelOps* kvmdbg_accel_entry_v0(void) {
    return &kFakeOps;
}
#endif
