// -bios on the virt machine (hw-models/virt/virt_firmware.h, Virt's
// load_kernel() with -bios, VirtMachine): the image at the start of a 64 MiB
// flash bank with zeros after it, the size and file errors naming the path,
// the device tree at the start of RAM with vCPU 0 at the flash's first byte
// and x0 at the DTB, -kernel/-initrd refused with -bios, the flash mapped
// read-only at 0 before RAM, gdb's memory map marking the flash ROM, and a
// machine reset writing the device tree again.
#include "hw-models/virt/virt_firmware.h"

#include <fcntl.h>
#include <glib.h>
#include <libfdt.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "hw-models/machine_registry.h"
#include "hw-models/virt/virt.h"
#include "hw-models/virt/virt_memmap.h"
#include "tests/support/cunit_main.h"
#include "tests/support/recording_machine_accel.h"
#include "tests/support/temp_file.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kFlashSize = 64ull << 20;
constexpr std::uint64_t kRamBase = 0x40000000;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class RecordingHost final : public MachineHost {
public:
    void request_exit(int, const std::string&) override {}
    void request_reset(const std::string&) override {}
    void request_poweroff(const std::string&) override {}
    void set_irq_line(std::uint32_t, bool) override {}
};

// Records what a machine asks of the accelerator.
using RecordingAccel = kvmdbg::test::RecordingMachineAccel;

using test::TempFile;

// A few instructions' worth of firmware: bytes that differ from zero.
Bytes firmware_image() {
    Bytes image(0x1234);
    for (std::size_t i = 0; i < image.size(); ++i)
        image[i] = static_cast<std::uint8_t>(0x5a ^ (i * 7) ^ (i >> 8) ^ 1);
    image[image.size() - 1] = 0xff;
    return image;
}

bool all_zero(const std::uint8_t* p, std::uint64_t size) {
    for (std::uint64_t i = 0; i < size; ++i) {
        if (p[i] != 0) return false;
    }
    return true;
}

std::unique_ptr<Virt> make(const VirtConfig& c, Log& log, MachineHost& host) {
    auto r = Virt::create(c, log, host);
    if (!r.ok()) std::fprintf(stderr, "create: %s\n", r.error().message.c_str());
    CU_ASSERT_FATAL(r.ok());
    return std::move(r).value();
}

VirtConfig bios_config(const TempFile& bios) {
    VirtConfig c;
    c.serial = "none";
    c.bios = bios.path();
    return c;
}

// The device tree at `gpa` in `ram`: valid, /chosen/bootargs and /memory's
// reg as given.
void check_fdt_in_ram(const GuestRam& ram, std::uint64_t gpa, const std::string& bootargs, std::uint64_t ram_size) {
    const std::uint8_t* fdt = ram.host_ptr(gpa, 0x40);
    CU_ASSERT_FATAL(fdt != nullptr);
    CU_ASSERT_EQUAL_FATAL(fdt_check_header(fdt), 0);
    CU_ASSERT_FATAL(ram.host_ptr(gpa, fdt_totalsize(fdt)) != nullptr);
    int len = 0;
    const char* args = static_cast<const char*>(fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "bootargs", &len));
    CU_ASSERT_FATAL(args != nullptr);
    CU_ASSERT_STRING_EQUAL(args, bootargs.c_str());
    const fdt32_t* mem = static_cast<const fdt32_t*>(
        fdt_getprop(fdt, fdt_path_offset(fdt, "/memory@40000000"), "reg", &len));
    CU_ASSERT_FATAL(mem != nullptr && len == 16);
    CU_ASSERT_EQUAL(fdt32_to_cpu(mem[0]), 0u);
    CU_ASSERT_EQUAL(fdt32_to_cpu(mem[1]), kRamBase);
    CU_ASSERT_EQUAL(fdt32_to_cpu(mem[2]), static_cast<std::uint32_t>(ram_size >> 32));
    CU_ASSERT_EQUAL(fdt32_to_cpu(mem[3]), static_cast<std::uint32_t>(ram_size));
}

