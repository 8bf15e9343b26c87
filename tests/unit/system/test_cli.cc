// parse_command_line(): every option, QEMU defaults, -m sizes, -smp forms,
// -device properties, -s vs -gdb, help actions, and the error wording for
// unknown options, missing values and stray arguments.
#include "system/cli.h"

#include <string>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::system::CliAction;
using kvmdbg::system::CliOptions;
using kvmdbg::system::parse_command_line;

namespace {

constexpr std::uint64_t KiB = 1ull << 10;
constexpr std::uint64_t MiB = 1ull << 20;
constexpr std::uint64_t GiB = 1ull << 30;
constexpr std::uint64_t TiB = 1ull << 40;

CliOptions parse_ok(const std::vector<std::string>& args) {
    auto r = parse_command_line(args);
    if (!r.ok()) {
        std::fprintf(stderr, "unexpected error: %s\n", r.error().message.c_str());
    }
    CU_ASSERT_TRUE_FATAL(r.ok());
    return std::move(r).value();
}

std::string parse_err(const std::vector<std::string>& args) {
    auto r = parse_command_line(args);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, EINVAL);
    return r.error().message;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void test_defaults() {
    CliOptions o = parse_ok({});
    CU_ASSERT(o.action == CliAction::run);
    CU_ASSERT_TRUE(o.machine.name.empty());
    CU_ASSERT_TRUE(o.machine.props.empty());
    CU_ASSERT_TRUE(o.accel.empty());
    CU_ASSERT_EQUAL(o.ram_size, 128 * MiB);
    CU_ASSERT_EQUAL(o.smp_cpus, 1u);
    CU_ASSERT_TRUE(o.kernel.empty());
    CU_ASSERT_TRUE(o.append.empty());
    CU_ASSERT_TRUE(o.initrd.empty());
    CU_ASSERT_TRUE(o.serial == "stdio");
    CU_ASSERT_FALSE(o.nographic);
    CU_ASSERT_TRUE(o.display.empty());
    CU_ASSERT_FALSE(o.no_reboot);
    CU_ASSERT_FALSE(o.no_shutdown);
    CU_ASSERT_TRUE(o.devices.empty());
    CU_ASSERT_TRUE(o.log_items.empty());
    CU_ASSERT_TRUE(o.log_file.empty());
    CU_ASSERT_FALSE(o.start_stopped);
    CU_ASSERT_TRUE(o.gdb.empty());
}

void test_every_option() {
    CliOptions o = parse_ok({"-M",
                             "pc,accel=kvm",
                             "-accel",
                             "kvm",
                             "-m",
                             "256M",
                             "-smp",
                             "2",
                             "-kernel",
                             "guest.elf",
                             "-append",
                             "console=ttyS0 loglevel=8",
                             "-initrd",
                             "initrd.img",
                             "-serial",
                             "file:serial.log",
                             "-nographic",
                             "-display",
                             "none",
                             "-no-reboot",
                             "-no-shutdown",
                             "-device",
                             "isa-debug-exit,iobase=0xf4,iosize=0x04",
                             "-d",
                             "exits,unimp",
                             "-D",
                             "kvmdbg.log",
                             "-S",
                             "-gdb",
                             "tcp::4321"});
    CU_ASSERT(o.action == CliAction::run);
    CU_ASSERT_TRUE(o.machine.name == "pc");
    CU_ASSERT_EQUAL(o.machine.props.size(), 1u);
    CU_ASSERT_TRUE(o.machine.props["accel"] == "kvm");
    CU_ASSERT_TRUE(o.accel == "kvm");
    CU_ASSERT_EQUAL(o.ram_size, 256 * MiB);
    CU_ASSERT_EQUAL(o.smp_cpus, 2u);
    CU_ASSERT_TRUE(o.kernel == "guest.elf");
    CU_ASSERT_TRUE(o.append == "console=ttyS0 loglevel=8");
    CU_ASSERT_TRUE(o.initrd == "initrd.img");
    CU_ASSERT_TRUE(o.serial == "file:serial.log");
    CU_ASSERT_TRUE(o.nographic);
    CU_ASSERT_TRUE(o.display == "none");
    CU_ASSERT_TRUE(o.no_reboot);
    CU_ASSERT_TRUE(o.no_shutdown);
    CU_ASSERT_EQUAL_FATAL(o.devices.size(), 1u);
    CU_ASSERT_TRUE(o.devices[0].driver == "isa-debug-exit");
    CU_ASSERT_TRUE(o.log_items == "exits,unimp");
    CU_ASSERT_TRUE(o.log_file == "kvmdbg.log");
    CU_ASSERT_TRUE(o.start_stopped);
    CU_ASSERT_TRUE(o.gdb == "tcp::4321");
}

void test_double_dash_and_equals_forms() {
    CliOptions o = parse_ok(
        {"--kernel", "k.elf", "--m=64", "-append=a=b c", "--nographic", "--enable-kvm", "--smp=3", "-S"});
    CU_ASSERT_TRUE(o.kernel == "k.elf");
    CU_ASSERT_EQUAL(o.ram_size, 64 * MiB);
    CU_ASSERT_TRUE(o.append == "a=b c");  // split at the first '=' only
    CU_ASSERT_TRUE(o.nographic);
    CU_ASSERT_TRUE(o.accel == "kvm");
    CU_ASSERT_EQUAL(o.smp_cpus, 3u);
    CU_ASSERT_TRUE(o.start_stopped);
}

void test_last_one_wins() {
    CliOptions o = parse_ok(
        {"-m", "64", "-kernel", "a", "-m", "32", "-kernel", "b", "-serial", "none", "-serial", "stdio"});
    CU_ASSERT_EQUAL(o.ram_size, 32 * MiB);
    CU_ASSERT_TRUE(o.kernel == "b");
    CU_ASSERT_TRUE(o.serial == "stdio");
}

void test_ram_sizes() {
    struct Case {
        const char* text;
        std::uint64_t bytes;
    } const cases[] = {
        {"128", 128 * MiB},    {"128M", 128 * MiB}, {"128m", 128 * MiB}, {"1G", GiB},      {"1g", GiB},
        {"512K", 512 * KiB},   {"1T", TiB},         {"1024G", TiB},      {"size=1G", GiB}, {"size=64", 64 * MiB},
        {"8192B", 8192},       {"1000B", 8192},  // rounded up to 8 KiB, as QEMU
        {"1025K", 1032 * KiB}, {"1", MiB},
    };
    for (const auto& c : cases) {
        CliOptions o = parse_ok({"-m", c.text});
        CU_ASSERT_EQUAL(o.ram_size, c.bytes);
        if (o.ram_size != c.bytes) {
            std::fprintf(stderr, "-m %s: got %llu\n", c.text, static_cast<unsigned long long>(o.ram_size));
        }
    }
}

void test_ram_size_errors() {
    CU_ASSERT_TRUE(parse_err({"-m", "2T"}) == "kvmdbg: -m 2T: RAM size exceeds the maximum of 1T");
    CU_ASSERT_TRUE(parse_err({"-m", "1025G"}) == "kvmdbg: -m 1025G: RAM size exceeds the maximum of 1T");
    CU_ASSERT_TRUE(parse_err({"-m", "0"}) == "kvmdbg: -m 0: RAM size must not be 0");
    CU_ASSERT_TRUE(parse_err({"-m", "0G"}) == "kvmdbg: -m 0G: RAM size must not be 0");
    for (const char* bad : {"abc", "12x", "1.5G", "1GB", "-1", "+1", " 1", "G", "0x100", "99999999999999999999",
                            "18446744073709551615", "size="}) {
        std::string err = parse_err({"-m", bad});
        CU_ASSERT_TRUE(contains(err, std::string("kvmdbg: -m ") + bad + ": invalid RAM size"));
    }
    CU_ASSERT_TRUE(parse_err({"-m", ""}) == "kvmdbg: -m : Parameter 'size' is missing");
    CU_ASSERT_TRUE(parse_err({"-m", "1G,slots=2,maxmem=4G"}) ==
                   "kvmdbg: -m 1G,slots=2,maxmem=4G: memory hotplug (slots, maxmem) is not supported");
    CU_ASSERT_TRUE(parse_err({"-m", "1G,foo=1"}) == "kvmdbg: -m 1G,foo=1: Invalid parameter 'foo'");
}

void test_smp_forms() {
    struct Case {
        const char* text;
        unsigned cpus;
    } const cases[] = {
        {"1", 1},
        {"4", 4},
        {"cpus=4", 4},
        {"255", 255},
        {"0x10", 16},
        {"4,maxcpus=8", 4},
        {"maxcpus=8", 8},
        {"sockets=2,cores=2", 4},
        {"4,sockets=1,cores=2,threads=2", 4},
        {"2,sockets=1,dies=1,clusters=1,cores=4", 2},
    };
    for (const auto& c : cases) {
        CliOptions o = parse_ok({"-smp", c.text});
        CU_ASSERT_EQUAL(o.smp_cpus, c.cpus);
    }
}

void test_smp_errors() {
    CU_ASSERT_TRUE(parse_err({"-smp", "0"}) == "kvmdbg: -smp 0: 'cpus' must be between 1 and 255");
    CU_ASSERT_TRUE(parse_err({"-smp", "256"}) == "kvmdbg: -smp 256: 'cpus' must be between 1 and 255");
    CU_ASSERT_TRUE(parse_err({"-smp", "x"}) == "kvmdbg: -smp x: Parameter 'cpus' expects a number");
    CU_ASSERT_TRUE(parse_err({"-smp", "4x"}) == "kvmdbg: -smp 4x: Parameter 'cpus' expects a number");
    CU_ASSERT_TRUE(parse_err({"-smp", "-1"}) == "kvmdbg: -smp -1: Parameter 'cpus' expects a number");
    CU_ASSERT_TRUE(parse_err({"-smp", "cpus="}) == "kvmdbg: -smp cpus=: Parameter 'cpus' expects a number");
    CU_ASSERT_TRUE(parse_err({"-smp", "4,foo=2"}) == "kvmdbg: -smp 4,foo=2: Invalid parameter 'foo'");
    CU_ASSERT_TRUE(parse_err({"-smp", "4,maxcpus=2"}) ==
                   "kvmdbg: -smp 4,maxcpus=2: maxcpus must be equal to or greater than smp");
    CU_ASSERT_TRUE(contains(parse_err({"-smp", "8,sockets=2,cores=2"}), "Invalid CPU topology"));
    CU_ASSERT_TRUE(contains(parse_err({"-smp", "sockets=16,cores=16,threads=2"}), "exceeds the maximum of 255"));
    CU_ASSERT_TRUE(contains(parse_err({"-smp", "4,cores=0"}), "'cores' must be between 1 and 255"));
}

void test_device_isa_debug_exit() {
    CliOptions o = parse_ok({"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"});
    CU_ASSERT_EQUAL_FATAL(o.devices.size(), 1u);
    const auto& d = o.devices[0];
    CU_ASSERT_TRUE(d.driver == "isa-debug-exit");
    CU_ASSERT_EQUAL(d.props.size(), 2u);
    CU_ASSERT_TRUE(d.props.at("iobase") == "0xf4");
    CU_ASSERT_TRUE(d.props.at("iosize") == "0x04");
    CU_ASSERT_EQUAL(d.numbers.size(), 2u);
    CU_ASSERT_EQUAL(d.numbers.at("iobase"), 0xf4u);
    CU_ASSERT_EQUAL(d.numbers.at("iosize"), 4u);

    // Decimal and octal as QEMU's integer parser; QEMU's defaults when absent.
    o = parse_ok({"-device", "isa-debug-exit,iobase=244", "-device", "isa-debug-exit,iosize=010", "-device",
                  "isa-debug-exit", "-device", "driver=isa-debug-exit,iobase=0XF4"});
    CU_ASSERT_EQUAL_FATAL(o.devices.size(), 4u);
    CU_ASSERT_EQUAL(o.devices[0].numbers.at("iobase"), 0xf4u);
    CU_ASSERT_EQUAL(o.devices[0].numbers.at("iosize"), 2u);
    CU_ASSERT_EQUAL(o.devices[1].numbers.at("iobase"), 0x501u);
    CU_ASSERT_EQUAL(o.devices[1].numbers.at("iosize"), 8u);
    CU_ASSERT_TRUE(o.devices[2].props.empty());
    CU_ASSERT_EQUAL(o.devices[2].numbers.at("iobase"), 0x501u);
    CU_ASSERT_EQUAL(o.devices[2].numbers.at("iosize"), 2u);
    CU_ASSERT_TRUE(o.devices[3].driver == "isa-debug-exit");
    CU_ASSERT_EQUAL(o.devices[3].numbers.at("iobase"), 0xf4u);
}

void test_device_errors_and_unknown_drivers() {
    CU_ASSERT_TRUE(parse_err({"-device", "isa-debug-exit,iobase=zz"}) ==
                   "kvmdbg: -device isa-debug-exit,iobase=zz: Property 'isa-debug-exit.iobase' "
                   "doesn't take value 'zz' (0x0 to 0xffff)");
    CU_ASSERT_TRUE(contains(parse_err({"-device", "isa-debug-exit,iobase=0x10000"}), "doesn't take value '0x10000'"));
    CU_ASSERT_TRUE(contains(parse_err({"-device", "isa-debug-exit,iosize=0"}),
                            "Property 'isa-debug-exit.iosize' doesn't take value '0'"));
    CU_ASSERT_TRUE(contains(parse_err({"-device", "isa-debug-exit,iobase=08"}), "doesn't take value '08'"));
    CU_ASSERT_TRUE(
        contains(parse_err({"-device", "isa-debug-exit,iobase=0xfffe,iosize=4"}), "go past the last I/O port 0xffff"));
    CU_ASSERT_TRUE(parse_err({"-device", "isa-debug-exit,foo=1"}) ==
                   "kvmdbg: -device isa-debug-exit,foo=1: Property 'isa-debug-exit.foo' not found");
    CU_ASSERT_TRUE(parse_err({"-device", ",iobase=1"}) == "kvmdbg: -device ,iobase=1: Parameter 'driver' is missing");
    CU_ASSERT_TRUE(parse_err({"-device", ""}) == "kvmdbg: -device : Parameter 'driver' is missing");
    CU_ASSERT_TRUE(parse_err({"-device", "x,=1"}) == "kvmdbg: -device x,=1: Invalid parameter ''");

    // Unknown drivers are kept for the machine to reject; ",," is a comma.
    CliOptions o = parse_ok({"-device", "e1000,netdev=n0,romfile=a,,b,flag", "-device", "isa-debug-exit"});
    CU_ASSERT_EQUAL_FATAL(o.devices.size(), 2u);
    CU_ASSERT_TRUE(o.devices[0].driver == "e1000");
    CU_ASSERT_TRUE(o.devices[0].props.at("netdev") == "n0");
    CU_ASSERT_TRUE(o.devices[0].props.at("romfile") == "a,b");
    CU_ASSERT_TRUE(o.devices[0].props.at("flag") == "on");
    CU_ASSERT_TRUE(o.devices[0].numbers.empty());
    CU_ASSERT_TRUE(o.devices[1].driver == "isa-debug-exit");

    // A built-in device (virt's test-exit) is no -device driver: kept as
    // written, for the machine to refuse with its own message.
    o = parse_ok({"-device", "test-exit,foo=1"});
    CU_ASSERT_EQUAL_FATAL(o.devices.size(), 1u);
    CU_ASSERT_TRUE(o.devices[0].props.at("foo") == "1");
    CU_ASSERT_TRUE(o.devices[0].numbers.empty());
}

void test_gdb_and_s() {
    CU_ASSERT_TRUE(parse_ok({"-s"}).gdb == "tcp::1234");
    CU_ASSERT_TRUE(parse_ok({"-gdb", "tcp::5555"}).gdb == "tcp::5555");
    CU_ASSERT_TRUE(parse_ok({"-s", "-gdb", "tcp::5555"}).gdb == "tcp::5555");
    CU_ASSERT_TRUE(parse_ok({"-gdb", "tcp::5555", "-s"}).gdb == "tcp::1234");
    CliOptions o = parse_ok({"-s", "-S"});
    CU_ASSERT_TRUE(o.start_stopped);
    CU_ASSERT_TRUE(o.gdb == "tcp::1234");
    CU_ASSERT_FALSE(parse_ok({"-s"}).start_stopped);
    CU_ASSERT_TRUE(parse_ok({"-S"}).gdb.empty());
}

void test_machine_and_accel() {
    CliOptions o = parse_ok({"-machine", "type=q35,kernel-irqchip=on"});
    CU_ASSERT_TRUE(o.machine.name == "q35");
    CU_ASSERT_TRUE(o.machine.props.at("kernel-irqchip") == "on");
    CU_ASSERT_EQUAL(o.machine.props.size(), 1u);
    // Repeated -machine options merge.
    o = parse_ok({"-M", "pc,a=1,b=2", "-M", "b=3", "-machine", "q35"});
    CU_ASSERT_TRUE(o.machine.name == "q35");
    CU_ASSERT_TRUE(o.machine.props.at("a") == "1");
    CU_ASSERT_TRUE(o.machine.props.at("b") == "3");
    CU_ASSERT_TRUE(parse_ok({"-M", "none"}).machine.name == "none");

    CU_ASSERT_TRUE(parse_ok({"-enable-kvm"}).accel == "kvm");
    CU_ASSERT_TRUE(parse_ok({"-accel", "tcg"}).accel == "tcg");  // rejected at run time, not here
    CU_ASSERT_TRUE(parse_ok({"-accel", "kvm,kernel-irqchip=on"}).accel == "kvm,kernel-irqchip=on");
    CU_ASSERT_TRUE(parse_ok({"-accel", "tcg", "-enable-kvm"}).accel == "kvm");
    CU_ASSERT_TRUE(parse_err({"-accel", ""}) == "kvmdbg: -accel : Parameter 'accel' is missing");
}

void test_display_and_flags() {
    CU_ASSERT_TRUE(parse_ok({"-display", "none"}).display == "none");
    CU_ASSERT_TRUE(parse_err({"-display", "gtk"}) == "kvmdbg: -display gtk: display gtk is not supported");
    CU_ASSERT_TRUE(parse_err({"-display", "sdl,gl=on"}) == "kvmdbg: -display sdl,gl=on: display sdl is not supported");
    CU_ASSERT_TRUE(parse_err({"-S=1"}) == "kvmdbg: -S: does not take an argument");
    CU_ASSERT_TRUE(parse_err({"--nographic=yes"}) == "kvmdbg: --nographic: does not take an argument");
}

void test_help_actions() {
    CU_ASSERT(parse_ok({"-h"}).action == CliAction::help);
    CU_ASSERT(parse_ok({"-help"}).action == CliAction::help);
    CU_ASSERT(parse_ok({"--help"}).action == CliAction::help);
    CU_ASSERT(parse_ok({"-version"}).action == CliAction::version);
    CU_ASSERT(parse_ok({"--version"}).action == CliAction::version);
    CU_ASSERT(parse_ok({"-M", "help"}).action == CliAction::machine_help);
    CU_ASSERT(parse_ok({"-machine", "?"}).action == CliAction::machine_help);
    CU_ASSERT(parse_ok({"-device", "help"}).action == CliAction::device_help);
    CU_ASSERT(parse_ok({"-device", "isa-debug-exit,help"}).action == CliAction::device_help);
    CU_ASSERT(parse_ok({"-accel", "help"}).action == CliAction::accel_help);
    CU_ASSERT(parse_ok({"-d", "help"}).action == CliAction::log_help);
    // -h and -version act where they stand, as in QEMU.
    CU_ASSERT(parse_ok({"-h", "-foo", "stray", "-m", "0"}).action == CliAction::help);
    CU_ASSERT(parse_ok({"-version", "-h"}).action == CliAction::version);
    CU_ASSERT(parse_ok({"-h", "-version"}).action == CliAction::help);
    CU_ASSERT(parse_ok({"-M", "help", "-h"}).action == CliAction::help);
    CU_ASSERT_TRUE(parse_err({"-foo", "-h"}) == "kvmdbg: -foo: invalid option");
    CU_ASSERT_TRUE(parse_err({"-m", "0", "-h"}) == "kvmdbg: -m 0: RAM size must not be 0");
    // The first of several help requests wins; a later bad option still fails.
    CU_ASSERT(parse_ok({"-d", "help", "-M", "help"}).action == CliAction::log_help);
    CU_ASSERT_TRUE(contains(parse_err({"-M", "help", "-m", "x"}), "-m x: invalid RAM size"));
}

void test_unknown_option() {
    CU_ASSERT_TRUE(parse_err({"-foo"}) == "kvmdbg: -foo: invalid option");
    CU_ASSERT_TRUE(parse_err({"--foo"}) == "kvmdbg: --foo: invalid option");
    CU_ASSERT_TRUE(parse_err({"-foo=1"}) == "kvmdbg: -foo: invalid option");
    CU_ASSERT_TRUE(parse_err({"-kernel", "k", "-hda", "disk.img"}) == "kvmdbg: -hda: invalid option");
    CU_ASSERT_TRUE(parse_err({"--"}) == "kvmdbg: --: invalid option");
    CU_ASSERT_TRUE(parse_err({"---kernel", "k"}) == "kvmdbg: ---kernel: invalid option");
    CU_ASSERT_TRUE(parse_err({"-Kernel", "k"}) == "kvmdbg: -Kernel: invalid option");
    CU_ASSERT_TRUE(parse_err({"-g"}) == "kvmdbg: -g: invalid option");
}

void test_missing_argument() {
    CU_ASSERT_TRUE(parse_err({"-kernel"}) == "kvmdbg: -kernel: requires an argument");
    CU_ASSERT_TRUE(parse_err({"-m", "64", "-append"}) == "kvmdbg: -append: requires an argument");
    CU_ASSERT_TRUE(parse_err({"--gdb"}) == "kvmdbg: --gdb: requires an argument");
    CU_ASSERT_TRUE(parse_err({"-M"}) == "kvmdbg: -M: requires an argument");
    // An empty value given with '=' is a value, not a missing one.
    CU_ASSERT_TRUE(parse_ok({"-append="}).append.empty());
}

void test_stray_argument() {
    CU_ASSERT_TRUE(parse_err({"vmlinux"}) == "kvmdbg: vmlinux: unexpected argument");
    CU_ASSERT_TRUE(parse_err({"-m", "1G", "/tmp/disk.img"}) == "kvmdbg: /tmp/disk.img: unexpected argument");
    CU_ASSERT_TRUE(parse_err({"-"}) == "kvmdbg: -: unexpected argument");
    CU_ASSERT_TRUE(parse_err({""}) == "kvmdbg: : unexpected argument");
    CU_ASSERT_TRUE(parse_err({"-nographic", "extra"}) == "kvmdbg: extra: unexpected argument");
}

void test_values_that_look_like_options() {
    CliOptions o = parse_ok({"-append", "-v --debug", "-kernel", "-image.elf", "-D", "--foo", "-serial", "file:-x",
                             "-initrd", "-h", "-gdb", "-s", "-d", "-S"});
    CU_ASSERT(o.action == CliAction::run);
    CU_ASSERT_TRUE(o.append == "-v --debug");
    CU_ASSERT_TRUE(o.kernel == "-image.elf");
    CU_ASSERT_TRUE(o.log_file == "--foo");
    CU_ASSERT_TRUE(o.serial == "file:-x");
    CU_ASSERT_TRUE(o.initrd == "-h");
    CU_ASSERT_TRUE(o.gdb == "-s");
    CU_ASSERT_TRUE(o.log_items == "-S");
    CU_ASSERT_FALSE(o.start_stopped);
    // A numeric value like -1 reaches the value parser (and fails there).
    CU_ASSERT_TRUE(contains(parse_err({"-m", "-1"}), "kvmdbg: -m -1: invalid RAM size"));
    // Values keep their bytes: no UTF-8 conversion, spaces and '=' kept.
    o = parse_ok({"-kernel", "/tmp/k\xff\xfe.elf", "-append", " a = b "});
    CU_ASSERT_TRUE(o.kernel == "/tmp/k\xff\xfe.elf");
    CU_ASSERT_TRUE(o.append == " a = b ");
}

void test_argc_argv_overload() {
    char prog[] = "kvmdbg";
    char a1[] = "-m";
    char a2[] = "1G";
    char a3[] = "-s";
    char* argv[] = {prog, a1, a2, a3, nullptr};
    auto r = parse_command_line(4, argv);
    CU_ASSERT_TRUE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->ram_size, GiB);
    CU_ASSERT_TRUE(r->gdb == "tcp::1234");
    char* only_prog[] = {prog, nullptr};
    CU_ASSERT_TRUE(parse_command_line(1, only_prog).ok());
}

