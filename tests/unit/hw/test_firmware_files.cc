// Unit tests for find_firmware_file(): the -L directories in order, then
// default_firmware_dirs(), the first regular file of the name wins, and the
// ENOENT message that lists every directory searched. The directories are
// temporary ones made here.
#include "hw-models/firmware_files.h"

#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

// A name no distribution installs, so the default directories never have it.
const std::string kRom = "kvmdbg-test-option-rom.bin";
const std::string kWhat = "a test option ROM";

// A directory in the temp directory, removed with what the test put in it.
class TempDir {
public:
    TempDir() {
        GError* error = nullptr;
        gchar* path = g_dir_make_tmp("kvmdbg-fwdir-XXXXXX", &error);
        CU_ASSERT_FATAL(path != nullptr);
        path_ = path;
        g_free(path);
    }
    ~TempDir() {
        for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
            ::remove(it->c_str());
        }
        ::rmdir(path_.c_str());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// Writes the file `name` holding `text`; returns its path.
    std::string add_file(const std::string& name, const std::string& text) {
        std::string path = path_ + "/" + name;
        CU_ASSERT_FATAL(g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), nullptr));
        made_.push_back(path);
        return path;
    }
    /// Makes the empty directory `name`; returns its path.
    std::string add_dir(const std::string& name) {
        std::string path = path_ + "/" + name;
        CU_ASSERT_FATAL(::mkdir(path.c_str(), 0700) == 0);
        made_.push_back(path);
        return path;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::vector<std::string> made_;
};

bool has(const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    if (!found) {
        std::fprintf(stderr, "\n  message: %s\n  missing: %s\n", text.c_str(), part.c_str());
    }
    return found;
}

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// ------------------------------------------------------------------ tests

void test_default_dirs_after_data_dir() {
    auto dirs = default_firmware_dirs();
    CU_ASSERT_EQUAL_FATAL(dirs.size(), 3u);
    CU_ASSERT_TRUE(ends_with(dirs[0], "/share/kvmdbg"));
    CU_ASSERT_EQUAL(dirs[1], "/usr/share/qemu");
    CU_ASSERT_EQUAL(dirs[2], "/usr/share/seabios");
}

void test_first_dir_with_the_file_wins() {
    TempDir empty, second, third;
    std::string want = second.add_file(kRom, "second");
    third.add_file(kRom, "third");
    auto found = find_firmware_file(kRom, kWhat, {empty.path(), second.path(), third.path()});
    CU_ASSERT_TRUE_FATAL(found.ok());
    CU_ASSERT_EQUAL(*found, want);
    found = find_firmware_file(kRom, kWhat, {third.path(), second.path()});
    CU_ASSERT_TRUE_FATAL(found.ok());
    CU_ASSERT_EQUAL(*found, third.path() + "/" + kRom);
}

void test_directory_named_like_the_file_skipped() {
    TempDir first, second;
    first.add_dir(kRom);
    std::string want = second.add_file(kRom, "rom");
    auto found = find_firmware_file(kRom, kWhat, {first.path(), second.path()});
    CU_ASSERT_TRUE_FATAL(found.ok());
    CU_ASSERT_EQUAL(*found, want);
}

void test_not_found_lists_every_dir_searched() {
    TempDir first, second;
    first.add_dir(kRom);
    auto found = find_firmware_file(kRom, kWhat, {first.path(), second.path()});
    CU_ASSERT_FALSE_FATAL(found.ok());
    CU_ASSERT_EQUAL(found.error().code, ENOENT);
    std::string searched = first.path() + ", " + second.path();
    for (const auto& dir : default_firmware_dirs()) {
        searched += ", " + dir;
    }
    const std::string& message = found.error().message;
    CU_ASSERT_TRUE(has(message, kRom + " (" + kWhat + ") not found in " + searched + ": give its directory with -L"));
    CU_ASSERT_TRUE(ends_with(message, "give its directory with -L"));
}

void test_not_found_without_l_dirs_lists_the_defaults() {
    auto found = find_firmware_file(kRom, kWhat, {});
    CU_ASSERT_FALSE_FATAL(found.ok());
    CU_ASSERT_EQUAL(found.error().code, ENOENT);
    auto dirs = default_firmware_dirs();
    CU_ASSERT_TRUE(has(found.error().message,
                       "not found in " + dirs[0] + ", " + dirs[1] + ", " + dirs[2] + ": give its directory with -L"));
}

const test::TestCase kCases[] = {
    {"default dirs: kvmdbg's data dir, /usr/share/qemu, /usr/share/seabios", test_default_dirs_after_data_dir},
    {"the first -L dir that has the file wins", test_first_dir_with_the_file_wins},
    {"a directory named like the file is skipped", test_directory_named_like_the_file_skipped},
    {"ENOENT lists the -L dirs and the defaults and asks for -L", test_not_found_lists_every_dir_searched},
    {"ENOENT without -L lists the defaults", test_not_found_without_l_dirs_lists_the_defaults},
};
const test::TestSuite kSuites[] = {{"firmware files", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
