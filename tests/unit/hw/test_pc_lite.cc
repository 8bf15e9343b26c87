// PcLite as a whole without KVM: what load_kernel() leaves in low memory
// (the BIOS data area, only where the kernel did not load) and the legacy
// reset ports reaching MachineHost::request_reset through the bus, the
// ACPI tables and PM registers, fw_cfg and the CMOS RTC, and -bios with
// -kernel: the bzImage handed to the firmware through fw_cfg with QEMU's
// Linux boot option ROM.
#include "hw-models/pc/pc_lite.h"

#include <glib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "hw-models/firmware_files.h"
#include "hw-models/pc/acpi_tables.h"
#include "hw-models/pc/bios_data_area.h"
#include "tests/support/bzimage_builder.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using Bytes = std::vector<std::uint8_t>;

class RecordingHost final : public MachineHost {
public:
    void request_exit(int status, const std::string& reason) override {
        exits.push_back(std::to_string(status) + " " + reason);
    }
    void request_reset(const std::string& reason) override { resets.push_back(reason); }
    void request_poweroff(const std::string& reason) override { poweroffs.push_back(reason); }
    std::vector<std::string> poweroffs;
    void set_irq_line(std::uint32_t, bool) override {}

    std::vector<std::string> exits;
    std::vector<std::string> resets;
};

