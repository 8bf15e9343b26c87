// Unit tests for the Multiboot v1 loader (hw-models/loaders/multiboot_loader)
// through the x86 -kernel front door: a.out-kludge and ELF32 images and
// module files built in memory and written to temp files, loaded into a
// GuestRam; the information structure is checked field by field.
#include "hw-models/loaders/multiboot_loader.h"

#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "arch/x86/boot_tables.h"
#include "hw-models/loaders/x86_kernel_loader.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using test::build_elf;
using test::Bytes;
using test::long_pattern;
using test::put32;
using test::Seg;
using test::seg;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint32_t kMagic = 0x1BADB002;
constexpr std::uint32_t kAout = 1u << 16;

// ------------------------------------------------------------- helpers

// Writes a multiboot header at `off`: magic, flags, checksum and, for the
// a.out kludge, the five address fields.
struct Aout {
    std::uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};
void put_header(Bytes& b, std::size_t off, std::uint32_t flags, const Aout* a = nullptr) {
    put32(b, off, kMagic);
    put32(b, off + 4, flags);
    put32(b, off + 8, 0u - kMagic - flags);
    if (a != nullptr) {
        put32(b, off + 12, a->header_addr);
        put32(b, off + 16, a->load_addr);
        put32(b, off + 20, a->load_end_addr);
        put32(b, off + 24, a->bss_end_addr);
        put32(b, off + 28, a->entry_addr);
    }
}

// An a.out-kludge image: `size` pattern bytes with the header at `off`.
Bytes aout_image(std::size_t size, std::size_t off, const Aout& a) {
    Bytes b = long_pattern(size, 7);
    put_header(b, off, kAout | 0x3, &a);
    return b;
}

// Segment data that starts with a multiboot header without the a.out kludge.
Bytes mb_text(std::size_t size) {
    Bytes d = long_pattern(size, 21);
    put_header(d, 0, 0x3);
    return d;
}

