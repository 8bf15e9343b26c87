// The machine registry (hw-models/machine_registry.h) and the machines it
// lists: every machine has a name, help and ISA, each ISA kvmdbg runs on has
// one default, -M help and -device help are generated from the registry, the
// errors for an unknown machine, property or device name what is wrong, and
// a machine built through the registry takes its properties and devices and
// maps and boots itself through the MachineAccel it is given.
#include "hw-models/machine_registry.h"

#include <glib.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "hw-models/pc/pc_lite.h"
#include "hw-models/virt/virt_memmap.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"
#include "tests/support/recording_machine_accel.h"

using namespace kvmdbg;
using namespace kvmdbg::hw;

namespace {

template <typename T>
bool succeeded(const T& result) {
    return static_cast<bool>(result);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class RecordingHost final : public MachineHost {
public:
    void request_exit(int status, const std::string& reason) override {
        exits.push_back(std::to_string(status) + " " + reason);
    }
    void request_reset(const std::string&) override {}
    void request_poweroff(const std::string&) override {}
    void set_irq_line(std::uint32_t, bool) override {}
    std::vector<std::string> exits;
};

// Records what a machine asks of the accelerator.
using RecordingAccel = kvmdbg::test::RecordingMachineAccel;

class TempKernel {
public:
    explicit TempKernel(const test::Bytes& content) {
        path_ = std::string(g_get_tmp_dir()) + "/kvmdbg-registry-XXXXXX";
        int fd = g_mkstemp(path_.data());
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_FATAL(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        ::close(fd);
    }
    ~TempKernel() { ::unlink(path_.c_str()); }
    TempKernel(const TempKernel&) = delete;
    TempKernel& operator=(const TempKernel&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

MachineOptions quiet_options() {
    MachineOptions options;
    options.serial = "none";
    return options;
}

// Machine `name` with two vCPUs booting `kernel`, built through the registry.
Result<std::unique_ptr<Machine>> create_two_vcpu_machine(const char* name, const TempKernel& kernel,
                                                         const MachineRequest& request, Log& log, MachineHost& host) {
    MachineOptions options = quiet_options();
    options.kernel = kernel.path();
    options.cpus = 2;
    const MachineType* type = find_machine_type(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(type);
    return create_machine(*type, request, options, log, host);
}

// The error create_machine() gives for `request` on machine `name`.
std::string create_error(const char* name, const MachineRequest& request) {
    Log log;
    RecordingHost host;
    const MachineType* type = find_machine_type(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(type);
    auto machine = create_machine(*type, request, quiet_options(), log, host);
    CU_ASSERT_FALSE(succeeded(machine));
    return machine ? std::string() : machine.error().message;
}

void test_every_machine_is_described() {
    std::set<std::string> names;
    CU_ASSERT_TRUE(machine_types().size() >= 2);
    for (const MachineType* type : machine_types()) {
        CU_ASSERT_TRUE(type->name != nullptr && type->name[0] != '\0');
        CU_ASSERT_TRUE(type->help != nullptr && type->help[0] != '\0');
        CU_ASSERT_PTR_NOT_NULL(type->create);
        CU_ASSERT_TRUE(names.insert(type->name).second);  // unique
        CU_ASSERT_PTR_EQUAL(find_machine_type(type->name), type);
        for (const auto& p : type->properties) {
            CU_ASSERT_TRUE(p.name[0] != '\0' && p.values[0] != '\0' && p.help[0] != '\0');
        }
        for (const auto& d : type->devices) {
            CU_ASSERT_TRUE(d.driver[0] != '\0' && d.description[0] != '\0');
            // -device takes what is not built in.
            CU_ASSERT_TRUE((find_device_driver(d.driver) != nullptr) == (d.built_in_at == nullptr));
        }
    }
    CU_ASSERT_PTR_NULL(find_machine_type("q35"));
    CU_ASSERT_PTR_NULL(find_device_driver("e1000"));
    CU_ASSERT_PTR_NOT_NULL(find_device_driver("isa-debug-exit"));
    CU_ASSERT_PTR_NULL(find_device_driver("test-exit"));
}

void test_one_default_per_isa() {
    for (GuestIsa isa : {GuestIsa::x86_64, GuestIsa::arm64}) {
        int defaults = 0;
        for (const MachineType* type : machine_types()) {
            defaults += type->isa == isa && type->default_for_isa ? 1 : 0;
        }
        CU_ASSERT_EQUAL(defaults, 1);
        const MachineType* type = default_machine_type(isa);
        CU_ASSERT_PTR_NOT_NULL_FATAL(type);
        CU_ASSERT(type->isa == isa);
    }
    CU_ASSERT_STRING_EQUAL(default_machine_type(GuestIsa::x86_64)->name, "pc-lite");
    CU_ASSERT_STRING_EQUAL(default_machine_type(GuestIsa::arm64)->name, "virt");
    auto chosen = select_machine_type("", GuestIsa::arm64);
    CU_ASSERT_TRUE_FATAL(succeeded(chosen));
    CU_ASSERT_STRING_EQUAL((*chosen)->name, "virt");
    chosen = select_machine_type("pc-lite", GuestIsa::x86_64);
    CU_ASSERT_TRUE_FATAL(succeeded(chosen));
    CU_ASSERT_STRING_EQUAL((*chosen)->name, "pc-lite");
}

void test_selection_errors() {
    auto unknown = select_machine_type("q35", GuestIsa::x86_64);
    CU_ASSERT_FALSE_FATAL(succeeded(unknown));
    CU_ASSERT_EQUAL(unknown.error().code, EINVAL);
    CU_ASSERT_TRUE(unknown.error().message == "unsupported machine type 'q35' (use -M help)");
    auto foreign = select_machine_type("pc-lite", GuestIsa::arm64);
    CU_ASSERT_FALSE_FATAL(succeeded(foreign));
    CU_ASSERT_EQUAL(foreign.error().code, ENOTSUP);
    CU_ASSERT_TRUE(foreign.error().message ==
                   "machine pc-lite runs x86-64 guests and needs an x86-64 host: KVM runs guests of the "
                   "host's own ISA (use -M virt here)");
    foreign = select_machine_type("virt", GuestIsa::x86_64);
    CU_ASSERT_FALSE_FATAL(succeeded(foreign));
    CU_ASSERT_TRUE(contains(foreign.error().message, "machine virt runs aarch64 guests"));
    CU_ASSERT_TRUE(contains(foreign.error().message, "(use -M pc-lite here)"));
}

void test_help_texts_list_the_registry() {
    std::string machines = machine_help_text();
    CU_ASSERT_TRUE(machines.starts_with("Supported machines are:\n"));
    std::string devices = device_help_text();
    CU_ASSERT_TRUE(devices.starts_with("Devices (-device DRIVER[,prop=value,...]):\n"));
    for (const MachineType* type : machine_types()) {
        // One line per machine: name, then its help on the same line.
        CU_ASSERT_TRUE(contains(machines, "\n" + std::string(type->name) + " "));
        CU_ASSERT_TRUE(contains(machines, type->help));
        for (const auto& p : type->properties) {
            CU_ASSERT_TRUE(contains(machines, "  " + std::string(p.name) + "=" + p.values));
            CU_ASSERT_TRUE(contains(machines, p.help));
        }
        for (const auto& d : type->devices) {
            CU_ASSERT_TRUE(contains(devices, "name \"" + std::string(d.driver) + "\", bus " + d.bus));
            for (const auto& p : d.props) {
                CU_ASSERT_TRUE(contains(devices, "  " + std::string(p.name) + "=<uint32>  " + p.help));
            }
        }
    }
    CU_ASSERT_TRUE(contains(machines, "(default on x86-64 hosts)"));
    CU_ASSERT_TRUE(contains(machines, "(default on aarch64 hosts)"));
    CU_ASSERT_TRUE(contains(machines, "  accel=kvm"));
    CU_ASSERT_TRUE(contains(devices, "name \"isa-debug-exit\", bus ISA"));
    CU_ASSERT_TRUE(contains(devices, "machine pc-lite\n"));
    CU_ASSERT_TRUE(contains(devices, "name \"test-exit\", bus MMIO"));
    CU_ASSERT_TRUE(contains(devices, "built into virt at 0x09100000"));
    CU_ASSERT_TRUE(contains(devices, "iobase=<uint32>  first I/O port (default 0x501)"));
}

void test_property_and_device_errors() {
    MachineRequest request;
    request.props = {{"foo", "1"}};
    CU_ASSERT_TRUE(create_error("pc-lite", request) == "machine pc-lite has no property 'foo'");
    CU_ASSERT_TRUE(create_error("virt", request) == "machine virt has no property 'foo'");
    request.props = {{"dumpdtb", "x.dtb"}};  // virt's, not pc-lite's
    CU_ASSERT_TRUE(create_error("pc-lite", request) == "machine pc-lite has no property 'dumpdtb'");
    request.props = {{"accel", "tcg"}};
    CU_ASSERT_TRUE(create_error("virt", request) == "accelerator 'tcg' is not supported (only kvm)");
    request.props = {{"kernel_irqchip", "maybe"}};
    CU_ASSERT_TRUE(create_error("pc-lite", request) == "kernel-irqchip must be on, split or off, not 'maybe'");
    request.props = {{"kernel-irqchip", "split"}};
    CU_ASSERT_TRUE(create_error("virt", request) == "kernel-irqchip must be on or off on virt, not 'split'");
    request.props = {{"dtb-randomness", "maybe"}};
    CU_ASSERT_TRUE(create_error("virt", request) == "dtb-randomness must be on or off, not 'maybe'");
    request.props = {{"gic-version", "2"}};
    CU_ASSERT_TRUE(create_error("virt", request) == "machine virt offers GICv3 only (gic-version=3)");

    request.props.clear();
    request.devices = {{"e1000", {}}};
    CU_ASSERT_TRUE(create_error("pc-lite", request) == "device 'e1000' is not supported on pc-lite (use -device help)");
    request.devices = {{"isa-debug-exit", {{"iobase", 0xf4}, {"iosize", 4}}}};
    CU_ASSERT_TRUE(create_error("virt", request) ==
                   "device 'isa-debug-exit' is not supported on virt (use -device help)");
    request.devices = {{"test-exit", {}}};
    CU_ASSERT_TRUE(create_error("virt", request) ==
                   "device 'test-exit' is built into virt (at 0x09100000): -device does not add another");
}

void test_debug_exit_port_check() {
    const DeviceDriverInfo* debug_exit = find_device_driver("isa-debug-exit");
    CU_ASSERT_PTR_NOT_NULL_FATAL(debug_exit);
    CU_ASSERT_PTR_NOT_NULL_FATAL(debug_exit->check);
    CU_ASSERT_TRUE(debug_exit->check({{"iobase", 0xfffc}, {"iosize", 4}}).empty());
    CU_ASSERT_TRUE(debug_exit->check({{"iobase", 0xfffe}, {"iosize", 4}}) ==
                   "ports 0xfffe + 0x4 go past the last I/O port 0xffff");
}

void test_pc_lite_through_the_registry() {
    test::Bytes elf = test::build_elf64(0x100000, {test::seg(0x100000, test::pattern(0x10, 1), 0x10)});
    TempKernel kernel(elf);
    Log log;
    RecordingHost host;
    MachineRequest request;
    request.props = {{"kernel_irqchip", "off"}, {"accel", "kvm"}};
    request.devices = {{"isa-debug-exit", {{"iobase", 0x700}, {"iosize", 2}}}};
    auto machine = create_two_vcpu_machine("pc-lite", kernel, request, log, host);
    CU_ASSERT_TRUE_FATAL(succeeded(machine));
    MachineAccelConfig config = (*machine)->accel_config();
    CU_ASSERT(config.isa == GuestIsa::x86_64);
    CU_ASSERT_FALSE(config.kernel_irqchip);  // via the alias
    CU_ASSERT_EQUAL(config.cpus, 2u);

    // The -device moved isa-debug-exit to 0x700 (0x600-0x603 is the ACPI PM1 event block).
    std::uint8_t value = 1;
    CU_ASSERT((*machine)->bus().dispatch(AddressSpace::pio, 0x700, &value, 1, true) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL_FATAL(host.exits.size(), 1u);
    CU_ASSERT_TRUE(host.exits[0] == "3 isa-debug-exit");

    RecordingAccel accel;
    CU_ASSERT_TRUE(succeeded((*machine)->map_memory(accel)));
    CU_ASSERT_EQUAL_FATAL(accel.mappings.size(), 2u);
    CU_ASSERT_EQUAL(accel.mappings[0].gpa, PcLite::kRomBase);
    CU_ASSERT_TRUE(accel.mappings[0].read_only);
    CU_ASSERT_EQUAL(accel.mappings[1].gpa, 0u);
    CU_ASSERT_EQUAL(accel.mappings[1].size, 128ull << 20);
    CU_ASSERT_FALSE(accel.mappings[1].read_only);

    // ELF64: every vCPU starts at the entry, the AP runnable at once.
    CU_ASSERT_TRUE(succeeded((*machine)->load_kernel()));
    CU_ASSERT_TRUE(succeeded((*machine)->boot_vcpus(accel, false)));
    std::vector<std::string> want = {"set_x86_state 0", "set_x86_state 1", "set_mp_runnable 1"};
    CU_ASSERT_TRUE(accel.calls == want);

    auto map = (*machine)->gdb_memory_map();
    CU_ASSERT_EQUAL_FATAL(map.size(), 3u);
    CU_ASSERT(map[1].kind == DebugMemoryRegion::Kind::rom);
    CU_ASSERT_EQUAL(map[1].start, PcLite::kRomBase);
}

void test_virt_through_the_registry() {
    constexpr std::uint16_t kElfMachineAarch64 = 183;
    test::Bytes elf = test::build_elf(true, kElfMachineAarch64, 0x40080000,
                                      {test::seg(0x40080000, test::pattern(0x10, 2), 0x10)});
    TempKernel kernel(elf);
    Log log;
    RecordingHost host;
    MachineRequest request;
    request.props = {{"gic-version", "host"}};
    auto machine = create_two_vcpu_machine("virt", kernel, request, log, host);
    CU_ASSERT_TRUE_FATAL(succeeded(machine));
    MachineAccelConfig config = (*machine)->accel_config();
    CU_ASSERT(config.isa == GuestIsa::arm64);
    CU_ASSERT_TRUE(config.kernel_irqchip);
    CU_ASSERT_EQUAL(config.gic_dist_base, virt::kGicDistBase);
    CU_ASSERT_EQUAL(config.gic_redist_base, virt::kGicRedistBase);

    RecordingAccel accel;
    CU_ASSERT_TRUE(succeeded((*machine)->map_memory(accel)));
    CU_ASSERT_EQUAL_FATAL(accel.mappings.size(), 1u);
    CU_ASSERT_EQUAL(accel.mappings[0].gpa, virt::kRamBase);

    // vCPU 0 at the entry; the AP stays powered off for PSCI CPU_ON. A
    // reset powers every vCPU off first (re-initialised), then lets the boot
    // vCPU run again.
    CU_ASSERT_TRUE(succeeded((*machine)->load_kernel()));
    CU_ASSERT_TRUE(succeeded((*machine)->reset(accel)));
    std::vector<std::string> want = {"power_off_vcpu 0", "get_arm64_state 0", "set_arm64_state 0", "set_mp_runnable 0",
                                     "power_off_vcpu 1"};
    CU_ASSERT_TRUE(accel.calls == want);
    CU_ASSERT_EQUAL(accel.arm64_pc, 0x40080000u);

    auto map = (*machine)->gdb_memory_map();
    CU_ASSERT_EQUAL_FATAL(map.size(), 1u);
    CU_ASSERT(map[0].kind == DebugMemoryRegion::Kind::ram);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"every machine is described", test_every_machine_is_described},
    {"one default machine per ISA", test_one_default_per_isa},
    {"selection errors", test_selection_errors},
    {"help texts list the registry", test_help_texts_list_the_registry},
    {"property and device errors", test_property_and_device_errors},
    {"isa-debug-exit port check", test_debug_exit_port_check},
    {"pc-lite through the registry", test_pc_lite_through_the_registry},
    {"virt through the registry", test_virt_through_the_registry},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"machine registry", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
