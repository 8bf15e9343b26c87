// Reads the symbol table of an ELF32/ELF64 little-endian file, so tests can
// put breakpoints on guest symbols (step_0, tick, ...) by name. Test-only:
// bounds-checked, but errors are reported as an empty map.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace kvmdbg::test {

/// name -> value (address) of every named symbol in `path`'s .symtab.
std::map<std::string, std::uint64_t> read_elf_symbols(const std::string& path);

}  // namespace kvmdbg::test