class TempFile {
public:
    explicit TempFile(const Bytes& content, const std::string& path = "") {
        if (path.empty()) {
            std::string tmpl = std::string(g_get_tmp_dir()) + "/kvmdbg-mb-XXXXXX";
            int fd = g_mkstemp(tmpl.data());
            CU_ASSERT_FATAL(fd >= 0);
            ::close(fd);
            path_ = tmpl;
        } else {
            path_ = path;
        }
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        CU_ASSERT_FATAL(f != nullptr);
        if (!content.empty()) {
            CU_ASSERT_FATAL(std::fwrite(content.data(), 1, content.size(), f) == content.size());
        }
        std::fclose(f);
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

class TempDir {
public:
    TempDir() {
        path_ = std::string(g_get_tmp_dir()) + "/kvmdbg-mbdir-XXXXXX";
        CU_ASSERT_FATAL(g_mkdtemp(path_.data()) != nullptr);
    }
    ~TempDir() { ::rmdir(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct Ram {
    GuestRam ram;
    explicit Ram(std::uint64_t low, std::uint64_t high = 0) {
        CU_ASSERT_FATAL(ram.add_region(0, low).ok());
        if (high != 0) {
            CU_ASSERT_FATAL(ram.add_region(4 * kGiB, high).ok());
        }
        std::memset(ram.regions()[0].memory.data(), 0xcc, low);
    }
    const std::uint8_t* at(std::uint64_t gpa, std::uint64_t len = 1) const {
        const std::uint8_t* p = ram.host_ptr(gpa, len);
        CU_ASSERT_FATAL(p != nullptr);
        return p;
    }
    std::uint32_t u32(std::uint64_t gpa) const {
        const std::uint8_t* p = at(gpa, 4);
        return static_cast<std::uint32_t>(p[0] | (p[1] << 8) | (p[2] << 16)) | (static_cast<std::uint32_t>(p[3]) << 24);
    }
    std::uint64_t u64(std::uint64_t gpa) const { return u32(gpa) | (static_cast<std::uint64_t>(u32(gpa + 4)) << 32); }
    std::string str(std::uint64_t gpa) const {
        std::string s;
        for (std::uint64_t a = gpa; *at(a) != 0 && s.size() < 4096; ++a)
            s += static_cast<char>(*at(a));
        return s;
    }
    bool all(std::uint64_t start, std::uint64_t end, std::uint8_t v) const {
        for (std::uint64_t a = start; a < end; ++a) {
            if (*at(a) != v) return false;
        }
        return true;
    }
};

Result<X86BootPlan> load(const std::string& path, GuestRam& ram, const std::string& append = "",
                         const std::string& initrd = "") {
    Log log;
    X86KernelOptions o;
    o.kernel_path = path;
    o.append = append;
    o.initrd = initrd;
    return load_x86_kernel(o, ram, log);
}

bool has(const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    if (!found) {
        std::fprintf(stderr, "\n  message: %s\n  missing: %s\n", text.c_str(), part.c_str());
    }
    return found;
}

void expect_error(const Bytes& image, GuestRam& ram, int code, const std::string& part,
                  const std::string& initrd = "") {
    TempFile f(image);
    auto r = load(f.path(), ram, "", initrd);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, code);
    CU_ASSERT_TRUE(has(r.error().message, f.path() + ": "));
    CU_ASSERT_TRUE(has(r.error().message, part));
}

std::uint64_t page_align(std::uint64_t v) { return (v + 0xfff) & ~0xfffull; }

// Checks one 24-byte memory map entry.
void assert_mmap(const Ram& m, std::uint64_t e, std::uint64_t base, std::uint64_t len, std::uint32_t type) {
    CU_ASSERT_EQUAL(m.u32(e), 20u);
    CU_ASSERT_EQUAL(m.u64(e + 4), base);
    CU_ASSERT_EQUAL(m.u64(e + 12), len);
    CU_ASSERT_EQUAL(m.u32(e + 20), type);
}

// ------------------------------------------------------------ a.out kludge

void test_aout_load_and_info() {
    Ram m(32 * kMiB);
    // Header at file offset 0x40, whole file loaded at 1 MiB, bss to 0x103000.
    Bytes image = aout_image(0x1800, 0x40, {0x100040, 0x100000, 0, 0x103000, 0x100080});
    TempFile f(image);
    const std::string append = "console=ttyS0 debug";
    auto r = load(f.path(), m.ram, append);
    CU_ASSERT_FATAL(r.ok());

    CU_ASSERT_EQUAL(std::memcmp(m.at(0x100000, image.size()), image.data(), image.size()), 0);
    CU_ASSERT_TRUE(m.all(0x101800, 0x103000, 0));  // bss

    // Strings right after the page-aligned kernel (no modules), info page
    // on the next page boundary.
    const std::uint64_t strings = 0x103000;
    const std::uint64_t loader_name = strings + f.path().size() + 1 + append.size() + 1;
    const std::uint64_t info = page_align(loader_name + 7);
    CU_ASSERT_EQUAL(info, 0x104000u);
    CU_ASSERT_EQUAL(m.str(strings), f.path() + " " + append);
    CU_ASSERT_EQUAL(m.str(loader_name), "kvmdbg");

    CU_ASSERT_EQUAL(m.u32(info + 0), 0x24fu);  // MEM|BOOT_DEVICE|CMDLINE|MODS|MMAP|LOADER_NAME
    // QEMU + SeaBIOS: int 0x12 = 639; 1 MiB up to the BIOS's top 128 KiB.
    CU_ASSERT_EQUAL(m.u32(info + 4), 639u);
    CU_ASSERT_EQUAL(m.u32(info + 8), 32u * 1024 - 1024 - 128);
    CU_ASSERT_EQUAL(m.u32(info + 12), 0x8000ffffu);
    CU_ASSERT_EQUAL(m.u32(info + 16), strings);
    CU_ASSERT_EQUAL(m.u32(info + 20), 0u);           // mods_count
    CU_ASSERT_EQUAL(m.u32(info + 24), 0x103000u);    // mods_addr
    CU_ASSERT_TRUE(m.all(info + 28, info + 44, 0));  // no symbols
    CU_ASSERT_EQUAL(m.u32(info + 44), 6u * 24);      // mmap_length
    CU_ASSERT_EQUAL(m.u32(info + 48), info + 88);    // mmap_addr
    CU_ASSERT_TRUE(m.all(info + 52, info + 64, 0));  // drives, config table
    CU_ASSERT_EQUAL(m.u32(info + 64), loader_name);
    CU_ASSERT_TRUE(m.all(info + 68, info + 88, 0));  // APM, VBE
    assert_mmap(m, info + 88, 0, 0x9fc00, 1);
    assert_mmap(m, info + 88 + 24, 0x9fc00, 0x400, 2);
    assert_mmap(m, info + 88 + 48, 0xf0000, 0x10000, 2);
    assert_mmap(m, info + 88 + 72, 0x100000, 31 * kMiB - 0x20000, 1);
    assert_mmap(m, info + 88 + 96, 32 * kMiB - 0x20000, 0x20000, 2);
    assert_mmap(m, info + 88 + 120, 0xfffc0000, 0x40000, 2);
    CU_ASSERT_TRUE(m.all(info + 88 + 144, info + 0x800, 0));  // nothing after the map

    Bytes gdt(arch::x86::kBootGdtSize);
    CU_ASSERT_FATAL(arch::x86::write_boot_gdt(gdt).ok());
    CU_ASSERT_EQUAL(std::memcmp(m.at(info + 0x800, gdt.size()), gdt.data(), gdt.size()), 0);

    const X86BootPlan& plan = *r;
    CU_ASSERT_FALSE(plan.all_vcpus_start_at_entry);
    CU_ASSERT_EQUAL(plan.entry, 0x100080u);
    const KvmdbgX86State& st = plan.bsp_state;
    CU_ASSERT_EQUAL(st.rip, 0x100080u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RAX], 0x2BADB002u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RBX], info);
    CU_ASSERT_EQUAL(st.cr0, 0x11u);
    CU_ASSERT_EQUAL(st.efer, 0u);
    CU_ASSERT_EQUAL(st.cs.selector, 0x08);
    CU_ASSERT_EQUAL(st.cs.db, 1);
    CU_ASSERT_EQUAL(st.cs.l, 0);
    CU_ASSERT_EQUAL(st.ds.selector, 0x10);
    CU_ASSERT_EQUAL(st.gdt.base, info + 0x800);
    CU_ASSERT_EQUAL(st.gdt.limit, 31);
    CU_ASSERT_EQUAL(st.rflags, 0x2u);

    // APs wait for SIPI in the reset state; any count is fine.
    KvmdbgX86State ap = plan.vcpu_state(1, 2);
    CU_ASSERT_EQUAL(ap.cs.selector, 0xf000);
    CU_ASSERT_EQUAL(ap.rip, 0xfff0u);
    CU_ASSERT_EQUAL(ap.apic_base, 0xfee00800u);
    CU_ASSERT_EQUAL(plan.vcpu_state(0, 2).rip, 0x100080u);
    CU_ASSERT_EQUAL(plan.vcpu_state(0, 2).gpr[KVMDBG_X86_RBX], info);
    CU_ASSERT_TRUE(plan.check_vcpu_count(64).ok());
}

void test_cmdline_without_append_keeps_path() {
    Ram m(16 * kMiB);
    TempFile f(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    std::uint64_t info = r->bsp_state.gpr[KVMDBG_X86_RBX];
    // As QEMU: "<path> <append>", so the empty -append leaves a space.
    CU_ASSERT_EQUAL(m.str(m.u32(info + 16)), f.path() + " ");
    CU_ASSERT_EQUAL(m.u32(info + 8), 16u * 1024 - 1024 - 128);
}

void test_aout_text_offset() {
    // Header at file offset 0x1000 describing itself at load_addr + 0x800:
    // the load starts at file offset 0x800.
    Ram m(16 * kMiB);
    Bytes image = aout_image(0x3000, 0x1000, {0x200800, 0x200000, 0x201000, 0, 0x200010});
    TempFile f(image);
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x200000, 0x1000), image.data() + 0x800, 0x1000), 0);
    CU_ASSERT_EQUAL(r->entry, 0x200010u);
    // load_end_addr limits the load: the next page holds the strings.
    CU_ASSERT_EQUAL(m.str(0x201000), f.path() + " ");
    CU_ASSERT_EQUAL(r->bsp_state.gpr[KVMDBG_X86_RBX], 0x202000u);
}

