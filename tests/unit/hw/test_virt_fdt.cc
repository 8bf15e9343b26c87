// The virt device tree (hw-models/virt/virt_fdt): the blob is parsed back
// with libfdt and every node and property value is checked, byte for byte
// where the binding fixes the encoding.
#include "hw-models/virt/virt_fdt.h"

#include <libfdt.h>

#include <cstring>
#include <string>
#include <vector>

#include "hw-models/virt/virt_memmap.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::hw::virt;
using Blob = std::vector<std::uint8_t>;

Blob build(const FdtConfig& c) {
    auto r = build_virt_fdt(c);
    CU_ASSERT_FATAL(r.ok());
    Blob b = std::move(r).value();
    CU_ASSERT_FATAL(fdt_check_header(b.data()) == 0);
    CU_ASSERT_EQUAL(fdt_totalsize(b.data()), b.size());
    return b;
}

FdtConfig basic() {
    FdtConfig c;
    c.ram_size = 256ull << 20;
    c.cpus = 1;
    return c;
}

int node(const Blob& b, const char* path) {
    int off = fdt_path_offset(b.data(), path);
    if (off < 0) {
        std::fprintf(stderr, "missing node %s: %s\n", path, fdt_strerror(off));
    }
    CU_ASSERT_FATAL(off >= 0);
    return off;
}

// The raw bytes of a property, or an empty vector (and a failed assertion).
std::vector<std::uint8_t> prop(const Blob& b, const char* path, const char* name) {
    int len = 0;
    const void* p = fdt_getprop(b.data(), node(b, path), name, &len);
    if (p == nullptr) {
        std::fprintf(stderr, "missing %s:%s\n", path, name);
        CU_FAIL("missing property");
        return {};
    }
    const auto* u = static_cast<const std::uint8_t*>(p);
    return std::vector<std::uint8_t>(u, u + len);
}

bool has_prop(const Blob& b, const char* path, const char* name) {
    return fdt_getprop(b.data(), node(b, path), name, nullptr) != nullptr;
}

std::vector<std::uint8_t> str_bytes(const char* s, std::size_t n) {
    return std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s),
                                     reinterpret_cast<const std::uint8_t*>(s) + n);
}

std::vector<std::uint8_t> cells(std::initializer_list<std::uint32_t> v) {
    std::vector<std::uint8_t> out;
    for (std::uint32_t c : v) {
        for (int s = 24; s >= 0; s -= 8)
            out.push_back(static_cast<std::uint8_t>(c >> s));
    }
    return out;
}

void check_string(const Blob& b, const char* path, const char* name, const char* want) {
    CU_ASSERT(prop(b, path, name) == str_bytes(want, std::strlen(want) + 1));
}

void test_root() {
    Blob b = build(basic());
    CU_ASSERT(prop(b, "/", "#address-cells") == cells({2}));
    CU_ASSERT(prop(b, "/", "#size-cells") == cells({2}));
    check_string(b, "/", "compatible", "linux,dummy-virt");
    check_string(b, "/", "model", "linux,dummy-virt");
    CU_ASSERT(prop(b, "/", "interrupt-parent") == cells({kGicPhandle}));
    CU_ASSERT_EQUAL(fdt_node_offset_by_phandle(b.data(), kGicPhandle), node(b, "/intc@8000000"));
    CU_ASSERT_EQUAL(fdt_num_mem_rsv(b.data()), 0);
}

void test_memory() {
    FdtConfig c = basic();
    c.ram_size = 5ull << 30;  // above 4 GiB: the size needs both cells
    Blob b = build(c);
    check_string(b, "/memory@40000000", "device_type", "memory");
    CU_ASSERT(prop(b, "/memory@40000000", "reg") == cells({0, 0x40000000, 1, 0x40000000}));
}

