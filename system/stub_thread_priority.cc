#include "system/stub_thread_priority.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kvmdbg::system {

namespace {

Result<int> calling_thread_nice() {
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));  // -1 is also a nice value
    if (nice == -1 && errno != 0) {
        return make_error(errno, std::string("getpriority: ") + std::strerror(errno));
    }
    return nice;
}

}  // namespace

Result<int> wanted_stub_thread_nice(const char* env_value) {
    if (env_value == nullptr || *env_value == '\0') {
        return kStubThreadNice;
    }
    char* end = nullptr;
    errno = 0;
    long value = std::strtol(env_value, &end, 10);
    if (errno != 0 || *end != '\0' || value < -20 || value > 19) {
        return make_error(EINVAL,
                          std::string("KVMDBG_STUB_NICE=") + env_value + ": expected a nice value from -20 to 19");
    }
    return static_cast<int>(value);
}

Result<int> raise_calling_thread_priority(int nice) {
    auto now = calling_thread_nice();
    if (!now || *now <= nice) {
        return now;
    }
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
        int err = errno;
        return make_error(err, "setpriority to nice " + std::to_string(nice) + ": " + std::strerror(err) +
                                   " (raising a priority needs CAP_SYS_NICE or RLIMIT_NICE of at least " +
                                   std::to_string(20 - nice) + ")");
    }
    return calling_thread_nice();
}

}  // namespace kvmdbg::system
