#include "hw-models/pc/acpi_tables.h"

#include <cstring>
#include <string_view>

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kHeaderSize = 36;
constexpr std::size_t kChecksumOffset = 9;
constexpr std::size_t kRsdpSize = 36;
constexpr std::size_t kFadtSize = 244;
constexpr std::size_t kFacsSize = 64;
constexpr std::size_t kLengthOffset = 4;
// Pointer fields (ACPI 6.5 5.2.5.3, 5.2.7, 5.2.8, 5.2.9 table 5.9).
constexpr std::uint32_t kRsdpRsdtOffset = 16;
constexpr std::uint32_t kRsdpXsdtOffset = 24;
constexpr std::uint32_t kRsdpChecksumOffset = 8;
constexpr std::uint32_t kRsdpV1Size = 20;
constexpr std::uint32_t kRsdpExtendedChecksumOffset = 32;
constexpr std::uint32_t kFadtFirmwareCtrlOffset = 36;
constexpr std::uint32_t kFadtDsdtOffset = 40;
constexpr std::uint32_t kFadtXFirmwareCtrlOffset = 132;
constexpr std::uint32_t kFadtXDsdtOffset = 140;
constexpr std::uint32_t kTableListEntries = 2;  // FADT, MADT
constexpr std::string_view kOemId = "KVMDBG";
constexpr std::string_view kOemTableId = "KVMDBGPC";

// Generic Address Structure (ACPI 6.5, 5.2.3.2): address space 1 = system I/O.
constexpr std::uint8_t kSystemIo = 1;

// FADT flags (5.2.9, table 5.10) and IA-PC boot architecture flags (5.2.9.3).
constexpr std::uint32_t kFadtWbinvd = 1u << 0;
constexpr std::uint32_t kFadtProcC1 = 1u << 2;
constexpr std::uint32_t kFadtPwrButton = 1u << 4;  // power button: absent / control method
constexpr std::uint32_t kFadtSlpButton = 1u << 5;  // sleep button: absent / control method
constexpr std::uint32_t kFadtResetRegSup = 1u << 10;
constexpr std::uint16_t kBootArchLegacyDevices = 1u << 0;
constexpr std::uint16_t kBootArchVgaNotPresent = 1u << 2;

// MADT structure types (5.2.12).
constexpr std::uint8_t kMadtLocalApic = 0;
constexpr std::uint8_t kMadtIoApic = 1;
constexpr std::uint8_t kMadtInterruptOverride = 2;
constexpr std::uint8_t kMadtLocalApicNmi = 4;
constexpr std::uint32_t kMadtPcatCompat = 1;           // dual 8259s present
constexpr std::uint16_t kMpsActiveHighLevel = 0x000d;  // polarity 01, trigger 11

// AML (ACPI 6.5 chapter 20): Name (_S5, Package (4) {0, 0, 0, 0}).
// NameOp '_S5_' PackageOp PkgLength(6) NumElements(4) ZeroOp x4.
constexpr std::uint8_t kDsdtAml[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};

std::uint8_t checksum_of(const std::uint8_t* p, std::size_t n) {
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum = static_cast<std::uint8_t>(sum + p[i]);
    }
    return static_cast<std::uint8_t>(-sum);
}

void put_text(std::uint8_t* p, std::string_view text) { std::memcpy(p, text.data(), text.size()); }

