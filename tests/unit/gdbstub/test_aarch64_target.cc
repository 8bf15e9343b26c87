// The AArch64 target description (gdbstub-glue/aarch64_target.h) against
// the KvmdbgArm64State converter (arch/arm64/gdb_registers.h): every
// annex is well-formed (GLib's GMarkup), the core and fpu features hold
// gdb's own aarch64-core.xml / aarch64-fpu.xml registers in gdb's order,
// every type is defined, sizes and offsets agree with the converter.
//
// Run with --gdb (meson test aarch64_target_gdb, suite gdbstub): writes the
// annexes to a temporary directory and asks the real gdb-multiarch to load
// them (`set architecture aarch64`, `set tdesc filename`, `maint print
// registers`), then checks that gdb lists every register with our number
// and size and printed no warning. Exits 77 (SKIP) without gdb-multiarch.
#include <glib.h>
#include <glib/gstdio.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "arch/arm64/gdb_registers.h"
#include "gdbstub-glue/aarch64_target.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::gdb;
namespace arm64 = kvmdbg::arch::arm64;

struct Parsed {
    std::vector<std::string> names;
    std::vector<unsigned> bitsizes;
    std::vector<std::string> types;
    std::vector<unsigned> regnums;  // explicit regnum attributes, in order seen
    std::set<std::string> defined_types;
    std::vector<std::string> includes;
    std::string architecture;
    std::string feature;
    std::string element;
};

const char* attr(const char** names, const char** values, const char* wanted) {
    for (; *names != nullptr; ++names, ++values) {
        if (std::strcmp(*names, wanted) == 0) {
            return *values;
        }
    }
    return nullptr;
}

void on_start(GMarkupParseContext*, const char* element, const char** names, const char** values, gpointer data,
              GError**) {
    auto* p = static_cast<Parsed*>(data);
    p->element = element;
    std::string e = element;
    if (e == "reg") {
        p->names.emplace_back(attr(names, values, "name"));
        p->bitsizes.push_back(static_cast<unsigned>(std::stoul(attr(names, values, "bitsize"))));
        const char* type = attr(names, values, "type");
        p->types.emplace_back(type != nullptr ? type : "int");
        if (const char* n = attr(names, values, "regnum")) {
            p->regnums.push_back(static_cast<unsigned>(std::stoul(n)));
        }
    } else if (e == "flags" || e == "vector" || e == "union") {
        p->defined_types.insert(attr(names, values, "id"));
    } else if (e == "feature") {
        p->feature = attr(names, values, "name");
    } else if (e == "xi:include") {
        p->includes.emplace_back(attr(names, values, "href"));
    }
}

void on_end(GMarkupParseContext*, const char*, gpointer data, GError**) { static_cast<Parsed*>(data)->element.clear(); }

void on_text(GMarkupParseContext*, const char* text, gsize len, gpointer data, GError**) {
    auto* p = static_cast<Parsed*>(data);
    if (p->element == "architecture") {
        p->architecture.append(text, len);
    }
}

Parsed parse_xml(const std::string& xml, bool& ok) {
    Parsed parsed;
    GMarkupParser parser{on_start, on_end, on_text, nullptr, nullptr};
    GMarkupParseContext* ctx = g_markup_parse_context_new(&parser, G_MARKUP_DEFAULT_FLAGS, &parsed, nullptr);
    GError* error = nullptr;
    ok = g_markup_parse_context_parse(ctx, xml.data(), static_cast<gssize>(xml.size()), &error) &&
         g_markup_parse_context_end_parse(ctx, &error);
    if (error != nullptr) {
        std::fprintf(stderr, "XML: %s\n", error->message);
        g_error_free(error);
    }
    g_markup_parse_context_free(ctx);
    return parsed;
}

std::vector<std::string> expected_names() {
    std::vector<std::string> n;
    for (int i = 0; i <= 30; ++i) {
        n.push_back("x" + std::to_string(i));
    }
    n.insert(n.end(), {"sp", "pc", "cpsr"});
    for (int i = 0; i < 32; ++i) {
        n.push_back("v" + std::to_string(i));
    }
    n.insert(n.end(), {"fpsr", "fpcr", "sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "vbar_el1", "esr_el1",
                       "far_el1", "elr_el1", "spsr_el1", "mdscr_el1", "mair_el1", "sp_el0", "sp_el1"});
    return n;
}

