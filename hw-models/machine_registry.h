// The machine registry: every machine kvmdbg can run (`-M NAME`), looked up
// by name or by the host's ISA, and the -M help / -device help texts
// generated from it (as QEMU generates its lists).
//
// Adding a machine: a folder hw-models/NAME/ whose MachineType constant
// (machine_type.h) is listed in machine_registry.cc's kMachineTypes, and
// its `subdir('NAME')` in hw-models/meson.build. Nothing else names it.
//
// Everything here reads constant data and may be called from any thread,
// except create_machine() (main thread).
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/machine.h"
#include "hw-models/machine_host.h"
#include "hw-models/machine_type.h"

namespace kvmdbg::hw {

/// Every registered machine, in registration order.
std::span<const MachineType* const> machine_types();

/// The machine called `name`, or nullptr.
const MachineType* find_machine_type(std::string_view name);

/// The machine -M defaults to on hosts of `isa`, or nullptr if none runs there.
const MachineType* default_machine_type(GuestIsa isa);

/// The machine to run for `-M name` ("" = the host's default) on a host of
/// ISA `host`. Errors: EINVAL "unsupported machine type 'NAME' (use -M
/// help)"; ENOTSUP when the machine's guests are of another ISA than the host
/// ("machine pc-lite runs x86-64 guests and needs an x86-64 host: ... (use -M
/// virt here)").
Result<const MachineType*> select_machine_type(std::string_view name, GuestIsa host);

/// The driver called `driver` that some registered machine accepts with
/// -device (built-in devices are not), or nullptr. The command line checks
/// properties with it before a machine is chosen.
const DeviceDriverInfo* find_device_driver(std::string_view driver);

/// The machine-wide properties every machine takes besides its own:
/// accel=kvm.
std::span<const MachinePropertyInfo> common_machine_properties();

/// What a -device or -M item asked for, as the command line parsed it.
struct MachineRequest {
    std::map<std::string, std::string> props;  ///< -M props as written
    std::vector<DeviceRequest> devices;        ///< every -device, in order
};

/// Checks `request` against `type` and builds the machine with `options`
/// (its props and devices are filled from `request`). Errors (EINVAL):
/// "machine NAME has no property 'P'", "accelerator 'X' is not supported
/// (only kvm)", "device 'D' is not supported on NAME (use -device help)",
/// "device 'D' is built into NAME (at ADDR): -device does not add another";
/// then the machine's own. Main thread.
Result<std::unique_ptr<Machine>> create_machine(const MachineType& type, const MachineRequest& request,
                                                MachineOptions options, Log& log, MachineHost& host);

/// `-M help`: "Supported machines are:" then one line per machine (name,
/// help, which hosts it is the default on) and its properties.
std::string machine_help_text();

/// `-device help`: every machine's devices and their properties, each
/// saying which machine has it.
std::string device_help_text();

}  // namespace kvmdbg::hw
