// The start-up host capability probe: what this host's KVM really does for
// guest debugging, asked once per process with tiny throw-away VMs
// (probe_vm.h) before the machine starts.
//
// Why: KVM_CHECK_EXTENSION only says which ioctls and flags exist. Whether
// an int3 reaches userspace, whether a data watchpoint fires or whether a
// guest's own RFLAGS.TF trap exits depends on the host: hardware VT-x/SVM
// KVM does all three, nested and page-table-based hosts (docs/hosts.md: the
// PVM hosts) may not. The accelerator adapts to the answers (for example, it serves
// gdb's software breakpoints with free hardware slots when int3 cannot be
// intercepted) and reports them through `monitor info capabilities`
// (describe()) and `-d guest_debug` (one_line_summary()).
//
// The questions, each a separate VM running a few bytes of 64-bit code
// (Documentation/virt/kvm/api.rst sections "KVM_SET_GUEST_DEBUG" and
// "KVM_EXIT_DEBUG"; Intel SDM Vol. 3B 17.2 "Debug Registers": 17.2.3 DR6,
// 17.2.4 DR7; 17.3.1.4 "Single-Step Exception Condition"):
//
//   probe              control flags              code                         "yes" means
//   -----------------  -------------------------  ---------------------------  -------------------------------
//   single-step        ENABLE|SINGLESTEP          nop; nop; nop; out 0x80      KVM_EXIT_DEBUG exception 1 at
//                                                                              +1, +2, +3 (one exit per insn)
//   hw exec bp         ENABLE|USE_HW_BP,          nop; nop; nop; out 0x80      KVM_EXIT_DEBUG exception 1,
//                      DR0 = 2nd nop, DR7 L0 exec                              DR6.B0, pc = DR0 (fault-like)
//   sw breakpoint      ENABLE|USE_SW_BP           nop; int3; out 0x80          KVM_EXIT_DEBUG exception 3,
//                                                                              pc = the int3
//   data watchpoint    ENABLE|USE_HW_BP,          mov eax, imm; mov [d], eax;  KVM_EXIT_DEBUG exception 1,
//                      DR0 = d, DR7 L0 W len 4    nop; out 0x80                DR6.B0 after the store (trap)
//   guest TF           ENABLE|USE_HW_BP, DR7 with pushfq; or [rsp], 0x100;     KVM_EXIT_DEBUG exception 1,
//                      no slot enabled            popfq; nop; nop; out 0x80    DR6.BS (else: #DB reaches the
//                                                                              guest IDT -> out 0x81, 1)
//   int3 stops as an   ENABLE|USE_SW_BP           nop; int3; out 0x80          (only where int3 is not
//   emulation failure                                                          intercepted) KVM_EXIT_INTERNAL_
//                                                                              ERROR suberror 1 with RIP at the
//                                                                              int3; the nop written back over
//                                                                              it, KVM_RUN reaches out 0x80
//   resume flag (RF)   ENABLE|USE_HW_BP,          mov ecx, 2; L: nop; dec ecx; exit at L with rcx 2; resumed
//                      DR0 = L, DR7 L0 exec       jnz L; out 0x80              with RF=1: exit at L with rcx 1
//                                                                              (no re-fire, fires on the next
//                                                                              pass); RF=1 again: out 0x80,
//                                                                              rcx 0, RF clear
//
// The resume-flag probe (Intel SDM Vol. 3B 17.3.1.1 "Instruction-Breakpoint
// Exception Condition": with RFLAGS.RF = 1 the processor ignores instruction
// breakpoints for the next instruction and clears RF once it completes;
// AMD APM Vol. 2 13.1.1.6 likewise; VM entry loads RFLAGS with RF) sets RF
// with KVM_SET_REGS between runs: KVM passes RF through to the guest
// (arch/x86/kvm/x86.c __kvm_set_rflags only adds TF for its own
// single-step; kvm_is_code_breakpoint_inhibited honours RF for the code
// breakpoints KVM checks itself while emulating). A nested or
// page-table-based host may or may not, so it is asked, not assumed. Where
// it works, the x86 guest-debug hooks (x86_debug_hooks.h) continue from a
// debugger hardware breakpoint with RF = 1 instead of a single-step over it
// (one KVM_RUN instead of two).
//
// DR7 as loaded (17.2.4): bit 10 reads as 1; slot 0 enabled with L0 (bit 0),
// R/W0 in bits 17:16 (00 execute, 01 write), LEN0 in bits 19:18 (00 one
// byte, 11 four bytes). KVM loads debugreg[7] as the effective DR7 while
// USE_HW_BP is set (x86.c kvm_arch_vcpu_ioctl_set_guest_debug / kvm_update_dr7).
//
// Plus the capabilities (api.rst 4.4 "KVM_CHECK_EXTENSION" on /dev/kvm):
// KVM_CAP_SET_GUEST_DEBUG, KVM_CAP_SET_GUEST_DEBUG2 (returns the mask of
// supported KVM_GUESTDBG_* control bits; api.rst "KVM_CAP_SET_GUEST_DEBUG2"),
// KVM_GUESTDBG_BLOCKIRQ in that mask (x86: single-step without taking
// interrupts), KVM_CAP_EXCEPTION_PAYLOAD, KVM_CAP_DEBUGREGS.
//
// Every run is bounded: at most a few KVM_RUN calls per probe, and every path
// in the guest code ends in an exit to userspace (probe_vm.h). The whole
// probe takes a few milliseconds (see tests/kvm/test_host_debug_probe.cc).
#pragma once

#include <cstdint>
#include <string>

#include "accel/kvm/kvm_system.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

