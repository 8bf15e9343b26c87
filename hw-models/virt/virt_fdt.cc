#include "hw-models/virt/virt_fdt.h"

#include <libfdt.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "hw-models/devices/test_exit.h"
#include "hw-models/loaders/arm64_loader.h"
#include "hw-models/virt/virt_memmap.h"

namespace kvmdbg::hw::virt {

namespace {

constexpr std::uint32_t kSpi = 0;
constexpr std::uint32_t kPpi = 1;
constexpr std::uint32_t kLevelHigh = 4;  // IRQ_TYPE_LEVEL_HIGH

// Sequential-write helper: the first libfdt error sticks and ends the build.
class FdtWriter {
public:
    explicit FdtWriter(std::vector<std::uint8_t>& buf) : buf_(buf) { err_ = fdt_create(buf_.data(), size()); }

    int error() const { return err_; }

    void reserve_end() { step(fdt_finish_reservemap(buf_.data())); }
    void begin(const char* name) { step(fdt_begin_node(buf_.data(), name)); }
    void end() { step(fdt_end_node(buf_.data())); }
    void finish() { step(fdt_finish(buf_.data())); }

    void prop_empty(const char* name) { step(fdt_property(buf_.data(), name, nullptr, 0)); }
    void prop_u32(const char* name, std::uint32_t v) { step(fdt_property_u32(buf_.data(), name, v)); }
    void prop_u64(const char* name, std::uint64_t v) { step(fdt_property_u64(buf_.data(), name, v)); }
    void prop_bytes(const char* name, const void* bytes, std::size_t size) {
        step(fdt_property(buf_.data(), name, bytes, static_cast<int>(size)));
    }
    void prop_string(const char* name, const char* v) { step(fdt_property_string(buf_.data(), name, v)); }
    /// A string list: NUL-separated strings, `list` written with embedded "\0".
    void prop_strings(const char* name, std::string_view list) {
        std::string bytes(list);
        bytes.push_back('\0');
        step(fdt_property(buf_.data(), name, bytes.data(), static_cast<int>(bytes.size())));
    }
    void prop_cells(const char* name, std::initializer_list<std::uint32_t> cells) {
        std::vector<fdt32_t> be;
        for (std::uint32_t c : cells) {
            be.push_back(cpu_to_fdt32(c));
        }
        step(fdt_property(buf_.data(), name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t))));
    }
    /// <addr size> pairs with 2 cells each (the root's #address/#size-cells).
    void prop_reg64(const char* name, std::initializer_list<std::uint64_t> values) {
        std::vector<fdt32_t> be;
        for (std::uint64_t v : values) {
            be.push_back(cpu_to_fdt32(static_cast<std::uint32_t>(v >> 32)));
            be.push_back(cpu_to_fdt32(static_cast<std::uint32_t>(v)));
        }
        step(fdt_property(buf_.data(), name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t))));
    }

private:
    int size() const { return static_cast<int>(buf_.size()); }
    void step(int rc) {
        if (err_ == 0 && rc < 0) {
            err_ = rc;
        }
    }

    std::vector<std::uint8_t>& buf_;
    int err_ = 0;
};

std::string hex_name(const char* prefix, std::uint64_t addr) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s@%llx", prefix, static_cast<unsigned long long>(addr));
    return buf;
}

void write_root_props(FdtWriter& w) {
    w.prop_u32("#address-cells", 2);
    w.prop_u32("#size-cells", 2);
    w.prop_string("compatible", "linux,dummy-virt");
    w.prop_string("model", "linux,dummy-virt");
    w.prop_u32("interrupt-parent", kGicPhandle);
}

void write_clock(FdtWriter& w) {
    w.begin("apb-pclk");
    w.prop_string("compatible", "fixed-clock");
    w.prop_u32("#clock-cells", 0);
    w.prop_u32("clock-frequency", kApbClockHz);
    w.prop_string("clock-output-names", "clk24mhz");
    w.prop_u32("phandle", kClockPhandle);
    w.end();
}

void write_memory(FdtWriter& w, const FdtConfig& config) {
    w.begin(hex_name("memory", kRamBase).c_str());
    w.prop_string("device_type", "memory");
    w.prop_reg64("reg", {kRamBase, config.ram_size});
    w.end();
}

void write_cpus(FdtWriter& w, const FdtConfig& config) {
    w.begin("cpus");
    w.prop_u32("#address-cells", 1);
    w.prop_u32("#size-cells", 0);
    for (std::uint32_t i = 0; i < config.cpus; ++i) {
        w.begin(hex_name("cpu", i).c_str());
        w.prop_string("device_type", "cpu");
        w.prop_string("compatible", "arm,arm-v8");
        w.prop_string("enable-method", "psci");
        w.prop_u32("reg", static_cast<std::uint32_t>(mpidr_for_vcpu(i)));
        w.end();
    }
    w.end();

    w.begin("psci");
    w.prop_strings("compatible", std::string_view("arm,psci-1.0\0arm,psci-0.2", 25));
    w.prop_string("method", "hvc");
    w.end();
}