void test_root_includes_features() {
    bool ok = false;
    std::string xml = aarch64::target_xml();
    Parsed p = parse_xml(xml, ok);
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_TRUE(xml.starts_with("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"));
    CU_ASSERT_EQUAL(p.architecture, "aarch64");
    CU_ASSERT_TRUE((p.includes == std::vector<std::string>{"aarch64-core.xml", "aarch64-fpu.xml", "aarch64-sys.xml"}));
    TargetDescription d = aarch64_target_description();
    for (const std::string& inc : p.includes) {
        CU_ASSERT_PTR_NOT_NULL(d.annex(inc));
    }
    CU_ASSERT_PTR_NOT_NULL(d.annex("target.xml"));
    CU_ASSERT_PTR_NULL(d.annex("aarch64-sve.xml"));
}

void test_features_registers_in_order() {
    TargetDescription d = aarch64_target_description();
    const char* annexes[] = {"aarch64-core.xml", "aarch64-fpu.xml", "aarch64-sys.xml"};
    const char* features[] = {"org.gnu.gdb.aarch64.core", "org.gnu.gdb.aarch64.fpu", "org.kvmdbg.aarch64.sys"};
    const unsigned first[] = {0, 34, 68};
    std::vector<std::string> names;
    std::vector<unsigned> bitsizes;
    const std::set<std::string> predefined{"int", "uint64", "data_ptr", "code_ptr"};
    for (int i = 0; i < 3; ++i) {
        bool ok = false;
        Parsed p = parse_xml(*d.annex(annexes[i]), ok);
        CU_ASSERT_TRUE_FATAL(ok);
        CU_ASSERT_EQUAL(p.feature, features[i]);
        // Each feature pins its first register number (gdb numbers the rest
        // consecutively).
        CU_ASSERT_TRUE(p.regnums == std::vector<unsigned>{first[i]});
        for (const std::string& t : p.types) {
            CU_ASSERT_TRUE(predefined.count(t) == 1 || p.defined_types.count(t) == 1);
        }
        names.insert(names.end(), p.names.begin(), p.names.end());
        bitsizes.insert(bitsizes.end(), p.bitsizes.begin(), p.bitsizes.end());
    }
    CU_ASSERT_TRUE(names == expected_names());
    unsigned bits = 0;
    for (unsigned b : bitsizes) {
        bits += b;
    }
    CU_ASSERT_EQUAL(bits, aarch64::kRegistersSize * 8);
    // cpsr is 32 bits, the vector registers 128, fpsr/fpcr 32.
    CU_ASSERT_EQUAL(bitsizes[33], 32u);
    CU_ASSERT_EQUAL(bitsizes[34], 128u);
    CU_ASSERT_EQUAL(bitsizes[66], 32u);
}

void test_description_matches_converter() {
    TargetDescription d = aarch64_target_description();
    CU_ASSERT_EQUAL(d.register_count(), static_cast<std::size_t>(aarch64::kRegisterCount));
    CU_ASSERT_EQUAL(d.registers_size(), arm64::kGdbRegistersSize);
    CU_ASSERT_EQUAL(arm64::kGdbRegisterCount, static_cast<unsigned>(aarch64::kRegisterCount));
    for (unsigned n = 0; n < arm64::kGdbRegisterCount; ++n) {
        CU_ASSERT_EQUAL(d.register_size(n), arm64::gdb_register_size(n));
        CU_ASSERT_EQUAL(d.register_offset(n), arm64::gdb_register_offset(n));
        CU_ASSERT_EQUAL(std::string(aarch64::registers()[n].name), expected_names()[n]);
    }
    CU_ASSERT_TRUE(d.expedited().pc == arm64::kGdbRegPc && d.expedited().sp == arm64::kGdbRegSp &&
                   d.expedited().fp == arm64::kGdbRegFp);
    CU_ASSERT_EQUAL(aarch64::kPc, arm64::kGdbRegPc);
    CU_ASSERT_EQUAL(aarch64::kCpsr, arm64::kGdbRegCpsr);
    CU_ASSERT_EQUAL(aarch64::kV0, arm64::kGdbRegV0);
    CU_ASSERT_EQUAL(aarch64::kSctlrEl1, arm64::kGdbRegSctlr);
    CU_ASSERT_EQUAL(aarch64::kSpEl1, arm64::kGdbRegSpEl1);
    CU_ASSERT_TRUE(d.byte_order() == std::endian::little);
    // The expedited pc as the session reads it from the converter's bytes.
    KvmdbgArm64State s{};
    s.pc = 0xffff800010080000ull;
    auto raw = arm64::gdb_register_read(s, *d.expedited().pc);
    CU_ASSERT_TRUE_FATAL(raw.ok());
    CU_ASSERT_EQUAL(register_value(*raw, d.byte_order()), s.pc);
}

