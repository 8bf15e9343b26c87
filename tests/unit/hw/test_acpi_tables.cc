// The ACPI tables pc-lite writes at 0xe0000, read back the way a kernel
// reads them (ACPI 6.5 chapter 5): the RSDP found on a 16-byte boundary,
// every checksum, the RSDT/XSDT pointers, the FADT's PM ports and reset
// register, the FACS alignment, \_S5 in the DSDT and one MADT entry per CPU.
#include "hw-models/pc/acpi_tables.h"

#include <cstring>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kBase = kAcpiTablesGpa;

struct Tables {
    explicit Tables(std::uint32_t cpus) {
        AcpiPlatform p;
        p.cpus = cpus;
        blob = build_acpi_tables(p, kBase);
    }
    const std::uint8_t* at(std::uint64_t gpa) const {
        CU_ASSERT_FATAL(gpa >= kBase && gpa < kBase + blob.size());
        return blob.data() + (gpa - kBase);
    }
    std::uint64_t u(std::uint64_t gpa, std::size_t size) const { return load_le(at(gpa), size); }
    std::string text(std::uint64_t gpa, std::size_t n) const {
        return std::string(reinterpret_cast<const char*>(at(gpa)), n);
    }
    // The table at gpa after checking it lies inside the blob and sums to 0.
    std::uint32_t checked_length(std::uint64_t gpa) const {
        std::uint32_t length = static_cast<std::uint32_t>(u(gpa + 4, 4));
        CU_ASSERT_FATAL(gpa - kBase + length <= blob.size());
        CU_ASSERT_EQUAL(sum(gpa, length), 0);
        return length;
    }
    std::uint8_t sum(std::uint64_t gpa, std::size_t n) const {
        std::uint8_t s = 0;
        for (std::size_t i = 0; i < n; ++i) {
            s = static_cast<std::uint8_t>(s + at(gpa)[i]);
        }
        return s;
    }
    // The table the XSDT lists with this signature (0 if none).
    std::uint64_t find(const std::string& signature) const {
        std::uint64_t xsdt = u(kBase + 24, 8);
        std::uint32_t length = checked_length(xsdt);
        for (std::uint64_t e = xsdt + 36; e < xsdt + length; e += 8) {
            if (text(u(e, 8), 4) == signature) {
                return u(e, 8);
            }
        }
        return 0;
    }
    Bytes blob;
};

void test_rsdp() {
    Tables t(1);
    CU_ASSERT_EQUAL(t.text(kBase, 8), "RSD PTR ");
    CU_ASSERT_EQUAL(kBase % 16, 0u);
    CU_ASSERT_EQUAL(t.sum(kBase, 20), 0);  // ACPI 1.0 checksum
    CU_ASSERT_EQUAL(t.sum(kBase, 36), 0);  // extended checksum
    CU_ASSERT_EQUAL(t.u(kBase + 15, 1), 2u);
    CU_ASSERT_EQUAL(t.u(kBase + 20, 4), 36u);
    CU_ASSERT(t.blob.size() <= kAcpiTablesMaxSize);
}

void test_rsdt_and_xsdt_list_the_same_tables() {
    Tables t(2);
    std::uint64_t rsdt = t.u(kBase + 16, 4);
    std::uint64_t xsdt = t.u(kBase + 24, 8);
    CU_ASSERT_EQUAL(t.text(rsdt, 4), "RSDT");
    CU_ASSERT_EQUAL(t.text(xsdt, 4), "XSDT");
    std::uint32_t rlen = t.checked_length(rsdt);
    std::uint32_t xlen = t.checked_length(xsdt);
    CU_ASSERT_EQUAL((rlen - 36) / 4, 2u);
    CU_ASSERT_EQUAL((xlen - 36) / 8, 2u);
    for (unsigned i = 0; i < 2; ++i) {
        CU_ASSERT_EQUAL(t.u(rsdt + 36 + 4 * i, 4), t.u(xsdt + 36 + 8 * i, 8));
    }
    CU_ASSERT(t.find("FACP") != 0);
    CU_ASSERT(t.find("APIC") != 0);
}

