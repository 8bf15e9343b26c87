// PCI configuration mechanism #1 and the i440FX host bridge behind it, as
// QEMU's pci_host and i440fx present them: CONFIG_ADDRESS only by 32-bit
// access, all ones where nothing answers, sub-dword data accesses at
// 0xcfc-0xcff, the host bridge's IDs, PAM and SMRAM writable, reset.
#include <memory>

#include "hw-models/devices/i440fx_host_bridge.h"
#include "hw-models/devices/pci_host_conf1.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::hw;

struct Rig {
    Rig() {
        bridge = std::make_shared<I440fxHostBridge>();
        CU_ASSERT_FATAL(host.attach(0, bridge).ok());
    }
    void select(unsigned bus, unsigned dev, unsigned fn, unsigned reg) {
        host.write(0, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | reg, 4);
    }
    PciHostConf1 host;
    std::shared_ptr<I440fxHostBridge> bridge;
};

void test_config_address_is_32_bit_only() {
    Rig r;
    r.host.write(0, 0x80001234, 4);
    CU_ASSERT_EQUAL(r.host.read(0, 4), 0x80001234u);
    r.host.write(0, 0x55, 1);  // 0xcf8 byte write: ignored (0xcf9 is PIIX's reset register)
    r.host.write(1, 0x06, 1);
    r.host.write(0, 0xffff, 2);
    CU_ASSERT_EQUAL(r.host.config_address(), 0x80001234u);
    CU_ASSERT_EQUAL(r.host.read(0, 2), 0xffffu);
    CU_ASSERT_EQUAL(r.host.read(1, 1), 0xffu);
}

void test_host_bridge_ids() {
    Rig r;
    r.select(0, 0, 0, 0x00);
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0x12378086u);
    CU_ASSERT_EQUAL(r.host.read(4, 2), 0x8086u);
    CU_ASSERT_EQUAL(r.host.read(6, 2), 0x1237u);
    CU_ASSERT_EQUAL(r.host.read(7, 1), 0x12u);
    r.select(0, 0, 0, 0x08);
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0x06000002u);  // class 0x060000, revision 2
    r.select(0, 0, 0, 0x2c);
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0x11001af4u);  // QEMU's subsystem IDs
    r.select(0, 0, 0, 0x0c);
    CU_ASSERT_EQUAL(r.host.read(6, 1), 0x00u);  // header type 0
}

void test_nothing_there_reads_all_ones() {
    Rig r;
    r.select(0, 1, 0, 0);  // 00:01.0: empty
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0xffffffffu);
    r.select(1, 0, 0, 0);  // bus 1: none
    CU_ASSERT_EQUAL(r.host.read(4, 2), 0xffffu);
    r.host.write(0, 0x00000000, 4);  // enable bit clear
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0xffffffffu);
    CU_ASSERT(r.host.write(4, 0x1234, 2) == IoOutcome::proceed);
}

void test_pam_and_smram_writable_ids_not() {
    Rig r;
    r.select(0, 0, 0, 0x58);
    CU_ASSERT_EQUAL(r.host.read(5, 1), 0x00u);  // PAM0 at reset
    r.host.write(5, 0x30, 1);                   // SeaBIOS: 0xf0000 read/write DRAM
    r.host.write(6, 0x3333, 2);
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0x33333000u);
    r.select(0, 0, 0, 0x5c);
    r.host.write(4, 0x11111111, 4);
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0x11111111u);
    r.select(0, 0, 0, 0x70);
    CU_ASSERT_EQUAL(r.host.read(6, 1), 0x02u);  // SMRAM at reset
    r.host.write(6, 0x0a, 1);
    CU_ASSERT_EQUAL(r.host.read(6, 1), 0x0au);
    r.select(0, 0, 0, 0x00);
    r.host.write(4, 0, 4);  // IDs are read-only
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0x12378086u);
    r.select(0, 0, 0, 0x58);
    r.bridge->reset();
    CU_ASSERT_EQUAL(r.host.read(4, 4), 0u);
}

void test_access_crossing_the_dword_is_cut() {
    Rig r;
    r.select(0, 0, 0, 0x00);
    CU_ASSERT_EQUAL(r.host.read(7, 4), 0xffffff12u);  // one byte of data, the rest all ones
}

void test_attach_twice_refused() {
    PciHostConf1 host;
    CU_ASSERT(host.attach(8, std::make_shared<I440fxHostBridge>()).ok());
    auto again = host.attach(8, std::make_shared<I440fxHostBridge>());
    CU_ASSERT_FALSE(again.ok());
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"CONFIG_ADDRESS is 32-bit only", test_config_address_is_32_bit_only},
    {"host bridge IDs", test_host_bridge_ids},
    {"nothing there reads all ones", test_nothing_there_reads_all_ones},
    {"PAM and SMRAM writable, IDs not, reset", test_pam_and_smram_writable_ids_not},
    {"an access crossing the dword is cut", test_access_crossing_the_dword_is_cut},
    {"a devfn taken twice is refused", test_attach_twice_refused},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"pci host", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
