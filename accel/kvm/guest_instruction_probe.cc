#include "accel/kvm/guest_instruction_probe.h"

#include <linux/kvm.h>

#include <cstdint>
#include <span>

#include "accel/kvm/kvm_flex_structs.h"
#include "accel/kvm/probe_vm.h"

namespace kvmdbg::accel::kvm {

namespace {

static_assert(kProbeDataAddr == 0x6000 && kProbeSentinelPort == 0x80, "the code below encodes them");

// mov edi, 0x6000; xor eax, eax; xor edx, edx; xor ebx, ebx; xor ecx, ecx;
// lock cmpxchg16b [rdi]; out 0x80, al; hlt
constexpr std::uint8_t kCmpxchg16bCode[] = {
    0xbf, 0x00, 0x60, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xd2, 0x31, 0xdb,
    0x31, 0xc9, 0xf0, 0x48, 0x0f, 0xc7, 0x0f, 0xe6, 0x80, 0xf4,
};

// mov rax, cr4; or eax, 0x40000 (OSXSAVE); mov cr4, rax; xor ecx, ecx;
// xor edx, edx; mov eax, 3; xsetbv; mov edi, 0x6000; xsave64 [rdi];
// xrstor64 [rdi]; out 0x80, al; hlt
constexpr std::uint8_t kXsaveCode[] = {
    0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x00, 0x04, 0x00, 0x0f, 0x22, 0xe0, 0x31, 0xc9,
    0x31, 0xd2, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd1, 0xbf, 0x00, 0x60,
    0x00, 0x00, 0x48, 0x0f, 0xae, 0x27, 0x48, 0x0f, 0xae, 0x2f, 0xe6, 0x80, 0xf4,
};

constexpr unsigned kMaxRuns = 4;

// The instructions of interest in each probe, by offset from its start.
struct NamedInstruction {
    std::uint64_t offset;
    const char* name;
};
constexpr NamedInstruction kCmpxchg16bNames[] = {{13, "lock cmpxchg16b"}};
constexpr NamedInstruction kXsaveNames[] = {{8, "mov cr4"}, {20, "xsetbv"}, {28, "xsave64"}, {32, "xrstor64"}};

std::string where(std::uint64_t rip, std::span<const NamedInstruction> names) {
    std::uint64_t offset = rip - kProbeCodeAddr;
    for (const auto& n : names) {
        if (n.offset == offset) {
            return std::string(" at ") + n.name;
        }
    }
    return " at probe offset " + std::to_string(offset);
}

bool host_lists_xsave(const HostCpuid& cpuid) {
    const auto* header = reinterpret_cast<const KvmCpuid2Header*>(cpuid.data());
    const auto* entries = reinterpret_cast<const kvm_cpuid_entry2*>(cpuid.data() + sizeof(KvmCpuid2Header));
    for (__u32 i = 0; i < header->nent; ++i) {
        if (entries[i].function == 1) {
            return (entries[i].ecx & arch::x86::kCpuid1EcxXsave) != 0;
        }
    }
    return false;
}

// Runs `code`; true if it reached the sentinel `out`. `seen` gets the last exit.
Result<bool> runs_to_sentinel(const KvmSystem& system, const HostCpuid& cpuid, std::span<const std::uint8_t> code,
                              std::span<const NamedInstruction> names, std::string& seen) {
    auto vm = ProbeVm::create(system, cpuid, code);
    if (!vm) {
        return vm.error();
    }
    for (unsigned i = 0; i < kMaxRuns; ++i) {
        auto exit = vm->run();
        if (!exit) {
            return exit.error();
        }
        seen = exit->describe();
        if (auto regs = vm->regs()) {
            seen += where(regs->rip, names);
        }
        if (exit->reason == KVM_EXIT_IO && exit->io_out && exit->port == kProbeSentinelPort) {
            return true;
        }
        if (exit->reason != KVM_EXIT_INTR) {
            return false;
        }
    }
    return false;
}

}  // namespace

Result<GuestInstructionProbe> probe_guest_instructions(const KvmSystem& system) {
    auto cpuid = HostCpuid::fetch(system);
    if (!cpuid) {
        return cpuid.error();
    }
    GuestInstructionProbe probe;
    std::string seen;
    auto cx16 = runs_to_sentinel(system, *cpuid, kCmpxchg16bCode, kCmpxchg16bNames, seen);
    if (!cx16) {
        return cx16.error();
    }
    if (!*cx16) {
        probe.hide.cx16 = true;
        probe.notes += "cx16 probe: " + seen + "\n";
    }
    if (host_lists_xsave(*cpuid)) {
        auto xsave = runs_to_sentinel(system, *cpuid, kXsaveCode, kXsaveNames, seen);
        if (!xsave) {
            return xsave.error();
        }
        if (!*xsave) {
            probe.hide.xsave = true;
            probe.notes += "xsave probe: " + seen + "\n";
        }
    }
    return probe;
}

std::string hidden_features_notice(const GuestInstructionProbe& probe) {
    if (!probe.hide.any()) {
        return "";
    }
    std::string names;
    for (const auto& n : arch::x86::hidden_feature_names(probe.hide)) {
        names += (names.empty() ? "" : ", ") + n;
    }
    std::string line = "kvmdbg: CPUID: hiding " + names +
                       " from the guest: this host's KVM cannot run their instructions in a guest (";
    std::string notes = probe.notes;
    while (!notes.empty() && notes.back() == '\n') {
        notes.pop_back();
    }
    for (char& c : notes) {
        if (c == '\n') {
            c = ';';
        }
    }
    return line + notes + ")";
}

}  // namespace kvmdbg::accel::kvm