class TempFile {
public:
    explicit TempFile(const Bytes& content) {
        path_ = std::string(g_get_tmp_dir()) + "/kvmdbg-bda-XXXXXX";
        int fd = g_mkstemp(path_.data());
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_FATAL(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        ::close(fd);
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A multiboot a.out-kludge image of `size` 0x5a bytes loaded at `load`.
Bytes aout_kernel(std::uint32_t load, std::size_t size) {
    Bytes b(size, 0x5a);
    auto put32 = [&](std::size_t off, std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    const std::uint32_t flags = (1u << 16) | 0x3;
    put32(0, 0x1BADB002);
    put32(4, flags);
    put32(8, 0u - 0x1BADB002 - flags);
    put32(12, load);  // header_addr
    put32(16, load);  // load_addr
    put32(20, 0);     // load_end_addr: whole file
    put32(24, 0);     // bss_end_addr
    put32(28, load);  // entry
    return b;
}

Bytes ram_bytes(PcLite& pc, std::uint64_t gpa, std::size_t n) {
    Bytes out(n);
    CU_ASSERT_FATAL(pc.ram().read(gpa, out).ok());
    return out;
}

std::unique_ptr<PcLite> make_pc(const std::string& kernel, Log& log, MachineHost& host) {
    PcLiteConfig config;
    config.ram_size = 16ull << 20;
    config.kernel = kernel;
    config.serial = "none";
    auto pc = PcLite::create(config, log, host);
    CU_ASSERT_FATAL(pc.ok());
    return std::move(pc).value();
}

void test_pc_lite_fills_bda() {
    TempFile k(aout_kernel(0x100000, 0x1000));
    Log log;
    RecordingHost host;
    auto pc = make_pc(k.path(), log, host);
    CU_ASSERT_FATAL(pc->load_kernel().ok());
    auto want = bios_data_area(BiosDataAreaConfig{});
    Bytes got = ram_bytes(*pc, kBiosDataAreaBase, kBiosDataAreaSize);
    CU_ASSERT_EQUAL(std::memcmp(got.data(), want.data(), want.size()), 0);
    // Nothing else in low memory: the IVT and the EBDA stay zero.
    Bytes ivt = ram_bytes(*pc, 0, 0x400);
    CU_ASSERT_TRUE(std::all_of(ivt.begin(), ivt.end(), [](std::uint8_t v) { return v == 0; }));
    Bytes ebda = ram_bytes(*pc, 0x9fc00, 0x400);
    CU_ASSERT_TRUE(std::all_of(ebda.begin(), ebda.end(), [](std::uint8_t v) { return v == 0; }));
}

void test_pc_lite_leaves_kernel_bytes() {
    // Loaded at 0: the image covers [0x400, 0x500); its bytes stay.
    TempFile k(aout_kernel(0x0, 0x2000));
    Log log;
    RecordingHost host;
    auto pc = make_pc(k.path(), log, host);
    CU_ASSERT_FATAL(pc->load_kernel().ok());
    Bytes got = ram_bytes(*pc, kBiosDataAreaBase, kBiosDataAreaSize);
    CU_ASSERT_TRUE(std::all_of(got.begin(), got.end(), [](std::uint8_t v) { return v == 0x5a; }));
}

void test_pc_lite_failed_load_writes_nothing() {
    Log log;
    RecordingHost host;
    auto pc = make_pc("/nonexistent/kvmdbg-kernel", log, host);
    CU_ASSERT_FALSE(pc->load_kernel().ok());
    Bytes got = ram_bytes(*pc, kBiosDataAreaBase, kBiosDataAreaSize);
    CU_ASSERT_TRUE(std::all_of(got.begin(), got.end(), [](std::uint8_t v) { return v == 0; }));
}

// -------------------------------------------------------------------- ACPI

void test_pc_lite_writes_acpi_tables() {
    TempFile k(aout_kernel(0x100000, 0x1000));
    Log log;
    RecordingHost host;
    PcLiteConfig config;
    config.ram_size = 16ull << 20;
    config.cpus = 3;
    config.kernel = k.path();
    config.serial = "none";
    auto pc = PcLite::create(config, log, host);
    CU_ASSERT_FATAL(pc.ok());
    CU_ASSERT_FATAL((*pc)->load_kernel().ok());
    AcpiPlatform platform;
    platform.cpus = 3;
    auto want = build_acpi_tables(platform, kAcpiTablesGpa);
    CU_ASSERT(ram_bytes(**pc, kAcpiTablesGpa, want.size()) == want);
}

void test_pc_lite_kernel_over_acpi_tables_wins() {
    TempFile k(aout_kernel(0xe0000, 0x1000));
    Log log;
    RecordingHost host;
    auto pc = make_pc(k.path(), log, host);
    CU_ASSERT_FATAL(pc->load_kernel().ok());
    Bytes got = ram_bytes(*pc, kAcpiTablesGpa + 0x20, 0x1000 - 0x20);  // after the multiboot header
    CU_ASSERT_TRUE(std::all_of(got.begin(), got.end(), [](std::uint8_t v) { return v == 0x5a; }));
}

std::uint32_t pio_read32(PcLite& pc, std::uint16_t port) {
    std::uint8_t v[4] = {};
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, port, v, 4, false) == IoOutcome::proceed);
    return static_cast<std::uint32_t>(v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24);
}

void test_acpi_pm_ports_wired() {
    Log log;
    RecordingHost host;
    auto pc = make_pc("/nonexistent/kvmdbg-kernel", log, host);
    // PM timer at 0x608: 24 bits, advancing (2 ms is 7159 ticks).
    std::uint32_t t0 = pio_read32(*pc, 0x608);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < until) {
    }
    std::uint32_t t1 = pio_read32(*pc, 0x608);
    CU_ASSERT_EQUAL(t1 >> 24, 0u);
    CU_ASSERT(((t1 - t0) & 0xffffff) >= 7000u);
    // PM1a event block at 0x600: status 0, enable kept until machine reset.
    std::uint8_t en[2] = {0x21, 0x01};
    CU_ASSERT(pc->bus().dispatch(AddressSpace::pio, 0x602, en, 2, true) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(pio_read32(*pc, 0x600), 0x01210000u);
    pc->reset_devices();
    CU_ASSERT_EQUAL(pio_read32(*pc, 0x600), 0u);
    // PM1a control at 0x604: SLP_EN powers off.
    std::uint8_t slp[2] = {0x00, 0x20};
    CU_ASSERT(pc->bus().dispatch(AddressSpace::pio, 0x604, slp, 2, true) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL(host.poweroffs.size(), 1u);
}

// ------------------------------------------------------------ reset ports

std::uint8_t pio_read(PcLite& pc, std::uint16_t port) {
    std::uint8_t v = 0;
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, port, &v, 1, false) == IoOutcome::proceed);
    return v;
}

IoOutcome pio_write(PcLite& pc, std::uint16_t port, std::uint8_t v) {
    return pc.bus().dispatch(AddressSpace::pio, port, &v, 1, true);
}

void test_i8042_reset_wired() {
    Log log;
    RecordingHost host;
    auto pc = make_pc("", log, host);
    // Xen's and Linux's kb_wait(): status bit 1 clear; then 0xfe.
    CU_ASSERT_EQUAL(pio_read(*pc, 0x64), 0x1c);
    CU_ASSERT_EQUAL(pio_read(*pc, 0x60), 0x00);
    CU_ASSERT(pio_write(*pc, 0x64, 0xad) == IoOutcome::proceed);
    CU_ASSERT_TRUE(host.resets.empty());
    CU_ASSERT(pio_write(*pc, 0x64, 0xfe) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL_FATAL(host.resets.size(), 1u);
    CU_ASSERT_EQUAL(host.resets[0], "keyboard controller command 0xfe on port 0x64");
    CU_ASSERT_TRUE(host.exits.empty());
    // Port 0x61 (port B) stays unclaimed: all ones.
    CU_ASSERT_EQUAL(pio_read(*pc, 0x61), 0xff);
}

void test_port92_reset_wired() {
    Log log;
    RecordingHost host;
    auto pc = make_pc("", log, host);
    CU_ASSERT_EQUAL(pio_read(*pc, 0x92), 0x02);
    CU_ASSERT(pio_write(*pc, 0x92, 0x03) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL_FATAL(host.resets.size(), 1u);
    CU_ASSERT_EQUAL(host.resets[0], "fast reset through port 0x92 (bit 0)");
}

// ------------------------------------------------------------------ fw_cfg

Bytes fw_cfg_item(PcLite& pc, std::uint16_t key, std::size_t n) {
    std::uint8_t sel[2] = {static_cast<std::uint8_t>(key), static_cast<std::uint8_t>(key >> 8)};
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, 0x510, sel, 2, true) == IoOutcome::proceed);
    Bytes out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(pio_read(pc, 0x511));
    }
    return out;
}

