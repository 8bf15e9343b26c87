// append_format: printf-style text appended to a std::string, for the
// register and device-state dumps that build their text line by line.
// Each call formats at most 255 bytes (longer text is cut).
//
// Any thread; no state.
#pragma once

#include <cstdio>
#include <string>

namespace kvmdbg {

template <class... Args>
void append_format(std::string& out, const char* fmt, Args... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
}

}  // namespace kvmdbg
