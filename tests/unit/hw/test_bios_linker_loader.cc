// Unit tests for BiosLinkerLoader: each command's 128 bytes as QEMU's
// hw/acpi/bios-linker-loader.c lays them out (BiosLinkerLoaderEntry), the
// file-name limit, and the round trip through pc-lite's fw_cfg: the
// commands in "etc/table-loader" run the way SeaBIOS's romfile_loader runs
// them, over "etc/acpi/rsdp" and "etc/acpi/tables", give the tables that
// pc-lite writes itself for a directly booted kernel, byte for byte.
#include "hw-models/devices/bios_linker_loader.h"

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "hw-models/pc/acpi_tables.h"
#include "hw-models/pc/pc_lite.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kCmd = BiosLinkerLoader::kCommandSize;

// ------------------------------------------------------------- helpers

// The NUL-padded 56-byte name field at `p`, as a string (empty if no NUL).
std::string name_at(const std::uint8_t* p) {
    for (std::size_t i = 0; i < 56; ++i) {
        if (p[i] == 0) {
            return std::string(reinterpret_cast<const char*>(p), i);
        }
    }
    return "";
}

bool all_zero(const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] != 0) {
            std::fprintf(stderr, "\n  nonzero byte at +%zu\n", i);
            return false;
        }
    }
    return true;
}

// The name field at `p` holds `name` and NULs up to its 56 bytes.
bool name_field_is(const std::uint8_t* p, const std::string& name) {
    return std::string(reinterpret_cast<const char*>(p), name.size()) == name &&
           all_zero(p + name.size(), 56 - name.size());
}

// ------------------------------------------------------ command layout

void test_allocate_layout() {
    BiosLinkerLoader loader;
    CU_ASSERT_TRUE_FATAL(loader.allocate("etc/acpi/tables", 64, BiosLinkerLoader::Zone::high).ok());
    CU_ASSERT_TRUE_FATAL(loader.allocate("etc/acpi/rsdp", 16, BiosLinkerLoader::Zone::fseg).ok());
    const Bytes& b = loader.bytes();
    CU_ASSERT_EQUAL_FATAL(b.size(), 2 * kCmd);
    const std::uint8_t* c = b.data();
    CU_ASSERT_EQUAL(load_le(c, 4), 1u);  // COMMAND_ALLOCATE
    CU_ASSERT_TRUE(name_field_is(c + 4, "etc/acpi/tables"));
    CU_ASSERT_EQUAL(load_le(c + 60, 4), 64u);  // align
    CU_ASSERT_EQUAL(c[64], 1);                 // ALLOC_ZONE_HIGH
    CU_ASSERT_TRUE(all_zero(c + 65, kCmd - 65));
    c += kCmd;
    CU_ASSERT_EQUAL(load_le(c, 4), 1u);
    CU_ASSERT_TRUE(name_field_is(c + 4, "etc/acpi/rsdp"));
    CU_ASSERT_EQUAL(load_le(c + 60, 4), 16u);
    CU_ASSERT_EQUAL(c[64], 2);  // ALLOC_ZONE_FSEG
    CU_ASSERT_TRUE(all_zero(c + 65, kCmd - 65));
}

void test_add_pointer_layout() {
    BiosLinkerLoader loader;
    CU_ASSERT_TRUE_FATAL(loader.add_pointer("etc/acpi/rsdp", "etc/acpi/tables", 0x12345678, 8).ok());
    const Bytes& b = loader.bytes();
    CU_ASSERT_EQUAL_FATAL(b.size(), kCmd);
    const std::uint8_t* c = b.data();
    CU_ASSERT_EQUAL(load_le(c, 4), 2u);  // COMMAND_ADD_POINTER
    CU_ASSERT_TRUE(name_field_is(c + 4, "etc/acpi/rsdp"));
    CU_ASSERT_TRUE(name_field_is(c + 60, "etc/acpi/tables"));
    CU_ASSERT_EQUAL(c[116], 0x78);  // offset, little-endian
    CU_ASSERT_EQUAL(c[117], 0x56);
    CU_ASSERT_EQUAL(c[118], 0x34);
    CU_ASSERT_EQUAL(c[119], 0x12);
    CU_ASSERT_EQUAL(c[120], 8);  // size
    CU_ASSERT_TRUE(all_zero(c + 121, kCmd - 121));
}

