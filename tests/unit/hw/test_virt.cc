// The virt machine (hw-models/virt/virt): RAM layout, MMIO map (PL011 to the
// -serial file, SPI 1 through MachineHost, test-exit status, unassigned
// holes), GIC layout for the accelerator, load_kernel() from files with the
// DTB in RAM matching -append/-initrd, a gzip'd Linux Image with its initrd
// bytes in RAM and x0 at the DTB, dumpdtb, and set-up errors.
#include "hw-models/virt/virt.h"

#include <glib.h>
#include <libfdt.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hw-models/loaders/elf_image.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"
#include "tests/support/gzip_builder.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using test::Bytes;

class RecordingHost final : public MachineHost {
public:
    void request_exit(int status, const std::string& reason) override {
        exits.push_back(std::to_string(status) + " " + reason);
    }
    void request_reset(const std::string& reason) override { resets.push_back(reason); }
    void request_poweroff(const std::string& reason) override { poweroffs.push_back(reason); }
    void set_irq_line(std::uint32_t irq, bool level) override {
        irqs.push_back(std::to_string(irq) + (level ? "+" : "-"));
    }
    std::vector<std::string> exits, resets, poweroffs, irqs;
};

class TempPath {
public:
    explicit TempPath(const Bytes* content = nullptr) {
        path_ = std::string(g_get_tmp_dir()) + "/kvmdbg-virt-XXXXXX";
        int fd = g_mkstemp(path_.data());
        CU_ASSERT_FATAL(fd >= 0);
        if (content != nullptr) {
            CU_ASSERT_FATAL(::write(fd, content->data(), content->size()) == static_cast<ssize_t>(content->size()));
        }
        ::close(fd);
    }
    ~TempPath() { ::unlink(path_.c_str()); }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

std::uint64_t mmio_read(Virt& vm, std::uint64_t addr, unsigned size) {
    std::uint8_t buf[8] = {};
    vm.bus().dispatch(AddressSpace::mmio, addr, buf, size, false);
    std::uint64_t v = 0;
    for (int i = static_cast<int>(size) - 1; i >= 0; --i)
        v = (v << 8) | buf[i];
    return v;
}

IoOutcome mmio_write(Virt& vm, std::uint64_t addr, std::uint64_t v, unsigned size) {
    std::uint8_t buf[8];
    for (unsigned i = 0; i < 8; ++i)
        buf[i] = static_cast<std::uint8_t>(v >> (8 * i));
    return vm.bus().dispatch(AddressSpace::mmio, addr, buf, size, true);
}

std::unique_ptr<Virt> make(const VirtConfig& c, Log& log, MachineHost& host) {
    auto r = Virt::create(c, log, host);
    if (!r.ok()) std::fprintf(stderr, "create: %s\n", r.error().message.c_str());
    CU_ASSERT_FATAL(r.ok());
    return std::move(r).value();
}

void test_ram_and_gic_layout() {
    Log log;
    RecordingHost host;
    VirtConfig c;
    c.ram_size = 64ull << 20;
    c.serial = "none";
    auto vm = make(c, log, host);
    CU_ASSERT_EQUAL(vm->ram().regions().size(), 1u);
    CU_ASSERT_EQUAL(vm->ram().regions()[0].gpa, 0x40000000u);
    CU_ASSERT_EQUAL(vm->ram().total_size(), 64ull << 20);
    CU_ASSERT_EQUAL(vm->gic().dist_base, 0x08000000u);
    CU_ASSERT_EQUAL(vm->gic().dist_size, 0x10000u);
    CU_ASSERT_EQUAL(vm->gic().redist_base, 0x080a0000u);
    CU_ASSERT_EQUAL(vm->gic().redist_size, 0xf60000u);
    CU_ASSERT_EQUAL(vm->gic().nr_irqs % 32, 0u);
    CU_ASSERT_TRUE(vm->gic().nr_irqs >= 32 + virt::kUartSpi + 1);
    CU_ASSERT_EQUAL(virt::kMaxCpus, 123u);
}

void test_uart_on_bus() {
    Log log;
    RecordingHost host;
    TempPath out;
    VirtConfig c;
    c.serial = "file:" + out.path();
    auto vm = make(c, log, host);
    for (char ch : std::string("ok\n"))
        mmio_write(*vm, 0x09000000, static_cast<std::uint8_t>(ch), 4);
    CU_ASSERT_EQUAL(slurp(out.path()), "ok\n");
    CU_ASSERT_EQUAL(mmio_read(*vm, 0x09000fe0, 4), 0x11u);
    CU_ASSERT_EQUAL(mmio_read(*vm, 0x09000ffc, 4), 0xb1u);
    CU_ASSERT_EQUAL(mmio_read(*vm, 0x09000018, 2), 0x97u);
    // TX interrupt unmasked: SPI 1 goes high; ICR lowers it.
    mmio_write(*vm, 0x09000038, Pl011::kIntTx, 4);
    mmio_write(*vm, 0x09000000, 'x', 1);
    mmio_write(*vm, 0x09000044, Pl011::kIntTx, 4);
    const std::vector<std::string> want = {"1+", "1-"};
    CU_ASSERT(host.irqs == want);
    // Input from the main loop side.
    vm->bus().with_lock([&] {
        const std::uint8_t in[] = {'k'};
        vm->uart().push_input(in);
    });
    CU_ASSERT_EQUAL(mmio_read(*vm, 0x09000000, 4), static_cast<std::uint64_t>('k'));
    vm->reset_devices();
    CU_ASSERT_EQUAL(mmio_read(*vm, 0x09000038, 4), 0u);
}

void test_test_exit_and_holes() {
    Log log;
    RecordingHost host;
    VirtConfig c;
    c.serial = "none";
    auto vm = make(c, log, host);
    CU_ASSERT(mmio_write(*vm, 0x09100000, 0x20, 4) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL(host.exits.size(), 1u);
    CU_ASSERT_EQUAL(host.exits[0], "65 test-exit");
    // QEMU's RTC slot is a hole here: all ones, writes dropped.
    CU_ASSERT_EQUAL(mmio_read(*vm, 0x09010000, 4), 0xffffffffu);
    CU_ASSERT(mmio_write(*vm, 0x09010000, 1, 4) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(host.exits.size(), 1u);
}

void test_create_errors() {
    Log log;
    RecordingHost host;
    VirtConfig c;
    c.serial = "none";
    c.ram_size = 1ull << 20;
    CU_ASSERT_FALSE(Virt::create(c, log, host).ok());
    c.ram_size = (64ull << 20) + 1;
    CU_ASSERT_FALSE(Virt::create(c, log, host).ok());
    c.ram_size = 256ull << 30;
    CU_ASSERT_FALSE(Virt::create(c, log, host).ok());
    c.ram_size = 64ull << 20;
    c.cpus = 0;
    CU_ASSERT_FALSE(Virt::create(c, log, host).ok());
    c.cpus = 124;
    auto r = Virt::create(c, log, host);
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(r.error().message.find("1 to 123 vCPUs") != std::string::npos);
    c.cpus = 1;
    c.serial = "bogus:x";
    CU_ASSERT_FALSE(Virt::create(c, log, host).ok());
}

void test_load_kernel_dtb() {
    Log log;
    RecordingHost host;
    Bytes elf = test::build_elf(true, kElfMachineAarch64, 0x40080000, {test::seg(0x40080000, 0x100, 0x2000)});
    Bytes rd = test::pattern(0x2345, 8);
    TempPath kernel(&elf);
    TempPath initrd(&rd);
    TempPath dump;
    VirtConfig c;
    c.serial = "none";
    c.cpus = 2;
    c.ram_size = 32ull << 20;
    c.kernel = kernel.path();
    c.initrd = initrd.path();
    c.append = "console=ttyAMA0";
    c.dumpdtb = dump.path();
    auto vm = make(c, log, host);
    auto plan = vm->load_kernel();
    CU_ASSERT_FATAL(plan.ok());
    CU_ASSERT_EQUAL(plan->entry, 0x40080000u);
    CU_ASSERT_EQUAL(plan->initrd.start, 0x40082000u);
    CU_ASSERT_EQUAL(plan->initrd.end, 0x40082000u + rd.size());
    CU_ASSERT_EQUAL(plan->dtb_addr, 0x40200000u);
    CU_ASSERT_EQUAL(plan->dtb_size, vm->dtb().size());
    CU_ASSERT_TRUE(plan->vcpu(1).powered_off);
    // The DTB in RAM is the one built, and it names what was loaded.
    const std::uint8_t* fdt = vm->ram().host_ptr(plan->dtb_addr, plan->dtb_size);
    CU_ASSERT_FATAL(fdt != nullptr);
    CU_ASSERT_EQUAL(std::memcmp(fdt, vm->dtb().data(), vm->dtb().size()), 0);
    CU_ASSERT_EQUAL_FATAL(fdt_check_header(fdt), 0);
    int chosen = fdt_path_offset(fdt, "/chosen");
    CU_ASSERT_FATAL(chosen >= 0);
    int len = 0;
    const char* args = static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len));
    CU_ASSERT_FATAL(args != nullptr);
    CU_ASSERT_STRING_EQUAL(args, "console=ttyAMA0");
    const fdt64_t* start = static_cast<const fdt64_t*>(fdt_getprop(fdt, chosen, "linux,initrd-start", &len));
    CU_ASSERT_FATAL(start != nullptr && len == 8);
    CU_ASSERT_EQUAL(fdt64_ld(start), plan->initrd.start);  // properties are only 4-byte aligned
    const fdt64_t* end = static_cast<const fdt64_t*>(fdt_getprop(fdt, chosen, "linux,initrd-end", &len));
    CU_ASSERT_FATAL(end != nullptr && len == 8);
    CU_ASSERT_EQUAL(fdt64_ld(end), plan->initrd.end);
    CU_ASSERT_TRUE(fdt_path_offset(fdt, "/cpus/cpu@1") >= 0);
    CU_ASSERT_TRUE(fdt_path_offset(fdt, "/cpus/cpu@2") < 0);
    const fdt32_t* mem = static_cast<const fdt32_t*>(
        fdt_getprop(fdt, fdt_path_offset(fdt, "/memory@40000000"), "reg", &len));
    CU_ASSERT_FATAL(mem != nullptr && len == 16);
    CU_ASSERT_EQUAL(fdt32_to_cpu(mem[3]), 32u << 20);
    // -M virt,dumpdtb=FILE wrote the same bytes.
    std::string dumped = slurp(dump.path());
    CU_ASSERT_EQUAL(dumped.size(), vm->dtb().size());
    CU_ASSERT_EQUAL(std::memcmp(dumped.data(), vm->dtb().data(), dumped.size()), 0);
    // dtb-randomness (default on): KASLR and RNG seeds, fresh per machine.
    CU_ASSERT_FATAL(fdt_getprop(fdt, chosen, "kaslr-seed", &len) != nullptr);
    CU_ASSERT_EQUAL(len, 8);
    CU_ASSERT_FATAL(fdt_getprop(fdt, chosen, "rng-seed", &len) != nullptr);
    CU_ASSERT_EQUAL(len, 32);
    c.dumpdtb.clear();
    auto again = make(c, log, host);
    CU_ASSERT_FATAL(again->load_kernel().ok());
    CU_ASSERT(again->dtb() != vm->dtb());  // the seeds differ
    // -M virt,dtb-randomness=off: neither.
    c.dtb_randomness = false;
    auto plain = make(c, log, host);
    CU_ASSERT_FATAL(plain->load_kernel().ok());
    const std::uint8_t* p = plain->dtb().data();
    CU_ASSERT(fdt_getprop(p, fdt_path_offset(p, "/chosen"), "kaslr-seed", &len) == nullptr);
    CU_ASSERT(fdt_getprop(p, fdt_path_offset(p, "/chosen"), "rng-seed", &len) == nullptr);
}

std::string chosen_string(const std::uint8_t* fdt, const char* name) {
    int len = 0;
    const void* p = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), name, &len);
    return p == nullptr || len < 1 ? std::string("(missing)") : std::string(static_cast<const char*>(p));
}

