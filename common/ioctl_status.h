// ioctl_status: the one place a raw syscall status becomes a Status.
//
// Syscall wrappers (xioctl, and the like) return -errno on failure and a
// non-negative value on success (house rule 5 in docs/design.md). Code above
// them turns that into a Status whose message names the call:
//
//   if (auto s = ioctl_status(xioctl(fd, KVM_SET_REGS, &regs), "KVM_SET_REGS"); !s) return s;
//
// Any thread; no state.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmdbg {

/// Success for rc >= 0; otherwise an Error with code -rc and the message
/// "WHAT failed: strerror(-rc)".
inline Status ioctl_status(long rc, std::string_view what) {
    if (rc >= 0) {
        return ok_status();
    }
    const int err = static_cast<int>(-rc);
    return make_error(err, std::string(what) + " failed: " + std::strerror(err));
}

}  // namespace kvmdbg
