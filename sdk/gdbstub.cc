// The C API of libkvmdbg's gdb stub (sdk/gdbstub.h): a HostGdbTarget over
// the host's callbacks, served by a GdbConnection (system/gdb_connection.h,
// the same server and session as `kvmdbg -gdb`) on a thread of the stub's
// own with its own GMainContext, so that the host needs no GLib main loop.
//
// Who calls the target: the stub's thread, from the moment listen()
// succeeded. Before that (or after a failed listen) a reported stop is
// resumed on the reporting thread, under `mu`, so that no two calls of the
// target ever overlap.
#include "sdk/gdbstub.h"

#include <glib.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "sdk/host_gdb_target.h"
#include "system/debug_stop_abi.h"
#include "system/gdb_connection.h"
#include "system/gdb_endpoint.h"
#include "system/isa_descriptor.h"

using kvmdbg::Status;
using kvmdbg::sdk::HostGdbTarget;
using kvmdbg::system::GdbConnection;
using kvmdbg::system::GdbEndpoint;

struct KvmdbgGdbStub {
    std::unique_ptr<HostGdbTarget> target;
    GMainContext* context = nullptr;
    GMainLoop* loop = nullptr;
    std::thread thread;
    // Created and destroyed on the stub's thread; set before `serving`.
    std::unique_ptr<GdbConnection> connection;
    std::string address;  // "" until listen() succeeded

    std::mutex mu;          // listen(), and the target before serving
    bool listened = false;  // guarded by mu: listen() is once
    std::atomic<bool> serving{false};

    ~KvmdbgGdbStub() {
        if (loop != nullptr) {
            g_main_loop_unref(loop);
        }
        if (context != nullptr) {
            g_main_context_unref(context);
        }
    }
};

namespace {

// Callbacks the stub cannot work without: every one but kill and monitor.
// The table ends its mandatory part with `detach`.
constexpr std::size_t kMandatorySize = offsetof(KvmdbgGdbTarget, detach) + sizeof(KvmdbgGdbTarget::detach);
// More vCPUs than any KVM allows: a garbage count, not a machine.
constexpr std::uint32_t kMaxCpus = 4096;

void set_error(char* error, std::size_t error_size, const std::string& message) {
    if (error != nullptr && error_size > 0) {
        std::snprintf(error, error_size, "%s", message.c_str());
    }
}

// The first mandatory callback `t` lacks, or nullptr.
const char* missing_callback(const KvmdbgGdbTarget& t) {
    const std::pair<bool, const char*> mandatory[] = {
        {t.get_state == nullptr, "get_state"},
        {t.set_state == nullptr, "set_state"},
        {t.read_memory == nullptr, "read_memory"},
        {t.write_memory == nullptr, "write_memory"},
        {t.insert_breakpoint == nullptr, "insert_breakpoint"},
        {t.remove_breakpoint == nullptr, "remove_breakpoint"},
        {t.remove_all_breakpoints == nullptr, "remove_all_breakpoints"},
        {t.resume == nullptr, "resume"},
        {t.stop_all == nullptr, "stop_all"},
        {t.detach == nullptr, "detach"},
    };
    for (const auto& [missing, name] : mandatory) {
        if (missing) {
            return name;
        }
    }
    return nullptr;
}

GdbConnection::Hooks connection_hooks(HostGdbTarget& target) {
    GdbConnection::Hooks hooks;
    hooks.on_stop = [&target](const kvmdbg::gdb::StopEvent& stop) { target.note_stopped(stop.thread - 1); };
    hooks.on_unattended_stop = [&target](const kvmdbg::gdb::StopEvent& stop) {
        target.resume_cpu(static_cast<std::uint32_t>(stop.thread - 1));
    };
    hooks.on_finished = [&target](kvmdbg::gdb::SessionState state, std::optional<int>) {
        if (state == kvmdbg::gdb::SessionState::killed) {
            target.end_after_kill();
        }
    };
    return hooks;
}

// The stub's thread: the server and every call of the target, in the
// stub's context, until kvmdbg_gdbstub_free() quits the loop.
void serve(KvmdbgGdbStub* stub, GdbEndpoint endpoint, std::promise<Status> started) {
    g_main_context_push_thread_default(stub->context);
    auto connection = std::make_unique<GdbConnection>(connection_hooks(*stub->target));
    if (Status s = connection->listen(endpoint, *stub->target); !s) {
        connection.reset();
        g_main_context_pop_thread_default(stub->context);
        started.set_value(s);
        return;
    }
    stub->address = connection->bound_address();
    stub->connection = std::move(connection);
    started.set_value(kvmdbg::ok_status());
    g_main_loop_run(stub->loop);
    // The host frees the stub: a debugger still attached leaves as if it
    // went away (its breakpoints removed, the vCPUs resumed), and stops
    // still queued are resumed, so that no vCPU waits for a stub that is
    // gone.
    stub->connection->close();
    stub->connection.reset();
    g_main_context_pop_thread_default(stub->context);
}

}  // namespace

