// Unit tests for the direct ELF64 boot (hw-models/loaders/elf64_loader) and
// the x86 -kernel front door (x86_kernel_loader) on ELF64 and file errors:
// images built in memory, written to temp files, loaded into a GuestRam.
#include "hw-models/loaders/elf64_loader.h"

#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "arch/x86/boot_tables.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/x86_kernel_loader.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"
#include "tests/support/temp_file.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using test::build_elf;
using test::build_elf64;
using test::Bytes;
using test::pattern;
using test::put64;
using test::Seg;
using test::seg;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

// ------------------------------------------------------------- helpers

std::uint64_t load64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

using kvmdbg::test::TempFile;

// Low RAM [0, low) and optionally high RAM at 4 GiB, filled with 0xcc so
// that zero-filling is visible.
struct Ram {
    GuestRam ram;
    explicit Ram(std::uint64_t low, std::uint64_t high = 0) {
        CU_ASSERT_FATAL(ram.add_region(0, low).ok());
        if (high != 0) {
            CU_ASSERT_FATAL(ram.add_region(4 * kGiB, high).ok());
        }
        for (const auto& r : ram.regions()) {
            if (r.gpa == 0) std::memset(r.memory.data(), 0xcc, r.memory.size());
        }
    }
    const std::uint8_t* at(std::uint64_t gpa, std::uint64_t len = 1) const {
        const std::uint8_t* p = ram.host_ptr(gpa, len);
        CU_ASSERT_FATAL(p != nullptr);
        return p;
    }
};

Result<X86BootPlan> load(const std::string& path, GuestRam& ram, std::string initrd = "", std::string append = "") {
    Log log;
    X86KernelOptions o;
    o.kernel_path = path;
    o.initrd = std::move(initrd);
    o.append = std::move(append);
    return load_x86_kernel(o, ram, log);
}

bool has(const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    if (!found) {
        std::fprintf(stderr, "\n  message: %s\n  missing: %s\n", text.c_str(), part.c_str());
    }
    return found;
}

// Loads `image` from a temp file into `ram` and checks that it fails with
// `code` and a message naming the file and containing `part`.
void expect_load_error(const Bytes& image, GuestRam& ram, int code, const std::string& part,
                       const std::string& initrd = "") {
    TempFile f(image);
    auto r = load(f.path(), ram, initrd);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, code);
    CU_ASSERT_TRUE(has(r.error().message, f.path() + ": "));
    CU_ASSERT_TRUE(has(r.error().message, part));
}

// ------------------------------------------------------------ loading

// Where test_load_segments_tables_and_state's image (a text segment at
// 1 MiB, a data segment with bss at 2 MiB, 16 MiB of RAM) must have gone.
void check_segments_written(Ram& m, const Bytes& text, const Bytes& data) {
    // Segments, zero fill, and nothing beyond memsz.
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x100000, 0x30), text.data(), 0x30), 0);
    CU_ASSERT_EQUAL(*m.at(0x100030), 0xcc);
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x200000, 0x10), data.data(), 0x10), 0);
    for (std::uint64_t a = 0x200010; a < 0x202345; ++a) {
        if (*m.at(a) != 0) {
            CU_FAIL("bss not zeroed");
            break;
        }
    }
    CU_ASSERT_EQUAL(*m.at(0x202345), 0xcc);
}

void check_boot_tables_written(Ram& m) {
    // GDT at the page above the highest segment, tables right after it.
    Bytes gdt(arch::x86::kBootGdtSize);
    CU_ASSERT_FATAL(arch::x86::write_boot_gdt(gdt).ok());
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x203000, gdt.size()), gdt.data(), gdt.size()), 0);
    CU_ASSERT_EQUAL(*m.at(0x203000 + 32), 0);
    CU_ASSERT_EQUAL(load64(m.at(0x204000, 8)), 0x205003u);          // PML4[0]
    CU_ASSERT_EQUAL(load64(m.at(0x205000 + 8 * 3, 8)), 0x209003u);  // PDPT[3]
    CU_ASSERT_EQUAL(load64(m.at(0x205000 + 8 * 4, 8)), 0u);         // nothing above 4 GiB
    CU_ASSERT_EQUAL(load64(m.at(0x206000 + 8, 8)), 0x200083u);      // PD0[1]
    CU_ASSERT_EQUAL(load64(m.at(0x209000 + 8 * 511, 8)), 0xffe00083u);
    CU_ASSERT_EQUAL(*m.at(0x20a000), 0xcc);  // tables end here
}