// ----------------------------------------------------------------- ELF32

void test_elf32_load() {
    Ram m(16 * kMiB);
    Seg text = seg(0x100000, mb_text(0x200), 0x200);
    text.vaddr = 0xc0100000;
    Seg data = seg(0x102000, long_pattern(0x10, 77), 0x1800);
    data.vaddr = 0xc0102000;
    data.flags = 6;
    Bytes image = build_elf(false, 3, 0xc0100010, {text, data});
    TempFile f(image);
    auto r = load(f.path(), m.ram, "a=b");
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x100000, 0x200), text.data.data(), 0x200), 0);
    CU_ASSERT_TRUE(m.all(0x100200, 0x102000, 0));  // the gap is part of the image
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x102000, 0x10), data.data.data(), 0x10), 0);
    CU_ASSERT_TRUE(m.all(0x102010, 0x103800, 0));
    // Virtual entry translated to physical, as QEMU's load_elf does.
    CU_ASSERT_EQUAL(r->entry, 0x100010u);
    CU_ASSERT_EQUAL(r->bsp_state.rip, 0x100010u);
    // Kernel [0x100000, 0x103800) -> strings at 0x104000, info at 0x105000.
    CU_ASSERT_EQUAL(m.str(0x104000), f.path() + " a=b");
    CU_ASSERT_EQUAL(r->bsp_state.gpr[KVMDBG_X86_RBX], 0x105000u);
    CU_ASSERT_EQUAL(m.u32(0x105000 + 24), 0x104000u);
}