std::uint64_t chosen_u64(const std::uint8_t* fdt, const char* name) {
    int len = 0;
    const void* p = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), name, &len);
    CU_ASSERT_FATAL(p != nullptr && len == 8);
    return fdt64_ld(static_cast<const fdt64_t*>(p));
}

// What `-M virt -kernel vmlinuz -initrd initrd.cpio -append ...` does with a
// gzip'd Image (Debian-style vmlinuz): the Image at RAM base + text_offset,
// the initrd's bytes in RAM where /chosen says, the command line verbatim.
void test_load_gzip_image_initrd() {
    Log log;
    RecordingHost host;
    Bytes image = test::long_pattern(0x3000, 21);
    test::put32(image, 0, 0x91005a4d);  // "MZ" + add: the EFI-stub form
    test::put32(image, 4, 0x14000000);
    test::put64(image, 8, 0);           // text_offset
    test::put64(image, 16, 0x1400000);  // image_size: 20 MiB
    test::put64(image, 24, 0xa);        // 4K pages, placement anywhere
    for (std::size_t off : {32, 40, 48})
        test::put64(image, off, 0);
    test::put32(image, 56, 0x644d5241);  // "ARM\x64"
    test::put32(image, 60, 0);
    Bytes gz = test::gzip_bytes(image);
    Bytes rd = test::long_pattern(0x12345, 4);
    TempPath kernel(&gz);
    TempPath initrd(&rd);
    VirtConfig c;
    c.serial = "none";
    c.ram_size = 256ull << 20;
    c.kernel = kernel.path();
    c.initrd = initrd.path();
    c.append = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init panic=-1";
    auto vm = make(c, log, host);
    auto plan = vm->load_kernel();
    CU_ASSERT_FATAL(plan.ok());
    CU_ASSERT(plan->format == Arm64BootPlan::Format::linux_image);
    CU_ASSERT_EQUAL(plan->entry, 0x40000000u);
    CU_ASSERT_EQUAL(plan->kernel.end, 0x41400000u);
    CU_ASSERT_EQUAL(std::memcmp(vm->ram().host_ptr(0x40000000, image.size()), image.data(), image.size()), 0);
    CU_ASSERT_EQUAL(plan->initrd.start, 0x41400000u);
    CU_ASSERT_EQUAL(plan->initrd.end, 0x41400000u + rd.size());
    const std::uint8_t* in_ram = vm->ram().host_ptr(plan->initrd.start, rd.size());
    CU_ASSERT_FATAL(in_ram != nullptr);
    CU_ASSERT_EQUAL(std::memcmp(in_ram, rd.data(), rd.size()), 0);
    CU_ASSERT_EQUAL(plan->dtb_addr, 0x41600000u);
    const std::uint8_t* fdt = vm->ram().host_ptr(plan->dtb_addr, plan->dtb_size);
    CU_ASSERT_FATAL(fdt != nullptr);
    CU_ASSERT_EQUAL_FATAL(fdt_check_header(fdt), 0);
    CU_ASSERT_EQUAL(chosen_string(fdt, "bootargs"), c.append);
    CU_ASSERT_EQUAL(chosen_string(fdt, "stdout-path"), "/pl011@9000000");
    CU_ASSERT_EQUAL(chosen_u64(fdt, "linux,initrd-start"), plan->initrd.start);
    CU_ASSERT_EQUAL(chosen_u64(fdt, "linux,initrd-end"), plan->initrd.end);
    // booting.rst: x0 = the DTB's physical address, PC at the Image.
    CU_ASSERT_EQUAL(plan->vcpu(0).x0, plan->dtb_addr);
    CU_ASSERT_EQUAL(plan->vcpu(0).pc, 0x40000000u);

    // A truncated vmlinuz: one line naming the file, nothing booted.
    Bytes cut(gz.begin(), gz.end() - 2);
    TempPath bad(&cut);
    c.kernel = bad.path();
    vm = make(c, log, host);
    auto r = vm->load_kernel();
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(r.error().message.find(bad.path() + ": truncated gzip stream") != std::string::npos);
}

