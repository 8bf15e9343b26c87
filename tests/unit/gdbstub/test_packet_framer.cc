// Packet framing (gdb manual, "Overview", "Packet Acknowledgment",
// "Interrupts") and binary escapes, byte for byte; hostile streams: bad
// checksums, half packets, oversized packets, 1 MiB of garbage.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub-glue/binary_escape.h"
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/packet_framer.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::gdb;
using Kind = FrameEvent::Kind;

FrameEvent packet(std::string payload) { return FrameEvent{Kind::packet, std::move(payload)}; }
FrameEvent event(Kind k) { return FrameEvent{k, {}}; }

// Deterministic bytes for the garbage tests.
std::string pseudo_random(std::size_t n, std::uint32_t seed) {
    std::string out(n, '\0');
    for (auto& c : out) {
        seed = seed * 1664525u + 1013904223u;
        c = static_cast<char>(seed >> 24);
    }
    return out;
}

void test_checksum_and_frame() {
    CU_ASSERT_EQUAL(packet_checksum(""), 0);
    CU_ASSERT_EQUAL(packet_checksum("OK"), 0x9a);
    CU_ASSERT_EQUAL(frame_packet("OK"), "$OK#9a");
    CU_ASSERT_EQUAL(frame_packet(""), "$#00");
    CU_ASSERT_EQUAL(frame_packet("g"), "$g#67");
    CU_ASSERT_EQUAL(frame_packet("T05thread:1;"), "$T05thread:1;#d7");
    std::string high = "\xff\xff";
    CU_ASSERT_EQUAL(frame_packet(high), "$\xff\xff#fe");  // modulo 256
}

void test_packets_acks_interrupts() {
    PacketFramer f;
    auto events = f.feed("+$g#67-\x03$qC#b4");
    CU_ASSERT_TRUE(events == (std::vector<FrameEvent>{event(Kind::ack), packet("g"), event(Kind::nack),
                                                      event(Kind::interrupt), packet("qC")}));
    // Upper-case checksum digits are accepted.
    CU_ASSERT_TRUE(f.feed("$qC#B4") == std::vector<FrameEvent>{packet("qC")});
    CU_ASSERT_TRUE(f.feed("$#00") == std::vector<FrameEvent>{packet("")});
}

void test_interrupt_inside_packet_is_data() {
    PacketFramer f;
    std::string payload = "X1000,1:}\x03";  // an escaped '#' is 0x7d 0x03
    auto events = f.feed(frame_packet(payload));
    CU_ASSERT_TRUE(events == std::vector<FrameEvent>{packet(payload)});
}

void test_bad_checksums() {
    PacketFramer f;
    CU_ASSERT_TRUE(f.feed("$g#68") == std::vector<FrameEvent>{event(Kind::bad_checksum)});
    CU_ASSERT_TRUE(f.feed("$g#6") == std::vector<FrameEvent>{});
    CU_ASSERT_TRUE(f.in_packet());
    CU_ASSERT_TRUE(f.feed("z") == std::vector<FrameEvent>{event(Kind::bad_checksum)});
    CU_ASSERT_TRUE(f.feed("$g#zz") == std::vector<FrameEvent>{event(Kind::bad_checksum)});
    CU_ASSERT_FALSE(f.in_packet());
    CU_ASSERT_TRUE(f.feed("$g#67") == std::vector<FrameEvent>{packet("g")});
}

void test_half_packets() {
    PacketFramer f;
    // A packet cut short by a new '$' is abandoned.
    CU_ASSERT_TRUE(f.feed("$m1000,$g#67") == std::vector<FrameEvent>{packet("g")});
    // A packet split anywhere is the same packet.
    std::string wire = frame_packet("qSupported:swbreak+") + "+" + frame_packet("vCont;c");
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        PacketFramer g;
        auto a = g.feed(wire.substr(0, cut));
        auto b = g.feed(wire.substr(cut));
        a.insert(a.end(), b.begin(), b.end());
        CU_ASSERT_TRUE(a ==
                       (std::vector<FrameEvent>{packet("qSupported:swbreak+"), event(Kind::ack), packet("vCont;c")}));
    }
}

void test_noise_between_packets() {
    PacketFramer f;
    CU_ASSERT_TRUE(f.feed("hello\r\n#00 ") == std::vector<FrameEvent>{});
    CU_ASSERT_TRUE(f.feed("junk$g#67junk") == std::vector<FrameEvent>{packet("g")});
}