// Three CPUs, RAM to 3 GiB and 16 MiB above 4 GiB, no kernel loaded.
std::unique_ptr<PcLite> make_three_cpu_pc(Log& log, MachineHost& host) {
    PcLiteConfig config;
    config.ram_size = (3ull << 30) + (16ull << 20);
    config.cpus = 3;
    config.serial = "none";
    auto created = PcLite::create(config, log, host);
    CU_ASSERT_FATAL(created.ok());
    return std::move(created).value();
}

void test_fw_cfg_wired() {
    Log log;
    RecordingHost host;
    auto created = make_three_cpu_pc(log, host);
    PcLite& pc = *created;
    CU_ASSERT(fw_cfg_item(pc, 0x0000, 4) == (Bytes{'Q', 'E', 'M', 'U'}));
    CU_ASSERT(fw_cfg_item(pc, 0x0001, 4) == (Bytes{0x03, 0, 0, 0}));
    CU_ASSERT(fw_cfg_item(pc, 0x0005, 2) == (Bytes{3, 0}));
    CU_ASSERT(fw_cfg_item(pc, 0x000f, 2) == (Bytes{3, 0}));
    CU_ASSERT(fw_cfg_item(pc, 0x0003, 8) == (Bytes{0, 0, 0, 0xc1, 0, 0, 0, 0}));
    std::uint16_t e820 = pc.fw_cfg().items().file_selector("etc/e820");
    CU_ASSERT_FATAL(e820 != 0);
    const Bytes want = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 1, 0, 0, 0,  // [0, 3 GiB) RAM
        0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 1, 0, 0, 0,  // [4 GiB, +16 MiB) RAM
    };
    CU_ASSERT(fw_cfg_item(pc, e820, want.size()) == want);
    // The DMA register answers with its signature; 0x512-0x513 stay unclaimed.
    std::uint8_t sig[4] = {};
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, 0x514, sig, 4, false) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(std::memcmp(sig, "QEMU", 4), 0);
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, 0x518, sig, 4, false) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(std::memcmp(sig, " CFG", 4), 0);
    CU_ASSERT_EQUAL(pio_read(pc, 0x512), 0xff);
    // Machine reset selects the signature again.
    fw_cfg_item(pc, 0x0001, 1);
    pc.reset_devices();
    CU_ASSERT_EQUAL(pio_read(pc, 0x511), 'Q');
}

