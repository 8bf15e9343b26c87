#include "accel/kvm/probe_vm.h"

#include <linux/kvm.h>

#include <cstring>

#include "accel/kvm/kvm_flex_structs.h"
#include "accel/kvm/vcpu_exit_report.h"
#include "arch/x86/boot_tables.h"
#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

constexpr std::uint64_t kGdtAddr = 0x0000;
constexpr std::uint64_t kIdtAddr = 0x0100;
constexpr unsigned kIdtVectors = 32;
constexpr std::uint64_t kPml4Addr = 0x1000;
constexpr std::uint64_t kPdptAddr = 0x2000;
constexpr std::uint64_t kPdAddr = 0x3000;
constexpr std::uint64_t kStubAddr = 0x5000;
constexpr std::uint64_t kStubSize = 8;
constexpr std::uint64_t kStackTop = kProbeRamSize;
// Same place as KvmVm: only used by VMX without unrestricted guest.
constexpr std::uint64_t kTssAddr = 0xfffbd000;
constexpr int kMaxCpuidEntries = 256;

constexpr std::uint64_t kPteP = 1u << 0;
constexpr std::uint64_t kPteRw = 1u << 1;
constexpr std::uint64_t kPtePs = 1u << 7;

constexpr std::uint64_t kCr0Pe = 1u << 0;
constexpr std::uint64_t kCr0Et = 1u << 4;
constexpr std::uint64_t kCr0Ne = 1u << 5;
constexpr std::uint64_t kCr0Pg = 1u << 31;
constexpr std::uint64_t kCr4Pae = 1u << 5;
constexpr std::uint64_t kEferLme = 1u << 8;
constexpr std::uint64_t kEferLma = 1u << 10;

void store_le64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        p[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

kvm_segment flat_segment(std::uint16_t selector, std::uint8_t type, bool long_code) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.s = 1;
    s.db = long_code ? 0 : 1;
    s.l = long_code ? 1 : 0;
    s.g = 1;
    return s;
}

// Intel SDM Vol. 3A 6.14.1, Figure 6-8: a 64-bit interrupt gate (type 0xE,
// P=1, DPL 0, IST 0), so a delivered #DB also clears RFLAGS.TF.
void write_idt_gate(std::uint8_t* p, std::uint64_t handler) {
    std::uint64_t low = (handler & 0xffff) | (std::uint64_t{arch::x86::kBootCode64Selector} << 16) |
                        (std::uint64_t{0x8e} << 40) | ((handler >> 16) & 0xffff) << 48;
    store_le64(p, low);
    store_le64(p + 8, handler >> 32);
}

Status write_layout(std::span<std::uint8_t> ram, std::span<const std::uint8_t> code) {
    if (auto s = arch::x86::write_boot_gdt(ram.subspan(kGdtAddr, arch::x86::kBootGdtSize)); !s) {
        return s;
    }
    for (unsigned v = 0; v < kIdtVectors; ++v) {
        std::uint64_t stub = kStubAddr + v * kStubSize;
        write_idt_gate(&ram[kIdtAddr + 16 * v], stub);
        const std::uint8_t bytes[kStubSize] = {
            0xb0, static_cast<std::uint8_t>(v),                         // mov al, v
            0xe6, static_cast<std::uint8_t>(kProbeGuestExceptionPort),  // out 0x81, al
            0xf4,                                                       // hlt
            0xeb, 0xfd,                                                 // jmp to the hlt
            0xf4,
        };
        std::memcpy(&ram[stub], bytes, sizeof bytes);
    }
    store_le64(&ram[kPml4Addr], kPdptAddr | kPteP | kPteRw);
    store_le64(&ram[kPdptAddr], kPdAddr | kPteP | kPteRw);
    store_le64(&ram[kPdAddr], 0 | kPteP | kPteRw | kPtePs);
    std::memset(&ram[kProbeCodeAddr], 0xf4, kProbeCodeMax);
    std::memcpy(&ram[kProbeCodeAddr], code.data(), code.size());
    return ok_status();
}

}  // namespace

