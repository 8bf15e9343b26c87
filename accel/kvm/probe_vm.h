// ProbeVm: a throw-away x86-64 VM with 64 KiB of RAM and one vCPU, started
// directly in 64-bit long mode, for the start-up host capability probe
// (host_debug_probe.h). Each behavioural probe builds one, runs a few bytes
// of code under one KVM_SET_GUEST_DEBUG setting and looks at the exits.
//
// Guest-physical layout (identity mapped, so linear == physical):
//
//   0x0000  GDT: null, 32-bit code, flat data (0x10), 64-bit code (0x18)
//           (arch/x86/boot_tables.h write_boot_gdt)
//   0x0100  IDT: 32 64-bit interrupt gates, vector v -> stub v
//   0x1000  PML4[0] -> 0x2000 (P|RW)
//   0x2000  PDPT[0] -> 0x3000 (P|RW)
//   0x3000  PD[0]    = 2 MiB page at 0 (P|RW|PS)   Intel SDM Vol. 3A 4.5
//   0x4000  probe code (kProbeCodeAddr); the rest of the page is HLT (0xF4)
//   0x5000  exception stubs, 8 bytes each:
//             mov al, v ; out 0x81, al ; hlt ; jmp $-1
//   0x6000  data page (kProbeDataAddr), the target of the watchpoint probe
//   0xfff8  stack, growing down from RSP = 0x10000
//
// The vCPU starts at kProbeCodeAddr with CS = 0x18 (L=1), SS/DS/ES/FS/GS =
// 0x10, CR0 = PE|ET|NE|PG, CR3 = 0x1000, CR4 = PAE, EFER = LME|LMA, RFLAGS
// = 0x2, IDTR = {0x100, 0x1ff}. KVM refuses EFER.LME unless the guest CPUID
// has long mode, so KVM_SET_CPUID2 with the host's supported CPUID comes
// first (api.rst "KVM_SET_CPUID2").
//
// Every path in the guest ends in an exit to userspace: an OUT to
// kProbeSentinelPort (the probe code finished), an OUT to
// kProbeGuestExceptionPort (an exception was delivered through the guest
// IDT; the byte is the vector), or HLT (there is no in-kernel irqchip, so
// HLT exits with KVM_EXIT_HLT, api.rst "KVM_EXIT_HLT"). Double faults end
// in KVM_EXIT_SHUTDOWN; stray execution outside RAM in KVM_EXIT_MMIO.
//
// Threads: a ProbeVm is used by one thread at a time (the one that created
// it issues the vCPU ioctls). All kernel resources are RAII members.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/kvm_system.h"
#include "arch/x86/debug_regs.h"
#include "common/mapped_region.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace kvmdbg::accel::kvm {

/// Size of a probe VM's RAM, mapped at guest-physical 0.
inline constexpr std::uint64_t kProbeRamSize = 64 * 1024;
/// Where the probe code is copied and where the vCPU starts.
inline constexpr std::uint64_t kProbeCodeAddr = 0x4000;
/// Largest probe program (the rest of its page is HLT).
inline constexpr std::size_t kProbeCodeMax = 0x1000;
/// A scratch page the probe code may write.
inline constexpr std::uint64_t kProbeDataAddr = 0x6000;
/// `out kProbeSentinelPort, al` ends every probe program.
inline constexpr std::uint16_t kProbeSentinelPort = 0x80;
/// The exception stubs write their vector here: the exception was delivered
/// to the guest instead of exiting to userspace.
inline constexpr std::uint16_t kProbeGuestExceptionPort = 0x81;

/// The host's KVM_GET_SUPPORTED_CPUID table (api.rst "KVM_GET_SUPPORTED_CPUID"),
/// fetched once and given to every probe VM. Uses the C layout of
/// kvm_flex_structs.h, never the C++ layout of struct kvm_cpuid2.
class HostCpuid {
public:
    /// Errors: the ioctl's errno, with "KVM_GET_SUPPORTED_CPUID" in the message.
    static Result<HostCpuid> fetch(const KvmSystem& system);