// A table under construction: the standard header, then the body appended.
class Table {
public:
    Table(std::string_view signature, std::uint8_t revision) : bytes_(kHeaderSize, 0) {
        put_text(bytes_.data(), signature);
        bytes_[8] = revision;
        put_text(bytes_.data() + 10, kOemId);
        put_text(bytes_.data() + 16, kOemTableId);
        store_le(bytes_.data() + 24, 1, 4);  // OEM revision
        put_text(bytes_.data() + 28, kOemId.substr(0, 4));
        store_le(bytes_.data() + 32, 1, 4);  // creator revision
    }
    void u8(std::uint64_t v) { put(v, 1); }
    void u16(std::uint64_t v) { put(v, 2); }
    void u32(std::uint64_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void raw(const std::uint8_t* p, std::size_t n) { bytes_.insert(bytes_.end(), p, p + n); }
    void gas(std::uint8_t bit_width, std::uint8_t access_size, std::uint64_t address) {
        u8(kSystemIo);
        u8(bit_width);
        u8(0);  // bit offset
        u8(access_size);
        u64(address);
    }
    /// Sets the length and checksum; the finished bytes.
    Bytes finish() {
        store_le(bytes_.data() + 4, bytes_.size(), 4);
        bytes_[kChecksumOffset] = 0;
        bytes_[kChecksumOffset] = checksum_of(bytes_.data(), bytes_.size());
        return std::move(bytes_);
    }

private:
    void put(std::uint64_t v, std::size_t size) {
        std::size_t at = bytes_.size();
        bytes_.resize(at + size);
        store_le(bytes_.data() + at, v, size);
    }
    Bytes bytes_;
};

// Where each table goes, from the start of the blob.
struct Placement {
    std::size_t rsdt, xsdt, fadt, facs, dsdt, madt, end;
};

std::size_t align_up(std::size_t v, std::size_t a) { return (v + a - 1) & ~(a - 1); }

std::size_t madt_size(std::uint32_t cpus) { return kHeaderSize + 8 + 8 * cpus + 12 + 10 + 6; }

Placement place(std::uint32_t cpus) {
    Placement p{};
    // The RSDT starts on a 64-byte boundary so that the FACS is 64-byte
    // aligned both here and in build_acpi_tables_for_firmware()'s `tables`,
    // which starts at the RSDT and which the firmware places 64-byte aligned.
    p.rsdt = align_up(kRsdpSize, 64);
    p.xsdt = align_up(p.rsdt + kHeaderSize + kTableListEntries * 4, 16);
    p.fadt = align_up(p.xsdt + kHeaderSize + kTableListEntries * 8, 16);
    p.facs = align_up(p.fadt + kFadtSize, 64);
    p.dsdt = align_up(p.facs + kFacsSize, 16);
    p.madt = align_up(p.dsdt + kHeaderSize + sizeof kDsdtAml, 16);
    p.end = p.madt + madt_size(cpus);
    return p;
}

Bytes rsdp(std::uint64_t rsdt, std::uint64_t xsdt) {
    Bytes b(kRsdpSize, 0);
    put_text(b.data(), "RSD PTR ");
    put_text(b.data() + 9, kOemId);
    b[15] = 2;  // revision: ACPI 2.0+, XSDT present
    store_le(b.data() + kRsdpRsdtOffset, rsdt, 4);
    store_le(b.data() + 20, kRsdpSize, 4);
    store_le(b.data() + kRsdpXsdtOffset, xsdt, 8);
    b[kRsdpChecksumOffset] = checksum_of(b.data(), kRsdpV1Size);
    b[kRsdpExtendedChecksumOffset] = checksum_of(b.data(), kRsdpSize);
    return b;
}

Bytes fadt(const AcpiPlatform& pf, std::uint64_t facs, std::uint64_t dsdt) {
    const std::uint64_t evt = pf.pm_base + kAcpiPm1EventOffset;
    const std::uint64_t cnt = pf.pm_base + kAcpiPm1ControlOffset;
    const std::uint64_t tmr = pf.pm_base + kAcpiPmTimerOffset;
    Table t("FACP", 3);
    t.u32(facs);
    t.u32(dsdt);
    t.u8(0);  // reserved (ACPI 1.0 INT_MODEL)
    t.u8(0);  // preferred PM profile: unspecified
    t.u16(pf.sci_irq);
    t.u32(0);    // SMI_CMD: none, always in ACPI mode
    t.u8(0);     // ACPI_ENABLE
    t.u8(0);     // ACPI_DISABLE
    t.u8(0);     // S4BIOS_REQ
    t.u8(0);     // PSTATE_CNT
    t.u32(evt);  // PM1a_EVT_BLK
    t.u32(0);    // PM1b_EVT_BLK
    t.u32(cnt);  // PM1a_CNT_BLK
    t.u32(0);    // PM1b_CNT_BLK
    t.u32(0);    // PM2_CNT_BLK
    t.u32(tmr);  // PM_TMR_BLK
    t.u32(0);    // GPE0_BLK
    t.u32(0);    // GPE1_BLK
    t.u8(kAcpiPm1EventLength);
    t.u8(kAcpiPm1ControlLength);
    t.u8(0);  // PM2_CNT_LEN
    t.u8(kAcpiPmTimerLength);
    t.u8(0);        // GPE0_BLK_LEN
    t.u8(0);        // GPE1_BLK_LEN
    t.u8(0);        // GPE1_BASE
    t.u8(0);        // CST_CNT
    t.u16(0xfff);   // P_LVL2_LAT > 100: no C2
    t.u16(0xffff);  // P_LVL3_LAT > 1000: no C3
    t.u16(0);       // FLUSH_SIZE
    t.u16(0);       // FLUSH_STRIDE
    t.u8(0);        // DUTY_OFFSET
    t.u8(0);        // DUTY_WIDTH
    t.u8(0);        // DAY_ALRM
    t.u8(0);        // MON_ALRM
    t.u8(pf.rtc_century);
    t.u16(kBootArchLegacyDevices | kBootArchVgaNotPresent);
    t.u8(0);
    t.u32(kFadtWbinvd | kFadtProcC1 | kFadtPwrButton | kFadtSlpButton | kFadtResetRegSup);
    t.gas(8, 1, pf.reset_port);  // RESET_REG: one byte of system I/O
    t.u8(pf.reset_value);
    t.u8(0);
    t.u16(0);
    t.u64(facs);  // X_FIRMWARE_CTRL
    t.u64(dsdt);  // X_DSDT
    t.gas(8 * kAcpiPm1EventLength, 0, evt);
    t.gas(0, 0, 0);  // X_PM1b_EVT_BLK
    t.gas(8 * kAcpiPm1ControlLength, 0, cnt);
    t.gas(0, 0, 0);  // X_PM1b_CNT_BLK
    t.gas(0, 0, 0);  // X_PM2_CNT_BLK
    t.gas(8 * kAcpiPmTimerLength, 0, tmr);
    t.gas(0, 0, 0);  // X_GPE0_BLK
    t.gas(0, 0, 0);  // X_GPE1_BLK
    return t.finish();
}

Bytes facs() {
    Bytes b(kFacsSize, 0);
    put_text(b.data(), "FACS");
    store_le(b.data() + 4, kFacsSize, 4);
    b[32] = 1;  // version (ACPI 2.0: 1)
    return b;
}

Bytes dsdt() {
    Table t("DSDT", 2);  // revision 2: 64-bit AML integers
    t.raw(kDsdtAml, sizeof kDsdtAml);
    return t.finish();
}

Bytes madt(const AcpiPlatform& pf) {
    Table t("APIC", 3);
    t.u32(pf.local_apic);
    t.u32(kMadtPcatCompat);
    for (std::uint32_t i = 0; i < pf.cpus; ++i) {
        t.u8(kMadtLocalApic);
        t.u8(8);
        t.u8(i);   // ACPI processor UID
        t.u8(i);   // APIC ID: the vCPU index (the accelerator sets CPUID the same way)
        t.u32(1);  // enabled
    }
    t.u8(kMadtIoApic);
    t.u8(12);
    t.u8(0);  // IOAPIC ID
    t.u8(0);
    t.u32(pf.ioapic);
    t.u32(0);  // GSI base
    t.u8(kMadtInterruptOverride);
    t.u8(10);
    t.u8(0);  // bus: ISA
    t.u8(pf.sci_irq);
    t.u32(pf.sci_irq);
    t.u16(kMpsActiveHighLevel);
    t.u8(kMadtLocalApicNmi);
    t.u8(6);
    t.u8(0xff);  // every processor
    t.u16(0);    // flags: conforming
    t.u8(1);     // LINT1
    return t.finish();
}

Bytes table_list(std::string_view signature, std::size_t entry_size, std::initializer_list<std::uint64_t> entries) {
    Table t(signature, 1);
    for (std::uint64_t e : entries) {
        entry_size == 4 ? t.u32(e) : t.u64(e);
    }
    return t.finish();
}

void copy_at(Bytes& blob, std::size_t at, const Bytes& table) {
    std::memcpy(blob.data() + at, table.data(), table.size());
}

}  // namespace