Result<HostCpuid> HostCpuid::fetch(const KvmSystem& system) {
    std::vector<std::uint8_t> buf(sizeof(KvmCpuid2Header) + kMaxCpuidEntries * sizeof(kvm_cpuid_entry2));
    reinterpret_cast<KvmCpuid2Header*>(buf.data())->nent = kMaxCpuidEntries;
    if (auto s = ioctl_status(xioctl(system.fd(), kKvmGetSupportedCpuid, buf.data()), "KVM_GET_SUPPORTED_CPUID"); !s) {
        return s.error();
    }
    return HostCpuid(std::move(buf));
}

std::string ProbeExit::describe() const {
    std::string out = exit_reason_name(reason);
    switch (reason) {
    case KVM_EXIT_DEBUG:
        out += " exception " + std::to_string(exception) + " pc " + hex_string(pc) + " dr6 " + hex_string(dr6);
        break;
    case KVM_EXIT_IO:
        out += std::string(io_out ? " out" : " in") + " port " + hex_string(port);
        if (io_out) {
            out += " value " + hex_string(value);
        }
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        out += " suberror " + std::to_string(suberror) +
               (suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failure)" : "");
        break;
    case KVM_EXIT_MMIO: out += " at " + hex_string(mmio_addr); break;
    case KVM_EXIT_FAIL_ENTRY: out += " hardware reason " + hex_string(hw_reason); break;
    default: break;
    }
    return out;
}

Result<ProbeVm> ProbeVm::create(const KvmSystem& system, const HostCpuid& cpuid, std::span<const std::uint8_t> code) {
    if (code.size() > kProbeCodeMax) {
        return make_error(EINVAL, "probe code of " + std::to_string(code.size()) + " bytes exceeds " +
                                      std::to_string(kProbeCodeMax));
    }
    ProbeVm vm;
    if (auto s = vm.setup(system, cpuid, code); !s) {
        return s.error();
    }
    return vm;
}

Status ProbeVm::setup(const KvmSystem& system, const HostCpuid& cpuid, std::span<const std::uint8_t> code) {
    long fd = xioctl(system.fd(), KVM_CREATE_VM, 0ul);
    if (auto s = ioctl_status(fd, "KVM_CREATE_VM"); !s) {
        return s;
    }
    vm_fd_.reset(static_cast<int>(fd));
    if (auto s = ioctl_status(xioctl(vm_fd_.get(), KVM_SET_TSS_ADDR, kTssAddr), "KVM_SET_TSS_ADDR"); !s) {
        return s;
    }
    auto ram = MappedRegion::anonymous(kProbeRamSize);
    if (!ram) {
        return ram.error();
    }
    ram_ = std::move(ram).value();
    if (auto s = write_layout(ram_.bytes(), code); !s) {
        return s;
    }
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = kProbeRamSize;
    region.userspace_addr = reinterpret_cast<std::uintptr_t>(ram_.data());
    if (auto s = ioctl_status(xioctl(vm_fd_.get(), KVM_SET_USER_MEMORY_REGION, &region), "KVM_SET_USER_MEMORY_REGION");
        !s) {
        return s;
    }
    fd = xioctl(vm_fd_.get(), KVM_CREATE_VCPU, 0ul);
    if (auto s = ioctl_status(fd, "KVM_CREATE_VCPU"); !s) {
        return s;
    }
    vcpu_fd_.reset(static_cast<int>(fd));
    auto run = MappedRegion::of_fd(vcpu_fd_.get(), static_cast<std::size_t>(system.vcpu_mmap_size()),
                                   "the probe vCPU's kvm_run");
    if (!run) {
        return run.error();
    }
    run_ = std::move(run).value();
    if (auto s = ioctl_status(xioctl(vcpu_fd_.get(), kKvmSetCpuid2, cpuid.data()), "KVM_SET_CPUID2"); !s) {
        return s;
    }

    kvm_sregs sregs{};
    if (auto s = ioctl_status(xioctl(vcpu_fd_.get(), KVM_GET_SREGS, &sregs), "KVM_GET_SREGS"); !s) {
        return s;
    }
    sregs.cs = flat_segment(arch::x86::kBootCode64Selector, 0xb, true);
    kvm_segment data = flat_segment(arch::x86::kBootDataSelector, 0x3, false);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = kvm_segment{};
    sregs.tr.limit = 0x67;
    sregs.tr.type = 0xb;  // busy 64-bit TSS: VM entry rejects an unusable TR
    sregs.tr.present = 1;
    sregs.ldt = kvm_segment{};
    sregs.ldt.type = 0x2;
    sregs.ldt.unusable = 1;
    sregs.gdt.base = kGdtAddr;
    sregs.gdt.limit = arch::x86::kBootGdtSize - 1;
    sregs.idt.base = kIdtAddr;
    sregs.idt.limit = kIdtVectors * 16 - 1;
    sregs.cr0 = kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg;
    sregs.cr3 = kPml4Addr;
    sregs.cr4 = kCr4Pae;
    sregs.efer = kEferLme | kEferLma;
    if (auto s = ioctl_status(xioctl(vcpu_fd_.get(), KVM_SET_SREGS, &sregs), "KVM_SET_SREGS"); !s) {
        return s;
    }
    kvm_regs regs{};
    regs.rip = kProbeCodeAddr;
    regs.rsp = kStackTop;
    regs.rflags = 0x2;
    return ioctl_status(xioctl(vcpu_fd_.get(), KVM_SET_REGS, &regs), "KVM_SET_REGS");
}

