#include "arch/x86/lapic_dump.h"

#include <cstdio>

#include "common/append_format.h"

#include "common/byte_order.h"

namespace kvmdbg::arch::x86 {

namespace {

// Register offsets in the APIC page (SDM Vol. 3A Table 11-1).
namespace reg {
constexpr unsigned kId = 0x20;
constexpr unsigned kVersion = 0x30;
constexpr unsigned kTpr = 0x80;
constexpr unsigned kApr = 0x90;
constexpr unsigned kPpr = 0xa0;
constexpr unsigned kLdr = 0xd0;
constexpr unsigned kDfr = 0xe0;
constexpr unsigned kSvr = 0xf0;
constexpr unsigned kIsr = 0x100;
constexpr unsigned kTmr = 0x180;
constexpr unsigned kIrr = 0x200;
constexpr unsigned kEsr = 0x280;
constexpr unsigned kIcr = 0x300;
constexpr unsigned kIcr2 = 0x310;
constexpr unsigned kLvtTimer = 0x320;
constexpr unsigned kLvtThermal = 0x330;
constexpr unsigned kLvtPerf = 0x340;
constexpr unsigned kLvtLint0 = 0x350;
constexpr unsigned kLvtLint1 = 0x360;
constexpr unsigned kLvtError = 0x370;
constexpr unsigned kTimerInitial = 0x380;
constexpr unsigned kTimerCurrent = 0x390;
constexpr unsigned kTimerDivide = 0x3e0;
}  // namespace reg

bool bit(std::uint32_t v, unsigned n) { return ((v >> n) & 1) != 0; }

// What an LVT entry has besides its vector and mask (SDM Vol. 3A Figure 11-8).
enum class LvtKind { timer, lint, error, other };

std::string describe_lvt(std::uint32_t v, LvtKind kind) {
    static constexpr const char* kModes[8] = {"fixed", "reserved", "SMI",      "reserved",
                                              "NMI",   "INIT",     "reserved", "ExtINT"};
    static constexpr const char* kTimerModes[4] = {"one-shot", "periodic", "TSC-deadline", "reserved timer mode"};
    std::string out;
    append_format(out, "vector 0x%02x", v & 0xff);
    if (kind == LvtKind::timer) {
        out += std::string(", ") + kTimerModes[(v >> 17) & 3];
    }
    if (kind == LvtKind::lint || kind == LvtKind::other) {
        out += std::string(", ") + kModes[(v >> 8) & 7];
    }
    if (kind == LvtKind::lint) {
        out += bit(v, 13) ? ", active-low" : ", active-high";
        out += bit(v, 15) ? ", level" : ", edge";
    }
    out += bit(v, 16) ? ", masked" : ", unmasked";
    if (kind == LvtKind::lint && bit(v, 14)) {
        out += ", remote-IRR";
    }
    if (bit(v, 12)) {
        out += ", send-pending";
    }
    return out;
}

// DCR bits 3, 1:0 (SDM Vol. 3A Figure 11-10): 0b111 divides by 1, n by 2 << n.
unsigned timer_divisor(std::uint32_t dcr) {
    unsigned n = (dcr & 3) | ((dcr >> 1) & 4);
    return n == 7 ? 1 : 2u << n;
}

std::string describe_icr(std::uint32_t low, std::uint32_t high) {
    static constexpr const char* kModes[8] = {"fixed", "lowest", "SMI", "reserved", "NMI", "INIT", "SIPI", "reserved"};
    static constexpr const char* kShorthands[4] = {"no shorthand", "self", "all", "all-but-self"};
    std::string out;
    append_format(out, "vector 0x%02x, %s, %s, %s, %s, %s, dest 0x%02x%s", low & 0xff, kModes[(low >> 8) & 7],
                  bit(low, 11) ? "logical" : "physical", bit(low, 14) ? "assert" : "de-assert",
                  bit(low, 15) ? "level" : "edge", kShorthands[(low >> 18) & 3], high >> 24,
                  bit(low, 12) ? ", send-pending" : "");
    return out;
}

}  // namespace

std::uint32_t lapic_register(const KvmdbgX86LapicState& state, unsigned offset) {
    if (offset > KVMDBG_X86_LAPIC_REGS_SIZE - 4) {
        return 0;
    }
    return static_cast<std::uint32_t>(load_le(state.regs + offset, 4));
}

std::string lapic_vector_list(const KvmdbgX86LapicState& state, unsigned offset) {
    std::string out;
    char buf[8];
    for (unsigned word = 0; word < 8; ++word) {
        std::uint32_t bits = lapic_register(state, offset + 0x10 * word);
        for (unsigned b = 0; b < 32; ++b) {
            if (bit(bits, b)) {
                std::snprintf(buf, sizeof buf, "0x%02x", word * 32 + b);
                out += (out.empty() ? "" : " ") + std::string(buf);
            }
        }
    }
    return out.empty() ? "none" : out;
}

std::string format_lapic_state(const KvmdbgX86LapicState& s) {
    auto r = [&s](unsigned offset) { return lapic_register(s, offset); };
    std::string out;
    const std::uint32_t version = r(reg::kVersion);
    append_format(out,
                  "local APIC: ID 0x%02x, version 0x%02x (%u LVT entries, %s EOI-broadcast suppression) [0x%08x]\n",
                  r(reg::kId) >> 24, version & 0xff, ((version >> 16) & 0xff) + 1, bit(version, 24) ? "with" : "no",
                  version);
    const std::uint32_t dfr = r(reg::kDfr);
    const unsigned model = dfr >> 28;
    append_format(out,
                  "  TPR 0x%02x, PPR 0x%02x, APR 0x%02x, LDR 0x%08x (logical ID 0x%02x), DFR 0x%08x (%s), ESR 0x%08x\n",
                  r(reg::kTpr) & 0xff, r(reg::kPpr) & 0xff, r(reg::kApr) & 0xff, r(reg::kLdr), r(reg::kLdr) >> 24, dfr,
                  model == 0xf ? "flat"
                  : model == 0 ? "cluster"
                               : "reserved model",
                  r(reg::kEsr));
    const std::uint32_t svr = r(reg::kSvr);
    append_format(out, "  SVR 0x%08x: %s, spurious vector 0x%02x, focus checking %s, EOI broadcast %s\n", svr,
                  bit(svr, 8) ? "software-enabled" : "software-disabled", svr & 0xff, bit(svr, 9) ? "off" : "on",
                  bit(svr, 12) ? "suppressed" : "on");
    out += "  ISR: " + lapic_vector_list(s, reg::kIsr) + "\n";
    out += "  TMR: " + lapic_vector_list(s, reg::kTmr) + "\n";
    out += "  IRR: " + lapic_vector_list(s, reg::kIrr) + "\n";
    struct Lvt {
        const char* name;
        unsigned offset;
        LvtKind kind;
    };
    static constexpr Lvt kLvts[] = {
        {"timer", reg::kLvtTimer, LvtKind::timer}, {"LINT0", reg::kLvtLint0, LvtKind::lint},
        {"LINT1", reg::kLvtLint1, LvtKind::lint},  {"error", reg::kLvtError, LvtKind::error},
        {"perf", reg::kLvtPerf, LvtKind::other},   {"thermal", reg::kLvtThermal, LvtKind::other},
    };
    for (const Lvt& lvt : kLvts) {
        append_format(out, "  LVT %-7s 0x%08x: %s\n", lvt.name, r(lvt.offset),
                      describe_lvt(r(lvt.offset), lvt.kind).c_str());
    }
    const std::uint32_t dcr = r(reg::kTimerDivide);
    append_format(out, "  timer: initial count 0x%08x, current count 0x%08x, divide by %u (DCR 0x%x)\n",
                  r(reg::kTimerInitial), r(reg::kTimerCurrent), timer_divisor(dcr), dcr);
    append_format(out, "  ICR 0x%08x, ICR2 0x%08x: %s\n", r(reg::kIcr), r(reg::kIcr2),
                  describe_icr(r(reg::kIcr), r(reg::kIcr2)).c_str());
    return out;
}

}  // namespace kvmdbg::arch::x86
