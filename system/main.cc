// build/kvmdbg: parses the QEMU-compatible command line, sets up logging,
// builds the emulator and runs it. Fatal set-up errors are reported once,
// here, as one clear line on stderr with exit status 1.
#include <cstdio>

#include "common/log.h"
#include "system/cli.h"
#include "system/emulator.h"

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "kvmdbg: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kvmdbg;
    auto options = system::parse_command_line(argc, argv);
    if (!options) {
        // The parser's messages already carry the "kvmdbg: -opt:" prefix.
        std::fprintf(stderr, "%s\n", options.error().message.c_str());
        return 1;
    }
    switch (options->action) {
    case system::CliAction::help: std::fputs(system::usage_text().c_str(), stdout); return 0;
    case system::CliAction::version: std::fputs(system::version_text().c_str(), stdout); return 0;
    case system::CliAction::machine_help: std::fputs(system::machine_help_text().c_str(), stdout); return 0;
    case system::CliAction::device_help: std::fputs(system::device_help_text().c_str(), stdout); return 0;
    case system::CliAction::accel_help: std::fputs(system::accel_help_text().c_str(), stdout); return 0;
    case system::CliAction::log_help: std::fputs(Log::help().c_str(), stdout); return 0;
    case system::CliAction::run: break;
    }
    Log log;
    if (!options->log_file.empty()) {
        if (auto s = log.set_file(options->log_file); !s) {
            return fail(s.error().message);
        }
    }
    if (auto s = log.enable(options->log_items); !s) {
        return fail(s.error().message);
    }
    if (options->kernel.empty() && options->bios.empty()) {
        return fail("no kernel given: use -kernel FILE or -bios FILE (see -help)");
    }
    auto emulator = system::Emulator::create(*options, log);
    if (!emulator) {
        return fail(emulator.error().message);
    }
    return (*emulator)->run();
}