void test_cpus() {
    FdtConfig c = basic();
    c.cpus = 18;
    Blob b = build(c);
    CU_ASSERT(prop(b, "/cpus", "#address-cells") == cells({1}));
    CU_ASSERT(prop(b, "/cpus", "#size-cells") == cells({0}));
    int count = 0;
    int sub;
    fdt_for_each_subnode(sub, b.data(), node(b, "/cpus")) { ++count; }
    CU_ASSERT_EQUAL(count, 18);
    check_string(b, "/cpus/cpu@0", "device_type", "cpu");
    check_string(b, "/cpus/cpu@0", "compatible", "arm,arm-v8");
    check_string(b, "/cpus/cpu@0", "enable-method", "psci");
    CU_ASSERT(prop(b, "/cpus/cpu@0", "reg") == cells({0}));
    CU_ASSERT(prop(b, "/cpus/cpu@f", "reg") == cells({0xf}));
    // vCPU 16 is Aff1 = 1, Aff0 = 0 (16-CPU clusters, KVM's reset_mpidr).
    CU_ASSERT(prop(b, "/cpus/cpu@10", "reg") == cells({0x100}));
    CU_ASSERT(prop(b, "/cpus/cpu@11", "reg") == cells({0x101}));
    CU_ASSERT_EQUAL(mpidr_for_vcpu(0x1234), 0x012304u);
}

void test_psci() {
    Blob b = build(basic());
    CU_ASSERT(prop(b, "/psci", "compatible") == str_bytes("arm,psci-1.0\0arm,psci-0.2", 26));
    check_string(b, "/psci", "method", "hvc");
    CU_ASSERT_EQUAL(fdt_node_check_compatible(b.data(), node(b, "/psci"), "arm,psci-0.2"), 0);
}

void test_gic() {
    Blob b = build(basic());
    const char* gic = "/intc@8000000";
    check_string(b, gic, "compatible", "arm,gic-v3");
    CU_ASSERT(prop(b, gic, "#interrupt-cells") == cells({3}));
    CU_ASSERT(prop(b, gic, "interrupt-controller").empty());
    CU_ASSERT_TRUE(has_prop(b, gic, "interrupt-controller"));
    CU_ASSERT(prop(b, gic, "#address-cells") == cells({2}));
    CU_ASSERT(prop(b, gic, "#size-cells") == cells({2}));
    CU_ASSERT(prop(b, gic, "ranges").empty());
    CU_ASSERT_TRUE(has_prop(b, gic, "ranges"));
    CU_ASSERT(prop(b, gic, "#redistributor-regions") == cells({1}));
    CU_ASSERT(prop(b, gic, "reg") == cells({0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 0xf60000}));
    CU_ASSERT(prop(b, gic, "phandle") == cells({kGicPhandle}));
}

void test_timer() {
    Blob b = build(basic());
    CU_ASSERT(prop(b, "/timer", "compatible") == str_bytes("arm,armv8-timer\0arm,armv7-timer", 32));
    CU_ASSERT_TRUE(has_prop(b, "/timer", "always-on"));
    CU_ASSERT(prop(b, "/timer", "interrupts") == cells({1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4}));
}

void test_uart_and_clock() {
    Blob b = build(basic());
    const char* uart = "/pl011@9000000";
    CU_ASSERT(prop(b, uart, "compatible") == str_bytes("arm,pl011\0arm,primecell", 24));
    CU_ASSERT(prop(b, uart, "reg") == cells({0, 0x09000000, 0, 0x1000}));
    CU_ASSERT(prop(b, uart, "interrupts") == cells({0, 1, 4}));
    CU_ASSERT(prop(b, uart, "clocks") == cells({kClockPhandle, kClockPhandle}));
    CU_ASSERT(prop(b, uart, "clock-names") == str_bytes("uartclk\0apb_pclk", 17));
    check_string(b, "/apb-pclk", "compatible", "fixed-clock");
    CU_ASSERT(prop(b, "/apb-pclk", "#clock-cells") == cells({0}));
    CU_ASSERT(prop(b, "/apb-pclk", "clock-frequency") == cells({24000000}));
    check_string(b, "/apb-pclk", "clock-output-names", "clk24mhz");
    CU_ASSERT_EQUAL(fdt_node_offset_by_phandle(b.data(), kClockPhandle), node(b, "/apb-pclk"));
}

void test_test_exit() {
    Blob b = build(basic());
    check_string(b, "/test-exit@9100000", "compatible", "kvmdbg,test-exit");
    CU_ASSERT(prop(b, "/test-exit@9100000", "reg") == cells({0, 0x09100000, 0, 0x1000}));
}

