#include "system/isa_descriptor.h"

namespace kvmdbg::system {

Result<const IsaDescriptor*> find_isa_descriptor(KvmdbgArch arch) {
    switch (arch) {
    case KVMDBG_ARCH_X86_64: return &x86_64_isa_descriptor();
    case KVMDBG_ARCH_ARM64: return &aarch64_isa_descriptor();
    }
    return make_error(ENOTSUP, "no ISA descriptor for accelerator ISA " + std::to_string(arch));
}

}  // namespace kvmdbg::system
