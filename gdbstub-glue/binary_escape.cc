#include "gdbstub-glue/binary_escape.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kvmdbg::gdb {

namespace {

constexpr char kEscape = '}';

bool needs_escape(std::uint8_t b) { return b == '#' || b == '$' || b == '}' || b == '*'; }

// Whether any of the 8 bytes at p needs an escape, a word at a time: a
// byte of w ^ (c * 0x01..01) is zero where w holds c, and (x - 0x01..01) &
// ~x & 0x80..80 is non-zero exactly when some byte of x is zero.
bool word_needs_escape(const std::uint8_t* p) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHighs = 0x8080808080808080ull;
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    auto has_zero = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
    return (has_zero(w ^ (kOnes * '#')) | has_zero(w ^ (kOnes * '$')) | has_zero(w ^ (kOnes * '}')) |
            has_zero(w ^ (kOnes * '*'))) != 0;
}

}  // namespace

std::string escape_binary(std::span<const std::uint8_t> bytes) {
    std::string out;
    append_escaped_binary(out, bytes);
    return out;
}

void append_escaped_binary(std::string& out, std::span<const std::uint8_t> bytes) {
    // Room for the worst case (every byte escaped), trimmed at the end.
    std::size_t at = out.size();
    out.resize(at + 2 * bytes.size());
    char* p = out.data() + at;
    const std::uint8_t* run = bytes.data();  // start of the bytes not yet copied
    const std::uint8_t* end = run + bytes.size();
    const std::uint8_t* q = run;
    auto escape_at = [&](const std::uint8_t* at) {
        std::size_t n = static_cast<std::size_t>(at - run);
        if (n != 0) {
            std::memcpy(p, run, n);
            p += n;
        }
        *p++ = kEscape;
        *p++ = static_cast<char>(*at ^ 0x20);
        run = at + 1;
    };
#if defined(__SSE2__)
    // x86-64: sixteen bytes per step, a bit per byte that needs an escape.
    const __m128i hash = _mm_set1_epi8('#');
    const __m128i dollar = _mm_set1_epi8('$');
    const __m128i brace = _mm_set1_epi8('}');
    const __m128i star = _mm_set1_epi8('*');
    for (; end - q >= 16; q += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, hash), _mm_cmpeq_epi8(v, dollar)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, brace), _mm_cmpeq_epi8(v, star)));
        for (auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit)); mask != 0; mask &= mask - 1) {
            escape_at(q + std::countr_zero(mask));
        }
    }
#endif
    while (q != end) {
        if (end - q >= 8 && !word_needs_escape(q)) {
            q += 8;
            continue;
        }
        if (needs_escape(*q)) {
            escape_at(q);
        }
        ++q;
    }
    if (run != end) {
        std::memcpy(p, run, static_cast<std::size_t>(end - run));
        p += end - run;
    }
    out.resize(static_cast<std::size_t>(p - out.data()));
}

std::string escape_binary_text(std::string_view text) {
    return escape_binary(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::optional<std::vector<std::uint8_t>> unescape_binary(std::string_view payload) {
    std::vector<std::uint8_t> out;
    out.reserve(payload.size());
    for (std::size_t i = 0; i < payload.size(); ++i) {
        auto b = static_cast<std::uint8_t>(payload[i]);
        if (b == kEscape) {
            if (++i == payload.size()) {
                return std::nullopt;
            }
            b = static_cast<std::uint8_t>(payload[i]) ^ 0x20;
        }
        out.push_back(b);
    }
    return out;
}

}  // namespace kvmdbg::gdb
