// Polls `pred` every 5 ms for up to 10 s: for tests that wait for a vCPU
// thread to get somewhere (a port write, a halt). Returns whether it held.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace kvmdbg::test {

inline bool wait_for(const std::function<bool()>& pred) {
    for (int i = 0; i < 2000; ++i) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

}  // namespace kvmdbg::test
