#include "tests/support/elf_symbols.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace kvmdbg::test {

namespace {

template <typename Ehdr, typename Shdr, typename Sym>
std::map<std::string, std::uint64_t> parse(const std::vector<char>& f) {
    std::map<std::string, std::uint64_t> out;
    auto in_file = [&](std::uint64_t off, std::uint64_t len) { return off <= f.size() && len <= f.size() - off; };
    if (!in_file(0, sizeof(Ehdr))) {
        return out;
    }
    Ehdr eh;
    std::memcpy(&eh, f.data(), sizeof eh);
    if (eh.e_shentsize != sizeof(Shdr) || !in_file(eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Shdr))) {
        return out;
    }
    std::vector<Shdr> sh(eh.e_shnum);
    std::memcpy(sh.data(), f.data() + eh.e_shoff, sh.size() * sizeof(Shdr));
    for (const Shdr& s : sh) {
        if (s.sh_type != SHT_SYMTAB || s.sh_link >= sh.size() || !in_file(s.sh_offset, s.sh_size)) {
            continue;
        }
        const Shdr& str = sh[s.sh_link];
        if (!in_file(str.sh_offset, str.sh_size)) {
            continue;
        }
        for (std::uint64_t off = 0; off + sizeof(Sym) <= s.sh_size; off += sizeof(Sym)) {
            Sym sym;
            std::memcpy(&sym, f.data() + s.sh_offset + off, sizeof sym);
            if (sym.st_name == 0 || sym.st_name >= str.sh_size) {
                continue;
            }
            const char* name = f.data() + str.sh_offset + sym.st_name;
            std::size_t max = str.sh_size - sym.st_name;
            out[std::string(name, strnlen(name, max))] = sym.st_value;
        }
    }
    return out;
}

}  // namespace

std::map<std::string, std::uint64_t> read_elf_symbols(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (f.size() < EI_NIDENT || std::memcmp(f.data(), ELFMAG, SELFMAG) != 0) {
        return {};
    }
    if (f[EI_CLASS] == ELFCLASS64) {
        return parse<Elf64_Ehdr, Elf64_Shdr, Elf64_Sym>(f);
    }
    return parse<Elf32_Ehdr, Elf32_Shdr, Elf32_Sym>(f);
}

}  // namespace kvmdbg::test