void test_add_checksum_layout() {
    BiosLinkerLoader loader;
    CU_ASSERT_TRUE_FATAL(loader.add_checksum("etc/acpi/tables", 0x109, 0x100, 0xf4).ok());
    const Bytes& b = loader.bytes();
    CU_ASSERT_EQUAL_FATAL(b.size(), kCmd);
    const std::uint8_t* c = b.data();
    CU_ASSERT_EQUAL(load_le(c, 4), 3u);  // COMMAND_ADD_CHECKSUM
    CU_ASSERT_TRUE(name_field_is(c + 4, "etc/acpi/tables"));
    CU_ASSERT_EQUAL(load_le(c + 60, 4), 0x109u);  // offset
    CU_ASSERT_EQUAL(load_le(c + 64, 4), 0x100u);  // start
    CU_ASSERT_EQUAL(load_le(c + 68, 4), 0xf4u);   // length
    CU_ASSERT_TRUE(all_zero(c + 72, kCmd - 72));
}

void test_commands_appended_in_call_order() {
    BiosLinkerLoader loader;
    CU_ASSERT_TRUE(loader.add_checksum("a", 0, 0, 1).ok());
    CU_ASSERT_TRUE(loader.allocate("b", 1, BiosLinkerLoader::Zone::high).ok());
    CU_ASSERT_TRUE(loader.add_pointer("c", "d", 0, 4).ok());
    const Bytes& b = loader.bytes();
    CU_ASSERT_EQUAL_FATAL(b.size(), 3 * kCmd);
    CU_ASSERT_EQUAL(load_le(b.data(), 4), 3u);
    CU_ASSERT_EQUAL(load_le(b.data() + kCmd, 4), 1u);
    CU_ASSERT_EQUAL(load_le(b.data() + 2 * kCmd, 4), 2u);
    CU_ASSERT_EQUAL(name_at(b.data() + 2 * kCmd + 60), "d");
    CU_ASSERT_EQUAL(std::string(BiosLinkerLoader::kFileName), "etc/table-loader");
}

void test_55_byte_name_fills_the_field() {
    const std::string name(55, 'n');
    BiosLinkerLoader loader;
    CU_ASSERT_TRUE_FATAL(loader.add_pointer(name, name, 0, 1).ok());
    const std::uint8_t* c = loader.bytes().data();
    CU_ASSERT_TRUE(name_field_is(c + 4, name));
    CU_ASSERT_TRUE(name_field_is(c + 60, name));
    CU_ASSERT_EQUAL(c[59], 0);
    CU_ASSERT_EQUAL(c[115], 0);
}

void test_56_byte_or_empty_name_refused() {
    const std::string long_name(56, 'n');
    BiosLinkerLoader loader;
    auto a = loader.allocate(long_name, 64, BiosLinkerLoader::Zone::high);
    CU_ASSERT_FALSE_FATAL(a.ok());
    CU_ASSERT_EQUAL(a.error().code, EINVAL);
    CU_ASSERT_NOT_EQUAL(a.error().message.find(long_name), std::string::npos);
    auto p = loader.add_pointer("ok", long_name, 0, 4);
    CU_ASSERT_FALSE_FATAL(p.ok());
    CU_ASSERT_EQUAL(p.error().code, EINVAL);
    p = loader.add_pointer(long_name, "ok", 0, 4);
    CU_ASSERT_FALSE_FATAL(p.ok());
    CU_ASSERT_EQUAL(p.error().code, EINVAL);
    auto c = loader.add_checksum(long_name, 0, 0, 1);
    CU_ASSERT_FALSE_FATAL(c.ok());
    CU_ASSERT_EQUAL(c.error().code, EINVAL);
    auto e = loader.add_checksum("", 0, 0, 1);
    CU_ASSERT_FALSE_FATAL(e.ok());
    CU_ASSERT_EQUAL(e.error().code, EINVAL);
    // A refused command leaves nothing behind.
    CU_ASSERT_TRUE(loader.bytes().empty());
}

const test::TestCase kLayout[] = {
    {"ALLOCATE: file at 4, le32 align at 60, zone at 64, zeros after", test_allocate_layout},
    {"ADD_POINTER: dest at 4, src at 60, le32 offset at 116, size at 120, zeros after", test_add_pointer_layout},
    {"ADD_CHECKSUM: file at 4, le32 offset, start, length at 60, 64, 68, zeros after", test_add_checksum_layout},
    {"commands are appended in call order, 128 bytes each", test_commands_appended_in_call_order},
    {"a 55-byte name fills the field with its NUL", test_55_byte_name_fills_the_field},
    {"a 56-byte or empty name is refused with EINVAL", test_56_byte_or_empty_name_refused},
};

// -------------------------------------------- the firmware's side of it