// ------------------------------------------------- -bios with -kernel

// A directory in the temp directory, removed with the files put in it.
class TempDir {
public:
    TempDir() {
        gchar* path = g_dir_make_tmp("kvmdbg-fwdir-XXXXXX", nullptr);
        CU_ASSERT_FATAL(path != nullptr);
        path_ = path;
        g_free(path);
    }
    ~TempDir() {
        for (const auto& f : files_) {
            ::unlink(f.c_str());
        }
        ::rmdir(path_.c_str());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    void add_file(const std::string& name, const Bytes& content) {
        std::string path = path_ + "/" + name;
        CU_ASSERT_FATAL(g_file_set_contents(path.c_str(), reinterpret_cast<const gchar*>(content.data()),
                                            static_cast<gssize>(content.size()), nullptr));
        files_.push_back(path);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::vector<std::string> files_;
};

// A fake option ROM: the 0x55 0xaa signature and bytes of its own.
Bytes fake_linuxboot_rom() {
    Bytes rom = test::pattern(0x400, 0x42);
    rom[0] = 0x55;
    rom[1] = 0xaa;
    return rom;
}

struct FirmwareBoot {
    std::string kernel;
    std::string append;
    std::string initrd;
    std::vector<std::string> firmware_dirs;
};

// pc-lite with 128 MiB of RAM and a 64 KiB -bios image of made-up bytes.
std::unique_ptr<PcLite> make_bios_pc(const std::string& bios, const FirmwareBoot& boot, Log& log, MachineHost& host) {
    PcLiteConfig config;
    config.ram_size = 128ull << 20;
    config.bios = bios;
    config.kernel = boot.kernel;
    config.append = boot.append;
    config.initrd = boot.initrd;
    config.firmware_dirs = boot.firmware_dirs;
    config.serial = "none";
    auto pc = PcLite::create(config, log, host);
    CU_ASSERT_FATAL(pc.ok());
    return std::move(pc).value();
}

Bytes fw_cfg_bytes(PcLite& pc, std::uint16_t key) {
    auto item = pc.fw_cfg().items().item(key);
    return Bytes(item.begin(), item.end());
}

std::uint64_t fw_cfg_le32(PcLite& pc, std::uint16_t key) {
    auto item = pc.fw_cfg().items().item(key);
    CU_ASSERT_EQUAL_FATAL(item.size(), 4u);
    return load_le(item.data(), 4);
}

Bytes fw_cfg_file(PcLite& pc, const std::string& name) {
    std::uint16_t key = pc.fw_cfg().items().file_selector(name);
    CU_ASSERT_FATAL(key != 0);
    return fw_cfg_bytes(pc, key);
}

void test_bzimage_handed_to_firmware_through_fw_cfg() {
    TempFile bios(test::pattern(64 * 1024, 0x21));
    Bytes image = test::build_bzimage(test::ImageSpec{});
    TempFile kernel(image);
    Bytes initrd = test::pattern(0x1801, 3);
    TempFile rd(initrd);
    TempDir roms;
    roms.add_file("linuxboot_dma.bin", fake_linuxboot_rom());
    Log log;
    RecordingHost host;
    auto pc = make_bios_pc(bios.path(), {kernel.path(), "console=ttyS0", rd.path(), {roms.path()}}, log, host);
    auto plan = pc->load_kernel();
    CU_ASSERT_TRUE_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan->protocol, "firmware");
    CU_ASSERT_EQUAL(plan->entry, 0xfffffff0u);
    // The option ROM, booted first.
    CU_ASSERT_TRUE(fw_cfg_file(*pc, "genroms/linuxboot_dma.bin") == fake_linuxboot_rom());
    const char bootorder[] = "/rom@genroms/linuxboot_dma.bin";
    CU_ASSERT_TRUE(fw_cfg_file(*pc, "bootorder") == Bytes(bootorder, bootorder + sizeof bootorder));
    // The kernel items (linux_firmware_handoff.h).
    namespace key = fw_cfg_key;
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kSetupAddr), 0x10000u);
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kSetupSize), 0xa00u);
    Bytes setup = fw_cfg_bytes(*pc, key::kSetupData);
    CU_ASSERT_EQUAL_FATAL(setup.size(), 0xa00u);
    CU_ASSERT_TRUE(std::equal(setup.begin(), setup.begin() + 0x210, image.begin()));
    CU_ASSERT_EQUAL(setup[0x210], 0xb0);
    CU_ASSERT_EQUAL(load_le(setup.data() + 0x228, 4), 0x20000u);
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kKernelAddr), 0x100000u);
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kKernelSize), 0x3000u);
    CU_ASSERT_TRUE(fw_cfg_bytes(*pc, key::kKernelData) == Bytes(image.begin() + 0xa00, image.end()));
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kCmdlineAddr), 0x20000u);
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kCmdlineSize), 14u);
    const char cmdline[] = "console=ttyS0";
    CU_ASSERT_TRUE(fw_cfg_bytes(*pc, key::kCmdlineData) == Bytes(cmdline, cmdline + sizeof cmdline));
    // The initrd below 128 MiB less the firmware's 1 MiB, page aligned.
    const std::uint64_t initrd_gpa = (127ull << 20) - 0x2000;
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kInitrdAddr), initrd_gpa);
    CU_ASSERT_EQUAL(fw_cfg_le32(*pc, key::kInitrdSize), initrd.size());
    CU_ASSERT_TRUE(fw_cfg_bytes(*pc, key::kInitrdData) == initrd);
    CU_ASSERT_EQUAL(load_le(setup.data() + 0x218, 4), initrd_gpa);
    // kvmdbg puts none of it in RAM: the firmware's option ROM copies it.
    Bytes at_kernel = ram_bytes(*pc, 0x100000, 0x1000);
    CU_ASSERT_TRUE(std::all_of(at_kernel.begin(), at_kernel.end(), [](std::uint8_t v) { return v == 0; }));
    // The firmware's last 64 KiB below 1 MiB, as without -kernel.
    CU_ASSERT_TRUE(ram_bytes(*pc, 0xf0000, 0x10000) == test::pattern(64 * 1024, 0x21));
}