void write_gic_and_timer(FdtWriter& w) {
    w.begin(hex_name("intc", kGicDistBase).c_str());
    w.prop_string("compatible", "arm,gic-v3");
    w.prop_u32("#interrupt-cells", 3);
    w.prop_empty("interrupt-controller");
    // As QEMU: address cells for child nodes (an ITS) and interrupt-map users.
    w.prop_u32("#address-cells", 2);
    w.prop_u32("#size-cells", 2);
    w.prop_empty("ranges");
    w.prop_u32("#redistributor-regions", 1);
    w.prop_reg64("reg", {kGicDistBase, kGicDistSize, kGicRedistBase, kGicRedistSize});
    w.prop_u32("phandle", kGicPhandle);
    w.end();

    w.begin("timer");
    w.prop_strings("compatible", std::string_view("arm,armv8-timer\0arm,armv7-timer", 31));
    w.prop_empty("always-on");
    w.prop_cells("interrupts", {kPpi, kTimerSecurePhysPpi, kLevelHigh, kPpi, kTimerPhysPpi, kLevelHigh, kPpi,
                                kTimerVirtPpi, kLevelHigh, kPpi, kTimerHypPpi, kLevelHigh});
    w.end();
}

void write_devices(FdtWriter& w) {
    w.begin(hex_name("pl011", kUartBase).c_str());
    w.prop_strings("compatible", std::string_view("arm,pl011\0arm,primecell", 23));
    w.prop_reg64("reg", {kUartBase, kUartSize});
    w.prop_cells("interrupts", {kSpi, kUartSpi, kLevelHigh});
    w.prop_cells("clocks", {kClockPhandle, kClockPhandle});
    w.prop_strings("clock-names", std::string_view("uartclk\0apb_pclk", 16));
    w.end();

    w.begin(hex_name("test-exit", kTestExitBase).c_str());
    w.prop_string("compatible", TestExit::kCompatible);
    w.prop_reg64("reg", {kTestExitBase, kTestExitSize});
    w.end();
}

void write_chosen(FdtWriter& w, const FdtConfig& config) {
    w.begin("chosen");
    // QEMU's create_randomness(): the seeds first, then the other properties.
    if (config.kaslr_seed) {
        w.prop_u64("kaslr-seed", *config.kaslr_seed);
    }
    if (config.rng_seed) {
        w.prop_bytes("rng-seed", config.rng_seed->data(), config.rng_seed->size());
    }
    w.prop_string("stdout-path", kUartNodePath);
    if (!config.bootargs.empty()) {
        w.prop_string("bootargs", config.bootargs.c_str());
    }
    if (config.initrd_end > config.initrd_start) {
        w.prop_reg64("linux,initrd-start", {config.initrd_start});
        w.prop_reg64("linux,initrd-end", {config.initrd_end});
    }
    w.end();
}

// The nodes in QEMU's order for -M virt (what test_virt_fdt checks node by node).
void write_tree(FdtWriter& w, const FdtConfig& config) {
    w.reserve_end();
    w.begin("");
    write_root_props(w);
    write_clock(w);
    write_memory(w, config);
    write_cpus(w, config);
    write_gic_and_timer(w);
    write_devices(w);
    write_chosen(w, config);
    w.end();
    w.finish();
}

}  // namespace

Status fill_random_seeds(FdtConfig& config) {
    std::uint8_t bytes[8 + 32];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return make_error(errno, std::string("getrandom for the device tree's seeds: ") + std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    std::uint64_t kaslr = 0;
    std::memcpy(&kaslr, bytes, sizeof kaslr);
    config.kaslr_seed = kaslr;
    config.rng_seed.emplace();
    std::memcpy(config.rng_seed->data(), bytes + 8, config.rng_seed->size());
    return ok_status();
}

Result<std::vector<std::uint8_t>> build_virt_fdt(const FdtConfig& config) {
    if (config.cpus == 0 || config.cpus > kMaxCpus) {
        return make_error(EINVAL, "the virt machine takes 1 to " + std::to_string(kMaxCpus) + " vCPUs, not " +
                                      std::to_string(config.cpus));
    }
    if (config.ram_size == 0) {
        return make_error(EINVAL, "the device tree needs a RAM size");
    }
    // Room for the fixed nodes plus the strings that grow with the input.
    std::size_t size = 4096 + config.cpus * 128 + config.bootargs.size() + 64;
    if (size > kArm64MaxDtbSize) {
        return make_error(EFBIG, "the device tree would exceed 2 MiB (-append is " +
                                     std::to_string(config.bootargs.size()) + " bytes)");
    }
    std::vector<std::uint8_t> buf(size);
    FdtWriter w(buf);
    write_tree(w, config);
    if (w.error() != 0) {
        return make_error(w.error() == -FDT_ERR_NOSPACE ? EFBIG : EINVAL,
                          std::string("building the device tree: ") + fdt_strerror(w.error()));
    }
    if (int rc = fdt_pack(buf.data()); rc != 0) {
        return make_error(EINVAL, std::string("packing the device tree: ") + fdt_strerror(rc));
    }
    buf.resize(fdt_totalsize(buf.data()));
    return buf;
}

}  // namespace kvmdbg::hw::virt
