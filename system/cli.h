// The QEMU-compatible command line of kvmdbg.
//
// kvmdbg takes the subset of `qemu-system-*` options that matters for
// booting a kernel under KVM and debugging it with gdb, with QEMU's spelling
// and value syntax (QEMU manual, "Invocation"; qemu-options.hx):
//
//   kvmdbg -M pc -enable-kvm -m 256M -smp 2 -kernel vmlinux -append "console=ttyS0"
//          -serial stdio -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04
//          -no-reboot -d guest_errors -D kvmdbg.log -s -S
//
// Rules, as QEMU's:
// - options are single-dash long options (`-kernel`); `--kernel` is accepted
//   too, and so is `-kernel=PATH` / `--kernel=PATH`;
// - an option that takes a value takes the next argument whatever it looks
//   like, so `-append -v` and `-kernel -image.elf` work;
// - when an option is repeated, the last one wins (`-device` accumulates);
// - `-h`/`-help` and `-version` act where they stand: options before them
//   must be valid, options after them are not looked at;
// - structured values use QemuOpts syntax: comma-separated `key=value`
//   items, `,,` for a literal comma, a leading item without `=` naming the
//   implied key (machine type, device driver, -smp cpus, -m size), and a
//   later bare `key` meaning `key=on`.
//
// Parsing goes through GLib's GOptionContext after each known option has
// been rewritten to `--name=value` (or `--name`); unknown options, missing
// values and stray arguments are diagnosed before that with QEMU's wording.
// Every error message is complete and starts with "kvmdbg: "; main() prints
// it and exits 1. Everything here is pure (no I/O) and may be called from
// any thread, except that GLib's option parser records the program name
// (g_set_prgname) on first use.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::system {

/// What main() is asked to do. Everything except `run` prints a text and
/// exits 0 (help texts: usage_text(), version_text(), a machine list from
/// machine_help_text(), device_help_text(), accel_help_text(), Log::help()).
enum class CliAction {
    run,
    help,          ///< -h, -help, --help
    version,       ///< -version
    machine_help,  ///< -M help (or ?)
    device_help,   ///< -device help (or ?, or DRIVER,help)
    accel_help,    ///< -accel help (or ?)
    log_help,      ///< -d help (or ?)
};

/// `-M`/`-machine [type=]NAME[,prop=value...]`. Repeated options merge:
/// a later name replaces the name, later props replace same-named props.
struct MachineOption {
    std::string name;                          ///< "" = the default machine
    std::map<std::string, std::string> props;  ///< e.g. {"accel", "kvm"}; not checked here
};

/// One `-device DRIVER[,prop=value...]`.
///
/// Drivers some registered machine declares (hw::find_device_driver(),
/// listed by device_help_text(): isa-debug-exit, ...) have their properties
/// checked here: an unknown property or a bad number is an error, and
/// `numbers` holds every numeric property, parsed as QEMU parses integers
/// (decimal, 0x hex, leading-0 octal) and defaulted as QEMU defaults it when
/// absent (isa-debug-exit: iobase 0x501, iosize 2). Other drivers are kept
/// as written; rejecting them is the chosen machine's job.
struct DeviceOption {
    std::string driver;                            ///< "isa-debug-exit"
    std::map<std::string, std::string> props;      ///< every prop as written
    std::map<std::string, std::uint64_t> numbers;  ///< known numeric props (see above)
};

inline constexpr std::uint64_t kMiB = 1ull << 20;
/// QEMU's default RAM size.
inline constexpr std::uint64_t kDefaultRamSize = 128 * kMiB;
/// Largest `-m` accepted: 1 TiB (more than any test guest needs, and well
/// inside what KVM memory slots and host overcommit handle). 2T is rejected.
inline constexpr std::uint64_t kMaxRamSize = 1ull << 40;
/// RAM sizes are rounded up to this, as QEMU does.
inline constexpr std::uint64_t kRamSizeAlign = 8192;
/// `-smp` range.
inline constexpr unsigned kMaxCpus = 255;
/// The device `-s` stands for.
inline constexpr const char* kDefaultGdbDevice = "tcp::1234";

/// Everything the command line asked for, with QEMU's defaults.
struct CliOptions {
    CliAction action = CliAction::run;

    MachineOption machine;                     ///< -M / -machine
    std::string accel;                         ///< -accel NAME[,...] as written, "kvm" for -enable-kvm; "" = not given
    std::uint64_t ram_size = kDefaultRamSize;  ///< -m, in bytes, multiple of kRamSizeAlign
    unsigned smp_cpus = 1;                     ///< -smp: number of vCPUs, 1..kMaxCpus

    std::string kernel;                      ///< -kernel PATH ("" = none)
    std::string bios;                        ///< -bios PATH ("" = none)
    std::vector<std::string> firmware_dirs;  ///< -L DIR, in command-line order
    std::string append;                      ///< -append STRING, the kernel command line
    std::string initrd;                      ///< -initrd SPEC as written

    std::string serial = "stdio";  ///< -serial SPEC, for hw::open_char_backend()
    std::string debugcon;          ///< -debugcon SPEC ("" = no debug console)
    bool nographic = false;        ///< -nographic
    std::string display;           ///< -display: "" (not given) or "none"
    bool no_reboot = false;        ///< -no-reboot: exit instead of rebooting
    bool no_shutdown = false;      ///< -no-shutdown: stop instead of exiting on guest power-off

    std::vector<DeviceOption> devices;  ///< -device, in command-line order

    std::string log_items;  ///< -d ITEMS, for Log::enable() ("" = none)
    std::string log_file;   ///< -D FILE, for Log::set_file() ("" = stderr)

    bool start_stopped = false;  ///< -S: do not start vCPUs until the debugger continues
    std::string gdb;             ///< -gdb DEV or kDefaultGdbDevice for -s; "" = no gdb server.
                                 ///< With both, the later one on the command line wins.
};

/// Parses `args`, the arguments after the program name (argv[1..]).
/// Errors (EINVAL), each a complete message:
///   "kvmdbg: -foo: invalid option"
///   "kvmdbg: -kernel: requires an argument"
///   "kvmdbg: PATH: unexpected argument"  (positional arguments are not taken)
///   "kvmdbg: -OPTION VALUE: <what is wrong>" for a value that does not parse
///   (sizes, counts, QemuOpts syntax, known device properties, -display).
Result<CliOptions> parse_command_line(const std::vector<std::string>& args);

/// Same, for main()'s argc/argv (argv[0] is the program name and is skipped).
Result<CliOptions> parse_command_line(int argc, char** argv);

/// The text for -help: a usage line and one line per option.
std::string usage_text();

/// The text for -version.
std::string version_text();

/// The text for -device help: every registered machine's devices and their
/// properties (hw::device_help_text(), generated from the machine registry).
std::string device_help_text();

/// The text for -M help: every registered machine, its help and properties
/// (hw::machine_help_text()).
std::string machine_help_text();

/// The text for -accel help.
std::string accel_help_text();

}  // namespace kvmdbg::system