void check_boot_plan(const X86BootPlan& plan) {
    CU_ASSERT_TRUE(plan.all_vcpus_start_at_entry);
    CU_ASSERT_EQUAL(plan.entry, 0x100008u);
    CU_ASSERT_EQUAL(plan.stack_top, 16 * kMiB);
    CU_ASSERT_EQUAL(plan.stack_floor, 0x20a000u);
    // What was written: both segments, then GDT page + tables.
    CU_ASSERT_EQUAL_FATAL(plan.loaded.size(), 3u);
    CU_ASSERT_EQUAL(plan.loaded[0].start, 0x100000u);
    CU_ASSERT_EQUAL(plan.loaded[0].end, 0x100030u);
    CU_ASSERT_EQUAL(plan.loaded[1].start, 0x200000u);
    CU_ASSERT_EQUAL(plan.loaded[1].end, 0x202345u);
    CU_ASSERT_EQUAL(plan.loaded[2].start, 0x203000u);
    CU_ASSERT_EQUAL(plan.loaded[2].end, 0x20a000u);
    CU_ASSERT_FALSE(plan.loaded_over(0x400, 0x500));
    CU_ASSERT_TRUE(plan.loaded_over(0x20202f, 0x202346));
    CU_ASSERT_FALSE(plan.loaded_over(0x202345, 0x203000));
}

void check_bsp_state(const KvmdbgX86State& st) {
    CU_ASSERT_EQUAL(st.rip, 0x100008u);
    CU_ASSERT_EQUAL(st.cr3, 0x204000u);
    CU_ASSERT_EQUAL(st.gdt.base, 0x203000u);
    CU_ASSERT_EQUAL(st.gdt.limit, 31);
    CU_ASSERT_EQUAL(st.cr0, 0x80010033u);
    CU_ASSERT_EQUAL(st.cr4, 0x620u);
    CU_ASSERT_EQUAL(st.efer & 0x500, 0x500u);
    CU_ASSERT_EQUAL(st.cs.selector, 0x18);
    CU_ASSERT_EQUAL(st.cs.l, 1);
    CU_ASSERT_EQUAL(st.cs.db, 0);
    CU_ASSERT_EQUAL(st.ss.selector, 0x10);
    CU_ASSERT_EQUAL(st.rflags, 0x2u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSP], 16 * kMiB);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RDI], 0u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSI], 1u);
    CU_ASSERT_EQUAL(st.apic_base, 0xfee00900u);
    CU_ASSERT_EQUAL(st.fcw, 0x37f);
    CU_ASSERT_EQUAL(st.mxcsr, 0x1f80u);
}

void test_load_segments_tables_and_state() {
    Ram m(16 * kMiB);
    Bytes text = pattern(0x30, 1);
    Bytes data = pattern(0x10, 99);
    Bytes image = build_elf64(0x100008, {seg(0x100000, text, 0x30), seg(0x200000, data, 0x2345)});
    TempFile f(image);
    Log log;
    std::string log_path = f.path() + ".log";
    CU_ASSERT_FATAL(log.set_file(log_path).ok());
    CU_ASSERT_FATAL(log.enable("loader").ok());
    X86KernelOptions o;
    o.kernel_path = f.path();
    auto r = load_x86_kernel(o, m.ram, log);
    CU_ASSERT_FATAL(r.ok());

    check_segments_written(m, text, data);
    check_boot_tables_written(m);
    check_boot_plan(*r);
    check_bsp_state(r->bsp_state);

    // The log says where things went.
    std::ifstream in(log_path);
    std::stringstream text_log;
    text_log << in.rdbuf();
    ::unlink(log_path.c_str());
    CU_ASSERT_TRUE(has(text_log.str(), "GDT at 0x203000"));
    CU_ASSERT_TRUE(has(text_log.str(), "page tables (CR3) at 0x204000"));
    CU_ASSERT_TRUE(has(text_log.str(), "segment 1 -> [0x200000, 0x202345)"));
}

