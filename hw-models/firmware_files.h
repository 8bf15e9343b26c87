// Where kvmdbg finds the firmware files it loads by name rather than by a
// path the user gave: option ROMs such as QEMU's linuxboot_dma.bin, which
// SeaBIOS runs to boot `-bios` with `-kernel`. As QEMU's -L: the
// directories given with -L in order, then kvmdbg's own data directory
// (PREFIX/share/kvmdbg), then where Debian installs QEMU's and SeaBIOS's
// firmware (/usr/share/qemu from qemu-system-data, /usr/share/seabios).
// Any thread.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw {

/// The directories searched after the -L ones, in order.
std::vector<std::string> default_firmware_dirs();

/// The path of the regular file `name` in the first of `dirs` and then
/// default_firmware_dirs() that has it. Errors: ENOENT "NAME (WHAT) not
/// found in DIR, DIR, ...: give its directory with -L", where WHAT is
/// `what` (e.g. "QEMU's Linux boot option ROM, Debian package
/// qemu-system-data").
Result<std::string> find_firmware_file(const std::string& name, const std::string& what,
                                       const std::vector<std::string>& dirs);

}  // namespace kvmdbg::hw