void test_image_at_the_start_of_a_64_mib_flash_bank() {
    Bytes image = firmware_image();
    TempFile file(image);
    auto firmware = VirtFirmware::load(file.path());
    CU_ASSERT_TRUE_FATAL(firmware.ok());
    CU_ASSERT_EQUAL(firmware->image_size(), image.size());
    const MappedRegion& flash = firmware->flash();
    CU_ASSERT_EQUAL(flash.size(), kFlashSize);
    CU_ASSERT_EQUAL(virt::kFlashBase, 0u);
    CU_ASSERT_EQUAL(virt::kFlashSize, kFlashSize);
    const auto* bytes = static_cast<const std::uint8_t*>(flash.data());
    CU_ASSERT_EQUAL(std::memcmp(bytes, image.data(), image.size()), 0);
    CU_ASSERT_TRUE(all_zero(bytes + image.size(), kFlashSize - image.size()));
}

void test_image_filling_the_flash_bank_exactly_is_accepted() {
    TempFile file(kFlashSize);
    auto firmware = VirtFirmware::load(file.path());
    CU_ASSERT_TRUE_FATAL(firmware.ok());
    CU_ASSERT_EQUAL(firmware->image_size(), kFlashSize);
    CU_ASSERT_EQUAL(firmware->flash().size(), kFlashSize);
}

void test_image_one_byte_over_64_mib_is_efbig_naming_the_path() {
    TempFile file(kFlashSize + 1);
    auto firmware = VirtFirmware::load(file.path());
    CU_ASSERT_FALSE_FATAL(firmware.ok());
    CU_ASSERT_EQUAL(firmware.error().code, EFBIG);
    CU_ASSERT_TRUE(firmware.error().message.starts_with(file.path() + ": "));
    CU_ASSERT_TRUE(contains(firmware.error().message, "64 MiB flash bank"));
    CU_ASSERT_TRUE(contains(firmware.error().message, std::to_string(kFlashSize + 1) + " bytes"));
}

void test_empty_and_missing_images_are_refused_naming_the_path() {
    TempFile empty(Bytes{});
    auto firmware = VirtFirmware::load(empty.path());
    CU_ASSERT_FALSE_FATAL(firmware.ok());
    CU_ASSERT_EQUAL(firmware.error().code, EINVAL);
    CU_ASSERT_TRUE(firmware.error().message.starts_with(empty.path() + ": "));

    const std::string missing = "/nonexistent/kvmdbg-virt-bios.bin";
    firmware = VirtFirmware::load(missing);
    CU_ASSERT_FALSE_FATAL(firmware.ok());
    CU_ASSERT_EQUAL(firmware.error().code, ENOENT);
    CU_ASSERT_TRUE(firmware.error().message.starts_with(missing + ": "));

    // Virt::create() refuses the same way: nothing is built without the image.
    Log log;
    RecordingHost host;
    VirtConfig c;
    c.serial = "none";
    c.bios = missing;
    auto vm = Virt::create(c, log, host);
    CU_ASSERT_FALSE_FATAL(vm.ok());
    CU_ASSERT_EQUAL(vm.error().code, ENOENT);
    CU_ASSERT_TRUE(contains(vm.error().message, missing));
}

void test_bios_boots_vcpu_0_at_flash_with_the_dtb_at_ram_start() {
    Log log;
    RecordingHost host;
    Bytes image = firmware_image();
    TempFile bios(image);
    VirtConfig c = bios_config(bios);
    c.cpus = 2;
    c.ram_size = 256ull << 20;
    c.append = "console=ttyAMA0 earlycon";
    auto vm = make(c, log, host);
    CU_ASSERT_PTR_NOT_NULL_FATAL(vm->firmware());
    CU_ASSERT_EQUAL(vm->firmware()->image_size(), image.size());
    auto plan = vm->load_kernel();
    CU_ASSERT_TRUE_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan->entry, 0u);
    CU_ASSERT_EQUAL(plan->dtb_addr, kRamBase);
    CU_ASSERT_EQUAL(plan->dtb_size, vm->dtb().size());
    CU_ASSERT_EQUAL(plan->vcpu(0).pc, 0u);
    CU_ASSERT_EQUAL(plan->vcpu(0).x0, kRamBase);
    CU_ASSERT_FALSE(plan->vcpu(0).powered_off);
    CU_ASSERT_TRUE(plan->vcpu(1).powered_off);
    // The DTB in RAM is the one built.
    const std::uint8_t* fdt = vm->ram().host_ptr(kRamBase, vm->dtb().size());
    CU_ASSERT_FATAL(fdt != nullptr);
    CU_ASSERT_EQUAL(std::memcmp(fdt, vm->dtb().data(), vm->dtb().size()), 0);
    check_fdt_in_ram(vm->ram(), kRamBase, c.append, c.ram_size);
    CU_ASSERT_TRUE(fdt_path_offset(fdt, "/cpus/cpu@1") >= 0);
}