Status ProbeVm::set_guest_debug(std::uint32_t control, const arch::x86::X86DebugRegs& regs) {
    kvm_guest_debug dbg{};
    dbg.control = control;
    for (unsigned i = 0; i < arch::x86::kNumDebugRegs; ++i) {
        dbg.arch.debugreg[i] = regs.dr[i];
    }
    dbg.arch.debugreg[7] = regs.dr7;
    return ioctl_status(xioctl(vcpu_fd_.get(), KVM_SET_GUEST_DEBUG, &dbg), "KVM_SET_GUEST_DEBUG");
}

Result<kvm_regs> ProbeVm::regs() const {
    kvm_regs r{};
    if (auto s = ioctl_status(xioctl(vcpu_fd_.get(), KVM_GET_REGS, &r), "KVM_GET_REGS"); !s) {
        return s.error();
    }
    return r;
}

Status ProbeVm::set_regs(const kvm_regs& regs) {
    kvm_regs copy = regs;
    return ioctl_status(xioctl(vcpu_fd_.get(), KVM_SET_REGS, &copy), "KVM_SET_REGS");
}

Result<ProbeExit> ProbeVm::run() {
    ProbeExit e;
    long rc = xioctl(vcpu_fd_.get(), KVM_RUN, 0ul);
    if (rc == -EINTR) {
        e.reason = KVM_EXIT_INTR;
        return e;
    }
    if (auto s = ioctl_status(rc, "KVM_RUN"); !s) {
        return s.error();
    }
    const auto* run = reinterpret_cast<const kvm_run*>(run_.data());
    e.reason = run->exit_reason;
    switch (e.reason) {
    case KVM_EXIT_DEBUG:
        e.exception = run->debug.arch.exception;
        e.pc = run->debug.arch.pc;
        e.dr6 = run->debug.arch.dr6;
        break;
    case KVM_EXIT_IO:
        e.port = run->io.port;
        e.io_out = run->io.direction == KVM_EXIT_IO_OUT;
        if (e.io_out && run->io.size >= 1 && run->io.data_offset < run_.size()) {
            e.value = run_.data()[run->io.data_offset];
        }
        break;
    case KVM_EXIT_INTERNAL_ERROR: e.suberror = run->internal.suberror; break;
    case KVM_EXIT_MMIO: e.mmio_addr = run->mmio.phys_addr; break;
    case KVM_EXIT_FAIL_ENTRY: e.hw_reason = run->fail_entry.hardware_entry_failure_reason; break;
    default: break;
    }
    return e;
}

}  // namespace kvmdbg::accel::kvm