extern "C" KvmdbgGdbStub* kvmdbg_gdbstub_new(const KvmdbgGdbTarget* target, char* error, size_t error_size) {
    if (target == nullptr) {
        set_error(error, error_size, "kvmdbg_gdbstub_new: the target is NULL");
        return nullptr;
    }
    if (target->struct_size < kMandatorySize) {
        set_error(error, error_size,
                  "kvmdbg_gdbstub_new: target struct_size " + std::to_string(target->struct_size) +
                      " is smaller than the " + std::to_string(kMandatorySize) +
                      " bytes up to its last mandatory callback (set it to sizeof(KvmdbgGdbTarget))");
        return nullptr;
    }
    // A host built against an older header has a shorter table: what it
    // lacks stays NULL (optional). A newer host's extra fields are unknown
    // here and ignored.
    KvmdbgGdbTarget copy{};
    std::memcpy(&copy, target, std::min<std::size_t>(target->struct_size, sizeof copy));
    copy.struct_size = sizeof copy;
    auto isa = kvmdbg::system::find_isa_descriptor(static_cast<KvmdbgArch>(copy.arch));
    if (!isa) {
        set_error(error, error_size,
                  "kvmdbg_gdbstub_new: unknown arch " + std::to_string(copy.arch) +
                      " (KVMDBG_ARCH_X86_64 or KVMDBG_ARCH_ARM64): " + isa.error().message);
        return nullptr;
    }
    if (copy.cpus == 0 || copy.cpus > kMaxCpus) {
        set_error(error, error_size,
                  "kvmdbg_gdbstub_new: cpus is " + std::to_string(copy.cpus) + ", not 1.." + std::to_string(kMaxCpus));
        return nullptr;
    }
    if (const char* missing = missing_callback(copy)) {
        set_error(error, error_size, std::string("kvmdbg_gdbstub_new: the mandatory callback ") + missing + " is NULL");
        return nullptr;
    }
    auto stub = std::make_unique<KvmdbgGdbStub>();
    stub->target = std::make_unique<HostGdbTarget>(copy, **isa);
    stub->context = g_main_context_new();
    stub->loop = g_main_loop_new(stub->context, FALSE);
    set_error(error, error_size, "");
    return stub.release();
}

extern "C" int kvmdbg_gdbstub_listen(KvmdbgGdbStub* stub, const char* endpoint, char* error, size_t error_size) {
    if (stub == nullptr) {
        set_error(error, error_size, "kvmdbg_gdbstub_listen: the stub is NULL");
        return -EINVAL;
    }
    const char* spec = endpoint != nullptr ? endpoint : "tcp::1234";
    auto parsed = kvmdbg::system::parse_gdb_endpoint(spec);
    if (!parsed) {
        set_error(error, error_size, "kvmdbg_gdbstub_listen: " + parsed.error().message);
        return -parsed.error().code;
    }
    std::lock_guard lock(stub->mu);
    if (stub->listened) {
        set_error(error, error_size, "kvmdbg_gdbstub_listen: the stub listens already (once per stub)");
        return -EBUSY;
    }
    std::promise<Status> started;
    std::future<Status> result = started.get_future();
    stub->thread = std::thread(serve, stub, std::move(*parsed), std::move(started));
    Status s = result.get();
    if (!s) {
        stub->thread.join();
        set_error(error, error_size, "kvmdbg_gdbstub_listen: " + s.error().message);
        return -s.error().code;
    }
    stub->listened = true;
    stub->serving = true;
    set_error(error, error_size, "");
    return 0;
}

extern "C" const char* kvmdbg_gdbstub_address(const KvmdbgGdbStub* stub) {
    if (stub == nullptr || !stub->serving) {
        return "";
    }
    return stub->address.c_str();
}

extern "C" void kvmdbg_gdbstub_report_stop(KvmdbgGdbStub* stub, uint32_t cpu, const KvmdbgDebugStop* stop) {
    if (stub == nullptr || cpu >= stub->target->thread_count()) {
        return;
    }
    if (!stub->serving) {
        std::lock_guard lock(stub->mu);
        if (!stub->serving) {
            stub->target->resume_cpu(cpu);  // no debugger can be attached yet
            return;
        }
    }
    KvmdbgDebugStop none{};
    none.reason = KVMDBG_STOP_STEP;
    stub->connection->queue_stop(kvmdbg::system::to_stop_event(cpu, stop != nullptr ? *stop : none));
}

extern "C" void kvmdbg_gdbstub_report_exit(KvmdbgGdbStub* stub, int status) {
    if (stub == nullptr || !stub->serving) {
        return;
    }
    kvmdbg::gdb::StopEvent exited;
    exited.reason = kvmdbg::gdb::StopReason::exited;
    exited.exit_code = status;
    stub->connection->queue_stop(exited);
}

extern "C" int kvmdbg_gdbstub_attached(const KvmdbgGdbStub* stub) {
    return stub != nullptr && stub->serving && stub->connection->attached() ? 1 : 0;
}

extern "C" void kvmdbg_gdbstub_free(KvmdbgGdbStub* stub) {
    if (stub == nullptr) {
        return;
    }
    if (stub->thread.joinable()) {
        // Quit from inside the loop: g_main_loop_quit() before the loop
        // runs would be lost, an idle source waits for it.
        GSource* quit = g_idle_source_new();
        g_source_set_callback(
            quit,
            [](gpointer loop) -> gboolean {
                g_main_loop_quit(static_cast<GMainLoop*>(loop));
                return G_SOURCE_REMOVE;
            },
            stub->loop, nullptr);
        g_source_attach(quit, stub->context);
        g_source_unref(quit);
        stub->thread.join();
    }
    delete stub;
}