void test_high_ram_mmap() {
    Ram m(16 * kMiB, 4 * kMiB);
    TempFile f(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    std::uint64_t info = r->bsp_state.gpr[KVMDBG_X86_RBX];
    CU_ASSERT_EQUAL(m.u32(info + 8), 16u * 1024 - 1024 - 128);  // below the first hole only
    CU_ASSERT_EQUAL(m.u32(info + 44), 7u * 24);
    std::uint64_t mmap = m.u32(info + 48);
    assert_mmap(m, mmap + 72, 0x100000, 15 * kMiB - 0x20000, 1);
    assert_mmap(m, mmap + 96, 16 * kMiB - 0x20000, 0x20000, 2);
    // The BIOS ROM entry comes before the RAM above 4 GiB, as in e820.
    assert_mmap(m, mmap + 120, 0xfffc0000, 0x40000, 2);
    assert_mmap(m, mmap + 144, 4 * kGiB, 4 * kMiB, 1);
}

// The whole information of QEMU 7.2 + SeaBIOS for -m 128M, field for field.
void test_qemu_128m_memory_info() {
    Ram m(128 * kMiB);
    TempFile f(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    std::uint64_t info = r->bsp_state.gpr[KVMDBG_X86_RBX];
    CU_ASSERT_EQUAL(m.u32(info + 4), 639u);
    CU_ASSERT_EQUAL(m.u32(info + 8), 129920u);
    CU_ASSERT_EQUAL(m.u32(info + 44), 6u * 24);
    std::uint64_t mmap = m.u32(info + 48);
    assert_mmap(m, mmap + 0, 0, 0x9fc00, 1);
    assert_mmap(m, mmap + 24, 0x9fc00, 0x400, 2);
    assert_mmap(m, mmap + 48, 0xf0000, 0x10000, 2);
    assert_mmap(m, mmap + 72, 0x100000, 0x7ee0000, 1);
    assert_mmap(m, mmap + 96, 0x7fe0000, 0x20000, 2);
    assert_mmap(m, mmap + 120, 0xfffc0000, 0x40000, 2);
}

// The smallest pc-lite RAM still leaves an available range above 1 MiB.
void test_small_ram_mmap() {
    Ram m(2 * kMiB);
    TempFile f(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}));
    auto r = load(f.path(), m.ram);
    CU_ASSERT_FATAL(r.ok());
    std::uint64_t info = r->bsp_state.gpr[KVMDBG_X86_RBX];
    CU_ASSERT_EQUAL(m.u32(info + 8), 1024u - 128);
    CU_ASSERT_EQUAL(m.u32(info + 44), 6u * 24);
    std::uint64_t mmap = m.u32(info + 48);
    assert_mmap(m, mmap + 72, 0x100000, kMiB - 0x20000, 1);
    assert_mmap(m, mmap + 96, 2 * kMiB - 0x20000, 0x20000, 2);
}