/// The answers. All behavioural fields are false when the probe could not
/// run them (set_guest_debug false, or KVM_SET_GUEST_DEBUG refused the
/// control bits); `notes` then says why.
struct HostDebugCaps {
    /// KVM_CHECK_EXTENSION(KVM_CAP_SET_GUEST_DEBUG) > 0.
    bool set_guest_debug = false;
    /// KVM_CHECK_EXTENSION(KVM_CAP_SET_GUEST_DEBUG2): the KVM_GUESTDBG_* bits
    /// KVM_SET_GUEST_DEBUG accepts; 0 if the capability is absent (kernels
    /// before 5.16).
    std::uint32_t guest_debug_mask = 0;
    /// guest_debug_mask has KVM_GUESTDBG_BLOCKIRQ (0x00100000).
    bool block_irq = false;
    /// KVM_CAP_EXCEPTION_PAYLOAD > 0 (#DB payload = pending DR6 bits).
    bool exception_payload = false;
    /// KVM_CAP_DEBUGREGS > 0 (KVM_GET/SET_DEBUGREGS for the guest's own DRs).
    bool debugregs = false;
    /// KVM_GUESTDBG_SINGLESTEP gives one KVM_EXIT_DEBUG (#DB) per instruction.
    bool single_step = false;
    /// A DR0-3 execute breakpoint under USE_HW_BP exits with DR6.Bn at its address.
    bool hw_exec_breakpoint = false;
    /// int3 under USE_SW_BP exits with KVM_EXIT_DEBUG exception 3 at the int3.
    bool sw_breakpoint_exits = false;
    /// int3 in 64-bit kernel-mode (CPL0) code is not intercepted, but ends
    /// KVM_RUN with KVM_EXIT_INTERNAL_ERROR, suberror 1 (emulation
    /// failure), with RIP at the int3 and nothing executed, and the vCPU
    /// runs on normally once the original byte is back (PVM hosts,
    /// docs/hosts.md). Only probed where sw_breakpoint_exits is false.
    bool int3_stops_as_emulation_failure = false;
    /// A DR0-3 write watchpoint under USE_HW_BP exits with DR6.Bn.
    bool data_watchpoints_fire = false;
    /// A #DB from the guest's own RFLAGS.TF exits to userspace while USE_HW_BP
    /// is on (as on hardware KVM) instead of being delivered to the guest.
    bool guest_tf_exits = false;
    /// RFLAGS.RF = 1 set with KVM_SET_REGS at a hardware execute breakpoint
    /// lets that instruction run without the breakpoint re-firing, and the
    /// breakpoint fires again the next time the instruction runs (RF is
    /// cleared after one instruction). Only probed where hw_exec_breakpoint.
    bool hw_bp_resume_flag = false;
    /// arm64: KVM_CAP_GUEST_DEBUG_HW_BPS / _HW_WPS, the breakpoint and
    /// watchpoint register pairs the debugger gets (0 on x86: its four DRs
    /// are a fixed shared pool).
    unsigned hw_breakpoints = 0;
    unsigned hw_watchpoints = 0;
    /// One line per probe: what was observed ("sw_breakpoint: KVM_EXIT_INTERNAL_ERROR
    /// suberror 1 (emulation failure)"), including unexpected exits.
    std::string notes;
};

/// Runs every probe on `system` (an open /dev/kvm) and returns the answers.
/// A probe whose answer is "no" is not an error. Errors: a VM could not be
/// set up (KVM_CREATE_VM, memory, vCPU, CPUID, register state) or KVM_RUN
/// itself failed; the message names the probe and the ioctl.
/// Thread: any thread, but it blocks it for the probe's duration (a few ms);
/// call it once at start-up before the vCPU threads exist.
Result<HostDebugCaps> probe_host_debug(const KvmSystem& system);

/// The resume-flag probe alone (see the table above; run by
/// probe_host_debug after the hardware execution breakpoint probe found
/// that breakpoint working): true when RF = 1 skips the breakpoint once and
/// only once. Appends one line to `notes` with what was observed. Errors:
/// as probe_host_debug (a VM could not be set up, KVM_RUN failed).
Result<bool> probe_resume_flag(const KvmSystem& system, std::string& notes);

/// Multi-line human text for `monitor info capabilities`: one line per
/// capability and per probe (with the consequence for the debugger), then
/// the notes. Ends with a newline.
std::string describe(const HostDebugCaps& caps);

/// One line (no newline) for `-d guest_debug`, e.g. "host guest-debug probe:
/// set_guest_debug=1 mask=0x1f0003 blockirq=1 exception_payload=1
/// debugregs=1 step=1 hw_bp=1 sw_bp=0 int3_emulation_failure=1 watch=0
/// guest_tf_exit=0 hw_bp_rf=1".
std::string one_line_summary(const HostDebugCaps& caps);

/// The one line to print at start-up when the host forces an adaptation or
/// lacks a feature gdb will try to use, without a newline; empty when
/// everything works. Example: "kvmdbg: this host's KVM cannot intercept
/// int3; gdb software breakpoints are served with free hardware breakpoint
/// slots (4, shared with watchpoints); hardware watchpoints do not fire on
/// this host".
std::string adaptation_notice(const HostDebugCaps& caps);

/// True when software breakpoints must be served with hardware slots: int3
/// is not intercepted but hardware execution breakpoints work. Where
/// int3_stops_as_emulation_failure, those in kernel code are planted as
/// int3 all the same (plants_int3_in_kernel_code) and only the others take
/// slots.
bool sw_breakpoints_use_hw_slots(const HostDebugCaps& caps);

/// True when gdb's software breakpoints in 64-bit kernel code are written
/// as int3 although the host does not intercept it: the exit it causes
/// instead (int3_stops_as_emulation_failure) is recognised by its address.
bool plants_int3_in_kernel_code(const HostDebugCaps& caps);

}  // namespace kvmdbg::accel::kvm