void test_texts() {
    std::string usage = kvmdbg::system::usage_text();
    for (const char* opt :
         {"-h | -help",   "-version", "-M | -machine", "-accel",  "-enable-kvm", "-m [size=]SIZE", "-smp",
          "-kernel",      "-append",  "-initrd",       "-serial", "-nographic",  "-display",       "-no-reboot",
          "-no-shutdown", "-device",  "-d ITEM",       "-D FILE", "\n-S ",       "\n-s ",          "-gdb DEV"}) {
        CU_ASSERT_TRUE(contains(usage, opt));
        if (!contains(usage, opt)) {
            std::fprintf(stderr, "usage misses %s\n", opt);
        }
    }
    CU_ASSERT_TRUE(usage.starts_with("usage: kvmdbg [options]\n"));
    CU_ASSERT_TRUE(contains(kvmdbg::system::version_text(), "kvmdbg version 0.1.0"));
    std::string dev = kvmdbg::system::device_help_text();
    CU_ASSERT_TRUE(contains(dev, "name \"isa-debug-exit\", bus ISA"));
    CU_ASSERT_TRUE(contains(dev, "iobase=<uint32>"));
    CU_ASSERT_TRUE(contains(dev, "iosize=<uint32>"));
    // Both lists come from the machine registry: every machine and its devices.
    CU_ASSERT_TRUE(contains(dev, "name \"test-exit\", bus MMIO"));
    std::string machines = kvmdbg::system::machine_help_text();
    CU_ASSERT_TRUE(machines.starts_with("Supported machines are:\n"));
    CU_ASSERT_TRUE(contains(machines, "\npc-lite "));
    CU_ASSERT_TRUE(contains(machines, "\nvirt "));
    CU_ASSERT_TRUE(contains(machines, "kernel-irqchip=on|off|split"));
    CU_ASSERT_TRUE(contains(kvmdbg::system::accel_help_text(), "\nkvm\n"));
}

