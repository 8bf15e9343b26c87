// The accelerator plugin loader and the Accelerator wrapper, proven with the
// test-only plugins of tests/plugins (paths come from the command line).
#include <cstring>
#include <string>
#include <vector>

#include "accel/accelerator.h"
#include "accel/plugin_loader.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::accel::AccelConfig;
using kvmdbg::accel::Accelerator;
using kvmdbg::accel::AccelHost;
using kvmdbg::accel::load_accel_plugin_file;

std::string g_plugin_dir;  // set once in main() before the tests run

std::string plugin(const char* name) { return g_plugin_dir + "/" + name + ".so"; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct RecordingHost : AccelHost {
    int pio_writes = 0;
    std::uint8_t last_value = 0;
    KvmdbgIoResult pio(std::uint32_t, std::uint16_t port, std::uint8_t* data, std::uint32_t, bool is_write) override {
        if (is_write && port == 0x80) {
            ++pio_writes;
            last_value = data[0];
        }
        return KVMDBG_IO_CONTINUE;
    }
    KvmdbgIoResult mmio(std::uint32_t, std::uint64_t, std::uint8_t*, std::uint32_t, bool) override {
        return KVMDBG_IO_CONTINUE;
    }
    void event(const KvmdbgEvent&) override {}
};

void test_loads_fake() {
    auto p = load_accel_plugin_file(plugin("accel-fake"));
    CU_ASSERT_FATAL(p.ok());
    CU_ASSERT_STRING_EQUAL(p->ops->name, "fake");
    CU_ASSERT_EQUAL(p->path, plugin("accel-fake"));
}

void test_missing_file_names_it() {
    std::string path = g_plugin_dir + "/accel-none.so";
    auto p = load_accel_plugin_file(path);
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, ENOENT);
    CU_ASSERT(contains(p.error().message, path));
    CU_ASSERT(contains(p.error().message, "not found"));
}

void test_not_a_module() {
    // A source file is not a loadable module.
    std::string path = std::string(SOURCE_DIR) + "/tests/plugins/fake_accel.cc";
    auto p = load_accel_plugin_file(path);
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, ENOEXEC);
    CU_ASSERT(contains(p.error().message, path));
}

void test_missing_symbol_names_it() {
    auto p = load_accel_plugin_file(plugin("accel-no-entry"));
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, ENOSYS);
    CU_ASSERT(contains(p.error().message, plugin("accel-no-entry")));
    CU_ASSERT(contains(p.error().message, "kvmdbg_accel_entry"));
}

void test_wrong_abi_names_it() {
    auto p = load_accel_plugin_file(plugin("accel-wrong-abi"));
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, EPROTO);
    CU_ASSERT(contains(p.error().message, plugin("accel-wrong-abi")));
    CU_ASSERT(contains(p.error().message, "version 999"));
}

void test_missing_mandatory_op() {
    auto p = load_accel_plugin_file(plugin("accel-missing-op"));
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, EINVAL);
    CU_ASSERT(contains(p.error().message, "'kick'"));
}

void test_small_table_names_sizes() {
    auto p = load_accel_plugin_file(plugin("accel-small-table"));
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, EPROTO);
    CU_ASSERT(contains(p.error().message, plugin("accel-small-table")));
    CU_ASSERT(contains(p.error().message, "64 bytes"));
}

void test_null_ops_table() {
    auto p = load_accel_plugin_file(plugin("accel-null-ops"));
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT_EQUAL(p.error().code, EINVAL);
    CU_ASSERT(contains(p.error().message, "no ops table"));
}

void test_unknown_accelerator_name() {
    auto p = kvmdbg::accel::load_accel_plugin("tcg", g_plugin_dir);
    CU_ASSERT_FATAL(!p.ok());
    CU_ASSERT(contains(p.error().message, "'tcg'"));
}

void test_accelerator_over_fake() {
    auto p = load_accel_plugin_file(plugin("accel-fake"));
    CU_ASSERT_FATAL(p.ok());
    RecordingHost host;
    auto accel = Accelerator::create(std::move(p).value(), AccelConfig{}, host);
    CU_ASSERT_FATAL(accel.ok());
    Accelerator& a = **accel;
    alignas(4096) static std::uint8_t ram[4096];
    CU_ASSERT(a.map_ram(0, sizeof ram, ram, false).ok());
    CU_ASSERT(a.create_vcpus(2).ok());
    auto bad = a.create_vcpus(0);
    CU_ASSERT_FATAL(!bad.ok());
    CU_ASSERT(contains(bad.error().message, "fake: between 1 and 8"));

    KvmdbgX86State st{};
    st.rip = 0x1234;
    st.gpr[KVMDBG_X86_RSP] = 0x8000;
    CU_ASSERT(a.set_x86_state(1, st).ok());
    auto back = a.get_x86_state(1);
    CU_ASSERT_FATAL(back.ok());
    CU_ASSERT_EQUAL(back->rip, 0x1234u);
    CU_ASSERT_EQUAL(back->gpr[KVMDBG_X86_RSP], 0x8000u);
    CU_ASSERT(!a.get_x86_state(7).ok());

    // Host callbacks cross the boundary: the fake writes the vCPU count to port 0x80.
    CU_ASSERT(a.start(true).ok());
    CU_ASSERT_EQUAL(host.pio_writes, 1);
    CU_ASSERT_EQUAL(host.last_value, 2);
    CU_ASSERT(a.resume(0, KVMDBG_RESUME_STEP).ok());
    CU_ASSERT_EQUAL(a.get_x86_state(0)->rip, 1u);

    // Optional ops left NULL report ENOSYS naming the accelerator.
    CU_ASSERT(!a.supports_guest_debug());
    auto ins = a.insert_breakpoint(KVMDBG_BP_HARDWARE, 0x1000, 1);
    CU_ASSERT_FATAL(!ins.ok());
    CU_ASSERT_EQUAL(ins.error().code, ENOSYS);
    CU_ASSERT(contains(ins.error().message, "'fake'"));
    CU_ASSERT(!a.set_irq_line(4, true).ok());
    CU_ASSERT(!a.capability(1).ok());
}