void test_boot_rom_missing_or_l_dir_first() {
    TempFile bios(test::pattern(64 * 1024, 0x21));
    TempFile kernel(test::build_bzimage(test::ImageSpec{}));
    TempDir roms;
    Log log;
    RecordingHost host;
    auto installed = find_firmware_file("linuxboot_dma.bin", "", {});
    if (installed.ok()) {
        // The machine has one (qemu-system-data): the -L dir's comes first.
        roms.add_file("linuxboot_dma.bin", fake_linuxboot_rom());
        auto pc = make_bios_pc(bios.path(), {kernel.path(), "", "", {roms.path()}}, log, host);
        CU_ASSERT_TRUE_FATAL(pc->load_kernel().ok());
        CU_ASSERT_TRUE(fw_cfg_file(*pc, "genroms/linuxboot_dma.bin") == fake_linuxboot_rom());
        return;
    }
    auto pc = make_bios_pc(bios.path(), {kernel.path(), "", "", {roms.path()}}, log, host);
    auto r = pc->load_kernel();
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    const std::string& m = r.error().message;
    CU_ASSERT_EQUAL(m.rfind("-kernel with -bios: linuxboot_dma.bin (QEMU's Linux boot option ROM", 0), 0u);
    CU_ASSERT_NOT_EQUAL(m.find("not found in " + roms.path() + ", "), std::string::npos);
    CU_ASSERT_NOT_EQUAL(m.find("/usr/share/qemu"), std::string::npos);
    CU_ASSERT_NOT_EQUAL(m.find("give its directory with -L"), std::string::npos);
    CU_ASSERT_EQUAL(pc->fw_cfg().items().file_selector("genroms/linuxboot_dma.bin"), 0);
}

