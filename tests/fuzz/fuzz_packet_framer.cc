// libFuzzer target: the GDB remote packet framer (gdbstub-glue/packet_framer)
// fed arbitrary bytes from gdb's side of the socket, split at a
// fuzzer-chosen point so that packets crossing a read() boundary are
// covered. Checks the framer's own contract on every event, and that a
// framed packet frames back to itself (gdb manual, "Overview" of the remote
// serial protocol: $payload#cc, '}' escapes, '*' run-length encoding is
// gdb-to-stub only in replies and left to the parser).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gdbstub-glue/packet_framer.h"

namespace {

using kvmdbg::gdb::FrameEvent;
using kvmdbg::gdb::PacketFramer;

constexpr std::size_t kMaxPayload = 512;  // small, so that `oversized` is reachable

void check(const FrameEvent& e) {
    if (e.kind != FrameEvent::Kind::packet && !e.payload.empty()) {
        std::abort();  // only packets carry a payload
    }
    if (e.payload.size() > kMaxPayload) {
        std::abort();  // the cap is the point of max_payload
    }
    if (e.kind == FrameEvent::Kind::packet) {
        // A packet that framed correctly must frame back to one packet with
        // the same payload.
        PacketFramer again(kMaxPayload);
        auto events = again.feed(kvmdbg::gdb::frame_packet(e.payload));
        if (events.size() != 1 || events[0] != e || again.in_packet()) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);

    PacketFramer framer(kMaxPayload);
    for (const auto& e : framer.feed(bytes.substr(0, split))) {
        check(e);
    }
    for (const auto& e : framer.feed(bytes.substr(split))) {
        check(e);
    }

    // Byte at a time must give the same events as one feed().
    PacketFramer whole(kMaxPayload), bytewise(kMaxPayload);
    auto expected = whole.feed(bytes);
    std::size_t n = 0;
    for (char c : bytes) {
        if (auto e = bytewise.push(c)) {
            if (n >= expected.size() || *e != expected[n]) {
                std::abort();
            }
            ++n;
        }
    }
    if (n != expected.size() || whole.in_packet() != bytewise.in_packet()) {
        std::abort();
    }
    return 0;
}