constexpr kvmdbg::test::TestCase kOptionsCases[] = {
    {"defaults", test_defaults},
    {"every option", test_every_option},
    {"--name and -name=value forms", test_double_dash_and_equals_forms},
    {"last one wins", test_last_one_wins},
    {"-M and -accel", test_machine_and_accel},
    {"-display and flags", test_display_and_flags},
    {"-s vs -gdb", test_gdb_and_s},
    {"help actions", test_help_actions},
    {"argc/argv overload", test_argc_argv_overload},
    {"help texts", test_texts},
};
constexpr kvmdbg::test::TestCase kValueCases[] = {
    {"-m sizes", test_ram_sizes},
    {"-m errors", test_ram_size_errors},
    {"-smp forms", test_smp_forms},
    {"-smp errors", test_smp_errors},
    {"-device isa-debug-exit", test_device_isa_debug_exit},
    {"-device errors and unknown drivers", test_device_errors_and_unknown_drivers},
};
constexpr kvmdbg::test::TestCase kErrorCases[] = {
    {"unknown option", test_unknown_option},
    {"missing argument", test_missing_argument},
    {"stray argument", test_stray_argument},
    {"values that look like options", test_values_that_look_like_options},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {
    {"cli options", kOptionsCases},
    {"cli values", kValueCases},
    {"cli errors", kErrorCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
