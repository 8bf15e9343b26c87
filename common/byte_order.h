// Fixed-size integers in byte buffers, in an explicit byte order: guest
// structures, image headers and device registers are laid out in the
// guest's or the format's byte order, never the host's.
//
//   load_le(p, size) / store_le(p, v, size)   little-endian, 1..8 bytes
//   load_be(p, size) / store_be(p, v, size)   big-endian, 1..8 bytes
//   low_bytes_mask(size)                      the low `size` bytes set
//
// The caller checks the bounds. Any thread; no state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvmdbg {

/// A mask of the low `size` bytes of a 64-bit value (all ones from 8 on):
/// what a device register access of `size` bytes can carry.
inline std::uint64_t low_bytes_mask(std::size_t size) {
    return size >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * size)) - 1;
}

/// The `size`-byte little-endian value at `p`.
inline std::uint64_t load_le(const std::uint8_t* p, std::size_t size) {
    std::uint64_t v = 0;
    for (std::size_t i = size; i-- > 0;) {
        v = (v << 8) | p[i];
    }
    return v;
}

/// The `size`-byte big-endian value at `p`.
inline std::uint64_t load_be(const std::uint8_t* p, std::size_t size) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < size; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

/// Writes the low `size` bytes of `v` at `p`, little-endian.
inline void store_le(std::uint8_t* p, std::uint64_t v, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        p[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

/// Writes the low `size` bytes of `v` at `p`, big-endian.
inline void store_be(std::uint8_t* p, std::uint64_t v, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        p[i] = static_cast<std::uint8_t>(v >> (8 * (size - 1 - i)));
    }
}

}  // namespace kvmdbg