// plan.loaded names exactly what was written: kernel, list + strings +
// modules, the info page; nothing at the BIOS data area.
void test_loaded_ranges() {
    Ram m(16 * kMiB);
    Bytes image = aout_image(0x1800, 0x40, {0x100040, 0x100000, 0, 0x103000, 0x100080});
    TempFile f(image);
    auto r = load(f.path(), m.ram, "x");
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL_FATAL(r->loaded.size(), 3u);
    CU_ASSERT_EQUAL(r->loaded[0].start, 0x100000u);
    CU_ASSERT_EQUAL(r->loaded[0].end, 0x103000u);
    CU_ASSERT_EQUAL(r->loaded[1].start, 0x103000u);
    CU_ASSERT_EQUAL(r->loaded[1].end, 0x104000u);
    CU_ASSERT_EQUAL(r->loaded[2].start, 0x104000u);
    CU_ASSERT_EQUAL(r->loaded[2].end, 0x105000u);
    CU_ASSERT_FALSE(r->loaded_over(0x400, 0x500));
    CU_ASSERT_TRUE(r->loaded_over(0x104fff, 0x105000));
    CU_ASSERT_FALSE(r->loaded_over(0x105000, 0x106000));
    CU_ASSERT_FALSE(r->loaded_over(0xff000, 0x100000));
    // A kernel loaded at 0 covers the BIOS data area.
    Ram low(16 * kMiB);
    TempFile g(aout_image(0x1000, 0, {0x0, 0x0, 0, 0x2000, 0x0}));
    auto q = load(g.path(), low.ram);
    CU_ASSERT_FATAL(q.ok());
    CU_ASSERT_TRUE(q->loaded_over(0x400, 0x500));
}

// --------------------------------------------------------------- modules

void test_parse_modules() {
    auto mods = parse_multiboot_modules("");
    CU_ASSERT_TRUE(mods.empty());
    mods = parse_multiboot_modules("a");
    CU_ASSERT_EQUAL_FATAL(mods.size(), 1u);
    CU_ASSERT_EQUAL(mods[0].path, "a");
    CU_ASSERT_FALSE(mods[0].args.has_value());
    CU_ASSERT_EQUAL(mods[0].string(), "a");
    mods = parse_multiboot_modules("/x/a.bin arg1  arg2,b");
    CU_ASSERT_EQUAL_FATAL(mods.size(), 2u);
    CU_ASSERT_EQUAL(mods[0].path, "/x/a.bin");
    CU_ASSERT_EQUAL(*mods[0].args, "arg1  arg2");
    CU_ASSERT_EQUAL(mods[0].string(), "/x/a.bin arg1  arg2");
    CU_ASSERT_EQUAL(mods[1].path, "b");
    mods = parse_multiboot_modules("a,,b c,,d,e");  // ",," is a literal comma
    CU_ASSERT_EQUAL_FATAL(mods.size(), 2u);
    CU_ASSERT_EQUAL(mods[0].path, "a,b");
    CU_ASSERT_EQUAL(*mods[0].args, "c,d");
    CU_ASSERT_EQUAL(mods[1].path, "e");
    mods = parse_multiboot_modules("a,");  // a trailing comma ends the list
    CU_ASSERT_EQUAL(mods.size(), 1u);
    mods = parse_multiboot_modules("a,,,b");
    CU_ASSERT_EQUAL_FATAL(mods.size(), 2u);
    CU_ASSERT_EQUAL(mods[0].path, "a,");
    CU_ASSERT_EQUAL(mods[1].path, "b");
    mods = parse_multiboot_modules("a ");
    CU_ASSERT_EQUAL_FATAL(mods.size(), 1u);
    CU_ASSERT_EQUAL(*mods[0].args, "");
    CU_ASSERT_EQUAL(mods[0].string(), "a ");
}