void test_load_kernel_errors() {
    Log log;
    RecordingHost host;
    VirtConfig c;
    c.serial = "none";
    auto vm = make(c, log, host);
    auto r = vm->load_kernel();
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(r.error().message.find("virt needs -kernel") != std::string::npos);

    c.kernel = "/nonexistent/kvmdbg-virt-kernel";
    vm = make(c, log, host);
    r = vm->load_kernel();
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    CU_ASSERT_TRUE(r.error().message.find("/nonexistent/kvmdbg-virt-kernel") != std::string::npos);

    Bytes x86 = test::build_elf64(0x100000, {test::seg(0x100000, 0x10, 0x10)});
    TempPath k(&x86);
    c.kernel = k.path();
    vm = make(c, log, host);
    r = vm->load_kernel();
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(r.error().message.find("is not AArch64") != std::string::npos);

    Bytes good = test::build_elf(true, kElfMachineAarch64, 0x40080000, {test::seg(0x40080000, 0x10, 0x10)});
    TempPath k2(&good);
    c.kernel = k2.path();
    c.initrd = "/nonexistent/initrd";
    vm = make(c, log, host);
    r = vm->load_kernel();
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    c.initrd.clear();
    c.dumpdtb = "/nonexistent/dir/x.dtb";
    vm = make(c, log, host);
    r = vm->load_kernel();
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(r.error().message.find("/nonexistent/dir/x.dtb") != std::string::npos);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"RAM and GIC layout", test_ram_and_gic_layout},
    {"PL011 on the bus", test_uart_on_bus},
    {"test-exit and holes", test_test_exit_and_holes},
    {"create errors", test_create_errors},
    {"load_kernel and the DTB in RAM", test_load_kernel_dtb},
    {"load_kernel errors", test_load_kernel_errors},
    {"gzip'd Image with -initrd and -append", test_load_gzip_image_initrd},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"virt machine", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
