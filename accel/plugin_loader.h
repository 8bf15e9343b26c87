// Loading an accelerator plugin: `-accel kvm` opens `accel-kvm.so` from the
// module directory with GModule, looks up KVMDBG_ACCEL_ENTRY_SYMBOL and
// checks the ops table it returns (accel/plugin_abi.h).
//
// Every refusal names the file: a missing file, a file that is not a
// loadable module, a missing entry symbol, a wrong ABI version, a table too
// small or lacking a mandatory op. Main thread.
#pragma once

#include <gmodule.h>

#include <memory>
#include <string>

#include "accel/plugin_abi.h"
#include "common/result.h"

namespace kvmdbg::accel {

struct GModuleCloser {
    void operator()(GModule* m) const { g_module_close(m); }
};

/// A loaded accelerator: the ops table and, for a module, the GModule that
/// keeps its code mapped. Move-only; the ops stay valid while it lives.
struct AccelPlugin {
    std::string path;  ///< file it came from, or "built-in" when linked in
    const KvmdbgAccelOps* ops = nullptr;
    std::unique_ptr<GModule, GModuleCloser> module;
};

/// Checks an ops table as returned by an entry point. `where` names its
/// origin in error messages. Errors: EPROTO (version/size), EINVAL (missing
/// mandatory op).
Status validate_accel_ops(const KvmdbgAccelOps* ops, const std::string& where);

/// Loads the module at `path`. Errors: ENOENT (missing file), ENOEXEC (not a
/// loadable module), ENOSYS (missing entry symbol), EPROTO/EINVAL as above.
Result<AccelPlugin> load_accel_plugin_file(const std::string& path);

/// Resolves accelerator `name` ("kvm"): the built-in one when kvmdbg was
/// configured with -Daccel_static=true, else `module_dir`/accel-NAME.so.
Result<AccelPlugin> load_accel_plugin(const std::string& name, const std::string& module_dir);

}  // namespace kvmdbg::accel
