// PcFirmware (-bios): size checks, the placement below 4 GiB and the low
// copy of the last 128 KiB below 1 MiB; IsaDebugcon's readback and output.
#include "hw-models/pc/pc_firmware.h"

#include <cstring>
#include <string>
#include <vector>

#include "hw-models/devices/isa_debugcon.h"
#include "tests/support/cunit_main.h"
#include "tests/support/temp_file.h"

namespace {

using namespace kvmdbg::hw;
using Bytes = std::vector<std::uint8_t>;

Bytes pattern(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(i / 4096);
    }
    return b;
}

void test_256k_image() {
    kvmdbg::test::TempFile f(pattern(256 * 1024));
    auto fw = PcFirmware::load(f.path());
    CU_ASSERT_FATAL(fw.ok());
    CU_ASSERT_EQUAL(fw->rom_base(), 0xfffc0000u);
    CU_ASSERT_EQUAL(fw->rom().size(), 256u * 1024);
    CU_ASSERT_EQUAL(fw->isa_bios().size(), 128u * 1024);
    CU_ASSERT_EQUAL(fw->isa_bios_base(), 0xe0000u);
    CU_ASSERT_EQUAL(fw->isa_bios()[0], 32);                  // byte 128 KiB of the file
    CU_ASSERT_EQUAL(fw->isa_bios()[128 * 1024 - 16], 63);    // the reset vector's page
    CU_ASSERT_EQUAL(fw->rom().data()[256 * 1024 - 16], 63);  // 0xfffffff0
}

void test_64k_image() {
    kvmdbg::test::TempFile f(pattern(64 * 1024));
    auto fw = PcFirmware::load(f.path());
    CU_ASSERT_FATAL(fw.ok());
    CU_ASSERT_EQUAL(fw->rom_base(), 0xffff0000u);
    CU_ASSERT_EQUAL(fw->isa_bios().size(), 64u * 1024);
    CU_ASSERT_EQUAL(fw->isa_bios_base(), 0xf0000u);
}

void test_bad_sizes_refused() {
    for (std::size_t n : {std::size_t{1000}, std::size_t{64 * 1024 + 1}, std::size_t{17} << 20}) {
        kvmdbg::test::TempFile f(Bytes(n, 0));
        auto fw = PcFirmware::load(f.path());
        CU_ASSERT_FALSE(fw.ok());
        if (!fw.ok()) {
            CU_ASSERT(fw.error().message.find("multiple of 64 KiB and at most 16 MiB") != std::string::npos);
            CU_ASSERT(fw.error().message.find(f.path()) == 0);
        }
    }
    kvmdbg::test::TempFile empty(Bytes{});
    CU_ASSERT_FALSE(PcFirmware::load(empty.path()).ok());
    CU_ASSERT_FALSE(PcFirmware::load("/nonexistent/kvmdbg-bios.bin").ok());
}

class Capture final : public CharBackend {
public:
    void write(std::span<const std::uint8_t> bytes) override { out.append(bytes.begin(), bytes.end()); }
    std::string out;
};

void test_debugcon() {
    auto capture = std::make_shared<Capture>();
    IsaDebugcon con(capture);
    CU_ASSERT_EQUAL(con.read(0, 1), 0xe9u);
    for (char c : std::string("SeaBIOS\n")) {
        CU_ASSERT(con.write(0, static_cast<unsigned char>(c), 1) == IoOutcome::proceed);
    }
    con.write(0, 0x4142, 2);  // a word write logs its low byte
    CU_ASSERT_EQUAL(capture->out, "SeaBIOS\nB");
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"256 KiB image: 0xfffc0000 and 0xe0000", test_256k_image},
    {"64 KiB image: 0xffff0000 and 0xf0000", test_64k_image},
    {"bad sizes, empty and missing files refused", test_bad_sizes_refused},
    {"isa-debugcon readback and output", test_debugcon},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"pc firmware", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
