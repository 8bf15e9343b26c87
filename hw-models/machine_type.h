// MachineType: the static description of one `-M NAME` machine, the entry
// the registry (machine_registry.h) holds for it: name, one-line help, guest
// ISA, whether it is the default on hosts of that ISA, its properties, the
// devices it has or accepts with -device, and the factory that builds it.
//
// Each machine folder (hw-models/pc/, hw-models/virt/) defines one as a
// constant and the registry lists it. All of it is constant data: readable
// from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/machine.h"
#include "hw-models/machine_host.h"

namespace kvmdbg::hw {

/// One `-M name,PROP=value` property.
struct MachinePropertyInfo {
    const char* name;    ///< canonical name, e.g. "kernel-irqchip"
    const char* alias;   ///< another accepted spelling ("kernel_irqchip"), or nullptr
    const char* values;  ///< what it takes, for help ("on|off|split", "FILE")
    const char* help;
};

/// One numeric property of a -device driver, parsed as QEMU parses integers.
struct DevicePropertyInfo {
    const char* name;
    std::uint64_t default_value;  ///< used when the property is absent
    std::uint64_t min;
    std::uint64_t max;
    const char* help;
};

/// A device of a machine, for -device help and -device checking.
struct DeviceDriverInfo {
    const char* driver;       ///< "isa-debug-exit"
    const char* bus;          ///< "ISA", "MMIO": for help
    const char* description;  ///< one line, for help
    std::span<const DevicePropertyInfo> props;
    /// nullptr: added with -device. Otherwise the device is always there and
    /// -device does not take it; this says where, for help ("0x09010000").
    const char* built_in_at = nullptr;
    /// Checks the properties together once each is in range (all present,
    /// defaults filled in): "" if they fit, else what is wrong. nullptr: no check.
    std::string (*check)(const std::map<std::string, std::uint64_t>& numbers) = nullptr;
};

/// Builds a machine from options already checked against its type's lists
/// (create_machine()). Errors: EINVAL for bad property values, RAM sizes or
/// vCPU counts, a serial backend that cannot be opened. Main thread.
using MachineFactory = Result<std::unique_ptr<Machine>> (*)(const MachineOptions& options, Log& log, MachineHost& host);

struct MachineType {
    const char* name;  ///< -M NAME
    const char* help;  ///< one line for -M help
    GuestIsa isa;
    bool default_for_isa;  ///< the machine -M defaults to on hosts of `isa`
    std::span<const MachinePropertyInfo> properties;
    std::span<const DeviceDriverInfo> devices;
    MachineFactory create;
};

}  // namespace kvmdbg::hw