void test_vcpu_states() {
    Ram m(16 * kMiB);
    TempFile f(build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    const X86BootPlan& plan = *r;
    // Tables: GDT page 0x101000, 6 table pages up to 0x108000.
    CU_ASSERT_EQUAL(plan.stack_floor, 0x108000u);
    CU_ASSERT_EQUAL(plan.max_vcpus(), (16 * kMiB - 0x108000) / 0x10000);

    KvmdbgX86State s0 = plan.vcpu_state(0, 4);
    CU_ASSERT_EQUAL(s0.gpr[KVMDBG_X86_RDI], 0u);
    CU_ASSERT_EQUAL(s0.gpr[KVMDBG_X86_RSI], 4u);
    CU_ASSERT_EQUAL(s0.gpr[KVMDBG_X86_RSP], 16 * kMiB);
    CU_ASSERT_EQUAL(s0.apic_base, 0xfee00900u);
    KvmdbgX86State s2 = plan.vcpu_state(2, 4);
    CU_ASSERT_EQUAL(s2.gpr[KVMDBG_X86_RDI], 2u);
    CU_ASSERT_EQUAL(s2.gpr[KVMDBG_X86_RSI], 4u);
    CU_ASSERT_EQUAL(s2.gpr[KVMDBG_X86_RSP], 16 * kMiB - 2 * 0x10000);
    CU_ASSERT_EQUAL(s2.gpr[KVMDBG_X86_RSP] % 16, 0u);
    CU_ASSERT_EQUAL(s2.apic_base, 0xfee00800u);  // not the BSP
    CU_ASSERT_EQUAL(s2.rip, 0x100000u);
    CU_ASSERT_EQUAL(s2.cr3, s0.cr3);
    CU_ASSERT_EQUAL(s2.cs.selector, 0x18);

    CU_ASSERT_TRUE(plan.check_vcpu_count(1).ok());
    CU_ASSERT_TRUE(plan.check_vcpu_count(plan.max_vcpus()).ok());
    auto too_many = plan.check_vcpu_count(plan.max_vcpus() + 1);
    CU_ASSERT_FALSE(too_many.ok());
    CU_ASSERT_EQUAL(too_many.error().code, ENOMEM);
    CU_ASSERT_EQUAL(plan.check_vcpu_count(0).error().code, EINVAL);
}

void test_stacks_stay_above_image() {
    // A segment high in RAM leaves room for exactly one stack:
    // segment [0xfe8000, 0xfe9000), GDT 0xfe9000, tables up to 0xff0000.
    Ram m(16 * kMiB);
    TempFile f(build_elf64(0xfe8000, {seg(0xfe8000, pattern(0x10, 5), 0x1000)}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->stack_floor, 0xff0000u);
    CU_ASSERT_EQUAL(r->max_vcpus(), 1u);
    CU_ASSERT_FALSE(r->check_vcpu_count(2).ok());

    // One page higher and not even one stack fits.
    Ram m2(16 * kMiB);
    expect_load_error(build_elf64(0xfe9000, {seg(0xfe9000, pattern(0x10, 5), 0x1000)}), m2.ram, ENOSPC,
                      "no room for a 64 KiB vCPU stack");
}

void test_high_ram_page_tables() {
    Ram m(16 * kMiB, 2 * kMiB);  // RAM ends at 4 GiB + 2 MiB: 5 PDs
    TempFile f(build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->bsp_state.cr3, 0x102000u);
    CU_ASSERT_EQUAL(load64(m.at(0x103000 + 8 * 4, 8)), 0x108003u);  // PDPT[4] -> PD 4
    CU_ASSERT_EQUAL(load64(m.at(0x108000, 8)), 4 * kGiB | 0x83);
    CU_ASSERT_EQUAL(r->stack_top, 16 * kMiB);  // stacks stay below 4 GiB
    CU_ASSERT_EQUAL(r->stack_floor, 0x109000u);
}

void test_higher_half_entry_translated() {
    Ram m(16 * kMiB);
    Seg text = seg(0x100000, pattern(0x100, 9), 0x100);
    text.vaddr = 0xffffffff80100000ull;
    TempFile f(build_elf64(0xffffffff80100040ull, {text}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->entry, 0x100040u);
    CU_ASSERT_EQUAL(r->bsp_state.rip, 0x100040u);
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x100000, 0x100), text.data.data(), 0x100), 0);
}

