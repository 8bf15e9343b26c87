#include "hw-models/machine_registry.h"

#include <cerrno>
#include <utility>

#include "common/hex_string.h"
#include "hw-models/pc/pc_lite_machine.h"
#include "hw-models/virt/virt_machine.h"

namespace kvmdbg::hw {

namespace {

// One line per machine: its MachineType constant.
constexpr const MachineType* kMachineTypes[] = {
    &kPcLiteMachineType,
    &kVirtMachineType,
};

constexpr MachinePropertyInfo kCommonProperties[] = {
    {"accel", nullptr, "kvm", "the accelerator (only kvm)"},
};

constexpr std::size_t kHelpColumn = 21;

std::string padded(std::string text, std::size_t column) {
    text += text.size() < column ? std::string(column - text.size(), ' ') : " ";
    return text;
}

const MachinePropertyInfo* find_property(const MachineType& type, std::string_view key) {
    for (const auto& p : type.properties) {
        if (key == p.name || (p.alias != nullptr && key == p.alias)) {
            return &p;
        }
    }
    return nullptr;
}

Status resolve_properties(const MachineType& type, const std::map<std::string, std::string>& props,
                          MachineOptions& options) {
    for (const auto& [key, value] : props) {
        if (key == "accel") {
            if (value != "kvm") {
                return make_error(EINVAL, "accelerator '" + value + "' is not supported (only kvm)");
            }
            continue;
        }
        const MachinePropertyInfo* prop = find_property(type, key);
        if (prop == nullptr) {
            return make_error(EINVAL, "machine " + std::string(type.name) + " has no property '" + key + "'");
        }
        options.props[prop->name] = value;
    }
    return ok_status();
}

Status resolve_devices(const MachineType& type, const std::vector<DeviceRequest>& devices, MachineOptions& options) {
    for (const auto& device : devices) {
        const DeviceDriverInfo* info = nullptr;
        for (const auto& d : type.devices) {
            if (device.driver == d.driver) {
                info = &d;
            }
        }
        if (info == nullptr) {
            return make_error(EINVAL, "device '" + device.driver + "' is not supported on " + type.name +
                                          " (use -device help)");
        }
        if (info->built_in_at != nullptr) {
            return make_error(EINVAL, "device '" + device.driver + "' is built into " + type.name + " (at " +
                                          info->built_in_at + "): -device does not add another");
        }
        options.devices.push_back(device);
    }
    return ok_status();
}

void append_property_help(const MachinePropertyInfo& p, std::string& out) {
    out += "  " + padded(std::string(p.name) + "=" + p.values, kHelpColumn + 8) + p.help + "\n";
}

void append_device_help(const MachineType& type, const DeviceDriverInfo& d, std::string& out) {
    out += "name \"" + std::string(d.driver) + "\", bus " + d.bus + ", desc \"" + d.description + "\", " +
           (d.built_in_at != nullptr ? "built into " + std::string(type.name) + " at " + d.built_in_at
                                     : "machine " + std::string(type.name)) +
           "\n";
    for (const auto& p : d.props) {
        out += "  " + std::string(p.name) + "=<uint32>  " + p.help + " (default " + hex_string(p.default_value) + ")\n";
    }
}

}  // namespace

const char* isa_name(GuestIsa isa) { return isa == GuestIsa::arm64 ? "aarch64" : "x86-64"; }

std::span<const MachineType* const> machine_types() { return kMachineTypes; }

std::span<const MachinePropertyInfo> common_machine_properties() { return kCommonProperties; }

const MachineType* find_machine_type(std::string_view name) {
    for (const MachineType* type : kMachineTypes) {
        if (name == type->name) {
            return type;
        }
    }
    return nullptr;
}

const MachineType* default_machine_type(GuestIsa isa) {
    for (const MachineType* type : kMachineTypes) {
        if (type->isa == isa && type->default_for_isa) {
            return type;
        }
    }
    return nullptr;
}

Result<const MachineType*> select_machine_type(std::string_view name, GuestIsa host) {
    const MachineType* type = name.empty() ? default_machine_type(host) : find_machine_type(name);
    if (type == nullptr) {
        return make_error(EINVAL, "unsupported machine type '" + std::string(name) + "' (use -M help)");
    }
    if (type->isa != host) {
        const MachineType* here = default_machine_type(host);
        return make_error(ENOTSUP, "machine " + std::string(type->name) + " runs " + isa_name(type->isa) +
                                       " guests and needs an " + isa_name(type->isa) +
                                       " host: KVM runs guests of the host's own ISA" +
                                       (here != nullptr ? " (use -M " + std::string(here->name) + " here)" : ""));
    }
    return type;
}

const DeviceDriverInfo* find_device_driver(std::string_view driver) {
    for (const MachineType* type : kMachineTypes) {
        for (const auto& d : type->devices) {
            if (driver == d.driver && d.built_in_at == nullptr) {
                return &d;
            }
        }
    }
    return nullptr;
}

Result<std::unique_ptr<Machine>> create_machine(const MachineType& type, const MachineRequest& request,
                                                MachineOptions options, Log& log, MachineHost& host) {
    options.props.clear();
    options.devices.clear();
    if (auto s = resolve_properties(type, request.props, options); !s) {
        return s.error();
    }
    if (auto s = resolve_devices(type, request.devices, options); !s) {
        return s.error();
    }
    return type.create(options, log, host);
}

std::string machine_help_text() {
    std::string out = "Supported machines are:\n";
    for (const MachineType* type : kMachineTypes) {
        out += padded(type->name, kHelpColumn) + type->help;
        if (type->default_for_isa) {
            out += std::string(" (default on ") + isa_name(type->isa) + " hosts)";
        }
        out += "\n";
        for (const auto& p : type->properties) {
            append_property_help(p, out);
        }
        for (const auto& p : kCommonProperties) {
            append_property_help(p, out);
        }
    }
    return out;
}

std::string device_help_text() {
    std::string out = "Devices (-device DRIVER[,prop=value,...]):\n";
    for (const MachineType* type : kMachineTypes) {
        for (const auto& d : type->devices) {
            append_device_help(*type, d, out);
        }
    }
    return out;
}

}  // namespace kvmdbg::hw