std::vector<std::uint8_t> build_acpi_tables(const AcpiPlatform& platform, std::uint64_t base) {
    const Placement p = place(platform.cpus);
    Bytes blob(p.end, 0);
    copy_at(blob, 0, rsdp(base + p.rsdt, base + p.xsdt));
    copy_at(blob, p.rsdt, table_list("RSDT", 4, {base + p.fadt, base + p.madt}));
    copy_at(blob, p.xsdt, table_list("XSDT", 8, {base + p.fadt, base + p.madt}));
    copy_at(blob, p.fadt, fadt(platform, base + p.facs, base + p.dsdt));
    copy_at(blob, p.facs, facs());
    copy_at(blob, p.dsdt, dsdt());
    copy_at(blob, p.madt, madt(platform));
    return blob;
}

}  // namespace kvmdbg::hw

namespace kvmdbg::hw {

AcpiTablesForFirmware build_acpi_tables_for_firmware(const AcpiPlatform& platform) {
    const Placement p = place(platform.cpus);
    // Built as if `tables` started at address 0 (the base wraps below it),
    // every pointer is an offset into `tables`.
    const std::uint64_t base = 0 - static_cast<std::uint64_t>(p.rsdt);
    Bytes blob = build_acpi_tables(platform, base);
    AcpiTablesForFirmware out;
    out.tables_offset = static_cast<std::uint32_t>(p.rsdt);
    out.rsdp.assign(blob.begin(), blob.begin() + kRsdpSize);
    out.tables.assign(blob.begin() + static_cast<std::ptrdiff_t>(p.rsdt), blob.end());
    out.rsdp_pointers = {{kRsdpRsdtOffset, 4}, {kRsdpXsdtOffset, 8}};
    out.rsdp_checksums = {{kRsdpChecksumOffset, 0, kRsdpV1Size},
                          {kRsdpExtendedChecksumOffset, 0, static_cast<std::uint32_t>(kRsdpSize)}};
    auto at = [&p](std::size_t table, std::uint32_t field) {
        return static_cast<std::uint32_t>(table - p.rsdt + field);
    };
    for (std::uint32_t i = 0; i < kTableListEntries; ++i) {
        out.table_pointers.push_back({at(p.rsdt, kHeaderSize + 4 * i), 4});
        out.table_pointers.push_back({at(p.xsdt, kHeaderSize + 8 * i), 8});
    }
    out.table_pointers.push_back({at(p.fadt, kFadtFirmwareCtrlOffset), 4});
    out.table_pointers.push_back({at(p.fadt, kFadtDsdtOffset), 4});
    out.table_pointers.push_back({at(p.fadt, kFadtXFirmwareCtrlOffset), 8});
    out.table_pointers.push_back({at(p.fadt, kFadtXDsdtOffset), 8});
    for (std::size_t table : {p.rsdt, p.xsdt, p.fadt, p.dsdt, p.madt}) {
        auto length = static_cast<std::uint32_t>(load_le(blob.data() + table + kLengthOffset, 4));
        out.table_checksums.push_back({at(table, kChecksumOffset), at(table, 0), length});
    }
    return out;
}

}  // namespace kvmdbg::hw