void test_oversized() {
    PacketFramer f(8);
    CU_ASSERT_TRUE(f.feed(frame_packet("12345678")) == std::vector<FrameEvent>{packet("12345678")});
    CU_ASSERT_TRUE(f.feed(frame_packet("123456789")) == std::vector<FrameEvent>{event(Kind::oversized)});
    // Oversized wins over a wrong checksum: the packet is dropped either way.
    CU_ASSERT_TRUE(f.feed("$123456789#00") == std::vector<FrameEvent>{event(Kind::oversized)});
    CU_ASSERT_TRUE(f.feed(frame_packet("g")) == std::vector<FrameEvent>{packet("g")});
}

void test_oversized_default_cap() {
    PacketFramer f;
    std::string big(PacketFramer::kDefaultMaxPayload + 1, 'a');
    CU_ASSERT_TRUE(f.feed(frame_packet(big)) == std::vector<FrameEvent>{event(Kind::oversized)});
    big.pop_back();
    auto events = f.feed(frame_packet(big));
    CU_ASSERT_EQUAL(events.size(), 1u);
    CU_ASSERT_TRUE(events[0].kind == Kind::packet && events[0].payload.size() == big.size());
}

void test_garbage_stream() {
    // 1 MiB of noise never stops the framer; a packet sent twice afterwards
    // is seen at least once (the first may be eaten as a checksum).
    PacketFramer f;
    std::string noise = pseudo_random(1u << 20, 12345);
    auto events = f.feed(noise);
    for (const FrameEvent& ev : events) {
        CU_ASSERT_TRUE(ev.kind != Kind::packet || ev.payload.size() <= PacketFramer::kDefaultMaxPayload);
    }
    auto after = f.feed(frame_packet("qC") + frame_packet("qC"));
    std::size_t good = 0;
    for (const FrameEvent& ev : after) {
        good += ev.kind == Kind::packet && ev.payload == "qC";
    }
    CU_ASSERT_TRUE(good >= 1);
    // The same bytes in any split give the same events: a pure function.
    PacketFramer whole;
    PacketFramer pieces;
    std::string input = pseudo_random(200000, 7) + frame_packet("g");
    auto expected = whole.feed(input);
    std::vector<FrameEvent> got;
    for (std::size_t pos = 0; pos < input.size();) {
        std::size_t n = 1 + (pos * 7919) % 97;
        auto part = pieces.feed(input.substr(pos, n));
        got.insert(got.end(), part.begin(), part.end());
        pos += n;
    }
    CU_ASSERT_TRUE(got == expected);
}

void test_escape_byte_exact() {
    const std::uint8_t special[] = {'#', '$', '}', '*', 'a', 0x00, 0x03, 0xff};
    CU_ASSERT_EQUAL(escape_binary(special), std::string("}\x03}\x04}]}\x0a"
                                                        "a\x00\x03\xff",
                                                        12));
    CU_ASSERT_EQUAL(escape_binary_text("a*b"),
                    "a}\x0a"
                    "b");
    CU_ASSERT_EQUAL(escape_binary({}), "");
}

void test_escape_round_trip() {
    std::vector<std::uint8_t> all(256);
    for (int i = 0; i < 256; ++i) {
        all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
    }
    std::string escaped = escape_binary(all);
    CU_ASSERT_EQUAL(escaped.size(), 256u + 4u);
    CU_ASSERT_EQUAL(escaped.find('#'), std::string::npos);
    CU_ASSERT_EQUAL(escaped.find('$'), std::string::npos);
    CU_ASSERT_EQUAL(escaped.find('*'), std::string::npos);
    auto back = unescape_binary(escaped);
    CU_ASSERT_TRUE(back.has_value() && *back == all);
    // Escaped data survives framing.
    PacketFramer f;
    auto events = f.feed(frame_packet("X0,100:" + escaped));
    CU_ASSERT_EQUAL(events.size(), 1u);
    CU_ASSERT_TRUE(events[0].kind == Kind::packet);
}

void test_unescape_errors() {
    CU_ASSERT_FALSE(unescape_binary("ab}").has_value());
    CU_ASSERT_TRUE(unescape_binary("") == std::vector<std::uint8_t>{});
    CU_ASSERT_TRUE(unescape_binary("}]") == std::vector<std::uint8_t>{'}'});
}

