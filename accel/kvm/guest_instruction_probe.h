// The start-up probe of instructions a guest kernel needs that some hosts'
// KVM cannot run: it runs each in a throw-away long-mode VM at CPL 0
// (probe_vm.h) and says which CPUID feature groups to hide from the guest
// (arch/x86/cpuid_features.h), so that a stock kernel takes the path
// without them instead of dying on an emulation failure.
//
//   group   probe code (at kProbeCodeAddr, data at kProbeDataAddr)
//   cx16    mov edi, data; xor eax/edx/ebx/ecx; lock cmpxchg16b [rdi]; out 0x80
//   xsave   CR4.OSXSAVE = 1; xsetbv (XCR0 = x87|SSE); xsave64 [data];
//           xrstor64 [data]; out 0x80        (only if the host lists XSAVE)
//
// A group runs when its code reaches the `out`; anything else (an internal
// error, a guest exception, a shutdown) hides the group, and the observed
// exit is kept for the log line. Measured: on a PVM host (docs/hosts.md)
// `lock cmpxchg16b` and `xrstor64` end KVM_RUN with an emulation failure;
// on hardware KVM and on KVM nested under QEMU's TCG both run.
//
// Threads: called once per VM on the thread that creates it.
#pragma once

#include <string>

#include "accel/kvm/kvm_system.h"
#include "arch/x86/cpuid_features.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

struct GuestInstructionProbe {
    arch::x86::HiddenCpuidFeatures hide;
    /// One line per hidden group: what the probe saw.
    std::string notes;
};

/// Runs the probes above. Errors: a probe VM could not be made or KVM_RUN
/// failed (not an answer: the caller reports it).
Result<GuestInstructionProbe> probe_guest_instructions(const KvmSystem& system);

/// "kvmdbg: CPUID: hiding cx16, xsave (...) from the guest: ..." or "" when
/// nothing is hidden.
std::string hidden_features_notice(const GuestInstructionProbe& probe);

}  // namespace kvmdbg::accel::kvm
