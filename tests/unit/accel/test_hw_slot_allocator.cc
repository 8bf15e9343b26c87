// Hardware debug-register counting (accel/kvm/hw_slot_allocator.h): x86's
// shared pool of 4, arm64's separate breakpoint/watchpoint pools.
#include <string>

#include "accel/kvm/hw_slot_allocator.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::accel::kvm::arm64_hw_slot_limits;
using kvmdbg::accel::kvm::HwSlotAllocator;
using kvmdbg::accel::kvm::HwSlotKind;
using kvmdbg::accel::kvm::x86_hw_slot_limits;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

void test_x86_shared_pool() {
    HwSlotAllocator a(x86_hw_slot_limits());
    CU_ASSERT_EQUAL(a.capacity(HwSlotKind::breakpoint), 4u);
    CU_ASSERT_EQUAL(a.capacity(HwSlotKind::watchpoint), 4u);
    CU_ASSERT_FATAL(a.reserve(HwSlotKind::breakpoint).ok());
    CU_ASSERT_FATAL(a.reserve(HwSlotKind::watchpoint, 2).ok());  // a split watch
    CU_ASSERT_EQUAL(a.free(HwSlotKind::breakpoint), 1u);
    CU_ASSERT_EQUAL(a.free(HwSlotKind::watchpoint), 1u);

    auto two = a.reserve(HwSlotKind::watchpoint, 2);
    CU_ASSERT_FATAL(!two.ok());
    CU_ASSERT_EQUAL(two.error().code, ENOSPC);
    CU_ASSERT(contains(two.error().message, "needs 2"));
    CU_ASSERT(contains(two.error().message, "only 1 of 4 are free"));
    CU_ASSERT_EQUAL(a.used(HwSlotKind::breakpoint), 3u);  // all or nothing

    CU_ASSERT_FATAL(a.reserve(HwSlotKind::breakpoint).ok());
    auto full = a.reserve(HwSlotKind::breakpoint);
    CU_ASSERT_FATAL(!full.ok());
    CU_ASSERT_EQUAL(full.error().code, ENOSPC);
    CU_ASSERT_STRING_EQUAL(full.error().message.c_str(), "all 4 hardware debug registers are in use");
    auto full_w = a.reserve(HwSlotKind::watchpoint);
    CU_ASSERT_FATAL(!full_w.ok());
    CU_ASSERT_STRING_EQUAL(full_w.error().message.c_str(), "all 4 hardware debug registers are in use");

    a.release(HwSlotKind::watchpoint, 2);
    CU_ASSERT_EQUAL(a.free(HwSlotKind::breakpoint), 2u);
    CU_ASSERT(a.reserve(HwSlotKind::breakpoint, 2).ok());
    a.reset();
    CU_ASSERT_EQUAL(a.free(HwSlotKind::watchpoint), 4u);
}

void test_x86_impossible_and_invalid() {
    HwSlotAllocator a(x86_hw_slot_limits());
    auto five = a.reserve(HwSlotKind::watchpoint, 5);
    CU_ASSERT_FATAL(!five.ok());
    CU_ASSERT_EQUAL(five.error().code, ENOSPC);
    CU_ASSERT(contains(five.error().message, "has only 4"));
    auto zero = a.reserve(HwSlotKind::breakpoint, 0);
    CU_ASSERT_FATAL(!zero.ok());
    CU_ASSERT_EQUAL(zero.error().code, EINVAL);
    a.release(HwSlotKind::breakpoint, 3);  // below zero: clamps
    CU_ASSERT_EQUAL(a.used(HwSlotKind::breakpoint), 0u);
}

void test_arm64_separate_pools() {
    HwSlotAllocator a(arm64_hw_slot_limits(6, 4));
    for (int i = 0; i < 6; ++i) {
        CU_ASSERT_FATAL(a.reserve(HwSlotKind::breakpoint).ok());
    }
    auto full = a.reserve(HwSlotKind::breakpoint);
    CU_ASSERT_FATAL(!full.ok());
    CU_ASSERT_EQUAL(full.error().code, ENOSPC);
    CU_ASSERT_STRING_EQUAL(full.error().message.c_str(), "all 6 hardware breakpoint registers are in use");
    // Watchpoints are untouched by the breakpoints.
    CU_ASSERT_EQUAL(a.free(HwSlotKind::watchpoint), 4u);
    for (int i = 0; i < 4; ++i) {
        CU_ASSERT_FATAL(a.reserve(HwSlotKind::watchpoint).ok());
    }
    auto wfull = a.reserve(HwSlotKind::watchpoint);
    CU_ASSERT_FATAL(!wfull.ok());
    CU_ASSERT_STRING_EQUAL(wfull.error().message.c_str(), "all 4 hardware watchpoint registers are in use");
    a.release(HwSlotKind::breakpoint);
    CU_ASSERT_EQUAL(a.free(HwSlotKind::breakpoint), 1u);
    CU_ASSERT_EQUAL(a.free(HwSlotKind::watchpoint), 0u);
}

void test_arm64_unsupported_is_enotsup() {
    HwSlotAllocator a(arm64_hw_slot_limits(2, 0));
    auto w = a.reserve(HwSlotKind::watchpoint);
    CU_ASSERT_FATAL(!w.ok());
    CU_ASSERT_EQUAL(w.error().code, ENOTSUP);
    CU_ASSERT(contains(w.error().message, "no hardware watchpoints"));
    CU_ASSERT(a.reserve(HwSlotKind::breakpoint).ok());
}

void test_arm64_clamped_to_16() {
    HwSlotAllocator a(arm64_hw_slot_limits(40, 17));
    CU_ASSERT_EQUAL(a.capacity(HwSlotKind::breakpoint), 16u);
    CU_ASSERT_EQUAL(a.capacity(HwSlotKind::watchpoint), 16u);
}

const kvmdbg::test::TestCase kCases[] = {
    {"x86 shared pool of 4", test_x86_shared_pool},
    {"x86 impossible and invalid", test_x86_impossible_and_invalid},
    {"arm64 separate pools", test_arm64_separate_pools},
    {"arm64 missing kind is ENOTSUP", test_arm64_unsupported_is_enotsup},
    {"arm64 clamped to 16", test_arm64_clamped_to_16},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"hw_slot_allocator", kCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