void test_hex_helpers() {
    CU_ASSERT_TRUE(parse_hex_u64("0") == 0u);
    CU_ASSERT_TRUE(parse_hex_u64("ffffffffFFFFFFFF") == 0xffffffffffffffffu);
    CU_ASSERT_TRUE(parse_hex_u64("000000000000000000001") == 1u);
    CU_ASSERT_FALSE(parse_hex_u64("10000000000000000").has_value());
    CU_ASSERT_FALSE(parse_hex_u64("").has_value());
    CU_ASSERT_FALSE(parse_hex_u64("-1").has_value());
    CU_ASSERT_FALSE(parse_hex_u64("0x1").has_value());
    CU_ASSERT_FALSE(parse_hex_u64("1 ").has_value());
    CU_ASSERT_TRUE(decode_hex("0a1B") == (std::vector<std::uint8_t>{0x0a, 0x1b}));
    CU_ASSERT_FALSE(decode_hex("0a1").has_value());
    CU_ASSERT_FALSE(decode_hex("0g").has_value());
    CU_ASSERT_EQUAL(encode_hex(std::vector<std::uint8_t>{0x00, 0xab, 0xff}), "00abff");
    CU_ASSERT_EQUAL(encode_hex_text("OK"), "4f4b");
    CU_ASSERT_EQUAL(format_hex(0), "0");
    CU_ASSERT_EQUAL(format_hex(0xffffffff81000000u), "ffffffff81000000");
}

// The byte-at-a-time definitions the fast encoders must match.
std::uint8_t naive_checksum(std::string_view s) {
    std::uint8_t sum = 0;
    for (char c : s) {
        sum = static_cast<std::uint8_t>(sum + static_cast<std::uint8_t>(c));
    }
    return sum;
}

std::string naive_hex(const std::string& bytes) {
    static const char kDigits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        auto b = static_cast<std::uint8_t>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 0xf];
    }
    return out;
}

std::string naive_escape(const std::string& bytes) {
    std::string out;
    for (char c : bytes) {
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            out += '}';
            out += static_cast<char>(c ^ 0x20);
        } else {
            out += c;
        }
    }
    return out;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void test_checksum_long_payloads() {
    // Every length around the 8-byte words and the 128-word lane limit,
    // every start alignment, and all-0xff (the largest lane sums).
    std::string data = pseudo_random(140 * 1024, 7);
    for (std::size_t len :
         {1u, 7u, 8u, 9u, 15u, 16u, 17u, 1023u, 1024u, 1025u, 1031u, 2048u, 131072u, 140u * 1024u - 3u}) {
        for (std::size_t start = 0; start < 3; ++start) {
            std::string_view part = std::string_view(data).substr(start, len);
            CU_ASSERT_EQUAL(packet_checksum(part), naive_checksum(part));
        }
    }
    std::string ff(128 * 1024 + 5, '\xff');
    CU_ASSERT_EQUAL(packet_checksum(ff), naive_checksum(ff));
    CU_ASSERT_EQUAL(packet_checksum(std::string(8 * 128, '\xff')), naive_checksum(std::string(8 * 128, '\xff')));
    std::string framed = frame_packet(ff);
    CU_ASSERT_EQUAL(framed.substr(framed.size() - 3),
                    "#" + naive_hex(std::string(1, static_cast<char>(naive_checksum(ff)))));
}

void test_fast_encoders_match() {
    // m and x replies of 64 KiB: random bytes (escapes here and there),
    // runs of specials back to back, specials at both ends.
    std::string random = pseudo_random(64 * 1024, 3);
    std::string specials = "##$$}}**a*}$#";
    for (const std::string& in : {random, specials, std::string("}abc#"), std::string(), std::string(4096, '\0')}) {
        CU_ASSERT_EQUAL(encode_hex(as_bytes(in)), naive_hex(in));
        CU_ASSERT_EQUAL(escape_binary(as_bytes(in)), naive_escape(in));
        std::string out = "b";
        append_escaped_binary(out, as_bytes(in));
        CU_ASSERT_EQUAL(out, "b" + naive_escape(in));
        std::string hex = "x";
        append_hex(hex, as_bytes(in));
        CU_ASSERT_EQUAL(hex, "x" + naive_hex(in));
        auto back = unescape_binary(escape_binary(as_bytes(in)));
        CU_ASSERT_TRUE(back.has_value() && std::string(back->begin(), back->end()) == in);
    }
}

const kvmdbg::test::TestCase kFraming[] = {
    {"checksum of long payloads", test_checksum_long_payloads},
    {"checksum and frame", test_checksum_and_frame},
    {"packets, acks, interrupts", test_packets_acks_interrupts},
    {"0x03 inside a packet", test_interrupt_inside_packet_is_data},
    {"bad checksums", test_bad_checksums},
    {"half packets", test_half_packets},
    {"noise", test_noise_between_packets},
    {"oversized", test_oversized},
    {"1 MiB cap", test_oversized_default_cap},
    {"1 MiB garbage", test_garbage_stream},
};
const kvmdbg::test::TestCase kEscapes[] = {
    {"escape byte exact", test_escape_byte_exact},
    {"round trip", test_escape_round_trip},
    {"unescape errors", test_unescape_errors},
    {"hex helpers", test_hex_helpers},
    {"fast encoders match the definitions", test_fast_encoders_match},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"packet framer", kFraming},
    {"binary escape", kEscapes},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