const kvmdbg::test::TestCase kCases[] = {
    {"target.xml includes the features", test_root_includes_features},
    {"features hold gdb's registers in order", test_features_registers_in_order},
    {"description matches the converter", test_description_matches_converter},
};
const kvmdbg::test::TestSuite kSuites[] = {{"aarch64 target description", kCases}};

// ------------------------------------------------------------ real gdb check

// Writes the description's annexes into `dir`, appending each file to
// `written` (so that the caller removes them even after a failure).
bool write_annexes(const char* dir, std::vector<std::string>& written) {
    GError* error = nullptr;
    TargetDescription d = aarch64_target_description();
    const char* annexes[] = {"target.xml", "aarch64-core.xml", "aarch64-fpu.xml", "aarch64-sys.xml"};
    for (const char* a : annexes) {
        std::string path = std::string(dir) + "/" + a;
        if (!g_file_set_contents(path.c_str(), d.annex(a)->c_str(), -1, &error)) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), error->message);
            g_error_free(error);
            return false;
        }
        written.push_back(path);
    }
    return true;
}

// How many of our registers gdb's `maint print registers` output lacks or
// lists differently.
int check_register_table(const std::string& stdout_text) {
    int failures = 0;
    // " Name  Nr  Rel Offset  Size  Type": find each of our registers with
    // our number, g-packet offset and size.
    std::vector<std::string> names = expected_names();
    for (unsigned n = 0; n < names.size(); ++n) {
        bool found = false;
        std::istringstream lines(stdout_text);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string name;
            long nr = -1, rel = -1, offset = -1, size = -1;
            if (fields >> name >> nr >> rel >> offset >> size && name == names[n]) {
                found = nr == static_cast<long>(n) && offset == static_cast<long>(arm64::gdb_register_offset(n)) &&
                        size == static_cast<long>(arm64::gdb_register_size(n));
                if (!found) {
                    std::printf("gdb lists %s as nr %ld offset %ld size %ld; expected %u %zu %zu\n", name.c_str(), nr,
                                offset, size, n, arm64::gdb_register_offset(n), arm64::gdb_register_size(n));
                }
                break;
            }
        }
        if (!found) {
            std::printf("register %s (%u) missing or wrong in gdb's list\n", names[n].c_str(), n);
            ++failures;
        }
    }
    return failures;
}

int run_gdb_check() {
    g_autofree char* gdb = g_find_program_in_path("gdb-multiarch");
    if (gdb == nullptr) {
        std::printf("SKIP: gdb-multiarch is not installed (scripts/setup.sh installs it)\n");
        return 77;
    }
    GError* error = nullptr;
    g_autofree char* dir = g_dir_make_tmp("kvmdbg-aarch64-tdesc-XXXXXX", &error);
    if (dir == nullptr) {
        std::fprintf(stderr, "mkdtemp: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    std::vector<std::string> written;
    if (!write_annexes(dir, written)) {
        return 1;
    }
    std::string tdesc = std::string(dir) + "/target.xml";
    std::string set_tdesc = "set tdesc filename " + tdesc;
    const char* argv[] = {gdb,
                          "-batch",
                          "-nx",
                          "-ex",
                          "set architecture aarch64",
                          "-ex",
                          set_tdesc.c_str(),
                          "-ex",
                          "maint print registers",
                          nullptr};
    char* out = nullptr;
    char* err = nullptr;
    int status = 0;
    bool spawned = g_spawn_sync(nullptr, const_cast<char**>(argv), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out,
                                &err, &status, &error);
    for (const std::string& p : written) {
        g_remove(p.c_str());
    }
    g_rmdir(dir);
    if (!spawned) {
        std::fprintf(stderr, "gdb-multiarch: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    std::string stdout_text = out;
    std::string stderr_text = err;
    g_free(out);
    g_free(err);
    std::printf("%s", stdout_text.c_str());
    int failures = 0;
    if (!stderr_text.empty()) {
        std::printf("gdb stderr (must be empty):\n%s", stderr_text.c_str());
        ++failures;
    }
    if (!g_spawn_check_wait_status(status, nullptr)) {
        std::printf("gdb exited with status %d\n", status);
        ++failures;
    }
    failures += check_register_table(stdout_text);
    std::printf("%s: gdb-multiarch accepted the description, %zu registers checked, %d failures\n",
                failures == 0 ? "PASS" : "FAIL", expected_names().size(), failures);
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--gdb") == 0) {
        return run_gdb_check();
    }
    return kvmdbg::test::run_suites(kSuites);
}
