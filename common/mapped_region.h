// MappedRegion: sole owner of an mmap()ed range (docs/design.md rule 4).
//
// Used for guest RAM (anonymous, private) and for each vCPU's kvm_run page
// (shared mapping of the vCPU fd). Move-only; munmap()s on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace kvmdbg {

class MappedRegion {
public:
    MappedRegion() = default;
    ~MappedRegion();
    MappedRegion(const MappedRegion&) = delete;
    MappedRegion& operator=(const MappedRegion&) = delete;
    MappedRegion(MappedRegion&& other) noexcept;
    MappedRegion& operator=(MappedRegion&& other) noexcept;

    /// Anonymous zero-filled read/write memory of `size` bytes.
    /// Errors: ENOMEM (with the size in the message).
    static Result<MappedRegion> anonymous(std::size_t size);

    /// Shared read/write mapping of `size` bytes of `fd` at offset 0.
    /// `what` names the mapping in error messages.
    static Result<MappedRegion> of_fd(int fd, std::size_t size, const std::string& what);

    std::uint8_t* data() const { return static_cast<std::uint8_t*>(addr_); }
    std::size_t size() const { return size_; }
    std::span<std::uint8_t> bytes() const { return {data(), size_}; }
    bool valid() const { return addr_ != nullptr; }

private:
    MappedRegion(void* addr, std::size_t size) : addr_(addr), size_(size) {}
    void reset();

    void* addr_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace kvmdbg