// What SeaBIOS's romfile_loader does with "etc/table-loader": each ALLOCATE
// copies the fw_cfg file to the next free address of its zone (aligned as
// asked), ADD_POINTER adds the source file's address to the little-endian
// field, ADD_CHECKSUM subtracts the byte sum of the range from the byte at
// offset. Every bound the firmware checks is asserted.
class TableLoader {
public:
    TableLoader(const FwCfgItems& items, std::uint64_t high, std::uint64_t fseg)
        : items_(items), next_high_(high), next_fseg_(fseg) {}

    void run(std::span<const std::uint8_t> commands) {
        CU_ASSERT_EQUAL_FATAL(commands.size() % kCmd, 0u);
        for (std::size_t at = 0; at < commands.size(); at += kCmd) {
            const std::uint8_t* c = commands.data() + at;
            switch (load_le(c, 4)) {
            case 1: allocate(c + 4); break;
            case 2: add_pointer(c + 4); break;
            case 3: add_checksum(c + 4); break;
            default: CU_FAIL("unknown table-loader command");
            }
        }
    }

    struct Placed {
        std::uint64_t address = 0;
        Bytes bytes;
    };
    const Placed& file(const std::string& name) const {
        auto it = files_.find(name);
        CU_ASSERT_FATAL(it != files_.end());
        return it->second;
    }

    // The `n` bytes at guest address `gpa`, which lie inside one placed file.
    const std::uint8_t* at(std::uint64_t gpa, std::size_t n) const {
        for (const auto& [name, f] : files_) {
            if (gpa >= f.address && gpa + n <= f.address + f.bytes.size()) {
                return f.bytes.data() + (gpa - f.address);
            }
        }
        CU_FAIL_FATAL("address outside every placed file");
        return nullptr;
    }

private:
    Placed& placed(const std::uint8_t* name_field) {
        std::string name = name_at(name_field);
        auto it = files_.find(name);
        CU_ASSERT_FATAL(it != files_.end());
        return it->second;
    }

    void allocate(const std::uint8_t* c) {
        std::string name = name_at(c);
        std::uint32_t align = static_cast<std::uint32_t>(load_le(c + 56, 4));
        std::uint8_t zone = c[60];
        CU_ASSERT_FATAL(align != 0 && (align & (align - 1)) == 0);
        CU_ASSERT_FATAL(zone == 1 || zone == 2);
        CU_ASSERT_FATAL(files_.find(name) == files_.end());
        std::uint16_t key = items_.file_selector(name);
        CU_ASSERT_FATAL(key != 0);
        auto content = items_.item(key);
        std::uint64_t& next = zone == 1 ? next_high_ : next_fseg_;
        next = (next + align - 1) & ~static_cast<std::uint64_t>(align - 1);
        files_[name] = Placed{next, Bytes(content.begin(), content.end())};
        next += content.size();
        if (zone == 2) {
            CU_ASSERT_FATAL(next <= 0x100000);  // the F-segment ends at 1 MiB
        }
    }

    void add_pointer(const std::uint8_t* c) {
        Placed& dest = placed(c);
        const Placed& src = placed(c + 56);
        std::uint32_t offset = static_cast<std::uint32_t>(load_le(c + 112, 4));
        std::uint8_t size = c[116];
        CU_ASSERT_FATAL(size == 1 || size == 2 || size == 4 || size == 8);
        CU_ASSERT_FATAL(static_cast<std::uint64_t>(offset) + size <= dest.bytes.size());
        std::uint64_t value = load_le(dest.bytes.data() + offset, size) + src.address;
        store_le(dest.bytes.data() + offset, value, size);
    }

    void add_checksum(const std::uint8_t* c) {
        Placed& f = placed(c);
        std::uint32_t offset = static_cast<std::uint32_t>(load_le(c + 56, 4));
        std::uint32_t start = static_cast<std::uint32_t>(load_le(c + 60, 4));
        std::uint32_t length = static_cast<std::uint32_t>(load_le(c + 64, 4));
        CU_ASSERT_FATAL(offset < f.bytes.size());
        CU_ASSERT_FATAL(static_cast<std::uint64_t>(start) + length <= f.bytes.size());
        std::uint8_t sum = 0;
        for (std::uint32_t i = 0; i < length; ++i) {
            sum = static_cast<std::uint8_t>(sum + f.bytes[start + i]);
        }
        f.bytes[offset] = static_cast<std::uint8_t>(f.bytes[offset] - sum);
    }

    const FwCfgItems& items_;
    std::uint64_t next_high_, next_fseg_;
    std::map<std::string, Placed> files_;
};