void test_append_is_ignored() {
    Ram m(16 * kMiB);
    TempFile f(build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}));
    CU_ASSERT_TRUE(load(f.path(), m.ram, "", "console=ttyS0").ok());
}

// ------------------------------------------------------------ file errors

void test_missing_file() {
    Ram m(16 * kMiB);
    std::string path = std::string(g_get_tmp_dir()) + "/kvmdbg-no-such-kernel.elf";
    auto r = load(path, m.ram);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    CU_ASSERT_TRUE(has(r.error().message, path + ": cannot open: "));
}

void test_directory() {
    Ram m(16 * kMiB);
    std::string tmpl = std::string(g_get_tmp_dir()) + "/kvmdbg-dir-XXXXXX";
    CU_ASSERT_FATAL(g_mkdtemp(tmpl.data()) != nullptr);
    auto r = load(tmpl, m.ram);
    ::rmdir(tmpl.c_str());
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, EISDIR);
    CU_ASSERT_TRUE(has(r.error().message, tmpl + ": is a directory"));
}

void test_empty_file() {
    Ram m(16 * kMiB);
    expect_load_error(Bytes{}, m.ram, EINVAL, "file is empty");
    TempFile f(Bytes{});
    auto r = read_image_file(f.path(), EmptyImage::allow);
    CU_ASSERT_TRUE_FATAL(r.ok());
    CU_ASSERT_TRUE(r->bytes.empty());
}

void test_read_image_file_contents() {
    Bytes content = pattern(200000, 17);  // more than one read chunk
    TempFile f(content);
    auto r = read_image_file(f.path());
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->path, f.path());
    CU_ASSERT_TRUE(r->bytes == content);
    CU_ASSERT_EQUAL(read_image_file("").error().code, EINVAL);
}

// ------------------------------------------------------------ image errors

void test_not_elf() {
    Ram m(16 * kMiB);
    expect_load_error(pattern(4096, 1), m.ram, ENOEXEC, "not a Linux bzImage, an ELF file or a multiboot kernel");
}

void test_truncated_elf_header() {
    Ram m(16 * kMiB);
    Bytes image = build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)});
    image.resize(40);
    expect_load_error(image, m.ram, ENOEXEC, "truncated ELF header");
    image.resize(4);  // just the magic
    expect_load_error(image, m.ram, ENOEXEC, "truncated ELF header");
}

void test_truncated_program_headers() {
    Ram m(16 * kMiB);
    Bytes image = build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)});
    image.resize(64 + 30);
    expect_load_error(image, m.ram, ENOEXEC, "truncated program headers");
}

void test_program_header_offset_overflow() {
    Ram m(16 * kMiB);
    Bytes image = build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)});
    put64(image, 32, 0xfffffffffffffff8ull);
    expect_load_error(image, m.ram, ENOEXEC, "truncated program headers");
}

void test_truncated_segment_data() {
    Ram m(16 * kMiB);
    Bytes image = build_elf64(0x100000, {seg(0x100000, pattern(0x800, 3), 0x800)});
    image.resize(0x1400);
    expect_load_error(image, m.ram, ENOEXEC, "truncated file");
}

