// A one-vCPU KvmVm (accel/kvm/kvm_vm.h, linked into the test directly)
// running a few bytes of real-mode code, for the KVM tests that drive the
// VM below the plugin boundary. No in-kernel irqchip is configured, so HLT
// exits and parks the vCPU with a HALTED event. Asserts with CUnit (fatal
// where the test cannot go on).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "accel/kvm/kvm_vm.h"
#include "accel/plugin_abi_x86.h"
#include "common/mapped_region.h"
#include "tests/support/cunit_main.h"

namespace kvmdbg::test {

struct RealModeVm {
    static constexpr std::uint64_t kRamSize = 2ull << 20;
    static constexpr std::uint64_t kCodeAddr = 0x1000;

    MappedRegion ram;
    std::unique_ptr<accel::kvm::KvmVm> vm;

    /// Host callbacks for a guest with no devices: every port and MMIO
    /// access goes on, events go to `event` with `opaque`.
    static KvmdbgHostCallbacks callbacks_with_events(void* opaque, void (*event)(void*, const KvmdbgEvent*)) {
        KvmdbgHostCallbacks callbacks{};
        callbacks.opaque = opaque;
        callbacks.pio = [](void*, std::uint32_t, std::uint16_t, std::uint8_t*, std::uint32_t, int) {
            return int{KVMDBG_IO_CONTINUE};
        };
        callbacks.mmio = [](void*, std::uint32_t, std::uint64_t, std::uint8_t*, std::uint32_t, int) {
            return int{KVMDBG_IO_CONTINUE};
        };
        callbacks.event = event;
        return callbacks;
    }

    /// Creates the VM with `callbacks`, copies `code` to kCodeAddr in
    /// kRamSize of RAM and sets the vCPU to run it (CS base 0, AX 0).
    void boot(const std::vector<std::uint8_t>& code, const KvmdbgHostCallbacks& callbacks) {
        auto region = MappedRegion::anonymous(kRamSize);
        CU_ASSERT_FATAL(region.ok());
        ram = std::move(region).value();
        std::memcpy(ram.data() + kCodeAddr, code.data(), code.size());
        KvmdbgVmConfig config{};
        config.arch = KVMDBG_ARCH_X86_64;
        auto created = accel::kvm::KvmVm::create(config, callbacks);
        if (!created) {
            std::fprintf(stderr, "%s\n", created.error().message.c_str());
        }
        CU_ASSERT_FATAL(created.ok());
        vm = std::move(created).value();
        CU_ASSERT_FATAL(vm->map_ram(0, kRamSize, ram.data(), false).ok());
        CU_ASSERT_FATAL(vm->create_vcpus(1).ok());
        KvmdbgX86State s{};
        CU_ASSERT_FATAL(vm->get_state(0, &s, sizeof s).ok());
        s.cs.base = 0;
        s.cs.selector = 0;
        s.rip = kCodeAddr;
        s.gpr[0] = 0;
        CU_ASSERT_FATAL(vm->set_state(0, &s, sizeof s).ok());
    }
};

}  // namespace kvmdbg::test
