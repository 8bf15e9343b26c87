// Shared CUnit driver for the unit test programs.
//
// A test file lists its suites as `const TestSuite kSuites[]` and ends with
// KVMDBG_CUNIT_MAIN(kSuites). The program runs every test in CUnit's basic
// mode (CUnit prints its own summary) and exits 1 if any assertion failed,
// so Meson sees the result.
#pragma once

#include <CUnit/Basic.h>

#include <cstdio>
#include <cstdlib>
#include <span>

namespace kvmdbg::test {

struct TestCase {
    const char* name;
    void (*fn)();
};

struct TestSuite {
    const char* name;
    std::span<const TestCase> cases;
};

inline int run_suites(std::span<const TestSuite> suites) {
    if (CU_initialize_registry() != CUE_SUCCESS) {
        std::fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    for (const auto& s : suites) {
        CU_pSuite suite = CU_add_suite(s.name, nullptr, nullptr);
        if (suite == nullptr) {
            std::fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
            return 2;
        }
        for (const auto& c : s.cases) {
            if (CU_add_test(suite, c.name, c.fn) == nullptr) {
                std::fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
                return 2;
            }
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (run == 0) {
        std::fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace kvmdbg::test

#define KVMDBG_CUNIT_MAIN(suites) \
    int main() { return kvmdbg::test::run_suites(suites); }