void test_modules_loaded() {
    Ram m(16 * kMiB);
    TempDir dir;
    Bytes m1 = long_pattern(0x1234, 3);
    Bytes m2 = long_pattern(0x10, 5);
    TempFile f1(m1, dir.path() + "/m1");
    TempFile f2(m2, dir.path() + "/m,2");
    TempFile f3(Bytes{}, dir.path() + "/e");
    const std::string d = dir.path();
    const std::string spec = d + "/m1 arg1 arg2," + d + "/m,,2," + d + "/e ";
    TempFile k(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0x103000, 0x100000}));
    auto r = load(k.path(), m.ram, "x", spec);
    CU_ASSERT_FATAL(r.ok());

    // Layout as QEMU computes it: list at 0x103000 (3 entries), strings
    // after it, first module on the next page boundary.
    const std::uint64_t list = 0x103000;
    const std::uint64_t strings = list + 3 * 16;
    const std::uint64_t strings_len = k.path().size() + 1 + 2 + spec.size() + 1;
    const std::uint64_t first = page_align(strings + strings_len + 7);
    CU_ASSERT_EQUAL(first, 0x104000u);
    std::uint64_t info = r->bsp_state.gpr[KVMDBG_X86_RBX];
    CU_ASSERT_EQUAL(m.u32(info + 20), 3u);
    CU_ASSERT_EQUAL(m.u32(info + 24), list);

    CU_ASSERT_EQUAL(m.u32(list + 0), 0x104000u);
    CU_ASSERT_EQUAL(m.u32(list + 4), 0x104000u + 0x1234);
    CU_ASSERT_EQUAL(m.u32(list + 8), strings);
    CU_ASSERT_EQUAL(m.u32(list + 12), 0u);
    CU_ASSERT_EQUAL(m.u32(list + 16), 0x106000u);
    CU_ASSERT_EQUAL(m.u32(list + 20), 0x106010u);
    CU_ASSERT_EQUAL(m.u32(list + 32), 0x107000u);  // empty module
    CU_ASSERT_EQUAL(m.u32(list + 36), 0x107000u);
    CU_ASSERT_EQUAL(m.str(m.u32(list + 8)), d + "/m1 arg1 arg2");
    CU_ASSERT_EQUAL(m.str(m.u32(list + 24)), d + "/m,2");
    CU_ASSERT_EQUAL(m.str(m.u32(list + 40)), d + "/e ");
    // Module strings first, then the kernel command line.
    CU_ASSERT_EQUAL(m.u32(info + 16),
                    strings + (d + "/m1 arg1 arg2").size() + 1 + (d + "/m,2").size() + 1 + (d + "/e ").size() + 1);
    CU_ASSERT_EQUAL(m.str(m.u32(info + 16)), k.path() + " x");
    CU_ASSERT_EQUAL(m.str(m.u32(info + 64)), "kvmdbg");

    CU_ASSERT_EQUAL(std::memcmp(m.at(0x104000, m1.size()), m1.data(), m1.size()), 0);
    CU_ASSERT_TRUE(m.all(0x104000 + m1.size(), 0x106000, 0));  // padding zeroed
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x106000, m2.size()), m2.data(), m2.size()), 0);
    CU_ASSERT_EQUAL(info, 0x107000u);  // page aligned after the last module
}

void test_missing_module() {
    Ram m(16 * kMiB);
    TempFile k(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}));
    std::string missing = std::string(g_get_tmp_dir()) + "/kvmdbg-no-such-module";
    auto r = load(k.path(), m.ram, "", missing + " args");
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    CU_ASSERT_TRUE(has(r.error().message, missing + ": cannot open"));
    CU_ASSERT_EQUAL(*m.at(0x100000), 0xcc);  // nothing written
}

void test_empty_module_name() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}), m.ram, EINVAL, "empty module file name",
                 ",x");
}

void test_modules_beyond_ram() {
    Ram m(2 * kMiB);
    TempFile mod(long_pattern(kMiB, 1));
    TempFile k(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0, 0x100000}));
    auto r = load(k.path(), m.ram, "", mod.path());
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, EFAULT);
    CU_ASSERT_TRUE(has(r.error().message, k.path() + ": "));
    CU_ASSERT_TRUE(has(r.error().message, "[0x101000, 0x202000) is outside guest RAM"));
}

