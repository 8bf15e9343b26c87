// `monitor info pic`'s decoder (arch/x86/pic_dump.h) against hand-built
// struct kvm_pic_state bytes: a master and slave as Linux programs them
// (vector bases 0x20/0x28, cascade on IRQ2, IRQ9 level-triggered), every
// init state, and the flags; byte-exact text.
#include <cstring>
#include <string>

#include "arch/x86/irqchip_state.h"
#include "arch/x86/pic_dump.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

// As KVM_GET_IRQCHIP fills struct kvm_pic_state: 16 bytes in field order.
KvmdbgX86PicState from_kernel_bytes(const unsigned char (&bytes)[16]) {
    KvmdbgX86PicState s;
    static_assert(sizeof s == 16);
    std::memcpy(&s, bytes, sizeof s);
    return s;
}

void test_linux_programmed() {
    // last_irr irr imr isr prio base rsel poll smask init aeoi raeoi sfnm init4 elcr elcr_mask
    const unsigned char master[16] = {0x01, 0x01, 0xfa, 0x00, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0xf8};
    const unsigned char slave[16] = {0x00, 0x00, 0xfd, 0x02, 3, 0x28, 1, 0, 0, 0, 0, 0, 0, 1, 0x02, 0xde};
    const std::string want =
        "master PIC: irr=0x01 imr=0xfa isr=0x00 elcr=0x00 (mask 0xf8), vector base 0x20 (IRQ0-7: 0x20-0x27)\n"
        "  init: initialised, ICW4 used\n"
        "  requested: 0; masked: 1 3 4 5 6 7; in service: none; level-triggered: none\n"
        "  highest priority: IRQ0; OCW3 read: IRR; auto-EOI: off; rotate on auto-EOI: off; special mask: off; "
        "special fully nested: off; poll: off\n"
        "slave PIC: irr=0x00 imr=0xfd isr=0x02 elcr=0x02 (mask 0xde), vector base 0x28 (IRQ8-15: 0x28-0x2f)\n"
        "  init: initialised, ICW4 used\n"
        "  requested: none; masked: 8 10 11 12 13 14 15; in service: 9; level-triggered: 9\n"
        "  highest priority: IRQ11; OCW3 read: ISR; auto-EOI: off; rotate on auto-EOI: off; special mask: off; "
        "special fully nested: off; poll: off\n";
    std::string got = format_pic_state(from_kernel_bytes(master), from_kernel_bytes(slave));
    CU_ASSERT_STRING_EQUAL(got.c_str(), want.c_str());
}

void test_reset_and_init_states() {
    // KVM's reset state (kvm_pic_reset): everything zero, IMR 0, ELCR masks kept.
    KvmdbgX86PicState master{};
    master.elcr_mask = 0xf8;
    KvmdbgX86PicState slave{};
    slave.elcr_mask = 0xde;
    slave.init_state = 1;
    std::string got = format_pic_state(master, slave);
    CU_ASSERT(got.find("master PIC: irr=0x00 imr=0x00 isr=0x00 elcr=0x00 (mask 0xf8), vector base 0x00 "
                       "(IRQ0-7: 0x00-0x07)\n  init: initialised, ICW4 not used\n") == 0);
    CU_ASSERT(got.find("  init: waiting for ICW2 (vector base), ICW4 not used\n") != std::string::npos);
    slave.init_state = 2;
    CU_ASSERT(format_pic_state(master, slave).find("  init: waiting for ICW3 (cascade),") != std::string::npos);
    slave.init_state = 3;
    CU_ASSERT(format_pic_state(master, slave).find("  init: waiting for ICW4,") != std::string::npos);
    slave.init_state = 9;
    CU_ASSERT(format_pic_state(master, slave).find("  init: unknown,") != std::string::npos);
}

void test_flags_and_wrapping_base() {
    KvmdbgX86PicState master{};
    master.irq_base = 0xf8;  // IRQ7 would be vector 0xff; the range never wraps past it
    master.auto_eoi = 1;
    master.rotate_on_auto_eoi = 1;
    master.special_mask = 1;
    master.special_fully_nested_mode = 1;
    master.poll = 1;
    master.priority_add = 0x0f;  // only the low three bits name an input
    master.imr = 0xff;
    master.isr = 0x80;
    master.irr = 0x81;
    KvmdbgX86PicState slave{};
    std::string got = format_pic_state(master, slave);
    CU_ASSERT(got.find("vector base 0xf8 (IRQ0-7: 0xf8-0xff)\n") != std::string::npos);
    CU_ASSERT(got.find("  requested: 0 7; masked: 0 1 2 3 4 5 6 7; in service: 7; level-triggered: none\n") !=
              std::string::npos);
    CU_ASSERT(got.find("  highest priority: IRQ7; OCW3 read: IRR; auto-EOI: on; rotate on auto-EOI: on; special "
                       "mask: on; special fully nested: on; poll: on\n") != std::string::npos);
}

const kvmdbg::test::TestCase kCases[] = {
    {"master and slave as Linux programs them, byte-exact", test_linux_programmed},
    {"reset state and every init state", test_reset_and_init_states},
    {"flags, priority rotation and a base at the top", test_flags_and_wrapping_base},
};

const kvmdbg::test::TestSuite kSuites[] = {{"pic_dump", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