void test_kernel_or_initrd_with_bios_is_refused() {
    Log log;
    RecordingHost host;
    TempFile bios(firmware_image());
    TempFile other(Bytes{1, 2, 3, 4});
    VirtConfig c = bios_config(bios);
    c.kernel = other.path();
    auto vm = make(c, log, host);
    auto plan = vm->load_kernel();
    CU_ASSERT_FALSE_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan.error().code, ENOTSUP);
    CU_ASSERT_TRUE(contains(plan.error().message, "-kernel/-initrd with -bios"));

    c.kernel.clear();
    c.initrd = other.path();
    vm = make(c, log, host);
    plan = vm->load_kernel();
    CU_ASSERT_FALSE_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan.error().code, ENOTSUP);
    CU_ASSERT_TRUE(contains(plan.error().message, "-kernel/-initrd with -bios"));
}

void test_neither_kernel_nor_bios_names_both_options() {
    Log log;
    RecordingHost host;
    VirtConfig c;
    c.serial = "none";
    auto vm = make(c, log, host);
    CU_ASSERT_PTR_NULL(vm->firmware());
    auto plan = vm->load_kernel();
    CU_ASSERT_FALSE_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan.error().code, EINVAL);
    CU_ASSERT_TRUE(contains(plan.error().message, "-kernel FILE"));
    CU_ASSERT_TRUE(contains(plan.error().message, "-bios FILE"));
}

// Machine virt built through the registry with -bios `bios`.
std::unique_ptr<Machine> create_bios_machine(const TempFile& bios, std::uint32_t cpus, const std::string& append,
                                             Log& log, MachineHost& host) {
    MachineOptions options;
    options.serial = "none";
    options.bios = bios.path();
    options.cpus = cpus;
    options.append = append;
    const MachineType* type = find_machine_type("virt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(type);
    auto machine = create_machine(*type, MachineRequest{}, options, log, host);
    if (!machine) std::fprintf(stderr, "create_machine: %s\n", machine.error().message.c_str());
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine));
    return std::move(machine).value();
}

void test_flash_mapped_read_only_at_0_before_ram() {
    Log log;
    RecordingHost host;
    Bytes image = firmware_image();
    TempFile bios(image);
    auto machine = create_bios_machine(bios, 1, "", log, host);
    RecordingAccel accel;
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine->map_memory(accel)));
    CU_ASSERT_EQUAL_FATAL(accel.mappings.size(), 2u);
    CU_ASSERT_EQUAL(accel.mappings[0].gpa, 0u);
    CU_ASSERT_EQUAL(accel.mappings[0].size, kFlashSize);
    CU_ASSERT_TRUE(accel.mappings[0].read_only);
    CU_ASSERT_FATAL(accel.mappings[0].host != nullptr);
    CU_ASSERT_EQUAL(std::memcmp(accel.mappings[0].host, image.data(), image.size()), 0);
    CU_ASSERT_EQUAL(accel.mappings[1].gpa, kRamBase);
    CU_ASSERT_EQUAL(accel.mappings[1].size, 128ull << 20);
    CU_ASSERT_FALSE(accel.mappings[1].read_only);
}

void test_gdb_memory_map_marks_the_flash_rom() {
    Log log;
    RecordingHost host;
    TempFile bios(firmware_image());
    auto machine = create_bios_machine(bios, 1, "", log, host);
    auto map = machine->gdb_memory_map();
    CU_ASSERT_EQUAL_FATAL(map.size(), 2u);
    CU_ASSERT(map[0].kind == DebugMemoryRegion::Kind::rom);
    CU_ASSERT_EQUAL(map[0].start, 0u);
    CU_ASSERT_EQUAL(map[0].length, kFlashSize);
    CU_ASSERT(map[1].kind == DebugMemoryRegion::Kind::ram);
    CU_ASSERT_EQUAL(map[1].start, kFlashSize);
    CU_ASSERT_EQUAL(map[1].length, ~std::uint64_t{0} - kFlashSize);
}

