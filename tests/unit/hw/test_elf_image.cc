// Unit tests for hw-models/loaders/elf_image: header and program header
// parsing of ELF32/ELF64 images built in memory, every malformed case, the
// QEMU entry translation and segment placement rules.
#include "hw-models/loaders/elf_image.h"

#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"

namespace {

using namespace kvmdbg::hw;
using kvmdbg::test::build_elf;
using kvmdbg::test::Bytes;
using kvmdbg::test::put16;
using kvmdbg::test::put32;
using kvmdbg::test::put64;
using kvmdbg::test::Seg;
using kvmdbg::test::seg;

const std::string kName = "/images/k.elf";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void assert_error(const kvmdbg::Result<ElfImage>& r, const std::string& part) {
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(has(r.error().message, kName + ": "));
    CU_ASSERT_TRUE(has(r.error().message, part));
    if (!has(r.error().message, part)) {
        std::fprintf(stderr, "\n  got: %s\n  want: %s\n", r.error().message.c_str(), part.c_str());
    }
}

// ---------------------------------------------------------------- parsing

void test_parse_elf64() {
    Seg text = seg(0x100000, 0x20, 0x20);
    Seg data = seg(0x200000, 0x10, 0x3000, 0x11);
    data.flags = 6;
    data.vaddr = 0xffffffff80200000ull;
    Seg note;
    note.type = 4;  // PT_NOTE, kept but not checked
    Bytes b = build_elf(true, kElfMachineX86_64, 0x100010, {text, data, note});
    auto r = parse_elf_image(b, kName);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT(r->elf_class == ElfClass::elf64);
    CU_ASSERT_EQUAL(r->machine, kElfMachineX86_64);
    CU_ASSERT_EQUAL(r->type, 2);
    CU_ASSERT_EQUAL(r->entry, 0x100010u);
    CU_ASSERT_EQUAL_FATAL(r->program_headers.size(), 3u);
    const auto& p1 = r->program_headers[1];
    CU_ASSERT_EQUAL(p1.type, kElfPtLoad);
    CU_ASSERT_EQUAL(p1.flags, 6u);
    CU_ASSERT_EQUAL(p1.offset, 0x2000u);
    CU_ASSERT_EQUAL(p1.vaddr, 0xffffffff80200000ull);
    CU_ASSERT_EQUAL(p1.paddr, 0x200000u);
    CU_ASSERT_EQUAL(p1.filesz, 0x10u);
    CU_ASSERT_EQUAL(p1.memsz, 0x3000u);
    CU_ASSERT_EQUAL(p1.align, 0x1000u);
    CU_ASSERT_EQUAL(r->program_headers[2].type, 4u);
}

void test_parse_elf32() {
    Seg text = seg(0x100000, 0x40, 0x1000);
    text.vaddr = 0xc0100000;
    Bytes b = build_elf(false, kElfMachineI386, 0xc0100004, {text});
    auto r = parse_elf_image(b, kName);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT(r->elf_class == ElfClass::elf32);
    CU_ASSERT_EQUAL(r->machine, kElfMachineI386);
    CU_ASSERT_EQUAL(r->entry, 0xc0100004u);
    CU_ASSERT_EQUAL_FATAL(r->program_headers.size(), 1u);
    const auto& p = r->program_headers[0];
    CU_ASSERT_EQUAL(p.offset, 0x1000u);
    CU_ASSERT_EQUAL(p.vaddr, 0xc0100000u);
    CU_ASSERT_EQUAL(p.paddr, 0x100000u);
    CU_ASSERT_EQUAL(p.filesz, 0x40u);
    CU_ASSERT_EQUAL(p.memsz, 0x1000u);
    CU_ASSERT_EQUAL(p.flags, 5u);
}

void test_no_program_headers() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {});
    auto r = parse_elf_image(b, kName);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_TRUE(r->program_headers.empty());
    auto segs = elf_load_segments(*r, b, kName);
    CU_ASSERT_FALSE_FATAL(segs.ok());
    CU_ASSERT_TRUE(has(segs.error().message, kName + ": no loadable (PT_LOAD) segment"));
}

// -------------------------------------------------------------- malformed

void test_not_elf() {
    Bytes b = {'M', 'Z', 0x90, 0, 1, 2, 3, 4};
    assert_error(parse_elf_image(b, kName), "not an ELF file");
    assert_error(parse_elf_image(Bytes{}, kName), "not an ELF file");
    assert_error(parse_elf_image(Bytes{0x7f, 'E', 'L'}, kName), "not an ELF file");
    CU_ASSERT_FALSE(has_elf_magic(b));
    CU_ASSERT_TRUE(has_elf_magic(Bytes{0x7f, 'E', 'L', 'F'}));
}

