// The ppc e500, s390x and riscv64 target descriptions (gdbstub-glue/
// {ppc,s390x,riscv64}_target.h) against the arch-side g-packet converters
// (arch/*/gdb_registers.h): the XML is well-formed (GMarkup), names the
// architecture and gdb's features, numbers registers 0..n-1 in order with
// sizes that add up to the converter's packet; the converter puts every
// value at its offset in the target's byte order (big-endian for ppc and
// s390x, byte for byte), reads and writes single registers, refuses bad
// sizes, and the session's register_value() finds the pc with the
// description's byte order.
#include <glib.h>

#include <cstring>
#include <string>
#include <vector>

#include "arch/ppc/gdb_registers.h"
#include "arch/riscv64/gdb_registers.h"
#include "arch/s390x/gdb_registers.h"
#include "gdbstub-glue/ppc_target.h"
#include "gdbstub-glue/riscv64_target.h"
#include "gdbstub-glue/s390x_target.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::gdb;
namespace ppc = kvmdbg::arch::ppc;
namespace s390x = kvmdbg::arch::s390x;
namespace rv = kvmdbg::arch::riscv64;

struct Parsed {
    std::vector<std::string> names, features;
    std::vector<unsigned> bitsizes, regnums;
    std::string architecture, element;
};

const char* attr(const char** names, const char** values, const char* wanted) {
    for (; *names != nullptr; ++names, ++values) {
        if (std::strcmp(*names, wanted) == 0) return *values;
    }
    return "";
}

void on_start(GMarkupParseContext*, const char* element, const char** names, const char** values, gpointer data,
              GError**) {
    auto* p = static_cast<Parsed*>(data);
    p->element = element;
    if (std::strcmp(element, "reg") == 0) {
        p->names.emplace_back(attr(names, values, "name"));
        p->bitsizes.push_back(static_cast<unsigned>(std::stoul(attr(names, values, "bitsize"))));
        p->regnums.push_back(static_cast<unsigned>(std::stoul(attr(names, values, "regnum"))));
    } else if (std::strcmp(element, "feature") == 0) {
        p->features.emplace_back(attr(names, values, "name"));
    }
}

void on_text(GMarkupParseContext*, const char* text, gsize len, gpointer data, GError**) {
    auto* p = static_cast<Parsed*>(data);
    if (p->element == "architecture") p->architecture.append(text, len);
}

void on_end(GMarkupParseContext*, const char*, gpointer data, GError**) { static_cast<Parsed*>(data)->element.clear(); }

Parsed parse(const std::string& xml) {
    Parsed p;
    GMarkupParser parser{on_start, on_end, on_text, nullptr, nullptr};
    GMarkupParseContext* ctx = g_markup_parse_context_new(&parser, G_MARKUP_DEFAULT_FLAGS, &p, nullptr);
    GError* err = nullptr;
    gboolean ok = g_markup_parse_context_parse(ctx, xml.data(), static_cast<gssize>(xml.size()), &err) &&
                  g_markup_parse_context_end_parse(ctx, &err);
    CU_ASSERT(ok);
    if (err != nullptr) g_error_free(err);
    g_markup_parse_context_free(ctx);
    return p;
}

void check_description(const TargetDescription& d, const Parsed& p, std::size_t arch_size) {
    CU_ASSERT_EQUAL(d.register_count(), p.names.size());
    CU_ASSERT_EQUAL(d.registers_size(), arch_size);
    unsigned bits = 0;
    for (unsigned i = 0; i < p.names.size(); ++i) {
        CU_ASSERT_EQUAL(p.regnums[i], i);
        CU_ASSERT_EQUAL(d.register_size(i) * 8, p.bitsizes[i]);
        bits += p.bitsizes[i];
    }
    CU_ASSERT_EQUAL(bits / 8, arch_size);
    CU_ASSERT_PTR_NOT_NULL(d.annex("target.xml"));
}

