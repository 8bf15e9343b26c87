// The virt device tree checked by the reference compiler: dtc (Debian
// device-tree-compiler) decompiles each generated blob and must report no
// warning or error (its checks cover node names vs reg, cell counts,
// phandles, interrupt providers, /chosen, ...). SKIP (77) without dtc.
#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "hw-models/virt/virt_fdt.h"
#include "hw-models/virt/virt_memmap.h"

namespace {

using kvmdbg::hw::virt::FdtConfig;

// Runs dtc on `config`'s blob; prints what went wrong and returns false on failure.
bool dtc_accepts(const char* dtc, const FdtConfig& config, const char* what) {
    auto blob = kvmdbg::hw::virt::build_virt_fdt(config);
    if (!blob.ok()) {
        std::printf("FAIL %s: build_virt_fdt: %s\n", what, blob.error().message.c_str());
        return false;
    }
    std::string path = std::string(g_get_tmp_dir()) + "/kvmdbg-virt-dtc-XXXXXX";
    int fd = g_mkstemp(path.data());
    if (fd < 0 || ::write(fd, blob->data(), blob->size()) != static_cast<ssize_t>(blob->size())) {
        std::printf("FAIL %s: cannot write %s\n", what, path.c_str());
        return false;
    }
    ::close(fd);
    const char* argv[] = {dtc, "-I", "dtb", "-O", "dts", "-o", "/dev/null", path.c_str(), nullptr};
    gchar* out = nullptr;
    gchar* err = nullptr;
    gint status = 0;
    GError* error = nullptr;
    bool ran = g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out, &err,
                            &status, &error);
    ::unlink(path.c_str());
    bool ok = ran && g_spawn_check_wait_status(status, nullptr) && err != nullptr && err[0] == '\0';
    const char* detail = error ? error->message : (err ? err : "");
    std::printf("%s %s (%zu bytes)%s%s\n", ok ? "ok  " : "FAIL", what, blob->size(), detail[0] ? ": " : "", detail);
    g_free(out);
    g_free(err);
    if (error) g_error_free(error);
    return ok;
}

}  // namespace

int main() {
    gchar* dtc = g_find_program_in_path("dtc");
    if (dtc == nullptr) {
        std::printf("SKIP: dtc not found (Debian package device-tree-compiler)\n");
        return 77;
    }
    FdtConfig basic;
    basic.ram_size = 128ull << 20;
    FdtConfig full = basic;
    full.cpus = 4;
    full.bootargs = "console=ttyAMA0 earlycon rdinit=/init";
    full.initrd_start = 0x48000000;
    full.initrd_end = 0x48123456;
    FdtConfig big = basic;
    big.cpus = kvmdbg::hw::virt::kMaxCpus;
    big.ram_size = 8ull << 30;
    bool ok = dtc_accepts(dtc, basic, "1 vCPU, no -append/-initrd");
    ok = dtc_accepts(dtc, full, "4 vCPUs, -append, -initrd") && ok;
    ok = dtc_accepts(dtc, big, "123 vCPUs, 8 GiB") && ok;
    g_free(dtc);
    return ok ? 0 : 1;
}
