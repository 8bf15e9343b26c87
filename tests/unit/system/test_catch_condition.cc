// CatchCondition (system/catch_condition.h), the `if value [& MASK] OP N`
// of `monitor catch`: each operator compiled to agent bytecode and run by
// the agent-expression evaluator on values below, at and above N (unsigned,
// 64-bit), the mask, the exact bytecode of one condition, the text written
// back, the refusals; and a catch with a condition matching only when it
// holds.
#include "system/catch_condition.h"

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "system/device_access_catches.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::system::CatchCondition;

CatchCondition parse(const std::vector<std::string>& words) {
    auto c = CatchCondition::parse(words);
    CU_ASSERT_FATAL(c.ok());
    return std::move(c).value();
}

// holds() for N - 1, N, N + 1.
std::vector<bool> around(const std::string& op, std::uint64_t n) {
    CatchCondition c = parse({"value", op, std::to_string(n)});
    return {c.holds(n - 1), c.holds(n), c.holds(n + 1)};
}

void test_each_operator_below_at_and_above() {
    CU_ASSERT(around("==", 100) == (std::vector<bool>{false, true, false}));
    CU_ASSERT(around("!=", 100) == (std::vector<bool>{true, false, true}));
    CU_ASSERT(around("<", 100) == (std::vector<bool>{true, false, false}));
    CU_ASSERT(around("<=", 100) == (std::vector<bool>{true, true, false}));
    CU_ASSERT(around(">", 100) == (std::vector<bool>{false, false, true}));
    CU_ASSERT(around(">=", 100) == (std::vector<bool>{false, true, true}));
}

void test_comparisons_are_unsigned_64_bit() {
    CatchCondition big = parse({"value", ">", "0x7fffffffffffffff"});
    CU_ASSERT(big.holds(0x8000000000000000ull));
    CU_ASSERT(big.holds(~std::uint64_t{0}));
    CU_ASSERT(!big.holds(1));
}

void test_mask_applies_before_the_comparison() {
    CatchCondition c = parse({"value", "&", "0xff", "==", "0x78"});
    CU_ASSERT(c.holds(0x12345678));
    CU_ASSERT(!c.holds(0x12345679));
    CU_ASSERT_EQUAL(c.text(), "value & 0xff == 0x78");
}

void test_bytecode_of_an_equality() {
    CatchCondition c = parse({"value", "==", "0x80000000"});
    const std::vector<std::uint8_t> want = {0x26, 0x00, 0x00,                                      // reg 0
                                            0x25, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,  // const64
                                            0x13,                                                  // equal
                                            0x27};                                                 // end
    CU_ASSERT(c.bytecode() == want);
    CU_ASSERT_EQUAL(c.text(), "value == 0x80000000");
}

void test_bad_conditions_are_refused() {
    for (const auto& words : std::vector<std::vector<std::string>>{{},
                                                                   {"valu", "==", "1"},
                                                                   {"value", "==="},
                                                                   {"value", "=", "1"},
                                                                   {"value", "==", "x"},
                                                                   {"value", "==", "-1"},
                                                                   {"value", "&", "0xff", "=="},
                                                                   {"value", "&", "y", "==", "1"},
                                                                   {"value", "==", "1", "extra"}}) {
        auto c = CatchCondition::parse(words);
        CU_ASSERT(!c.ok());
        if (!c.ok()) {
            CU_ASSERT_EQUAL(c.error().code, EINVAL);
        }
    }
}

void test_a_catch_matches_only_when_its_condition_holds() {
    kvmdbg::system::DeviceAccessCatches catches(1);
    catches.add(kvmdbg::hw::AddressSpace::pio, 0xcf8, 0xcf8, kvmdbg::system::AccessDirection::write,
                parse({"value", "==", "0x80000000"}));
    CU_ASSERT(!catches.match(kvmdbg::hw::AddressSpace::pio, 0xcf8, 4, true, 0x80000800).has_value());
    CU_ASSERT_EQUAL(catches.match(kvmdbg::hw::AddressSpace::pio, 0xcf8, 4, true, 0x80000000).value_or(0), 1u);
    CU_ASSERT(catches.list().front().condition.has_value());
    std::string list = kvmdbg::system::DeviceAccessCatches::format_list(catches.list());
    CU_ASSERT(list.find("  if value == 0x80000000\n") != std::string::npos);
}

const kvmdbg::test::TestCase kCases[] = {
    {"each operator below, at and above N", test_each_operator_below_at_and_above},
    {"comparisons are unsigned 64-bit", test_comparisons_are_unsigned_64_bit},
    {"the mask applies before the comparison", test_mask_applies_before_the_comparison},
    {"bytecode of an equality", test_bytecode_of_an_equality},
    {"bad conditions are refused", test_bad_conditions_are_refused},
    {"a catch matches only when its condition holds", test_a_catch_matches_only_when_its_condition_holds},
};
const kvmdbg::test::TestSuite kSuites[] = {{"catch condition", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
