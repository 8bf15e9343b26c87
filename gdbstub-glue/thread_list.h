// The thread list for qXfer:threads:read (gdb manual, "Thread List Format"):
//
//   <?xml version="1.0"?>
//   <threads>
//     <thread id="1" core="0" name="CPU#0">CPU#0 [paused]</thread>
//     <thread id="2" core="1" name="CPU#1">CPU#1 [running]</thread>
//   </threads>
//
// gdb refreshes its thread list after every stop in all-stop mode. Through
// qfThreadInfo/qsThreadInfo that is two round trips (the list, then its
// end); through qXfer:threads:read it is one, with the names and the
// qThreadExtraInfo text inside (no further query per thread). Thread ids
// are hex, as in every other packet; one gdb thread per vCPU, core = the
// vCPU index.
// Pure; any thread.
#pragma once

#include <span>
#include <string>

#include "gdbstub-glue/debug_target.h"

namespace kvmdbg::gdb {

struct ThreadListEntry {
    ThreadId id = 1;
    unsigned core = 0;
    std::string name;   ///< the name gdb shows in `info threads`
    std::string extra;  ///< qThreadExtraInfo's text
};

/// The XML document; names and texts are XML-escaped.
std::string thread_list_xml(std::span<const ThreadListEntry> threads);

}  // namespace kvmdbg::gdb
