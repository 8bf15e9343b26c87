// The gdb stub's thread (kvmdbg's main thread) runs at a higher scheduling
// priority than the vCPU threads while a debugger may attach.
//
// Why: a stop starts with the main thread's wake-up for gdb's packet
// (Ctrl-C's 0x03). When busy vCPU threads hold every CPU (more vCPUs than
// host CPUs, e.g. -smp 4 on two), that wake-up waits until one of them is
// preempted, up to a scheduler time slice: one stop in ten took 5-6 ms
// at -smp 4 on two CPUs, against a median of 1.4 ms. With the main thread
// at nice -5, 1.5-2 ms at the 90th percentile and a third less on average
// (docs/performance.md, "Stop-all (rows 8 and 11) taken apart"). The
// thread is idle while nobody talks to it (row 9 of the benchmark), so the
// priority costs the guest and other processes nothing while the guest runs.
//
// Linux keeps a nice value per thread (setpriority(PRIO_PROCESS, tid))
// and a new thread inherits its creator's: raise it only after the vCPU
// threads exist. Raising a priority needs CAP_SYS_NICE or an RLIMIT_NICE
// that allows it; without either, it stays as it is.
//
// Threads: acts on the calling thread only.
#pragma once

#include "common/result.h"

namespace kvmdbg::system {

/// The nice value the main thread asks for when a gdb stub is configured.
inline constexpr int kStubThreadNice = -5;

/// The nice value wanted for the stub's thread: kStubThreadNice, or
/// $KVMDBG_STUB_NICE when set (`env_value`: an integer from -20 to 19; 0
/// or more leaves the thread as it is). EINVAL, naming the variable, for a
/// malformed value.
Result<int> wanted_stub_thread_nice(const char* env_value);

/// Sets the calling thread's nice value to `nice` if that raises its
/// priority (a lower value than it has); leaves it otherwise. Returns the
/// thread's nice value afterwards, or the error of setpriority (EPERM or
/// EACCES without CAP_SYS_NICE or a large enough RLIMIT_NICE) with a
/// message that says what was needed; the thread is then unchanged.
Result<int> raise_calling_thread_priority(int nice);

}  // namespace kvmdbg::system