// ----------------------------------------------------------- header scan

void test_header_scan() {
    Bytes b(9000, 0);
    put_header(b, 8140, 0);  // last slot QEMU looks at
    CU_ASSERT_EQUAL(scan_multiboot_header(b).header.value_or(0), 8140u);
    Bytes late(9000, 0);
    put_header(late, 8144, 0);  // beyond it
    CU_ASSERT_FALSE(scan_multiboot_header(late).header.has_value());
    Bytes odd(64, 0);
    put_header(odd, 2, 0);  // not 4-byte aligned
    CU_ASSERT_FALSE(scan_multiboot_header(odd).header.has_value());
    Bytes two(64, 0);
    put_header(two, 8, 0);
    put32(two, 16, 1);  // corrupt the first checksum
    put_header(two, 32, 0);
    auto scan = scan_multiboot_header(two);
    CU_ASSERT_EQUAL(scan.header.value_or(0), 32u);
    CU_ASSERT_EQUAL(scan.bad_checksum.value_or(0), 8u);
    Bytes tiny = {0x02, 0xb0, 0xad, 0x1b, 0, 0};  // magic, then the file ends
    CU_ASSERT_FALSE(scan_multiboot_header(tiny).header.has_value());
}

// -------------------------------------------------------------- errors

void test_bad_checksum() {
    Ram m(16 * kMiB);
    Bytes image = aout_image(0x1000, 0x40, {0x100040, 0x100000, 0, 0, 0x100000});
    put32(image, 0x48, 0x12345678);
    expect_error(image, m.ram, ENOEXEC,
                 "multiboot header at offset 0x40 has a bad checksum (magic + flags + checksum != 0)");
}

void test_aout_load_end_below_load_addr() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0, {0x100000, 0x100000, 0xfff00, 0, 0x100000}), m.ram, ENOEXEC,
                 "load_end_addr 0xfff00 is below load_addr 0x100000");
}

void test_aout_header_addr_below_load_addr() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0, {0xff000, 0x100000, 0, 0, 0x100000}), m.ram, ENOEXEC,
                 "header_addr 0xff000 is below load_addr 0x100000");
}

void test_aout_header_addr_beyond_offset() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0x40, {0x100080, 0x100000, 0, 0, 0x100000}), m.ram, ENOEXEC,
                 "header_addr - load_addr (0x80) is larger than the header's file offset 0x40");
}

void test_aout_bss_below_load_end() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0, {0x100000, 0x100000, 0x100800, 0x100400, 0x100000}), m.ram, ENOEXEC,
                 "bss_end_addr 0x100400 is below the end of the loaded data 0x100800");
}

void test_aout_truncated_file() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0, {0x100000, 0x100000, 0x102000, 0, 0x100000}), m.ram, ENOEXEC,
                 "truncated file: the a.out kludge loads file bytes [0x0, 0x2000) but the file has "
                 "0x1000 bytes");
}

void test_aout_truncated_header() {
    Ram m(16 * kMiB);
    Bytes image(0x20, 0);
    put_header(image, 0x10, kAout);  // 12 header bytes fit, the address fields do not
    expect_error(image, m.ram, ENOEXEC, "truncated multiboot header at offset 0x10");
}

void test_aout_beyond_4g() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x2000, 0, {0xfffff000, 0xfffff000, 0, 0, 0xfffff000}), m.ram, ENOEXEC,
                 "goes beyond 4 GiB");
}

void test_load_range_outside_ram() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1800, 0, {0x2000000, 0x2000000, 0, 0, 0x2000000}), m.ram, EFAULT,
                 "kernel image [0x2000000, 0x2001800) is outside guest RAM");
}

void test_image_larger_than_ram() {
    Ram m(16 * kMiB);
    expect_error(aout_image(0x1000, 0, {0x100000, 0x100000, 0, 0x4100000, 0x100000}), m.ram, EFBIG,
                 "the kernel image needs 0x4000000 bytes but the guest has only 0x1000000 bytes");
}

