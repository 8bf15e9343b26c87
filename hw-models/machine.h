// Machine: what every machine model (`-M NAME`) supplies to the emulator,
// so that the emulator (system/) never asks which machine it runs.
//
// A machine is described by a MachineType (machine_type.h: name, help,
// properties, -device drivers, guest ISA, whether it is the host's default)
// and built by that type's factory into a Machine, which then owns guest
// RAM, the I/O bus and the devices, and knows:
//   * what accelerator it needs (accel_config(): ISA, irqchip, GIC frames),
//   * how its memory is mapped into the accelerator (map_memory(): RAM, ROM),
//   * how -kernel/-initrd/-append are loaded (load_kernel()),
//   * each vCPU's boot state and which APs run or wait (boot_vcpus()),
//   * how it resets (reset(): RAM reloaded, devices reset, vCPUs re-booted),
//   * the memory map gdb is given (gdb_memory_map(), qXfer:memory-map),
//   * its bus and serial port, for the emulator's vCPU exits and stdio.
//
// Layering: hw-models/ does not include system/ or accel/. What a machine
// needs from the accelerator (map memory, set a vCPU's boot state) comes
// through the narrow MachineAccel interface below, which system/ implements
// on top of the accelerator; what it needs from its owner (exit, reset,
// interrupt lines) comes through MachineHost (machine_host.h).
//
// Threads: created, loaded, reset and booted on the main thread; the bus
// and the serial receiver are then used from vCPU threads under the bus lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "arch/arm64/cpu_state.h"
#include "arch/x86/cpu_state.h"
#include "common/log.h"
#include "common/result.h"
#include "hw-models/char_backend.h"
#include "hw-models/guest_ram.h"
#include "hw-models/io_bus.h"
#include "hw-models/machine_host.h"

namespace kvmdbg::hw {

/// The guest ISA a machine runs; KVM runs guests of the host's own ISA only.
enum class GuestIsa { x86_64, arm64 };

/// The ISA of the host kvmdbg was built for.
constexpr GuestIsa host_isa() {
#if defined(__aarch64__)
    return GuestIsa::arm64;
#else
    return GuestIsa::x86_64;
#endif
}

/// "x86-64", "aarch64": for messages and help texts.
const char* isa_name(GuestIsa isa);

/// One `-device DRIVER,...` the machine accepts, its numeric properties
/// already checked and defaulted by the command line (DeviceDriverInfo).
struct DeviceRequest {
    std::string driver;
    std::map<std::string, std::uint64_t> numbers;
};

/// What a machine's factory is given: the command line's common inputs,
/// its own `-M name,prop=value` properties and its `-device` requests.
struct MachineOptions {
    std::uint64_t ram_size = 128ull << 20;   ///< -m, bytes
    std::uint32_t cpus = 1;                  ///< -smp
    std::string kernel;                      ///< -kernel
    std::string bios;                        ///< -bios
    std::vector<std::string> firmware_dirs;  ///< -L, for find_firmware_file()
    std::string append;                      ///< -append
    std::string initrd;                      ///< -initrd
    std::string serial = "stdio";            ///< -serial, for open_char_backend()
    std::string debugcon;                    ///< -debugcon, for open_char_backend() ("" = none)
    /// Only properties the machine's type lists, under their canonical
    /// names (aliases resolved), values not yet checked; no "accel"
    /// (create_machine() checks that one for every machine).
    std::map<std::string, std::string> props;
    /// Only drivers the machine's type accepts, in command-line order.
    std::vector<DeviceRequest> devices;
};

/// A machine config struct (PcLiteConfig, VirtConfig) with the command
/// line's common inputs of `options` filled in, the rest at its defaults.
template <typename Config>
Config config_from_options(const MachineOptions& options) {
    Config config;
    config.ram_size = options.ram_size;
    config.cpus = options.cpus;
    config.kernel = options.kernel;
    config.bios = options.bios;
    config.firmware_dirs = options.firmware_dirs;
    config.append = options.append;
    config.initrd = options.initrd;
    config.serial = options.serial;
    config.debugcon = options.debugcon;
    return config;
}

/// What the machine asks of the accelerator it runs on.
struct MachineAccelConfig {
    GuestIsa isa = GuestIsa::x86_64;
    std::uint32_t cpus = 1;
    bool kernel_irqchip = true;
    /// arm64 with kernel_irqchip: where the in-kernel GICv3 goes, and its INTID count.
    std::uint64_t gic_dist_base = 0;
    std::uint64_t gic_redist_base = 0;
    std::uint32_t gic_nr_irqs = 0;
};

/// One region of the memory map gdb is given (qXfer:memory-map): gdb turns
/// `break` in ROM into a hardware breakpoint and refuses writes there.
struct DebugMemoryRegion {
    enum class Kind { ram, rom };
    Kind kind;
    std::uint64_t start;
    std::uint64_t length;
};

/// The accelerator operations a machine uses to map its memory and boot its
/// vCPUs; system/ implements it on the accelerator. Main thread, with the
/// vCPUs created and not running (or paused, during a reset). Errors are the
/// accelerator's, with its message.
class MachineAccel {
public:
    virtual ~MachineAccel() = default;
    /// Maps `size` bytes at host address `host` to guest-physical `gpa`.
    virtual Status map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only) = 0;
    virtual Status set_x86_state(std::uint32_t cpu, const KvmdbgX86State& state) = 0;
    virtual Result<KvmdbgArm64State> get_arm64_state(std::uint32_t cpu) = 0;
    virtual Status set_arm64_state(std::uint32_t cpu, const KvmdbgArm64State& state) = 0;
    /// x86: the AP runs from its set state instead of waiting for INIT/SIPI.
    virtual Status set_mp_runnable(std::uint32_t cpu) = 0;
    /// x86 machine reset of an AP: it waits for INIT/SIPI again.
    virtual Status wait_for_sipi(std::uint32_t cpu) = 0;
    /// arm64 machine reset: the vCPU is re-initialised (KVM_ARM_VCPU_INIT:
    /// reset values) and powered off until set_mp_runnable or PSCI CPU_ON.
    virtual Status power_off_vcpu(std::uint32_t cpu) = 0;
};

