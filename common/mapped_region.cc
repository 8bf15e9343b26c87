#include "common/mapped_region.h"

#include <sys/mman.h>

#include <cstring>
#include <utility>

namespace kvmdbg {

MappedRegion::~MappedRegion() { reset(); }

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
    if (this != &other) {
        reset();
        addr_ = std::exchange(other.addr_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void MappedRegion::reset() {
    if (addr_ != nullptr) {
        ::munmap(addr_, size_);
        addr_ = nullptr;
        size_ = 0;
    }
}

Result<MappedRegion> MappedRegion::anonymous(std::size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        int err = errno;
        return make_error(err,
                          "cannot allocate " + std::to_string(size >> 20) + " MiB of guest RAM: " + std::strerror(err));
    }
    return MappedRegion(p, size);
}

Result<MappedRegion> MappedRegion::of_fd(int fd, std::size_t size, const std::string& what) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int err = errno;
        return make_error(err, "cannot map " + what + ": " + std::strerror(err));
    }
    return MappedRegion(p, size);
}

}  // namespace kvmdbg