void test_multiboot_or_elf_kernel_with_bios_refused() {
    TempFile bios(test::pattern(64 * 1024, 0x21));
    TempDir roms;
    roms.add_file("linuxboot_dma.bin", fake_linuxboot_rom());
    for (const Bytes& image :
         {aout_kernel(0x100000, 0x1000), test::build_elf64(0x100000, {test::seg(0x100000, 0x100, 0x100)})}) {
        TempFile kernel(image);
        Log log;
        RecordingHost host;
        auto pc = make_bios_pc(bios.path(), {kernel.path(), "", "", {roms.path()}}, log, host);
        auto r = pc->load_kernel();
        CU_ASSERT_FALSE_FATAL(r.ok());
        CU_ASSERT_EQUAL(r.error().code, ENOTSUP);
        CU_ASSERT_NOT_EQUAL(r.error().message.find(kernel.path() + ": with -bios only a Linux bzImage"),
                            std::string::npos);
    }
}

void test_append_or_initrd_without_kernel_under_bios_refused() {
    TempFile bios(test::pattern(64 * 1024, 0x21));
    for (const FirmwareBoot& boot : {FirmwareBoot{"", "console=ttyS0", "", {}}, FirmwareBoot{"", "", "rd.img", {}}}) {
        Log log;
        RecordingHost host;
        auto pc = make_bios_pc(bios.path(), boot, log, host);
        auto r = pc->load_kernel();
        CU_ASSERT_FALSE_FATAL(r.ok());
        CU_ASSERT_EQUAL(r.error().code, EINVAL);
        CU_ASSERT_EQUAL(r.error().message, "-initrd and -append need -kernel");
    }
}

// ---------------------------------------------------------------- CMOS RTC

std::uint8_t cmos_read(PcLite& pc, std::uint8_t index) {
    CU_ASSERT(pio_write(pc, 0x70, index) == IoOutcome::proceed);
    return pio_read(pc, 0x71);
}