void test_truncated_header() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 16, 16)});
    assert_error(parse_elf_image(std::span(b).first(4), kName), "truncated ELF header");
    assert_error(parse_elf_image(std::span(b).first(15), kName), "truncated ELF header");
    assert_error(parse_elf_image(std::span(b).first(63), kName), "truncated ELF header");
    Bytes b32 = build_elf(false, kElfMachineI386, 0, {seg(0x100000, 16, 16)});
    assert_error(parse_elf_image(std::span(b32).first(51), kName), "truncated ELF header");
}

void test_bad_class_and_endianness() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {});
    b[4] = 3;
    assert_error(parse_elf_image(b, kName), "unsupported ELF class 3");
    b[4] = 2;
    b[5] = 2;
    assert_error(parse_elf_image(b, kName), "big-endian ELF is not supported");
}

void test_wrong_machine() {
    Bytes b = build_elf(true, 183 /* EM_AARCH64 */, 0, {seg(0, 4, 4)});
    assert_error(parse_elf_image(b, kName), "ELF machine 183 is not x86");
}

void test_truncated_program_headers() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 16, 16), seg(0x200000, 16, 16)});
    // Cut the file inside the second program header.
    assert_error(parse_elf_image(std::span(b).first(64 + 56 + 20), kName), "truncated program headers");
    // More headers than the file holds.
    put16(b, 56, 200);
    assert_error(parse_elf_image(std::span(b).first(0x1000), kName), "truncated program headers");
}

void test_program_header_offset_overflow() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 16, 16)});
    put64(b, 32, 0xffffffffffffffc0ull);  // phoff + 56 wraps around
    assert_error(parse_elf_image(b, kName), "truncated program headers");
    put64(b, 32, b.size() - 55);  // one byte short
    assert_error(parse_elf_image(b, kName), "truncated program headers");
    Bytes b32 = build_elf(false, kElfMachineI386, 0, {seg(0x100000, 16, 16)});
    put32(b32, 28, 0xfffffff0u);
    assert_error(parse_elf_image(b32, kName), "truncated program headers");
}

void test_small_program_header_size() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 16, 16)});
    put16(b, 54, 32);
    assert_error(parse_elf_image(b, kName), "program header size 32 is too small");
}

void test_extended_numbering() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 16, 16)});
    put16(b, 56, 0xffff);
    assert_error(parse_elf_image(b, kName), "PN_XNUM");
}

void test_segment_past_end_of_file() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 0x100, 0x100)});
    assert_error(parse_elf_image(std::span(b).first(0x1000 + 0xff), kName),
                 "segment 0: file data [0x1000, +0x100) is past the end of the file");
    assert_error(parse_elf_image(std::span(b).first(0x1000 + 0xff), kName), "truncated file");
    // An offset that overflows offset + filesz.
    put64(b, 64 + 8, 0xffffffffffffff80ull);
    assert_error(parse_elf_image(b, kName), "truncated file");
    // Non-PT_LOAD headers are not checked against the file.
    put32(b, 64, 4);
    CU_ASSERT_TRUE(parse_elf_image(b, kName).ok());
}

void test_filesz_larger_than_memsz() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0x100000, 0x100, 0x80)});
    assert_error(parse_elf_image(b, kName), "segment 0: file size 0x100 is larger than memory size 0x80");
}

void test_address_overflow() {
    Bytes b = build_elf(true, kElfMachineX86_64, 0, {seg(0xfffffffffffff000ull, 0x10, 0x2000)});
    assert_error(parse_elf_image(b, kName), "overflows the address space");
    Bytes b32 = build_elf(false, kElfMachineI386, 0, {seg(0xfffff000u, 0x10, 0x2000)});
    assert_error(parse_elf_image(b32, kName), "overflows the address space");
    Bytes ok32 = build_elf(false, kElfMachineI386, 0, {seg(0xfffff000u, 0x10, 0x1000)});
    CU_ASSERT_TRUE(parse_elf_image(ok32, kName).ok());  // ends exactly at 4 GiB
}

// ---------------------------------------------------------------- entry

