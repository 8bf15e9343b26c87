// The KVM test programs' common first step: SKIP (exit status 77, with the
// reason on stdout) when /dev/kvm cannot be opened read-write here.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kvmdbg::test {

/// 0 when /dev/kvm is usable; otherwise prints "SKIP: ..." and returns 77,
/// the status for main() to return.
inline int skip_without_kvm() {
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        std::printf("SKIP: /dev/kvm is not usable: %s\n", std::strerror(errno));
        return 77;
    }
    return 0;
}

}  // namespace kvmdbg::test