void test_segment_outside_ram() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf64(0x2000000, {seg(0x2000000, pattern(0x10, 3), 0x1000)}), m.ram, EFAULT,
                      "segment 0 [0x2000000, 0x2001000) is outside guest RAM");
    // Straddling the end of RAM.
    expect_load_error(build_elf64(0xfff000, {seg(0xfff000, pattern(0x10, 3), 0x2000)}), m.ram, EFAULT,
                      "segment 0 [0xfff000, 0x1001000) is outside guest RAM");
    // Nothing was written.
    CU_ASSERT_EQUAL(*m.at(0xfff000), 0xcc);
}

void test_image_larger_than_ram() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf64(0x0, {seg(0x0, pattern(0x10, 3), 32 * kMiB)}), m.ram, EFBIG,
                      "the segments need 0x2000000 bytes but the guest has only 0x1000000 bytes");
}

void test_no_room_for_tables() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf64(0xff0000, {seg(0xff0000, pattern(0x10, 3), 0x10000)}), m.ram, ENOSPC,
                      "no room in RAM for the boot GDT and page tables [0x1000000, 0x1007000)");
}

void test_entry_outside_segments() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf64(0x400000, {seg(0x100000, pattern(0x10, 3), 0x10)}), m.ram, ENOEXEC,
                      "entry point 0x400000 is not inside any loaded segment");
}

void test_wrong_machine() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf(true, 3, 0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}), m.ram, ENOEXEC,
                      "ELF machine 3 is not EM_X86_64");
    expect_load_error(build_elf(true, 183, 0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}), m.ram, ENOEXEC,
                      "ELF machine 183 is not x86");
}

// A bzImage goes to the Linux loader (test_linux_loader.cc), which checks
// its header: here a protocol version of 0.
void test_bzimage_goes_to_linux_loader() {
    Ram m(16 * kMiB);
    Bytes image(0x1000, 0);
    image[0x1fe] = 0x55;
    image[0x1ff] = 0xaa;
    std::memcpy(image.data() + 0x202, "HdrS", 4);
    expect_load_error(image, m.ram, ENOEXEC, "Linux boot protocol 0.00 is too old: kvmdbg needs 2.06 or later");
}

void test_elf32_without_multiboot_refused() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf(false, 3, 0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}), m.ram, ENOEXEC,
                      "32-bit ELF without a multiboot header");
}

void test_initrd_refused_for_elf64() {
    Ram m(16 * kMiB);
    expect_load_error(build_elf64(0x100000, {seg(0x100000, pattern(0x10, 3), 0x10)}), m.ram, ENOEXEC,
                      "-initrd needs a multiboot kernel", "mod.bin");
}

const test::TestCase kLoading[] = {
    {"segments, tables and state", test_load_segments_tables_and_state},
    {"per-vCPU states", test_vcpu_states},
    {"stacks stay above the image", test_stacks_stay_above_image},
    {"page tables cover high RAM", test_high_ram_page_tables},
    {"higher-half entry translated", test_higher_half_entry_translated},
    {"-append ignored", test_append_is_ignored},
};
const test::TestCase kFileErrors[] = {
    {"missing file", test_missing_file},
    {"directory", test_directory},
    {"empty file", test_empty_file},
    {"read contents", test_read_image_file_contents},
};
const test::TestCase kImageErrors[] = {
    {"not elf", test_not_elf},
    {"truncated elf header", test_truncated_elf_header},
    {"truncated program headers", test_truncated_program_headers},
    {"program header offset overflow", test_program_header_offset_overflow},
    {"truncated segment data", test_truncated_segment_data},
    {"segment outside ram", test_segment_outside_ram},
    {"image larger than ram", test_image_larger_than_ram},
    {"no room for tables", test_no_room_for_tables},
    {"entry outside segments", test_entry_outside_segments},
    {"wrong machine", test_wrong_machine},
    {"bzImage goes to the Linux loader", test_bzimage_goes_to_linux_loader},
    {"elf32 without multiboot refused", test_elf32_without_multiboot_refused},
    {"initrd refused", test_initrd_refused_for_elf64},
};
const test::TestSuite kSuites[] = {
    {"elf64 loading", kLoading},
    {"kernel file errors", kFileErrors},
    {"elf64 image errors", kImageErrors},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