void test_gdb_memory_map_without_bios_is_one_ram_region() {
    Log log;
    RecordingHost host;
    MachineOptions options;
    options.serial = "none";
    const MachineType* type = find_machine_type("virt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(type);
    auto machine = create_machine(*type, MachineRequest{}, options, log, host);
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine));
    auto map = (*machine)->gdb_memory_map();
    CU_ASSERT_EQUAL_FATAL(map.size(), 1u);
    CU_ASSERT(map[0].kind == DebugMemoryRegion::Kind::ram);
    CU_ASSERT_EQUAL(map[0].start, 0u);
    CU_ASSERT_EQUAL(map[0].length, ~std::uint64_t{0});
    RecordingAccel accel;
    CU_ASSERT_TRUE_FATAL(static_cast<bool>((*machine)->map_memory(accel)));
    CU_ASSERT_EQUAL_FATAL(accel.mappings.size(), 1u);
    CU_ASSERT_EQUAL(accel.mappings[0].gpa, kRamBase);
}

void test_machine_reset_writes_the_dtb_again() {
    Log log;
    RecordingHost host;
    Bytes image = firmware_image();
    TempFile bios(image);
    const std::string append = "earlycon=pl011,0x9000000";
    auto machine = create_bios_machine(bios, 2, append, log, host);
    RecordingAccel accel;
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine->map_memory(accel)));
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine->load_kernel()));
    check_fdt_in_ram(machine->ram(), kRamBase, append, 128ull << 20);

    // The guest overwrote the device tree; reset clears RAM and writes it again.
    CU_ASSERT_FATAL(machine->ram().host_ptr(kRamBase, 0x40) != nullptr);
    std::memset(machine->ram().host_ptr(kRamBase, 0x40), 0xee, 0x40);
    CU_ASSERT_NOT_EQUAL(fdt_check_header(machine->ram().host_ptr(kRamBase, 0x40)), 0);
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine->reset(accel)));
    check_fdt_in_ram(machine->ram(), kRamBase, append, 128ull << 20);
    const std::vector<std::string> want = {"power_off_vcpu 0", "get_arm64_state 0", "set_arm64_state 0",
                                           "set_mp_runnable 0", "power_off_vcpu 1"};
    CU_ASSERT_TRUE(accel.calls == want);
    CU_ASSERT_EQUAL(accel.arm64_pc, 0u);
    CU_ASSERT_EQUAL(accel.arm64_x0, kRamBase);
    // The flash is not RAM: the firmware is still there after the reset.
    CU_ASSERT_EQUAL_FATAL(accel.mappings.size(), 2u);
    CU_ASSERT_EQUAL(std::memcmp(accel.mappings[0].host, image.data(), image.size()), 0);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"image at the start of a 64 MiB flash bank, zeros after", test_image_at_the_start_of_a_64_mib_flash_bank},
    {"image filling the flash bank exactly is accepted", test_image_filling_the_flash_bank_exactly_is_accepted},
    {"image one byte over 64 MiB is EFBIG naming the path", test_image_one_byte_over_64_mib_is_efbig_naming_the_path},
    {"empty and missing images are refused naming the path", test_empty_and_missing_images_are_refused_naming_the_path},
    {"-bios boots vCPU 0 at the flash with the DTB at the start of RAM",
     test_bios_boots_vcpu_0_at_flash_with_the_dtb_at_ram_start},
    {"-kernel or -initrd with -bios is refused", test_kernel_or_initrd_with_bios_is_refused},
    {"neither -kernel nor -bios names both options", test_neither_kernel_nor_bios_names_both_options},
    {"flash mapped read-only at 0 before RAM", test_flash_mapped_read_only_at_0_before_ram},
    {"gdb memory map marks the flash ROM", test_gdb_memory_map_marks_the_flash_rom},
    {"gdb memory map without -bios is one RAM region", test_gdb_memory_map_without_bios_is_one_ram_region},
    {"machine reset writes the DTB again", test_machine_reset_writes_the_dtb_again},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"virt -bios", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