void test_chosen_minimal() {
    Blob b = build(basic());
    check_string(b, "/chosen", "stdout-path", "/pl011@9000000");
    // stdout-path resolves to the UART node.
    CU_ASSERT_EQUAL(fdt_path_offset(b.data(), kUartNodePath), node(b, "/pl011@9000000"));
    CU_ASSERT_FALSE(has_prop(b, "/chosen", "bootargs"));
    CU_ASSERT_FALSE(has_prop(b, "/chosen", "linux,initrd-start"));
    CU_ASSERT_FALSE(has_prop(b, "/chosen", "linux,initrd-end"));
    CU_ASSERT_FALSE(has_prop(b, "/chosen", "kaslr-seed"));
    CU_ASSERT_FALSE(has_prop(b, "/chosen", "rng-seed"));
}

// QEMU's virt (dtb-randomness=on, its default): /chosen/kaslr-seed is a
// 64-bit cell pair, /chosen/rng-seed 32 bytes; fresh ones per machine.
void test_chosen_random_seeds() {
    FdtConfig c = basic();
    CU_ASSERT_TRUE_FATAL(fill_random_seeds(c).ok());
    FdtConfig d = basic();
    CU_ASSERT_TRUE_FATAL(fill_random_seeds(d).ok());
    CU_ASSERT_FATAL(c.kaslr_seed && c.rng_seed && d.kaslr_seed && d.rng_seed);
    CU_ASSERT(*c.kaslr_seed != *d.kaslr_seed || *c.rng_seed != *d.rng_seed);
    Blob b = build(c);
    const std::uint64_t seed = *c.kaslr_seed;
    CU_ASSERT(prop(b, "/chosen", "kaslr-seed") ==
              cells({static_cast<std::uint32_t>(seed >> 32), static_cast<std::uint32_t>(seed)}));
    auto rng = prop(b, "/chosen", "rng-seed");
    CU_ASSERT(rng == std::vector<std::uint8_t>(c.rng_seed->begin(), c.rng_seed->end()));
    check_string(b, "/chosen", "stdout-path", "/pl011@9000000");
}

void test_chosen_bootargs_initrd() {
    FdtConfig c = basic();
    c.bootargs = "console=ttyAMA0 earlycon rdinit=/init";
    c.initrd_start = 0x41000000;
    c.initrd_end = 0x41234567;
    Blob b = build(c);
    check_string(b, "/chosen", "bootargs", "console=ttyAMA0 earlycon rdinit=/init");
    CU_ASSERT(prop(b, "/chosen", "linux,initrd-start") == cells({0, 0x41000000}));
    CU_ASSERT(prop(b, "/chosen", "linux,initrd-end") == cells({0, 0x41234567}));
}

void test_errors_and_limits() {
    FdtConfig c = basic();
    c.cpus = 0;
    auto r = build_virt_fdt(c);
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_EQUAL(r.error().code, EINVAL);
    c.cpus = kMaxCpus + 1;
    CU_ASSERT_FALSE(build_virt_fdt(c).ok());
    c.cpus = kMaxCpus;  // the largest machine fits
    Blob b = build(c);
    CU_ASSERT(prop(b, "/cpus/cpu@7a", "reg") == cells({0x70a}));
    c = basic();
    c.ram_size = 0;
    CU_ASSERT_FALSE(build_virt_fdt(c).ok());
    c = basic();
    c.bootargs.assign(3u << 20, 'x');
    r = build_virt_fdt(c);
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_EQUAL(r.error().code, EFBIG);
    c.bootargs.assign(64u << 10, 'y');  // large but legal
    b = build(c);
    CU_ASSERT_EQUAL(prop(b, "/chosen", "bootargs").size(), (64u << 10) + 1);
}

constexpr kvmdbg::test::TestCase kNodes[] = {
    {"root", test_root},
    {"memory", test_memory},
    {"cpus", test_cpus},
    {"psci", test_psci},
    {"gic", test_gic},
    {"timer", test_timer},
    {"pl011 and apb-pclk", test_uart_and_clock},
    {"test-exit", test_test_exit},
    {"chosen minimal", test_chosen_minimal},
    {"chosen bootargs and initrd", test_chosen_bootargs_initrd},
    {"chosen random seeds", test_chosen_random_seeds},
    {"errors and limits", test_errors_and_limits},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"virt device tree", kNodes}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
