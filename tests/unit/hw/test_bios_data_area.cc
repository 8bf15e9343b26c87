// BIOS data area: the 256 bytes byte for byte and the equipment word.
// (pc-lite writing them: test_pc_lite.cc.)
#include "hw-models/pc/bios_data_area.h"

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

void test_default_bytes() {
    auto a = bios_data_area(BiosDataAreaConfig{});
    std::array<std::uint8_t, kBiosDataAreaSize> want{};
    want[0x00] = 0xf8;  // COM1 0x3f8
    want[0x01] = 0x03;
    want[0x0e] = 0xc0;  // EBDA segment 0x9fc0
    want[0x0f] = 0x9f;
    want[0x10] = 0x02;  // equipment 0x0202: x87, one serial port
    want[0x11] = 0x02;
    want[0x13] = 0x7f;  // 639 KiB
    want[0x14] = 0x02;
    CU_ASSERT_TRUE(a == want);
    // What kernels read, as SeaBIOS leaves it on QEMU's pc.
    CU_ASSERT_EQUAL(a[kBdaBaseMemoryKib] | (a[kBdaBaseMemoryKib + 1] << 8), 639);
    CU_ASSERT_EQUAL(a[kBdaEbdaSegment] | (a[kBdaEbdaSegment + 1] << 8), 0x9fc0);
    // The EBDA lies right at the end of the base memory int 0x12 reports.
    CU_ASSERT_EQUAL(0x9fc0u << 4, 639u * 1024);
}

void test_no_serial_port() {
    BiosDataAreaConfig c;
    c.com1_port = 0;
    c.base_memory_kib = 512;
    c.ebda_segment = 0x7fc0;
    auto a = bios_data_area(c);
    CU_ASSERT_EQUAL(a[0], 0);
    CU_ASSERT_EQUAL(a[1], 0);
    CU_ASSERT_EQUAL(a[0x10], 0x02);  // x87 only
    CU_ASSERT_EQUAL(a[0x11], 0x00);
    CU_ASSERT_EQUAL(a[0x13] | (a[0x14] << 8), 512);
    CU_ASSERT_EQUAL(a[0x0e] | (a[0x0f] << 8), 0x7fc0);
}

void test_equipment_word() {
    CU_ASSERT_EQUAL(bda_equipment_word(0), 0x0002);
    CU_ASSERT_EQUAL(bda_equipment_word(1), 0x0202);
    CU_ASSERT_EQUAL(bda_equipment_word(2), 0x0402);
    CU_ASSERT_EQUAL(bda_equipment_word(4), 0x0802);
    CU_ASSERT_EQUAL(bda_equipment_word(9), 0x0802);  // four COM slots at most
}

const test::TestCase kAreaCases[] = {
    {"default bytes", test_default_bytes},
    {"no serial port", test_no_serial_port},
    {"equipment word", test_equipment_word},
};
const test::TestSuite kSuites[] = {
    {"bios data area", kAreaCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