int from_bcd(std::uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

void test_cmos_rtc_wired() {
    Log log;
    RecordingHost host;
    auto created = make_three_cpu_pc(log, host);
    PcLite& pc = *created;
    // The host's UTC time in BCD, read until the seconds hold still around it.
    struct tm tm = {};
    for (int tries = 0; tries < 3; ++tries) {
        std::uint8_t sec = cmos_read(pc, 0x00);
        tm.tm_min = from_bcd(cmos_read(pc, 0x02));
        tm.tm_hour = from_bcd(cmos_read(pc, 0x04));
        tm.tm_mday = from_bcd(cmos_read(pc, 0x07));
        tm.tm_mon = from_bcd(cmos_read(pc, 0x08)) - 1;
        tm.tm_year = from_bcd(cmos_read(pc, 0x09)) + 100 * from_bcd(cmos_read(pc, 0x32)) - 1900;
        tm.tm_sec = from_bcd(sec);
        if (cmos_read(pc, 0x00) == sec) {
            break;
        }
    }
    const std::int64_t diff = static_cast<std::int64_t>(timegm(&tm)) - static_cast<std::int64_t>(std::time(nullptr));
    CU_ASSERT(diff >= -5 && diff <= 5);
    CU_ASSERT_EQUAL(cmos_read(pc, 0x0b), 0x02);  // 24-hour, BCD
    CU_ASSERT_EQUAL(cmos_read(pc, 0x0d), 0x80);
    // RAM: 640 KiB base, 0xbf00 * 64 KiB from 16 MiB to 3 GiB, 0x100 * 64 KiB above 4 GiB; 3 CPUs.
    CU_ASSERT_EQUAL(cmos_read(pc, 0x15) | cmos_read(pc, 0x16) << 8, 640);
    CU_ASSERT_EQUAL(cmos_read(pc, 0x34) | cmos_read(pc, 0x35) << 8, 0xbf00);
    CU_ASSERT_EQUAL(cmos_read(pc, 0x5b) | cmos_read(pc, 0x5c) << 8 | cmos_read(pc, 0x5d) << 16, 0x100);
    CU_ASSERT_EQUAL(cmos_read(pc, 0x5f), 2);
    // A 16-bit write at 0x70 is index then data (the NMI bit dropped); the
    // shutdown status clears on machine reset, other bytes stay.
    std::uint8_t index_data[2] = {0x8f, 0x05};
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, 0x70, index_data, 2, true) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(pio_read(pc, 0x71), 0x05);
    index_data[0] = 0x40;
    CU_ASSERT(pc.bus().dispatch(AddressSpace::pio, 0x70, index_data, 2, true) == IoOutcome::proceed);
    pc.reset_devices();
    CU_ASSERT_EQUAL(cmos_read(pc, 0x0f), 0x00);
    CU_ASSERT_EQUAL(cmos_read(pc, 0x40), 0x05);
    // 0x72 is not the RTC's.
    CU_ASSERT_EQUAL(pio_read(pc, 0x72), 0xff);
}

const test::TestCase kBdaCases[] = {
    {"fills the BDA after the kernel", test_pc_lite_fills_bda},
    {"kernel bytes over the BDA win", test_pc_lite_leaves_kernel_bytes},
    {"failed load writes nothing", test_pc_lite_failed_load_writes_nothing},
};
const test::TestCase kAcpiCases[] = {
    {"ACPI tables at 0xe0000 for the CPU count", test_pc_lite_writes_acpi_tables},
    {"kernel bytes over the ACPI tables win", test_pc_lite_kernel_over_acpi_tables_wins},
    {"PM timer, PM1 event and control ports", test_acpi_pm_ports_wired},
};
const test::TestCase kResetCases[] = {
    {"i8042 at 0x60/0x64", test_i8042_reset_wired},
    {"port 0x92", test_port92_reset_wired},
};
const test::TestCase kFwCfgCases[] = {
    {"fw_cfg at 0x510/0x514", test_fw_cfg_wired},
};
const test::TestCase kFirmwareKernelCases[] = {
    {"-bios with a bzImage: kernel items, linuxboot_dma.bin and bootorder in fw_cfg",
     test_bzimage_handed_to_firmware_through_fw_cfg},
    {"-bios -kernel: the boot ROM missing everywhere, or the -L dir's first", test_boot_rom_missing_or_l_dir_first},
    {"-bios with a multiboot or ELF kernel is refused", test_multiboot_or_elf_kernel_with_bios_refused},
    {"-bios with -append or -initrd but no -kernel is refused",
     test_append_or_initrd_without_kernel_under_bios_refused},
};
const test::TestCase kCmosCases[] = {
    {"CMOS RTC at 0x70/0x71", test_cmos_rtc_wired},
};
const test::TestSuite kSuites[] = {
    {"pc-lite bios data area", kBdaCases}, {"pc-lite ACPI", kAcpiCases},
    {"pc-lite reset ports", kResetCases},  {"pc-lite fw_cfg", kFwCfgCases},
    {"pc-lite CMOS RTC", kCmosCases},      {"pc-lite -bios with -kernel", kFirmwareKernelCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