class NullHost final : public MachineHost {
public:
    void request_exit(int, const std::string&) override {}
    void request_reset(const std::string&) override {}
    void request_poweroff(const std::string&) override {}
    void set_irq_line(std::uint32_t, bool) override {}
};

std::unique_ptr<PcLite> make_pc(std::uint32_t cpus, Log& log, MachineHost& host) {
    PcLiteConfig config;
    config.ram_size = 128ull << 20;
    config.cpus = cpus;
    config.serial = "none";
    auto pc = PcLite::create(config, log, host);
    CU_ASSERT_FATAL(pc.ok());
    return std::move(pc).value();
}

std::uint8_t byte_sum(const std::uint8_t* p, std::size_t n) {
    std::uint8_t s = 0;
    for (std::size_t i = 0; i < n; ++i) {
        s = static_cast<std::uint8_t>(s + p[i]);
    }
    return s;
}

// The ACPI table at `gpa`, checked to sum to 0 over its length.
std::uint32_t checked_table(const TableLoader& mem, std::uint64_t gpa, const char* signature) {
    const std::uint8_t* h = mem.at(gpa, 36);
    CU_ASSERT_EQUAL(std::string(reinterpret_cast<const char*>(h), 4), signature);
    auto length = static_cast<std::uint32_t>(load_le(h + 4, 4));
    CU_ASSERT_EQUAL(byte_sum(mem.at(gpa, length), length), 0);
    return length;
}

// Every table reached from the placed RSDP sums to 0, and the FACS sits
// on a 64-byte boundary (ACPI 6.5 5.2.10).
void check_placed_checksums(const TableLoader& mem) {
    const TableLoader::Placed& rsdp = mem.file("etc/acpi/rsdp");
    CU_ASSERT_EQUAL(byte_sum(rsdp.bytes.data(), 20), 0);
    CU_ASSERT_EQUAL(byte_sum(rsdp.bytes.data(), 36), 0);
    std::uint64_t rsdt = load_le(rsdp.bytes.data() + 16, 4);
    std::uint64_t xsdt = load_le(rsdp.bytes.data() + 24, 8);
    std::uint32_t rsdt_length = checked_table(mem, rsdt, "RSDT");
    std::uint32_t xsdt_length = checked_table(mem, xsdt, "XSDT");
    CU_ASSERT_EQUAL_FATAL((rsdt_length - 36) / 4, 2u);
    CU_ASSERT_EQUAL_FATAL((xsdt_length - 36) / 8, 2u);
    CU_ASSERT_EQUAL(load_le(mem.at(rsdt + 36, 4), 4), load_le(mem.at(xsdt + 36, 8), 8));
    CU_ASSERT_EQUAL(load_le(mem.at(rsdt + 40, 4), 4), load_le(mem.at(xsdt + 44, 8), 8));
    std::uint64_t fadt = load_le(mem.at(xsdt + 36, 8), 8);
    checked_table(mem, fadt, "FACP");
    checked_table(mem, load_le(mem.at(xsdt + 44, 8), 8), "APIC");
    std::uint64_t facs = load_le(mem.at(fadt + 36, 4), 4);
    std::uint64_t dsdt = load_le(mem.at(fadt + 40, 4), 4);
    CU_ASSERT_EQUAL(load_le(mem.at(fadt + 132, 8), 8), facs);
    CU_ASSERT_EQUAL(load_le(mem.at(fadt + 140, 8), 8), dsdt);
    CU_ASSERT_EQUAL(std::string(reinterpret_cast<const char*>(mem.at(facs, 64)), 4), "FACS");
    CU_ASSERT_EQUAL(facs % 64, 0u);
    checked_table(mem, dsdt, "DSDT");
}

void check_round_trip(std::uint32_t cpus, std::uint64_t high, std::uint64_t fseg) {
    Log log;
    NullHost host;
    auto pc = make_pc(cpus, log, host);
    FwCfgItems& items = pc->fw_cfg().items();
    std::uint16_t loader_key = items.file_selector("etc/table-loader");
    CU_ASSERT_FATAL(loader_key != 0);
    TableLoader mem(items, high, fseg);
    mem.run(items.item(loader_key));

    const TableLoader::Placed& rsdp = mem.file("etc/acpi/rsdp");
    const TableLoader::Placed& tables = mem.file("etc/acpi/tables");
    CU_ASSERT_EQUAL(tables.address % 64, 0u);
    CU_ASSERT_EQUAL(rsdp.address % 16, 0u);
    CU_ASSERT_TRUE(rsdp.address >= 0xf0000 && rsdp.address + 36 <= 0x100000);

    AcpiPlatform platform;
    platform.cpus = cpus;
    const std::uint32_t tables_offset = build_acpi_tables_for_firmware(platform).tables_offset;
    Bytes want = build_acpi_tables(platform, tables.address - tables_offset);
    CU_ASSERT_FATAL(want.size() == tables_offset + tables.bytes.size());
    CU_ASSERT_TRUE(rsdp.bytes == Bytes(want.begin(), want.begin() + 36));
    CU_ASSERT_TRUE(tables.bytes == Bytes(want.begin() + tables_offset, want.end()));
    check_placed_checksums(mem);
}