void test_entry_translation() {
    Seg text = seg(0x100000, 0x100, 0x100);
    text.vaddr = 0xffffffff80100000ull;
    Bytes b = build_elf(true, kElfMachineX86_64, 0xffffffff80100040ull, {text});
    auto r = parse_elf_image(b, kName);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(elf_physical_entry(*r), 0x100040u);

    // Not executable: QEMU leaves the entry alone.
    text.flags = 4;
    b = build_elf(true, kElfMachineX86_64, 0xffffffff80100040ull, {text});
    r = parse_elf_image(b, kName);
    CU_ASSERT_EQUAL(elf_physical_entry(*r), 0xffffffff80100040ull);

    // Entry beyond filesz (in .bss) is not translated either.
    text.flags = 5;
    text.memsz = 0x1000;
    b = build_elf(true, kElfMachineX86_64, 0xffffffff80100100ull, {text});
    r = parse_elf_image(b, kName);
    CU_ASSERT_EQUAL(elf_physical_entry(*r), 0xffffffff80100100ull);

    // Identity-linked: unchanged.
    b = build_elf(false, kElfMachineI386, 0x100010, {seg(0x100000, 0x20, 0x20)});
    r = parse_elf_image(b, kName);
    CU_ASSERT_EQUAL(elf_physical_entry(*r), 0x100010u);
}

// -------------------------------------------------------------- segments

void test_load_segments() {
    Seg a = seg(0x100000, 0x10, 0x10, 0x11);
    Seg empty = seg(0x80000000, 0, 0);  // memsz 0: kept, nothing to load
    Seg b = seg(0x200000, 0x8, 0x2000, 0x22);
    Bytes f = build_elf(true, kElfMachineX86_64, 0x100000, {a, empty, b});
    auto r = parse_elf_image(f, kName);
    CU_ASSERT_FATAL(r.ok());
    auto segs = elf_load_segments(*r, f, kName);
    CU_ASSERT_FATAL(segs.ok());
    CU_ASSERT_EQUAL_FATAL(segs->size(), 3u);
    CU_ASSERT_EQUAL((*segs)[0].paddr, 0x100000u);
    CU_ASSERT_EQUAL((*segs)[0].data.size(), 0x10u);
    CU_ASSERT_EQUAL((*segs)[0].data[0], 0x11);
    CU_ASSERT_EQUAL((*segs)[1].memsz, 0u);
    CU_ASSERT_EQUAL((*segs)[2].index, 2u);
    CU_ASSERT_EQUAL((*segs)[2].memsz, 0x2000u);
    CU_ASSERT_EQUAL((*segs)[2].data.size(), 8u);
    CU_ASSERT_EQUAL((*segs)[2].data[7], 0x22);
}

void test_zero_tail_truncated_like_qemu() {
    // The first segment's .bss would run into the second: QEMU loads only
    // its file bytes.
    Seg a = seg(0x100000, 0x100, 0x2000);
    Seg b = seg(0x101000, 0x100, 0x100);
    Bytes f = build_elf(true, kElfMachineX86_64, 0x100000, {a, b});
    auto r = parse_elf_image(f, kName);
    CU_ASSERT_FATAL(r.ok());
    auto segs = elf_load_segments(*r, f, kName);
    CU_ASSERT_FATAL(segs.ok());
    CU_ASSERT_EQUAL((*segs)[0].memsz, 0x100u);
    CU_ASSERT_EQUAL((*segs)[1].memsz, 0x100u);
}

void test_overlapping_segments() {
    Seg a = seg(0x100000, 0x200, 0x200);
    Seg b = seg(0x100100, 0x100, 0x100);
    Bytes f = build_elf(true, kElfMachineX86_64, 0x100000, {a, b});
    auto r = parse_elf_image(f, kName);
    CU_ASSERT_FATAL(r.ok());
    auto segs = elf_load_segments(*r, f, kName);
    CU_ASSERT_FALSE_FATAL(segs.ok());
    CU_ASSERT_TRUE(
        has(segs.error().message, kName + ": segments 0 [0x100000, 0x100200) and 1 [0x100100, 0x100200) overlap"));
}

const kvmdbg::test::TestCase kParse[] = {
    {"elf64", test_parse_elf64},
    {"elf32", test_parse_elf32},
    {"no program headers", test_no_program_headers},
};
const kvmdbg::test::TestCase kMalformed[] = {
    {"not elf", test_not_elf},
    {"truncated header", test_truncated_header},
    {"class and endianness", test_bad_class_and_endianness},
    {"wrong machine", test_wrong_machine},
    {"truncated program headers", test_truncated_program_headers},
    {"program header offset overflow", test_program_header_offset_overflow},
    {"small program header size", test_small_program_header_size},
    {"extended numbering", test_extended_numbering},
    {"segment past end of file", test_segment_past_end_of_file},
    {"filesz > memsz", test_filesz_larger_than_memsz},
    {"address overflow", test_address_overflow},
};
const kvmdbg::test::TestCase kLoad[] = {
    {"entry translation", test_entry_translation},
    {"load segments", test_load_segments},
    {"zero tail truncated like qemu", test_zero_tail_truncated_like_qemu},
    {"overlapping segments", test_overlapping_segments},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"elf parse", kParse},
    {"elf malformed", kMalformed},
    {"elf load rules", kLoad},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
