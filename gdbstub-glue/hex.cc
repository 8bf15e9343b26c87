#include "gdbstub-glue/hex.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kvmdbg::gdb {

namespace {
constexpr char kDigits[] = "0123456789abcdef";

// The two digits of every byte value, so a byte costs one 2-byte copy.
constexpr std::array<char, 512> make_pairs() {
    std::array<char, 512> t{};
    for (unsigned b = 0; b < 256; ++b) {
        t[2 * b] = kDigits[b >> 4];
        t[2 * b + 1] = kDigits[b & 0xf];
    }
    return t;
}
constexpr std::array<char, 512> kPairs = make_pairs();
}  // namespace

int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::optional<std::uint64_t> parse_hex_u64(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : text) {
        int d = hex_digit_value(c);
        if (d < 0 || (value >> 60) != 0) {
            return std::nullopt;
        }
        value = (value << 4) | static_cast<std::uint64_t>(d);
    }
    return value;
}

std::optional<std::vector<std::uint8_t>> decode_hex(std::string_view text) {
    if (text.size() % 2 != 0) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int hi = hex_digit_value(text[i]);
        int lo = hex_digit_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string encode_hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    append_hex(out, bytes);
    return out;
}

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
    std::size_t at = out.size();
    out.resize(at + bytes.size() * 2);
    char* p = out.data() + at;
    const std::uint8_t* in = bytes.data();
    std::size_t n = bytes.size();
#if defined(__SSE2__)
    // Sixteen bytes at a time (SSE2 is part of x86-64): split the nibbles,
    // make each a digit ('0' + n, plus 0x27 where n > 9), interleave the
    // high digits with the low ones.
    const __m128i low_nibbles = _mm_set1_epi8(0x0f);
    const __m128i nine = _mm_set1_epi8(9);
    const __m128i zero_char = _mm_set1_epi8('0');
    const __m128i letter_gap = _mm_set1_epi8('a' - '0' - 10);
    auto digits = [&](__m128i nib) {
        __m128i above9 = _mm_cmpgt_epi8(nib, nine);
        return _mm_add_epi8(_mm_add_epi8(nib, zero_char), _mm_and_si128(above9, letter_gap));
    };
    for (; n >= 16; n -= 16, in += 16, p += 32) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
        __m128i hi = digits(_mm_and_si128(_mm_srli_epi16(v, 4), low_nibbles));
        __m128i lo = digits(_mm_and_si128(v, low_nibbles));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_unpacklo_epi8(hi, lo));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 16), _mm_unpackhi_epi8(hi, lo));
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
        // Four bytes to eight digits in one 64-bit word: byte i of the
        // input goes to the 16-bit lane i, its high nibble into the lane's
        // low byte (the digit that comes first), then each nibble becomes
        // '0' + n, plus 'a' - '0' - 10 = 0x27 where n > 9 (n + 6 carries
        // into bit 4 exactly then).
        constexpr std::uint64_t kNibbles = 0x000f000f000f000full;
        constexpr std::uint64_t kBytes = 0x0101010101010101ull;
        for (; n >= 4; n -= 4, in += 4, p += 8) {
            std::uint32_t v;
            std::memcpy(&v, in, sizeof v);
            std::uint64_t x = v;
            x = (x | (x << 16)) & 0x0000ffff0000ffffull;
            x = (x | (x << 8)) & 0x00ff00ff00ff00ffull;
            std::uint64_t nib = ((x >> 4) & kNibbles) | ((x & kNibbles) << 8);
            std::uint64_t above9 = ((nib + 6 * kBytes) >> 4) & kBytes;
            std::uint64_t digits = nib + '0' * kBytes + above9 * ('a' - '0' - 10);
            std::memcpy(p, &digits, sizeof digits);
        }
    }
    for (; n > 0; --n, ++in, p += 2) {
        std::memcpy(p, &kPairs[2 * *in], 2);
    }
}

std::string encode_hex_text(std::string_view text) {
    return encode_hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string format_hex(std::uint64_t value) {
    char buf[16];
    int n = 0;
    do {
        buf[n++] = kDigits[value & 0xf];
        value >>= 4;
    } while (value != 0);
    std::string out;
    while (n > 0) {
        out.push_back(buf[--n]);
    }
    return out;
}

}  // namespace kvmdbg::gdb
