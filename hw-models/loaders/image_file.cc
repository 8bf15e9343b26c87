#include "hw-models/loaders/image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/unique_fd.h"

namespace kvmdbg::hw {

namespace {

Error file_error(int code, const std::string& path, const std::string& what) {
    return make_error(code, path + ": " + what);
}

}  // namespace

Result<ImageFile> read_image_file(const std::string& path, EmptyImage empty) {
    if (path.empty()) {
        return make_error(EINVAL, "no file name given");
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        return file_error(err, path, std::string("cannot open: ") + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        int err = errno;
        return file_error(err, path, std::string("cannot stat: ") + std::strerror(err));
    }
    if (S_ISDIR(st.st_mode)) {
        return file_error(EISDIR, path, "is a directory, not a file");
    }
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > kMaxImageFileSize) {
        return file_error(EFBIG, path, "file is larger than 4 GiB");
    }

    ImageFile image;
    image.path = path;
    if (S_ISREG(st.st_mode)) {
        image.bytes.reserve(static_cast<std::size_t>(st.st_size));
    }
    // Read to EOF rather than trusting st_size: pipes report 0, and a file
    // can change size under us.
    std::uint8_t chunk[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int err = errno;
            return file_error(err, path, std::string("read error: ") + std::strerror(err));
        }
        if (n == 0) {
            break;
        }
        if (image.bytes.size() + static_cast<std::size_t>(n) > kMaxImageFileSize) {
            return file_error(EFBIG, path, "file is larger than 4 GiB");
        }
        image.bytes.insert(image.bytes.end(), chunk, chunk + n);
    }
    if (image.bytes.empty() && empty == EmptyImage::reject) {
        return file_error(EINVAL, path, "file is empty");
    }
    return image;
}

}  // namespace kvmdbg::hw
