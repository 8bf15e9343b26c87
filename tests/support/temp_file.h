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
        std::string tmpl = std::string(g_get_tmp_dir()) + "/" + prefix + "-XXXXXX";
        int fd = g_mkstemp(tmpl.data());
        CU_ASSERT_FATAL(fd >= 0);
        std::size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd, content.data() + done, content.size() - done);
            CU_ASSERT_FATAL(n > 0);
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
        path_ = tmpl;
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace kvmdbg::test
