// TempFile: a file in the temp directory holding given bytes, removed on
// destruction; for the loader tests that hand a path to code that reads a
// file. Asserts with CUnit (fatal: the test cannot go on without it).
#pragma once

#include <glib.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/cunit_main.h"

namespace kvmdbg::test {

class TempFile {
public:
    /// Writes `content` to a new file named `prefix`-XXXXXX in the temp directory.
    explicit TempFile(const std::vector<std::uint8_t>& content, const std::string& prefix = "kvmdbg-test") {
        int fd = create(prefix);
        std::size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd, content.data() + done, content.size() - done);
            CU_ASSERT_FATAL(n > 0);
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
    }
    /// A new file of `size` zero bytes, sparse (no disk written).
    explicit TempFile(std::uint64_t size, const std::string& prefix = "kvmdbg-test") {
        int fd = create(prefix);
        CU_ASSERT_FATAL(::ftruncate(fd, static_cast<off_t>(size)) == 0);
        ::close(fd);
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    int create(const std::string& prefix) {
        path_ = std::string(g_get_tmp_dir()) + "/" + prefix + "-XXXXXX";
        int fd = g_mkstemp(path_.data());
        CU_ASSERT_FATAL(fd >= 0);
        return fd;
    }

    std::string path_;
};

}  // namespace kvmdbg::test
