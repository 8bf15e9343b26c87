// IsaDescriptor: what differs per guest ISA for the gdb front end, behind
// one interface chosen once at start-up from the VM's ISA (KvmdbgArch), so
// that system/ never branches on the ISA (docs/design.md, "ISA
// descriptor"):
//
//   question                       x86-64 (x86_64_isa.cc)        aarch64 (aarch64_isa.cc)
//   -----------------------------  ----------------------------  ---------------------------
//   accelerator state blob         KvmdbgX86State, 896 bytes     KvmdbgArm64State, 888 bytes
//                                  (accel/plugin_abi_x86.h)      (accel/plugin_abi_arm64.h)
//   gdb target description         gdbstub-glue/x86_64_target.h  gdbstub-glue/aarch64_target.h
//   g block <-> state, p/P         arch/x86/gdb_registers.h      arch/arm64/gdb_registers.h
//   pc as gdb shows it             linear CS.base + IP in real   pc
//                                  and vm86 mode, else rip
//   `monitor info registers`       arch/x86/register_dump.h      every non-vector register
//   gdb's watchpoint stops         after the access              before the access (gdb
//                                  (continuable)                 steps over it, then checks)
//
// Every state argument is an accelerator state blob (Accelerator::get_state)
// of exactly state_size() bytes; any other size is EINVAL and nothing is
// written. Descriptors are immutable singletons that live as long as the
// program; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "accel/plugin_abi.h"
#include "common/result.h"
#include "gdbstub-glue/target_description.h"

namespace kvmdbg::system {

class IsaDescriptor {
public:
    virtual ~IsaDescriptor() = default;

    /// The ISA this descriptor describes (the accelerator's state layout tag).
    virtual KvmdbgArch arch() const = 0;
    /// Short name for messages: "x86-64", "aarch64".
    virtual const char* name() const = 0;
    /// Bytes of the accelerator's state blob of this ISA.
    virtual std::uint32_t state_size() const = 0;
    /// The gdb target description (register sizes, XML annexes, expedited
    /// registers) whose g-block layout the conversions below produce.
    virtual const gdb::TargetDescription& description() const = 0;

    /// The whole g block (description().registers_size() bytes) of `state`.
    virtual Result<std::vector<std::uint8_t>> registers_from_state(std::span<const std::uint8_t> state) const = 0;
    /// Applies a whole g block to `state` (fields gdb does not see are
    /// kept). Errors: EINVAL for a state or block of the wrong size (state
    /// unchanged).
    virtual Status registers_to_state(std::span<const std::uint8_t> registers, std::span<std::uint8_t> state) const = 0;
    /// Register `regnum` (p packet numbering). Errors: EINVAL for a wrong
    /// state size or an unknown number.
    virtual Result<std::vector<std::uint8_t>> read_register(std::span<const std::uint8_t> state,
                                                            unsigned regnum) const = 0;
    /// Writes register `regnum` (P packet). Errors: EINVAL for a wrong state
    /// size, an unknown number or a value of the wrong size (state unchanged).
    virtual Status write_register(std::span<std::uint8_t> state, unsigned regnum,
                                  std::span<const std::uint8_t> value) const = 0;
    /// The program counter as gdb's `pc` shows it.
    virtual Result<std::uint64_t> pc(std::span<const std::uint8_t> state) const = 0;
    /// Multi-line register dump for `monitor info registers`; each line
    /// ends with '\n'.
    virtual Result<std::string> register_dump(std::span<const std::uint8_t> state) const = 0;
    /// Whether gdb takes this ISA's watchpoint stops as made before the
    /// access (its gdbarch "nonsteppable watchpoints": aarch64): gdb then
    /// removes the watchpoints and single-steps the vCPU over the access
    /// before it looks at the value. A device-path watchpoint stops after
    /// the access, so that step has already happened (AccelDebugTarget).
    virtual bool gdb_watchpoint_stops_before_access() const = 0;
};

/// The descriptor of `arch`. Errors: ENOTSUP for an ISA kvmdbg has no
/// descriptor for (a value outside enum KvmdbgArch).
Result<const IsaDescriptor*> find_isa_descriptor(KvmdbgArch arch);

/// The descriptors of each ISA (what find_isa_descriptor returns).
const IsaDescriptor& x86_64_isa_descriptor();
const IsaDescriptor& aarch64_isa_descriptor();

}  // namespace kvmdbg::system
