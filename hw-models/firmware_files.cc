#include "hw-models/firmware_files.h"

#include <sys/stat.h>

#include <cerrno>

namespace kvmdbg::hw {

std::vector<std::string> default_firmware_dirs() { return {KVMDBG_DATA_DIR, "/usr/share/qemu", "/usr/share/seabios"}; }

Result<std::string> find_firmware_file(const std::string& name, const std::string& what,
                                       const std::vector<std::string>& dirs) {
    std::vector<std::string> all = dirs;
    for (auto& dir : default_firmware_dirs()) {
        all.push_back(std::move(dir));
    }
    std::string searched;
    for (const auto& dir : all) {
        std::string path = dir + "/" + name;
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            return path;
        }
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    return make_error(ENOENT, name + " (" + what + ") not found in " + searched + ": give its directory with -L");
}

}  // namespace kvmdbg::hw