/// A built machine. Owned by the emulator; see the file comment for threads.
class Machine {
public:
    virtual ~Machine() = default;

    virtual MachineAccelConfig accel_config() const = 0;
    /// Maps guest RAM (and ROM, where the machine has one) into `accel`.
    virtual Status map_memory(MachineAccel& accel) = 0;
    /// Loads -kernel (with -initrd, -append) into RAM and keeps the vCPUs'
    /// boot plan. Errors carry the file name; EINVAL for a combination the
    /// machine cannot boot.
    virtual Status load_kernel() = 0;
    /// Gives every vCPU its boot state from the plan load_kernel() kept;
    /// `reset`: after a machine reset (vCPUs back to their reset state first).
    virtual Status boot_vcpus(MachineAccel& accel, bool reset) = 0;
    /// Machine reset of the device models (bus lock taken).
    virtual void reset_devices() = 0;
    virtual GuestRam& ram() = 0;
    virtual std::vector<DebugMemoryRegion> gdb_memory_map() const = 0;

    /// The MMIO/PIO bus the accelerator's I/O exits go to.
    virtual IoBus& bus() = 0;
    /// The serial port's backend (its input_fd() feeds serial_push_input()).
    virtual CharBackend& serial_backend() = 0;
    /// Bus lock held: how many bytes the serial receiver takes now, and
    /// handing it bytes (at most that many).
    virtual std::size_t serial_rx_room() = 0;
    virtual void serial_push_input(std::span<const std::uint8_t> bytes) = 0;

    /// QEMU's system_reset: RAM cleared and the kernel loaded again, devices
    /// reset, every vCPU back at its boot state. The vCPUs must be paused.
    Status reset(MachineAccel& accel);
};

/// Creates the model `Model` (PcLite, Virt: `Model::create(config, log,
/// host)`) and wraps it in the Machine `Wrapper`, which takes the model's
/// unique_ptr. Errors: the model's.
template <typename Wrapper, typename Model, typename Config>
Result<std::unique_ptr<Machine>> wrap_model(const Config& config, Log& log, MachineHost& host) {
    auto model = Model::create(config, log, host);
    if (!model) {
        return model.error();
    }
    return std::unique_ptr<Machine>(new Wrapper(std::move(model).value()));
}

/// Maps every region of `ram` into `accel`, writable.
Status map_guest_ram(GuestRam& ram, MachineAccel& accel);

}  // namespace kvmdbg::hw