void test_round_trip_one_cpu() {
    check_round_trip(1, 0x07fc0000, 0xf5a40);
    check_round_trip(1, 0xbffd0008, 0xf0001);  // both rounded up to the alignment asked for
}

void test_round_trip_four_cpus() {
    check_round_trip(4, 0x07fc0000, 0xf5a40);
    check_round_trip(4, 0x3ffe1234, 0xfe000);
}

void test_firmware_tables_split_as_documented() {
    for (std::uint32_t cpus : {1u, 4u}) {
        AcpiPlatform platform;
        platform.cpus = cpus;
        auto fw = build_acpi_tables_for_firmware(platform);
        CU_ASSERT_EQUAL(fw.rsdp.size(), 36u);
        CU_ASSERT_EQUAL(std::string(fw.rsdp.begin(), fw.rsdp.begin() + 8), "RSD PTR ");
        CU_ASSERT_TRUE(fw.tables_offset >= 36);
        // Unlinked: the RSDP's pointers are offsets into `tables`.
        CU_ASSERT_EQUAL(load_le(fw.rsdp.data() + 16, 4), 0u);
        CU_ASSERT_TRUE(load_le(fw.rsdp.data() + 24, 8) < fw.tables.size());
        CU_ASSERT_EQUAL(std::string(fw.tables.begin(), fw.tables.begin() + 4), "RSDT");
        for (const auto& p : fw.table_pointers) {
            CU_ASSERT_TRUE(p.offset + p.size <= fw.tables.size());
            CU_ASSERT_TRUE(load_le(fw.tables.data() + p.offset, p.size) < fw.tables.size());
        }
        for (const auto& c : fw.table_checksums) {
            CU_ASSERT_TRUE(c.offset >= c.start && c.offset < c.start + c.length);
            CU_ASSERT_TRUE(c.start + c.length <= fw.tables.size());
        }
    }
}

void test_table_loader_allocates_then_links_then_checksums() {
    Log log;
    NullHost host;
    auto pc = make_pc(2, log, host);
    FwCfgItems& items = pc->fw_cfg().items();
    auto commands = items.item(items.file_selector("etc/table-loader"));
    CU_ASSERT_FATAL(commands.size() >= 2 * kCmd);
    CU_ASSERT_EQUAL(commands.size() % kCmd, 0u);
    std::uint32_t last = 0;
    for (std::size_t at = 0; at < commands.size(); at += kCmd) {
        auto command = static_cast<std::uint32_t>(load_le(commands.data() + at, 4));
        CU_ASSERT_TRUE(command >= last);
        last = command;
    }
    CU_ASSERT_EQUAL(last, 3u);
    // The tables first, in high RAM 64-byte aligned; the RSDP in the F-segment.
    CU_ASSERT_EQUAL(name_at(commands.data() + 4), "etc/acpi/tables");
    CU_ASSERT_EQUAL(load_le(commands.data() + 60, 4), 64u);
    CU_ASSERT_EQUAL(commands[64], 1);
    CU_ASSERT_EQUAL(name_at(commands.data() + kCmd + 4), "etc/acpi/rsdp");
    CU_ASSERT_EQUAL(load_le(commands.data() + kCmd + 60, 4), 16u);
    CU_ASSERT_EQUAL(commands[kCmd + 64], 2);
}

const test::TestCase kRoundTrip[] = {
    {"build_acpi_tables_for_firmware: pointers and checksums inside the files",
     test_firmware_tables_split_as_documented},
    {"pc-lite's table-loader allocates, then links, then checksums",
     test_table_loader_allocates_then_links_then_checksums},
    {"placed and linked, 1 CPU: build_acpi_tables at the placed address", test_round_trip_one_cpu},
    {"placed and linked, 4 CPUs: build_acpi_tables at the placed address", test_round_trip_four_cpus},
};

const test::TestSuite kSuites[] = {
    {"table-loader command layout", kLayout},
    {"table-loader round trip", kRoundTrip},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