// The state blob in the VM's layout, and the layout tag: the fake VM is
// x86-64, so a blob of another size and the arm64 typed helpers (tag
// KVMDBG_ARCH_ARM64) are refused by the plugin with EINVAL.
void test_state_blob_over_fake() {
    auto p = load_accel_plugin_file(plugin("accel-fake"));
    CU_ASSERT_FATAL(p.ok());
    RecordingHost host;
    auto accel = Accelerator::create(std::move(p).value(), AccelConfig{}, host);
    CU_ASSERT_FATAL(accel.ok());
    Accelerator& a = **accel;
    CU_ASSERT_EQUAL(a.arch(), KVMDBG_ARCH_X86_64);
    CU_ASSERT_EQUAL(a.state_size(), KVMDBG_X86_64_STATE_SIZE);
    CU_ASSERT(a.create_vcpus(1).ok());

    KvmdbgX86State st{};
    st.rip = 0xfff0;
    std::vector<std::uint8_t> blob(sizeof st);
    std::memcpy(blob.data(), &st, sizeof st);
    CU_ASSERT(a.set_state(0, blob).ok());
    auto back = a.get_state(0);
    CU_ASSERT_FATAL(back.ok());
    CU_ASSERT_TRUE(*back == blob);
    CU_ASSERT_EQUAL(a.get_x86_state(0)->rip, 0xfff0u);

    std::vector<std::uint8_t> short_blob(blob.begin(), blob.end() - 1);
    auto bad_size = a.set_state(0, short_blob);
    CU_ASSERT_FATAL(!bad_size.ok());
    CU_ASSERT_EQUAL(bad_size.error().code, EINVAL);
    auto other_isa = a.get_arm64_state(0);
    CU_ASSERT_FATAL(!other_isa.ok());
    CU_ASSERT_EQUAL(other_isa.error().code, EINVAL);
    CU_ASSERT(contains(other_isa.error().message, "not the x86-64 state layout"));
    CU_ASSERT(!a.set_arm64_state(0, KvmdbgArm64State{}).ok());
    CU_ASSERT_EQUAL(a.get_x86_state(0)->rip, 0xfff0u);

    // Machine-reset ops the fake leaves NULL: ENOSYS naming the op.
    auto off = a.power_off_vcpu(0);
    CU_ASSERT_FATAL(!off.ok());
    CU_ASSERT_EQUAL(off.error().code, ENOSYS);
    CU_ASSERT(contains(off.error().message, "power_off_vcpu"));
    // So is get_irqchip (monitor info pic/ioapic/lapic then say so).
    auto lapic = a.get_x86_lapic(0);
    CU_ASSERT_FATAL(!lapic.ok());
    CU_ASSERT_EQUAL(lapic.error().code, ENOSYS);
    CU_ASSERT(contains(lapic.error().message, "accelerator 'fake' does not implement get_irqchip"));
}

void test_state_layout_needed() {
    auto p = load_accel_plugin_file(plugin("accel-fake"));
    CU_ASSERT_FATAL(p.ok());
    RecordingHost host;
    AccelConfig config;
    // 3 names no ISA but is a valid KvmdbgArch value (the enum's range is
    // 0-3: a larger number is undefined behaviour in C++, UBSan says so).
    config.arch = static_cast<KvmdbgArch>(3);
    auto accel = Accelerator::create(std::move(p).value(), config, host);
    CU_ASSERT_FATAL(!accel.ok());
    CU_ASSERT_EQUAL(accel.error().code, EINVAL);
    CU_ASSERT(contains(accel.error().message, "no vCPU state layout"));
}

const kvmdbg::test::TestCase kLoaderCases[] = {
    {"loads the fake plugin", test_loads_fake},
    {"missing file is named", test_missing_file_names_it},
    {"not a module", test_not_a_module},
    {"missing entry symbol is named", test_missing_symbol_names_it},
    {"wrong ABI version is named", test_wrong_abi_names_it},
    {"missing mandatory op", test_missing_mandatory_op},
    {"ops table too small", test_small_table_names_sizes},
    {"entry returns no table", test_null_ops_table},
    {"unknown accelerator name", test_unknown_accelerator_name},
};

const kvmdbg::test::TestCase kAcceleratorCases[] = {
    {"accelerator wrapper over the fake plugin", test_accelerator_over_fake},
    {"state blob and layout tag over the fake plugin", test_state_blob_over_fake},
    {"an ISA without a state layout is refused", test_state_layout_needed},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"plugin_loader", kLoaderCases},
    {"accelerator", kAcceleratorCases},
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    g_plugin_dir = argv[1];
    return kvmdbg::test::run_suites(kSuites);
}
