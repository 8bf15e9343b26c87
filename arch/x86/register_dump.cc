#include "arch/x86/register_dump.h"

#include <cinttypes>
#include <cstdio>

#include "common/append_format.h"

namespace kvmdbg::arch::x86 {

namespace {

void append_segment(std::string& out, const char* name, const KvmdbgX86Segment& s) {
    append_format(out, "%-3s =%04x %016" PRIx64 " %08x type=%x s=%u dpl=%u p=%u db=%u l=%u g=%u%s\n", name, s.selector,
                  s.base, s.limit, s.type, s.s, s.dpl, s.present, s.db, s.l, s.g, s.unusable ? " unusable" : "");
}

}  // namespace

std::string format_register_dump(const KvmdbgX86State& st) {
    static constexpr const char* kNames[16] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP",
                                               "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15"};
    std::string out;
    for (int i = 0; i < 16; i += 4) {
        append_format(out, "%-3s=%016" PRIx64 " %-3s=%016" PRIx64 " %-3s=%016" PRIx64 " %-3s=%016" PRIx64 "\n",
                      kNames[i], st.gpr[i], kNames[i + 1], st.gpr[i + 1], kNames[i + 2], st.gpr[i + 2], kNames[i + 3],
                      st.gpr[i + 3]);
    }
    append_format(out, "RIP=%016" PRIx64 " RFL=%08" PRIx64 "\n", st.rip, st.rflags);
    append_segment(out, "ES", st.es);
    append_segment(out, "CS", st.cs);
    append_segment(out, "SS", st.ss);
    append_segment(out, "DS", st.ds);
    append_segment(out, "FS", st.fs);
    append_segment(out, "GS", st.gs);
    append_segment(out, "LDT", st.ldt);
    append_segment(out, "TR", st.tr);
    append_format(out, "GDT=     %016" PRIx64 " %08x\n", st.gdt.base, st.gdt.limit);
    append_format(out, "IDT=     %016" PRIx64 " %08x\n", st.idt.base, st.idt.limit);
    append_format(out, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08" PRIx64 "\n", st.cr0, st.cr2,
                  st.cr3, st.cr4);
    append_format(out, "CR8=%" PRIx64 " EFER=%016" PRIx64 " APIC_BASE=%016" PRIx64 "\n", st.cr8, st.efer, st.apic_base);
    append_format(out, "DR0=%016" PRIx64 " DR1=%016" PRIx64 " DR2=%016" PRIx64 " DR3=%016" PRIx64 "\n", st.dr[0],
                  st.dr[1], st.dr[2], st.dr[3]);
    append_format(out, "DR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", st.dr6, st.dr7);
    return out;
}

}  // namespace kvmdbg::arch::x86