void test_fadt_points_at_the_machine() {
    Tables t(1);
    std::uint64_t fadt = t.find("FACP");
    CU_ASSERT_EQUAL(t.checked_length(fadt), 244u);
    CU_ASSERT_EQUAL(t.u(fadt + 8, 1), 3u);          // revision 3 (ACPI 2.0)
    CU_ASSERT_EQUAL(t.u(fadt + 46, 2), 9u);         // SCI_INT
    CU_ASSERT_EQUAL(t.u(fadt + 48, 4), 0u);         // SMI_CMD: always ACPI mode
    CU_ASSERT_EQUAL(t.u(fadt + 56, 4), 0x600u);     // PM1a_EVT_BLK
    CU_ASSERT_EQUAL(t.u(fadt + 64, 4), 0x604u);     // PM1a_CNT_BLK: acpi_poweroff.h
    CU_ASSERT_EQUAL(t.u(fadt + 76, 4), 0x608u);     // PM_TMR_BLK
    CU_ASSERT_EQUAL(t.u(fadt + 88, 1), 4u);         // PM1_EVT_LEN
    CU_ASSERT_EQUAL(t.u(fadt + 89, 1), 2u);         // PM1_CNT_LEN
    CU_ASSERT_EQUAL(t.u(fadt + 91, 1), 4u);         // PM_TMR_LEN
    CU_ASSERT_EQUAL(t.u(fadt + 108, 1), 0x32u);     // CENTURY
    CU_ASSERT_EQUAL(t.u(fadt + 109, 2) & 0x2, 0u);  // no 8042 keyboard to probe
    std::uint32_t flags = static_cast<std::uint32_t>(t.u(fadt + 112, 4));
    CU_ASSERT((flags & (1u << 10)) != 0);        // RESET_REG_SUP
    CU_ASSERT((flags & (1u << 8)) == 0);         // TMR_VAL_EXT clear: 24-bit timer
    CU_ASSERT_EQUAL(t.u(fadt + 116, 1), 1u);     // RESET_REG in system I/O
    CU_ASSERT_EQUAL(t.u(fadt + 120, 8), 0x64u);  // the i8042 command port
    CU_ASSERT_EQUAL(t.u(fadt + 128, 1), 0xfeu);  // pulse the reset line
    // The 64-bit fields agree with the 32-bit ones.
    CU_ASSERT_EQUAL(t.u(fadt + 132, 8), t.u(fadt + 36, 4));  // X_FIRMWARE_CTRL
    CU_ASSERT_EQUAL(t.u(fadt + 140, 8), t.u(fadt + 40, 4));  // X_DSDT
    CU_ASSERT_EQUAL(t.u(fadt + 172 + 4, 8), 0x604u);         // X_PM1a_CNT_BLK address
    CU_ASSERT_EQUAL(t.u(fadt + 172 + 1, 1), 16u);            // its bit width
    CU_ASSERT_EQUAL(t.u(fadt + 208 + 4, 8), 0x608u);         // X_PM_TMR_BLK address
}

void test_facs_and_dsdt() {
    Tables t(1);
    std::uint64_t fadt = t.find("FACP");
    std::uint64_t facs = t.u(fadt + 36, 4);
    std::uint64_t dsdt = t.u(fadt + 40, 4);
    CU_ASSERT_EQUAL(facs % 64, 0u);
    CU_ASSERT_EQUAL(t.text(facs, 4), "FACS");
    CU_ASSERT_EQUAL(t.u(facs + 4, 4), 64u);
    CU_ASSERT_EQUAL(t.text(dsdt, 4), "DSDT");
    std::uint32_t length = t.checked_length(dsdt);
    std::string aml = t.text(dsdt + 36, length - 36);
    // Name (_S5, Package (4) {0, 0, 0, 0})
    const char expected[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(aml, std::string(expected, sizeof expected));
}

void check_madt(std::uint32_t cpus) {
    Tables t(cpus);
    std::uint64_t madt = t.find("APIC");
    std::uint32_t length = t.checked_length(madt);
    CU_ASSERT_EQUAL(t.u(madt + 36, 4), 0xfee00000u);
    CU_ASSERT_EQUAL(t.u(madt + 40, 4), 1u);  // PCAT_COMPAT
    std::uint32_t lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
    for (std::uint64_t e = madt + 44; e < madt + length; e += t.u(e + 1, 1)) {
        CU_ASSERT_FATAL(t.u(e + 1, 1) >= 2);
        switch (t.u(e, 1)) {
        case 0:
            CU_ASSERT_EQUAL(t.u(e + 2, 1), lapics);  // UID
            CU_ASSERT_EQUAL(t.u(e + 3, 1), lapics);  // APIC ID = vCPU index
            CU_ASSERT_EQUAL(t.u(e + 4, 4), 1u);      // enabled
            ++lapics;
            break;
        case 1:
            CU_ASSERT_EQUAL(t.u(e + 4, 4), 0xfec00000u);
            CU_ASSERT_EQUAL(t.u(e + 8, 4), 0u);
            ++ioapics;
            break;
        case 2:
            CU_ASSERT_EQUAL(t.u(e + 3, 1), 9u);  // the SCI, level/active high
            CU_ASSERT_EQUAL(t.u(e + 4, 4), 9u);
            CU_ASSERT_EQUAL(t.u(e + 8, 2), 0xdu);
            ++overrides;
            break;
        case 4:
            CU_ASSERT_EQUAL(t.u(e + 5, 1), 1u);  // LINT1
            ++nmis;
            break;
        default: CU_FAIL("unexpected MADT entry type");
        }
    }
    CU_ASSERT_EQUAL(lapics, cpus);
    CU_ASSERT_EQUAL(ioapics, 1u);
    CU_ASSERT_EQUAL(overrides, 1u);
    CU_ASSERT_EQUAL(nmis, 1u);
    CU_ASSERT(t.blob.size() <= kAcpiTablesMaxSize);
}

void test_madt_one_cpu() { check_madt(1); }
void test_madt_four_cpus() { check_madt(4); }
void test_madt_most_cpus() { check_madt(255); }

constexpr kvmdbg::test::TestCase kCases[] = {
    {"RSDP", test_rsdp},
    {"RSDT and XSDT list the same tables", test_rsdt_and_xsdt_list_the_same_tables},
    {"FADT points at the machine's PM ports and reset", test_fadt_points_at_the_machine},
    {"FACS and DSDT with _S5", test_facs_and_dsdt},
    {"MADT, one CPU", test_madt_one_cpu},
    {"MADT, four CPUs", test_madt_four_cpus},
    {"MADT, 255 CPUs", test_madt_most_cpus},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"acpi tables", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