void test_ppc_description() {
    TargetDescription d = ppc_e500_target_description();
    Parsed p = parse(*d.annex("target.xml"));
    CU_ASSERT_EQUAL(p.architecture, "powerpc:e500");
    CU_ASSERT_EQUAL(p.features.size(), 1u);
    CU_ASSERT_EQUAL(p.features[0], "org.gnu.gdb.power.core");
    check_description(d, p, ppc::kGdbRegistersSize);
    CU_ASSERT_EQUAL(p.names[31], "r31");
    CU_ASSERT_EQUAL(p.names[ppc::kGdbRegPc], "pc");
    CU_ASSERT_EQUAL(p.names[37], "xer");
    CU_ASSERT(d.byte_order() == std::endian::big);
    CU_ASSERT_EQUAL(*d.expedited().pc, ppc::kGdbRegPc);
}

void test_ppc_big_endian_packet() {
    ppc::PpcE500State s;
    s.gpr[0] = 0x11223344;
    s.gpr[1] = 0xffffffffaabbccddull;  // kvm_regs upper half is not shown
    s.pc = 0xc0001234;
    s.xer = 0x20000000;
    auto g = ppc::gdb_registers_from_state(s);
    CU_ASSERT_EQUAL_FATAL(g.size(), 152u);
    const std::uint8_t r0[4] = {0x11, 0x22, 0x33, 0x44};
    CU_ASSERT(std::memcmp(g.data(), r0, 4) == 0);
    const std::uint8_t r1[4] = {0xaa, 0xbb, 0xcc, 0xdd};
    CU_ASSERT(std::memcmp(g.data() + 4, r1, 4) == 0);
    const std::uint8_t pc[4] = {0xc0, 0x00, 0x12, 0x34};
    CU_ASSERT(std::memcmp(g.data() + 128, pc, 4) == 0);
    CU_ASSERT_EQUAL(g[148], 0x20);
    TargetDescription d = ppc_e500_target_description();
    std::vector<std::uint8_t> raw(g.begin() + 128, g.begin() + 132);
    CU_ASSERT_EQUAL(register_value(raw, d.byte_order()), 0xc0001234u);

    ppc::PpcE500State back;
    back.gpr[1] = 0x5555555500000000ull;
    CU_ASSERT(ppc::gdb_registers_to_state(g, back).ok());
    CU_ASSERT_EQUAL(back.gpr[0], 0x11223344u);
    CU_ASSERT_EQUAL(back.gpr[1], 0x55555555aabbccddull);  // write keeps the upper half
    CU_ASSERT_EQUAL(back.pc, 0xc0001234u);
    const std::uint8_t lr[4] = {0x00, 0x00, 0x10, 0x08};
    CU_ASSERT(ppc::gdb_register_write(back, 35, lr).ok());
    CU_ASSERT_EQUAL(back.lr, 0x1008u);
    CU_ASSERT_EQUAL(ppc::gdb_register_read(back, 35).value(), std::vector<std::uint8_t>(lr, lr + 4));
    CU_ASSERT_FALSE(ppc::gdb_register_write(back, 38, lr).ok());
    CU_ASSERT_FALSE(ppc::gdb_register_write(back, 35, std::span<const std::uint8_t>(lr, 3)).ok());
    g.pop_back();
    CU_ASSERT_EQUAL(ppc::gdb_registers_to_state(g, back).error().code, EINVAL);
}

void test_s390x_description() {
    TargetDescription d = s390x_target_description();
    Parsed p = parse(*d.annex("target.xml"));
    CU_ASSERT_EQUAL(p.architecture, "s390:64-bit");
    CU_ASSERT_EQUAL_FATAL(p.features.size(), 3u);
    CU_ASSERT_EQUAL(p.features[0], "org.gnu.gdb.s390.core");
    CU_ASSERT_EQUAL(p.features[1], "org.gnu.gdb.s390.acr");
    CU_ASSERT_EQUAL(p.features[2], "org.gnu.gdb.s390.fpr");
    check_description(d, p, s390x::kGdbRegistersSize);
    for (unsigned i = 0; i < p.names.size(); ++i) {
        CU_ASSERT_EQUAL(d.register_size(i), s390x::gdb_register_size(i));
    }
    CU_ASSERT_EQUAL(p.names[s390x::kGdbRegPswa], "pswa");
    CU_ASSERT_EQUAL(p.names[s390x::kGdbRegR15], "r15");
    CU_ASSERT_EQUAL(p.names[34], "fpc");
    CU_ASSERT(d.byte_order() == std::endian::big);
}

