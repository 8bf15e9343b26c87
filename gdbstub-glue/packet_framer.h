// Packet framing of the GDB remote serial protocol (gdb manual, "Overview",
// "Packet Acknowledgment" and "Interrupts" in "Remote Protocol").
//
// On the wire, from gdb:
//
//   +                      ack of the stub's last packet
//   -                      nack: the stub resends its last packet
//   0x03                   Ctrl-C (only between packets; inside a packet
//                          0x03 is data, e.g. an escaped '#')
//   $ payload # c1 c2      a packet; c1c2 = hex of (sum of payload bytes) % 256
//
// PacketFramer turns that byte stream into FrameEvents, one byte at a time.
// It is a pure state machine: its events depend only on the bytes pushed so
// far, it never allocates more than `max_payload` bytes however long a
// packet claims to be, and no input can make it fail. Bytes between packets
// that are none of the above are dropped silently (gdb's own tolerance);
// a '$' inside a packet abandons the partial packet and starts a new one.
// It does not unescape payloads: only the binary parts of some packets are
// escaped (see binary_escape.h).
//
// Not thread-safe; owned by one GdbSession on the main thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvmdbg::gdb {

struct FrameEvent {
    enum class Kind {
        packet,        ///< a whole packet with a correct checksum; see payload
        bad_checksum,  ///< a whole packet whose checksum is wrong or not hex
        oversized,     ///< a whole packet longer than max_payload (dropped)
        ack,           ///< '+'
        nack,          ///< '-'
        interrupt,     ///< 0x03 between packets
    };
    Kind kind = Kind::packet;
    std::string payload;  ///< the packet's bytes between '$' and '#' (packet only)

    bool operator==(const FrameEvent&) const = default;
};

class PacketFramer {
public:
    /// Default cap on an incoming payload: 1 MiB.
    static constexpr std::size_t kDefaultMaxPayload = 1u << 20;

    explicit PacketFramer(std::size_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}

    /// Consumes one byte; returns the event it completes, if any.
    std::optional<FrameEvent> push(char byte);

    /// Consumes `bytes` and returns every event they complete, in order.
    /// Convenience for tests and fuzzers; push() never allocates per event
    /// beyond the payload.
    std::vector<FrameEvent> feed(std::string_view bytes);

    /// True while inside a packet (after '$', before the checksum's end).
    bool in_packet() const { return state_ != State::idle; }

private:
    enum class State { idle, payload, checksum_hi, checksum_lo };

    std::size_t max_payload_;
    State state_ = State::idle;
    std::string payload_;
    std::uint8_t sum_ = 0;
    int checksum_hi_ = 0;
    bool oversized_ = false;
    bool bad_digit_ = false;
};

/// The checksum of a payload: the sum of its bytes modulo 256.
std::uint8_t packet_checksum(std::string_view payload);

/// Frames a payload that is already escaped where needed:
/// "$" payload "#" two lower-case hex digits.
std::string frame_packet(std::string_view payload);

}  // namespace kvmdbg::gdb