    /// The buffer to pass to KVM_SET_CPUID2 (KvmCpuid2Header + entries).
    const std::uint8_t* data() const { return buf_.data(); }

private:
    explicit HostCpuid(std::vector<std::uint8_t> buf) : buf_(std::move(buf)) {}
    std::vector<std::uint8_t> buf_;
};

/// What one KVM_RUN returned, copied out of the kvm_run page (api.rst
/// section 5, "The kvm_run structure"). Only the fields of `reason` are set.
struct ProbeExit {
    std::uint32_t reason = 0;  ///< KVM_EXIT_*; KVM_EXIT_INTR for -EINTR
    // KVM_EXIT_DEBUG (struct kvm_debug_exit_arch; dr7 is not copied: it is
    // garbage on some hosts, docs/hosts.md)
    std::uint32_t exception = 0;  ///< 1 = #DB, 3 = #BP
    std::uint64_t pc = 0;         ///< linear RIP
    std::uint64_t dr6 = 0;
    // KVM_EXIT_IO
    std::uint16_t port = 0;
    std::uint8_t value = 0;  ///< first byte written (direction out)
    bool io_out = false;
    // KVM_EXIT_INTERNAL_ERROR
    std::uint32_t suberror = 0;
    // KVM_EXIT_MMIO
    std::uint64_t mmio_addr = 0;
    // KVM_EXIT_FAIL_ENTRY
    std::uint64_t hw_reason = 0;

    /// One-phrase description, e.g. "KVM_EXIT_DEBUG exception 1 pc 0x4001
    /// dr6 0xffff4ff0", "KVM_EXIT_IO out port 0x80",
    /// "KVM_EXIT_INTERNAL_ERROR suberror 1 (emulation failure)".
    std::string describe() const;
};

class ProbeVm {
public:
    /// Creates the VM (KVM_CREATE_VM, KVM_SET_TSS_ADDR, one memory slot,
    /// KVM_CREATE_VCPU, the kvm_run mapping, KVM_SET_CPUID2), writes the
    /// layout above with `code` at kProbeCodeAddr and loads the long-mode
    /// register state. Errors: EINVAL if `code` exceeds kProbeCodeMax; else
    /// the failing ioctl's errno with its name in the message.
    static Result<ProbeVm> create(const KvmSystem& system, const HostCpuid& cpuid, std::span<const std::uint8_t> code);

    /// KVM_SET_GUEST_DEBUG (api.rst "KVM_SET_GUEST_DEBUG") with `control`
    /// (KVM_GUESTDBG_*) and, for KVM_GUESTDBG_USE_HW_BP, DR0-3 and DR7 from
    /// `regs` in debugreg[0..3] and debugreg[7]. Returns the ioctl's -errno
    /// as an Error; the caller decides whether that is an answer or a failure.
    Status set_guest_debug(std::uint32_t control, const arch::x86::X86DebugRegs& regs);

    /// KVM_GET_REGS / KVM_SET_REGS of the vCPU (api.rst "KVM_GET_REGS"), for
    /// probes that change RIP, RFLAGS or a GPR between runs (the
    /// resume-flag probe sets RFLAGS.RF) or look at a GPR after an exit.
    /// Errors: the ioctl's errno with its name in the message.
    Result<kvm_regs> regs() const;
    Status set_regs(const kvm_regs& regs);

    /// One KVM_RUN. An interrupted run (EINTR) is reported as KVM_EXIT_INTR.
    /// Errors: any other KVM_RUN failure.
    Result<ProbeExit> run();

    /// The guest RAM (kProbeRamSize bytes at guest-physical 0).
    std::span<std::uint8_t> ram() const { return ram_.bytes(); }

private:
    ProbeVm() = default;
    Status setup(const KvmSystem& system, const HostCpuid& cpuid, std::span<const std::uint8_t> code);

    // Declaration order is destruction order reversed: the run mapping and
    // the vCPU go before the VM, the RAM last.
    MappedRegion ram_;
    UniqueFd vm_fd_;
    UniqueFd vcpu_fd_;
    MappedRegion run_;
};

}  // namespace kvmdbg::accel::kvm
