#include "hw-models/pc/bios_data_area.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint16_t kEquipmentX87 = 1u << 1;
constexpr unsigned kEquipmentSerialShift = 9;
constexpr unsigned kMaxSerialPorts = 4;  // the BDA has four COM slots

void put16(std::array<std::uint8_t, kBiosDataAreaSize>& a, std::size_t off, std::uint16_t v) {
    a[off] = static_cast<std::uint8_t>(v);
    a[off + 1] = static_cast<std::uint8_t>(v >> 8);
}

}  // namespace

std::uint16_t bda_equipment_word(unsigned serial_ports) {
    unsigned n = serial_ports > kMaxSerialPorts ? kMaxSerialPorts : serial_ports;
    return static_cast<std::uint16_t>(kEquipmentX87 | (n << kEquipmentSerialShift));
}

std::array<std::uint8_t, kBiosDataAreaSize> bios_data_area(const BiosDataAreaConfig& config) {
    std::array<std::uint8_t, kBiosDataAreaSize> a{};
    put16(a, kBdaCom1Port, config.com1_port);
    put16(a, kBdaEbdaSegment, config.ebda_segment);
    put16(a, kBdaEquipment, bda_equipment_word(config.com1_port != 0 ? 1 : 0));
    put16(a, kBdaBaseMemoryKib, config.base_memory_kib);
    return a;
}

}  // namespace kvmdbg::hw
