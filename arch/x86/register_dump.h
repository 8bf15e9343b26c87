// Human-readable x86 register dump, in the style of QEMU's `info registers`.
// Used for fatal-exit messages (triple fault, internal error) and the
// `monitor info registers` command. Pure; any thread.
#pragma once

#include <string>

#include "arch/x86/cpu_state.h"

namespace kvmdbg::arch::x86 {

/// Multi-line dump: GPRs, RIP, RFLAGS, segments, descriptor tables, control
/// registers, EFER and the debug registers. Each line ends with '\n'.
std::string format_register_dump(const KvmdbgX86State& state);

}  // namespace kvmdbg::arch::x86
