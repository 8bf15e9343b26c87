#include "hw-models/machine.h"

namespace kvmdbg::hw {

Status map_guest_ram(GuestRam& ram, MachineAccel& accel) {
    for (const auto& region : ram.regions()) {
        if (auto s = accel.map_ram(region.gpa, region.memory.size(), region.memory.data(), false); !s) {
            return s;
        }
    }
    return ok_status();
}

Status Machine::reset(MachineAccel& accel) {
    // The in-kernel interrupt controllers keep their programming; a booting
    // guest programs them anew.
    ram().clear();
    if (auto s = load_kernel(); !s) {
        return s;
    }
    reset_devices();
    return boot_vcpus(accel, true);
}

}  // namespace kvmdbg::hw
