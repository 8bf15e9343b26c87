#include "tests/support/bzimage_builder.h"

#include <cstring>

namespace kvmdbg::test {

Bytes build_bzimage(const ImageSpec& spec) {
    std::size_t sects = spec.setup_sects == 0 ? 4 : spec.setup_sects;
    std::size_t offset = (sects + 1) * 512;
    Bytes image(offset, 0);
    Bytes kernel = pattern(spec.kernel_bytes, 7);
    image.insert(image.end(), kernel.begin(), kernel.end());
    image[0x1f1] = spec.setup_sects;
    put32(image, 0x1f4, static_cast<std::uint32_t>(spec.kernel_bytes / 16));
    put16(image, 0x1fe, 0xaa55);
    image[0x200] = 0xeb;
    image[0x201] = 0x6a;  // the header ends at 0x26c
    std::memcpy(image.data() + 0x202, "HdrS", 4);
    put16(image, 0x206, spec.version);
    image[0x211] = spec.loadflags;
    put32(image, 0x22c, spec.initrd_addr_max);
    put32(image, 0x230, spec.kernel_alignment);
    image[0x234] = spec.relocatable;
    put16(image, 0x236, spec.xloadflags);
    put32(image, 0x238, spec.cmdline_size);
    put64(image, 0x258, spec.pref_address);
    put32(image, 0x260, spec.init_size);
    image[0x268] = 0x5a;  // a header byte boot_params must carry over
    return image;
}

}  // namespace kvmdbg::test