void test_elf_segment_outside_ram() {
    Ram m(16 * kMiB);
    Bytes image = build_elf(false, 3, 0x100000,
                            {seg(0x100000, mb_text(0x100), 0x100), seg(0xfff000, long_pattern(16, 1), 0x2000)});
    expect_error(image, m.ram, EFAULT, "segment [0xfff000, 0x1001000) is outside guest RAM");
}

void test_elf64_multiboot_refused() {
    Ram m(16 * kMiB);
    expect_error(build_elf(true, 62, 0x100000, {seg(0x100000, mb_text(0x100), 0x100)}), m.ram, ENOEXEC,
                 "cannot load a 64-bit ELF as multiboot; give a 32-bit one");
    // An ELF32 that says EM_X86_64 is refused the same way, as in QEMU.
    expect_error(build_elf(false, 62, 0x100000, {seg(0x100000, mb_text(0x100), 0x100)}), m.ram, ENOEXEC,
                 "cannot load a 64-bit ELF as multiboot; give a 32-bit one");
}

void test_no_kludge_not_elf() {
    Ram m(16 * kMiB);
    Bytes image = long_pattern(0x1000, 1);
    put_header(image, 0x20, 0x3);
    expect_error(image, m.ram, ENOEXEC, "multiboot header without the a.out kludge (flags bit 16) but not an ELF file");
}

void test_elf32_truncated_program_headers() {
    Ram m(16 * kMiB);
    Bytes image = build_elf(false, 3, 0x100000, {seg(0x100000, mb_text(0x100), 0x100)});
    put32(image, 28, 0xffffffe0u);  // e_phoff far beyond the file
    expect_error(image, m.ram, ENOEXEC, "truncated program headers");
}

void test_direct_api_names_kernel() {
    Ram m(16 * kMiB);
    ImageFile k{"/some/kernel.bin", long_pattern(64, 3)};
    Log log;
    auto r = load_multiboot(k, MultibootOptions{}, m.ram, log);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().message, "/some/kernel.bin: no multiboot header in the first 8 KiB");
}

const test::TestCase kAoutCases[] = {
    {"load and info struct", test_aout_load_and_info},
    {"cmdline without -append", test_cmdline_without_append_keeps_path},
    {"text offset", test_aout_text_offset},
};
const test::TestCase kElfCases[] = {
    {"elf32 load", test_elf32_load},
    {"high ram mmap", test_high_ram_mmap},
    {"qemu -m 128M memory info", test_qemu_128m_memory_info},
    {"2 MiB ram mmap", test_small_ram_mmap},
    {"loaded ranges", test_loaded_ranges},
};
const test::TestCase kModuleCases[] = {
    {"parse -initrd", test_parse_modules},           {"modules loaded", test_modules_loaded},
    {"missing module", test_missing_module},         {"empty module name", test_empty_module_name},
    {"modules beyond ram", test_modules_beyond_ram},
};
const test::TestCase kScanCases[] = {
    {"header scan", test_header_scan},
};
const test::TestCase kErrorCases[] = {
    {"bad checksum", test_bad_checksum},
    {"a.out load_end < load_addr", test_aout_load_end_below_load_addr},
    {"a.out header_addr < load_addr", test_aout_header_addr_below_load_addr},
    {"a.out header_addr beyond offset", test_aout_header_addr_beyond_offset},
    {"a.out bss below load end", test_aout_bss_below_load_end},
    {"a.out truncated file", test_aout_truncated_file},
    {"a.out truncated header", test_aout_truncated_header},
    {"a.out beyond 4 GiB", test_aout_beyond_4g},
    {"load range outside ram", test_load_range_outside_ram},
    {"image larger than ram", test_image_larger_than_ram},
    {"elf segment outside ram", test_elf_segment_outside_ram},
    {"elf64 multiboot refused", test_elf64_multiboot_refused},
    {"no kludge, not elf", test_no_kludge_not_elf},
    {"elf32 truncated program headers", test_elf32_truncated_program_headers},
    {"direct api names the kernel", test_direct_api_names_kernel},
};
const test::TestSuite kSuites[] = {
    {"multiboot a.out", kAoutCases},       {"multiboot elf32", kElfCases},    {"multiboot modules", kModuleCases},
    {"multiboot header scan", kScanCases}, {"multiboot errors", kErrorCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
