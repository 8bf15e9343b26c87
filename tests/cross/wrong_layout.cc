// Deliberately wrong: kvm_run's psw_addr is at offset 40 on s390x, not 24.
// tests/cross compiles this expecting the compiler to reject it, which
// proves that a wrong static_assert in an adaptor fails the cross suite.
#include <linux/kvm.h>

#include <cstddef>

static_assert(offsetof(kvm_run, psw_addr) == 24, "wrong on purpose");
