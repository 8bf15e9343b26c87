// The KVM accelerator core on the real /dev/kvm, through the real accel-kvm
// plugin and the Accelerator interface: port I/O callbacks, pause/resume of
// a spinning vCPU, kicks, state round trips, the triple-fault report and the
// in-kernel irqchip's state.
// Skips (77) with the reason when /dev/kvm cannot be used.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <linux/kvm.h>

#include "accel/accelerator.h"
#include "common/mapped_region.h"
#include "tests/support/cunit_main.h"
#include "tests/support/kvm_available.h"
#include "tests/support/wait_for.h"

namespace {

using kvmdbg::MappedRegion;
using kvmdbg::accel::AccelConfig;
using kvmdbg::accel::Accelerator;
using kvmdbg::accel::AccelHost;

std::string g_module;  // path of accel-kvm.so, from argv

constexpr std::uint64_t kRamSize = 2ull << 20;
constexpr std::uint64_t kCodeAddr = 0x1000;

struct Host : AccelHost {
    std::mutex mu;
    std::atomic<int> port80_writes{0};
    std::uint8_t last = 0;
    std::atomic<int> events{0};
    std::uint32_t last_kind = 0;
    std::string last_message;

    KvmdbgIoResult pio(std::uint32_t, std::uint16_t port, std::uint8_t* data, std::uint32_t, bool is_write) override {
        if (is_write && port == 0x80) {
            std::lock_guard lock(mu);
            last = data[0];
            ++port80_writes;
        }
        return KVMDBG_IO_CONTINUE;
    }
    KvmdbgIoResult mmio(std::uint32_t, std::uint64_t, std::uint8_t*, std::uint32_t, bool) override {
        return KVMDBG_IO_CONTINUE;
    }
    void event(const KvmdbgEvent& e) override {
        std::lock_guard lock(mu);
        last_kind = e.kind;
        last_message = e.message;
        ++events;
    }
};

struct Vm {
    Host host;
    MappedRegion ram;
    std::unique_ptr<Accelerator> accel;
};

using kvmdbg::test::wait_for;

// Real-mode code at 0x1000 with CS base 0.
std::unique_ptr<Vm> make_vm(const std::vector<std::uint8_t>& code, std::uint32_t cpus = 1,
                            std::uint16_t idt_limit = 0x3ff) {
    auto vm = std::make_unique<Vm>();
    auto ram = MappedRegion::anonymous(kRamSize);
    CU_ASSERT_FATAL(ram.ok());
    vm->ram = std::move(ram).value();
    std::memcpy(vm->ram.data() + kCodeAddr, code.data(), code.size());
    auto plugin = kvmdbg::accel::load_accel_plugin_file(g_module);
    CU_ASSERT_FATAL(plugin.ok());
    auto accel = Accelerator::create(std::move(plugin).value(), AccelConfig{}, vm->host);
    if (!accel.ok()) {
        std::fprintf(stderr, "%s\n", accel.error().message.c_str());
    }
    CU_ASSERT_FATAL(accel.ok());
    vm->accel = std::move(accel).value();
    CU_ASSERT_FATAL(vm->accel->map_ram(0, kRamSize, vm->ram.data(), false).ok());
    CU_ASSERT_FATAL(vm->accel->create_vcpus(cpus).ok());
    auto st = vm->accel->get_x86_state(0);
    CU_ASSERT_FATAL(st.ok());
    KvmdbgX86State s = *st;
    s.cs.base = 0;
    s.cs.selector = 0;
    s.rip = kCodeAddr;
    s.idt.base = 0;
    s.idt.limit = idt_limit;
    CU_ASSERT_FATAL(vm->accel->set_x86_state(0, s).ok());
    return vm;
}

void test_pio_reaches_host() {
    // mov al, 0x42; out 0x80, al; jmp $
    auto vm = make_vm({0xb0, 0x42, 0xe6, 0x80, 0xeb, 0xfe});
    CU_ASSERT_FATAL(vm->accel->start(false).ok());
    CU_ASSERT(wait_for([&] { return vm->host.port80_writes.load() == 1; }));
    CU_ASSERT_EQUAL(vm->host.last, 0x42);
    CU_ASSERT(vm->accel->pause_all().ok());
}

void test_pause_resume_spinning_vcpu() {
    // inc ax; out 0x80, al; jmp back: the vCPU never stops on its own.
    auto vm = make_vm({0x40, 0xe6, 0x80, 0xeb, 0xfb});
    CU_ASSERT_FATAL(vm->accel->start(false).ok());
    CU_ASSERT(wait_for([&] { return vm->host.port80_writes.load() > 10; }));
    CU_ASSERT_FATAL(vm->accel->pause_all().ok());
    int frozen = vm->host.port80_writes.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CU_ASSERT_EQUAL(vm->host.port80_writes.load(), frozen);  // really parked
    auto st = vm->accel->get_x86_state(0);
    CU_ASSERT_FATAL(st.ok());
    CU_ASSERT(st->rip >= kCodeAddr && st->rip < kCodeAddr + 5);
    // The I/O completed before parking: AX counted every write we saw, or
    // one more when the kick stopped the guest between `inc ax` and `out`.
    std::uint64_t ahead = (st->gpr[KVMDBG_X86_RAX] - static_cast<std::uint64_t>(frozen)) & 0xff;
    CU_ASSERT_TRUE(ahead == 0 || ahead == 1);
    CU_ASSERT(vm->accel->resume(0, KVMDBG_RESUME_RUN).ok());
    CU_ASSERT(wait_for([&] { return vm->host.port80_writes.load() > frozen + 10; }));
    CU_ASSERT(vm->accel->pause_all().ok());
}

void test_state_round_trip_while_running() {
    // jmp $ : a vCPU that never exits by itself; state access must kick it.
    auto vm = make_vm({0xeb, 0xfe});
    CU_ASSERT_FATAL(vm->accel->start(false).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto st = vm->accel->get_x86_state(0);
    CU_ASSERT_FATAL(st.ok());
    CU_ASSERT_EQUAL(st->rip, kCodeAddr);
    KvmdbgX86State s = *st;
    s.gpr[KVMDBG_X86_RBX] = 0x1234;
    s.xmm[3][0] = 0x5a;
    CU_ASSERT(vm->accel->set_x86_state(0, s).ok());
    auto back = vm->accel->get_x86_state(0);
    CU_ASSERT_FATAL(back.ok());
    CU_ASSERT_EQUAL(back->gpr[KVMDBG_X86_RBX], 0x1234u);
    if (back->xmm[3][0] != 0x5a) {
        std::printf("xmm3 byte 0 read back as 0x%02x (rip 0x%llx, rbx 0x%llx)\n", back->xmm[3][0],
                    static_cast<unsigned long long>(back->rip),
                    static_cast<unsigned long long>(back->gpr[KVMDBG_X86_RBX]));
    }
    CU_ASSERT_EQUAL(back->xmm[3][0], 0x5a);
    CU_ASSERT(vm->accel->kick(0).ok());
    CU_ASSERT(!vm->accel->kick(5).ok());
    CU_ASSERT(vm->accel->pause_all().ok());
}

void test_triple_fault_is_reported() {
    // ud2 in 32-bit protected mode with an empty IDT (limit 0): #UD cannot be
    // delivered (#GP), nor can #GP (#DF), nor #DF: a triple fault.
    auto vm = make_vm({0x0f, 0x0b}, 1, 0);
    auto st = vm->accel->get_x86_state(0);
    CU_ASSERT_FATAL(st.ok());
    KvmdbgX86State s = *st;
    s.cr0 |= 1;  // PE
    KvmdbgX86Segment code{0, 0xffffffff, 0x08, 0xb, 1, 0, 1, 1, 0, 1, 0, 0, 0};
    KvmdbgX86Segment data{0, 0xffffffff, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0, 0};
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    CU_ASSERT_FATAL(vm->accel->set_x86_state(0, s).ok());
    CU_ASSERT_FATAL(vm->accel->start(false).ok());
    CU_ASSERT_FATAL(wait_for([&] { return vm->host.events.load() == 1; }));
    std::lock_guard lock(vm->host.mu);
    CU_ASSERT_EQUAL(vm->host.last_kind, KVMDBG_EVENT_SHUTDOWN);
    CU_ASSERT(vm->host.last_message.find("triple fault") != std::string::npos);
    CU_ASSERT(vm->host.last_message.find("RIP=") != std::string::npos);
    CU_ASSERT(vm->host.last_message.find("CR0=") != std::string::npos);
}

void test_two_vcpus_each_own_thread() {
    auto vm = make_vm({0xeb, 0xfe}, 2);
    CU_ASSERT_FATAL(vm->accel->start(true).ok());
    CU_ASSERT(vm->accel->set_mp_runnable(1).ok());
    CU_ASSERT(vm->accel->get_x86_state(1).ok());
    CU_ASSERT(!vm->accel->get_x86_state(2).ok());
    CU_ASSERT(vm->accel->pause_all().ok());
}

// The x86 module's machine-reset op is wait_for_sipi; power_off_vcpu (the
// arm64 one) is refused naming it. The state blob is the x86-64 layout:
// the arm64 tag is refused by the module, the blob round-trips.
void test_machine_reset_ops_and_state_layout() {
    auto vm = make_vm({0xeb, 0xfe}, 2);
    CU_ASSERT_FATAL(vm->accel->start(true).ok());
    CU_ASSERT(vm->accel->wait_for_sipi(1).ok());
    auto off = vm->accel->power_off_vcpu(1);
    CU_ASSERT_FATAL(!off.ok());
    CU_ASSERT_EQUAL(off.error().code, ENOTSUP);
    CU_ASSERT(off.error().message.find("wait_for_sipi") != std::string::npos);

    auto blob = vm->accel->get_state(0);
    CU_ASSERT_FATAL(blob.ok());
    CU_ASSERT_EQUAL(blob->size(), KVMDBG_X86_64_STATE_SIZE);
    CU_ASSERT(vm->accel->set_state(0, *blob).ok());
    auto other = vm->accel->get_arm64_state(0);
    CU_ASSERT_FATAL(!other.ok());
    CU_ASSERT_EQUAL(other.error().code, EINVAL);
    CU_ASSERT(other.error().message.find("not this VM's ISA") != std::string::npos);
    CU_ASSERT(vm->accel->pause_all().ok());
}

// get_irqchip: the PIC as the guest programmed it (KVM_GET_IRQCHIP), the
// IOAPIC and an AP's local APIC as KVM reset them (KVM_GET_LAPIC on the
// vCPU's thread); bad chips, sizes and vCPUs are EINVAL; a VM without an
// in-kernel irqchip answers ENOTSUP.
void test_irqchip_state() {
    // ICW1-4 to the master PIC (vector base 0x30), IMR 0xfe, then out 0x80, al; jmp $
    auto vm = make_vm({0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x30, 0xe6, 0x21, 0xb0, 0x04, 0xe6, 0x21, 0xb0,
                       0x01, 0xe6, 0x21, 0xb0, 0xfe, 0xe6, 0x21, 0xb0, 0x42, 0xe6, 0x80, 0xeb, 0xfe},
                      2);
    CU_ASSERT_FATAL(vm->accel->start(false).ok());
    CU_ASSERT(wait_for([&] { return vm->host.port80_writes.load() == 1; }));
    CU_ASSERT(vm->accel->pause_all().ok());

    auto master = vm->accel->get_x86_pic(false);
    CU_ASSERT_FATAL(master.ok());
    CU_ASSERT_EQUAL(master->irq_base, 0x30);
    CU_ASSERT_EQUAL(master->imr, 0xfe);
    CU_ASSERT_EQUAL(master->init_state, 0);
    CU_ASSERT_EQUAL(master->init4, 1);
    CU_ASSERT_EQUAL(master->elcr_mask, 0xf8);
    auto slave = vm->accel->get_x86_pic(true);
    CU_ASSERT_FATAL(slave.ok());
    CU_ASSERT_EQUAL(slave->elcr_mask, 0xde);
    auto ioapic = vm->accel->get_x86_ioapic();
    CU_ASSERT_FATAL(ioapic.ok());
    CU_ASSERT_EQUAL(ioapic->base_address, 0xfec00000u);
    for (std::uint64_t entry : ioapic->redirtbl) {
        CU_ASSERT_EQUAL(entry, 1ull << 16);  // masked, as kvm_ioapic_reset leaves it
    }
    auto lapic = vm->accel->get_x86_lapic(1);
    CU_ASSERT_FATAL(lapic.ok());
    std::uint32_t id = 0;
    std::uint32_t svr = 0;
    std::memcpy(&id, lapic->regs + 0x20, 4);
    std::memcpy(&svr, lapic->regs + 0xf0, 4);
    CU_ASSERT_EQUAL(id, 1u << 24);
    CU_ASSERT_EQUAL(svr, 0xffu);

    std::uint8_t buf[KVMDBG_X86_LAPIC_STATE_SIZE] = {};
    auto bad_chip = vm->accel->get_irqchip(9, 0, {buf, sizeof buf});
    CU_ASSERT(!bad_chip.ok() && bad_chip.error().code == EINVAL);
    auto bad_size = vm->accel->get_irqchip(KVMDBG_X86_IRQCHIP_PIC_MASTER, 0, {buf, sizeof buf});
    CU_ASSERT(!bad_size.ok() && bad_size.error().code == EINVAL);
    auto bad_cpu = vm->accel->get_x86_lapic(2);
    CU_ASSERT(!bad_cpu.ok() && bad_cpu.error().code == EINVAL);

    Host host;
    AccelConfig no_irqchip;
    no_irqchip.kernel_irqchip = false;
    auto plugin = kvmdbg::accel::load_accel_plugin_file(g_module);
    CU_ASSERT_FATAL(plugin.ok());
    auto plain = Accelerator::create(std::move(plugin).value(), no_irqchip, host);
    CU_ASSERT_FATAL(plain.ok());
    auto none = (*plain)->get_x86_pic(false);
    CU_ASSERT_FATAL(!none.ok());
    CU_ASSERT_EQUAL(none.error().code, ENOTSUP);
    CU_ASSERT(none.error().message.find("no in-kernel irqchip") != std::string::npos);
}

void test_guest_debug_capability_reported() {
    auto vm = make_vm({0xeb, 0xfe});
    auto cap = vm->accel->capability(KVM_CAP_SET_GUEST_DEBUG);
    CU_ASSERT_FATAL(cap.ok());
    CU_ASSERT_EQUAL(vm->accel->supports_guest_debug(), *cap > 0);
}

void test_missing_device_is_named() {
    Host host;
    auto plugin = kvmdbg::accel::load_accel_plugin_file(g_module);
    CU_ASSERT_FATAL(plugin.ok());
    AccelConfig config;
    config.device_path = "/nonexistent/kvm";
    auto accel = Accelerator::create(std::move(plugin).value(), config, host);
    CU_ASSERT_FATAL(!accel.ok());
    CU_ASSERT(accel.error().message.find("/nonexistent/kvm does not exist") != std::string::npos);
}

const kvmdbg::test::TestCase kCases[] = {
    {"port I/O reaches the host callback", test_pio_reaches_host},
    {"pause and resume a spinning vCPU", test_pause_resume_spinning_vcpu},
    {"state round trip while running", test_state_round_trip_while_running},
    {"triple fault is reported with registers", test_triple_fault_is_reported},
    {"two vCPUs", test_two_vcpus_each_own_thread},
    {"machine-reset ops and the state layout tag", test_machine_reset_ops_and_state_layout},
    {"in-kernel irqchip state (get_irqchip)", test_irqchip_state},
    {"guest-debug capability", test_guest_debug_capability_reported},
    {"missing device is named", test_missing_device_is_named},
};

const kvmdbg::test::TestSuite kSuites[] = {{"kvm_core", kCases}};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s ACCEL_KVM_MODULE\n", argv[0]);
        return 2;
    }
    if (int skip = kvmdbg::test::skip_without_kvm(); skip != 0) {
        return skip;
    }
    g_module = argv[1];
    return kvmdbg::test::run_suites(kSuites);
}
