// What the session needs to know about a target's registers: the size of
// every register in `g` packet order, which numbers are pc/sp/fp (expedited
// in stop replies), the byte order, and the XML documents gdb fetches with
// qXfer:features:read (gdb manual, "Target Descriptions" and "Target
// Description Format").
//
//   g packet:  | reg 0 | reg 1 | ... | reg n-1 |    raw bytes, target order
//              ^0      ^size(0)                     offset(n) = sum of sizes
//
// The register numbers are the order of <reg> elements in the XML (the
// `p`/`P` numbering); an arch module (e.g. x86_64_target.h) builds both from
// one table, so they cannot disagree. Immutable after construction; any
// thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvmdbg::gdb {

class TargetDescription {
public:
    /// One qXfer:features:read document: "target.xml" is the root.
    struct Annex {
        std::string name;
        std::string text;
    };

    /// Register numbers sent with every stop reply, when the target has
    /// them (gdb reads them without asking: "Stop Reply Packets", `T`).
    struct Expedited {
        std::optional<unsigned> pc, sp, fp;
    };

    TargetDescription() = default;
    /// `register_sizes`: bytes per register number, g-packet order.
    TargetDescription(std::vector<std::uint32_t> register_sizes, std::vector<Annex> annexes, Expedited expedited,
                      std::endian byte_order = std::endian::little);

    std::size_t register_count() const { return sizes_.size(); }
    /// Size in bytes; 0 for a number past the end.
    std::uint32_t register_size(std::uint64_t regnum) const;
    /// Offset of a register in the g packet; registers_size() past the end.
    std::size_t register_offset(std::uint64_t regnum) const;
    /// Size of the whole g packet in bytes.
    std::size_t registers_size() const { return offsets_.empty() ? 0 : offsets_.back(); }
    /// Register `regnum`'s bytes out of a whole g block; nothing when the
    /// number is past the end or `block` is not registers_size() long.
    std::optional<std::vector<std::uint8_t>> register_in(std::span<const std::uint8_t> block,
                                                         std::uint64_t regnum) const;

    /// The document named `name`, or nullptr.
    const std::string* annex(std::string_view name) const;

    const Expedited& expedited() const { return expedited_; }
    std::endian byte_order() const { return byte_order_; }

private:
    std::vector<std::uint32_t> sizes_;
    std::vector<std::size_t> offsets_;  // offsets_[n] = offset of n; back() = total
    std::vector<Annex> annexes_;
    Expedited expedited_;
    std::endian byte_order_ = std::endian::little;
};

/// Value of up to 8 raw register bytes in `order` (zero-extended); only the
/// low 8 bytes of a longer register count.
std::uint64_t register_value(const std::vector<std::uint8_t>& raw, std::endian order);

}  // namespace kvmdbg::gdb
