#include "tests/support/elf_builder.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace kvmdbg::test {

namespace {

constexpr std::uint16_t kEmX86_64 = 62;

}  // namespace

void put16(Bytes& b, std::size_t off, std::uint16_t v) {
    b[off] = static_cast<std::uint8_t>(v);
    b[off + 1] = static_cast<std::uint8_t>(v >> 8);
}

void put32(Bytes& b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void put64(Bytes& b, std::size_t off, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

Bytes pattern(std::size_t n, std::uint8_t seed) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<std::uint8_t>(seed + i * 7);
    return b;
}

Bytes long_pattern(std::size_t n, std::uint8_t seed) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<std::uint8_t>(seed + i * 13 + (i >> 8));
    return b;
}

Seg seg(std::uint64_t addr, Bytes data, std::uint64_t memsz) {
    Seg s;
    s.vaddr = addr;
    s.paddr = addr;
    s.data = std::move(data);
    s.memsz = memsz;
    return s;
}

Seg seg(std::uint64_t addr, std::size_t filesz, std::uint64_t memsz, std::uint8_t fill) {
    Seg s;
    s.vaddr = addr;
    s.paddr = addr;
    s.data.assign(filesz, fill);
    s.memsz = memsz;
    return s;
}

Bytes build_elf(bool is64, std::uint16_t machine, std::uint64_t entry, const std::vector<Seg>& segs) {
    std::size_t ehsize = is64 ? 64 : 52;
    std::size_t phsize = is64 ? 56 : 32;
    std::size_t off = 0x1000;
    std::vector<std::size_t> offsets;
    for (const auto& s : segs) {
        offsets.push_back(off);
        off += (s.data.size() + 0xfff) & ~std::size_t{0xfff};
    }
    Bytes b(std::max(off, ehsize + phsize * segs.size()), 0);
    b[0] = 0x7f;
    b[1] = 'E';
    b[2] = 'L';
    b[3] = 'F';
    b[4] = is64 ? 2 : 1;
    b[5] = 1;
    b[6] = 1;
    put16(b, 16, 2);  // ET_EXEC
    put16(b, 18, machine);
    put32(b, 20, 1);
    if (is64) {
        put64(b, 24, entry);
        put64(b, 32, ehsize);
        put16(b, 52, static_cast<std::uint16_t>(ehsize));
        put16(b, 54, static_cast<std::uint16_t>(phsize));
        put16(b, 56, static_cast<std::uint16_t>(segs.size()));
    } else {
        put32(b, 24, static_cast<std::uint32_t>(entry));
        put32(b, 28, static_cast<std::uint32_t>(ehsize));
        put16(b, 40, static_cast<std::uint16_t>(ehsize));
        put16(b, 42, static_cast<std::uint16_t>(phsize));
        put16(b, 44, static_cast<std::uint16_t>(segs.size()));
    }
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const Seg& s = segs[i];
        std::size_t p = ehsize + i * phsize;
        if (is64) {
            put32(b, p, s.type);
            put32(b, p + 4, s.flags);
            put64(b, p + 8, offsets[i]);
            put64(b, p + 16, s.vaddr);
            put64(b, p + 24, s.paddr);
            put64(b, p + 32, s.data.size());
            put64(b, p + 40, s.memsz);
            put64(b, p + 48, 0x1000);
        } else {
            put32(b, p, s.type);
            put32(b, p + 4, static_cast<std::uint32_t>(offsets[i]));
            put32(b, p + 8, static_cast<std::uint32_t>(s.vaddr));
            put32(b, p + 12, static_cast<std::uint32_t>(s.paddr));
            put32(b, p + 16, static_cast<std::uint32_t>(s.data.size()));
            put32(b, p + 20, static_cast<std::uint32_t>(s.memsz));
            put32(b, p + 24, s.flags);
            put32(b, p + 28, 0x1000);
        }
        if (!s.data.empty()) {  // memcpy from an empty vector's null data() is UB
            std::memcpy(b.data() + offsets[i], s.data.data(), s.data.size());
        }
    }
    return b;
}

Bytes build_elf64(std::uint64_t entry, const std::vector<Seg>& segs) { return build_elf(true, kEmX86_64, entry, segs); }

}  // namespace kvmdbg::test