void test_s390x_big_endian_packet() {
    s390x::S390State s;
    s.psw_mask = 0x0704000180000000ull;
    s.psw_addr = 0x0000000000012345ull;
    s.gprs[15] = 0x0102030405060708ull;
    s.acrs[0] = 0xa0a1a2a3;
    s.fpc = 0x00000003;
    s.fprs[15] = 0x4000000000000000ull;  // 2.0
    auto g = s390x::gdb_registers_from_state(s);
    CU_ASSERT_EQUAL_FATAL(g.size(), 340u);
    const std::uint8_t mask[8] = {0x07, 0x04, 0x00, 0x01, 0x80, 0, 0, 0};
    CU_ASSERT(std::memcmp(g.data(), mask, 8) == 0);
    const std::uint8_t addr[8] = {0, 0, 0, 0, 0, 0x01, 0x23, 0x45};
    CU_ASSERT(std::memcmp(g.data() + 8, addr, 8) == 0);
    const std::uint8_t r15[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CU_ASSERT(std::memcmp(g.data() + 16 + 15 * 8, r15, 8) == 0);
    const std::uint8_t acr0[4] = {0xa0, 0xa1, 0xa2, 0xa3};
    CU_ASSERT(std::memcmp(g.data() + 144, acr0, 4) == 0);
    const std::uint8_t fpc[4] = {0, 0, 0, 3};
    CU_ASSERT(std::memcmp(g.data() + 208, fpc, 4) == 0);
    CU_ASSERT_EQUAL(g[212 + 15 * 8], 0x40);
    TargetDescription d = s390x_target_description();
    CU_ASSERT_EQUAL(d.register_offset(s390x::kGdbRegPswa), 8u);
    std::vector<std::uint8_t> raw(g.begin() + 8, g.begin() + 16);
    CU_ASSERT_EQUAL(register_value(raw, d.byte_order()), 0x12345u);

    s390x::S390State back;
    CU_ASSERT(s390x::gdb_registers_to_state(g, back).ok());
    CU_ASSERT_EQUAL(back.psw_mask, s.psw_mask);
    CU_ASSERT_EQUAL(back.gprs[15], s.gprs[15]);
    CU_ASSERT_EQUAL(back.acrs[0], s.acrs[0]);
    CU_ASSERT_EQUAL(back.fprs[15], s.fprs[15]);
    CU_ASSERT_EQUAL(s390x::gdb_register_read(back, 1).value(), std::vector<std::uint8_t>(addr, addr + 8));
    const std::uint8_t acr[4] = {0, 0, 0, 9};
    CU_ASSERT(s390x::gdb_register_write(back, 19, acr).ok());
    CU_ASSERT_EQUAL(back.acrs[1], 9u);
    CU_ASSERT_EQUAL(s390x::gdb_register_write(back, 2, acr).error().code, EINVAL);  // r0 is 8 bytes
    CU_ASSERT_EQUAL(s390x::gdb_register_read(back, 51).error().code, EINVAL);
}

void test_riscv64_description() {
    TargetDescription d = riscv64_target_description();
    Parsed p = parse(*d.annex("target.xml"));
    CU_ASSERT_EQUAL(p.architecture, "riscv:rv64");
    CU_ASSERT_EQUAL_FATAL(p.features.size(), 3u);
    CU_ASSERT_EQUAL(p.features[0], "org.gnu.gdb.riscv.cpu");
    CU_ASSERT_EQUAL(p.features[1], "org.gnu.gdb.riscv.fpu");
    CU_ASSERT_EQUAL(p.features[2], "org.gnu.gdb.riscv.csr");
    check_description(d, p, rv::kGdbRegistersSize);
    for (unsigned i = 0; i < p.names.size(); ++i) {
        CU_ASSERT_EQUAL(d.register_size(i), rv::gdb_register_size(i));
    }
    CU_ASSERT_EQUAL(p.names[rv::kGdbRegPc], "pc");
    CU_ASSERT_EQUAL(p.names[rv::kGdbRegSp], "sp");
    CU_ASSERT_EQUAL(p.names[67], "fcsr");
    CU_ASSERT_EQUAL(p.names[72], "sepc");
    CU_ASSERT(d.byte_order() == std::endian::little);
}

void test_riscv64_packet() {
    rv::Riscv64State s;
    s.x[0] = 0xdead;  // x0 always reads 0
    s.x[2] = 0x0102030405060708ull;
    s.pc = 0x80200000;
    s.fcsr = 0xe5;  // frm 7, fflags 5
    s.csr.sepc = 0x1234;
    auto g = rv::gdb_registers_from_state(s);
    CU_ASSERT_EQUAL_FATAL(g.size(), 604u);
    for (unsigned i = 0; i < 8; ++i)
        CU_ASSERT_EQUAL(g[i], 0);
    const std::uint8_t sp[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    CU_ASSERT(std::memcmp(g.data() + 16, sp, 8) == 0);
    CU_ASSERT_EQUAL(g[520], 5);  // fflags
    CU_ASSERT_EQUAL(g[524], 7);  // frm
    CU_ASSERT_EQUAL(g[528], 0xe5);
    CU_ASSERT_EQUAL(g[532 + 4 * 8], 0x34);
    CU_ASSERT_EQUAL(g[532 + 4 * 8 + 1], 0x12);
    TargetDescription d = riscv64_target_description();
    std::vector<std::uint8_t> raw(g.begin() + 256, g.begin() + 264);
    CU_ASSERT_EQUAL(register_value(raw, d.byte_order()), 0x80200000u);

    rv::Riscv64State back;
    CU_ASSERT(rv::gdb_registers_to_state(g, back).ok());
    CU_ASSERT_EQUAL(back.x[0], 0u);
    CU_ASSERT_EQUAL(back.x[2], s.x[2]);
    CU_ASSERT_EQUAL(back.fcsr, 0xe5u);
    CU_ASSERT_EQUAL(back.csr.sepc, 0x1234u);
    const std::uint8_t frm[4] = {1, 0, 0, 0};
    CU_ASSERT(rv::gdb_register_write(back, 66, frm).ok());
    CU_ASSERT_EQUAL(back.fcsr, 0x25u);
    const std::uint8_t zero8[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    CU_ASSERT(rv::gdb_register_write(back, 0, zero8).ok());
    CU_ASSERT_EQUAL(rv::gdb_register_read(back, 0).value(), std::vector<std::uint8_t>(8, 0));
    CU_ASSERT_EQUAL(rv::gdb_register_write(back, 66, zero8).error().code, EINVAL);
    CU_ASSERT_EQUAL(rv::gdb_register_read(back, 77).error().code, EINVAL);
}

const kvmdbg::test::TestCase kPpc[] = {{"description", test_ppc_description},
                                       {"big-endian g packet", test_ppc_big_endian_packet}};
const kvmdbg::test::TestCase kS390[] = {{"description", test_s390x_description},
                                        {"big-endian g packet", test_s390x_big_endian_packet}};
const kvmdbg::test::TestCase kRv[] = {{"description", test_riscv64_description},
                                      {"little-endian g packet", test_riscv64_packet}};
const kvmdbg::test::TestSuite kSuites[] = {{"ppc e500 target", kPpc}, {"s390x target", kS390}, {"riscv64 target", kRv}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
