#include "system/cli.h"

#include <glib.h>

#include <cstddef>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include "common/hex_string.h"
#include "hw-models/machine_registry.h"

namespace kvmdbg::system {

namespace {

// Keep in step with project(version:) in the top-level meson.build.
constexpr const char* kVersion = "0.1.0";

enum class Opt {
    help,
    version,
    machine,
    accel,
    enable_kvm,
    ram,
    smp,
    kernel,
    bios,
    firmware_dir,
    append,
    initrd,
    serial,
    debugcon,
    nographic,
    display,
    no_reboot,
    no_shutdown,
    device,
    log_items,
    log_file,
    stop,
    gdb_default,
    gdb,
};

// One accepted spelling. `usage` is null for an alias listed with its main name.
struct OptionSpec {
    const char* name;
    Opt id;
    bool takes_value;
    const char* usage;
    const char* help;
};

constexpr OptionSpec kOptions[] = {
    {"h", Opt::help, false, "-h | -help", "display this help and exit"},
    {"help", Opt::help, false, nullptr, nullptr},
    {"version", Opt::version, false, "-version", "display version information and exit"},
    {"M", Opt::machine, true, "-M | -machine [type=]NAME[,prop=value,...]",
     "select the machine and its properties (-M help lists machines)"},
    {"machine", Opt::machine, true, nullptr, nullptr},
    {"accel", Opt::accel, true, "-accel NAME", "select the accelerator: kvm (-accel help lists them)"},
    {"enable-kvm", Opt::enable_kvm, false, "-enable-kvm", "same as -accel kvm"},
    {"m", Opt::ram, true, "-m [size=]SIZE", "guest RAM: MiB, or with a K/M/G/T suffix (default 128M, at most 1T)"},
    {"smp", Opt::smp, true, "-smp [cpus=]N[,maxcpus=N][,sockets=N][,dies=N][,clusters=N][,cores=N][,threads=N]",
     "number of vCPUs, 1 to 255 (default 1)"},
    {"kernel", Opt::kernel, true, "-kernel PATH", "boot this kernel image"},
    {"bios", Opt::bios, true, "-bios PATH", "firmware image started at the reset vector (x86: SeaBIOS)"},
    {"L", Opt::firmware_dir, true, "-L DIR",
     "look for firmware files kvmdbg loads by name (option ROMs) in DIR first; may be repeated"},
    {"append", Opt::append, true, "-append STRING", "kernel command line"},
    {"initrd", Opt::initrd, true, "-initrd SPEC", "initial RAM disk (multiboot: module list)"},
    {"serial", Opt::serial, true, "-serial SPEC", "serial port backend: stdio (default), file:PATH or none"},
    {"debugcon", Opt::debugcon, true, "-debugcon SPEC",
     "x86 debug console (isa-debugcon, port 0xe9; -device isa-debugcon,iobase=N moves it): stdio, file:PATH, none"},
    {"nographic", Opt::nographic, false, "-nographic", "no graphical output (kvmdbg has none anyway)"},
    {"display", Opt::display, true, "-display TYPE", "display backend: only none is supported"},
    {"no-reboot", Opt::no_reboot, false, "-no-reboot", "exit instead of rebooting"},
    {"no-shutdown", Opt::no_shutdown, false, "-no-shutdown", "stop the guest instead of exiting when it powers off"},
    {"device", Opt::device, true, "-device DRIVER[,prop=value,...]", "add a device (-device help lists them)"},
    {"d", Opt::log_items, true, "-d ITEM[,...]", "enable log items (-d help lists them)"},
    {"D", Opt::log_file, true, "-D FILE", "write the log to FILE instead of stderr"},
    {"S", Opt::stop, false, "-S", "do not start the vCPUs until the debugger continues them"},
    {"s", Opt::gdb_default, false, "-s", "shorthand for -gdb tcp::1234 (127.0.0.1 only)"},
    {"gdb", Opt::gdb, true, "-gdb DEV",
     "wait for gdb on DEV: tcp::PORT (127.0.0.1), tcp:HOST:PORT, unix:PATH (mode 0600) or stdio"},
};

const OptionSpec* find_option(std::string_view name) {
    for (const auto& o : kOptions) {
        if (name == o.name) {
            return &o;
        }
    }
    return nullptr;
}

Error cli_error(std::string_view message) { return make_error(EINVAL, "kvmdbg: " + std::string(message)); }

// An option as GOption handed it back, in command-line order.
struct RawOption {
    const OptionSpec* spec;
    std::string value;

    // "-m 12x" for error messages, as QEMU's error location prints it.
    std::string where() const {
        std::string s = "-" + std::string(spec->name);
        if (spec->takes_value) {
            s += " " + value;
        }
        return s;
    }
    Error error(std::string_view what) const { return cli_error(where() + ": " + std::string(what)); }
};

bool is_help(std::string_view s) { return s == "help" || s == "?"; }

// QEMU integers (strtoull base 0): decimal, 0x hex, leading-0 octal; no
// sign, no blanks, no overflow.
std::optional<std::uint64_t> parse_integer(std::string_view s) {
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    } else if (s.size() > 1 && s[0] == '0') {
        base = 8;
        s.remove_prefix(1);
    }
    if (s.empty()) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
            return std::nullopt;
        }
        if (digit >= base || v > (UINT64_MAX - digit) / base) {
            return std::nullopt;
        }
        v = v * base + digit;
    }
    return v;
}

// QEMU's -m size: decimal digits and an optional suffix; no suffix is MiB.
std::optional<std::uint64_t> parse_size(std::string_view s) {
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
        ++digits;
    }
    if (digits == 0 || s.size() - digits > 1) {
        return std::nullopt;
    }
    std::uint64_t shift = 20;
    if (digits < s.size()) {
        switch (s[digits]) {
        case 'b':
        case 'B': shift = 0; break;
        case 'k':
        case 'K': shift = 10; break;
        case 'm':
        case 'M': shift = 20; break;
        case 'g':
        case 'G': shift = 30; break;
        case 't':
        case 'T': shift = 40; break;
        default: return std::nullopt;
        }
    }
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        unsigned d = static_cast<unsigned>(s[i] - '0');
        if (n > (UINT64_MAX - d) / 10) {
            return std::nullopt;
        }
        n = n * 10 + d;
    }
    if (n > (UINT64_MAX >> shift)) {
        return std::nullopt;
    }
    return n << shift;
}

struct KeyValue {
    std::string key;
    std::string value;
};

// QemuOpts: items split at ',' (",," is a literal comma), empty items
// skipped; a first item without '=' is `implied_key=item`, a later one
// `item=on`.
Result<std::vector<KeyValue>> split_qemu_opts(const RawOption& o, const char* implied_key) {
    std::vector<std::string> items(1);
    const std::string& text = o.value;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != ',') {
            items.back() += text[i];
        } else if (i + 1 < text.size() && text[i + 1] == ',') {
            items.back() += ',';
            ++i;
        } else {
            items.emplace_back();
        }
    }
    std::vector<KeyValue> out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string& item = items[i];
        if (item.empty()) {
            continue;
        }
        auto eq = item.find('=');
        if (eq == std::string::npos) {
            if (i == 0 && implied_key != nullptr) {
                out.push_back({implied_key, item});
            } else {
                out.push_back({item, "on"});
            }
        } else if (eq == 0) {
            return o.error("Invalid parameter ''");
        } else {
            out.push_back({item.substr(0, eq), item.substr(eq + 1)});
        }
    }
    return out;
}

Status apply_machine(const RawOption& o, CliOptions& out) {
    auto kvs = split_qemu_opts(o, "type");
    if (!kvs) {
        return kvs.error();
    }
    for (auto& kv : *kvs) {
        if (kv.key == "type") {
            if (is_help(kv.value)) {
                if (out.action == CliAction::run) {
                    out.action = CliAction::machine_help;
                }
                continue;
            }
            out.machine.name = std::move(kv.value);
        } else {
            out.machine.props[kv.key] = std::move(kv.value);
        }
    }
    return ok_status();
}

Status apply_accel(const RawOption& o, CliOptions& out) {
    std::string_view name = std::string_view(o.value).substr(0, o.value.find(','));
    if (name.empty()) {
        return o.error("Parameter 'accel' is missing");
    }
    if (is_help(name)) {
        if (out.action == CliAction::run) {
            out.action = CliAction::accel_help;
        }
        return ok_status();
    }
    out.accel = o.value;
    return ok_status();
}

Status apply_ram(const RawOption& o, CliOptions& out) {
    auto kvs = split_qemu_opts(o, "size");
    if (!kvs) {
        return kvs.error();
    }
    std::optional<std::string> size_text;
    for (const auto& kv : *kvs) {
        if (kv.key == "size") {
            size_text = kv.value;
        } else if (kv.key == "slots" || kv.key == "maxmem") {
            return o.error("memory hotplug (slots, maxmem) is not supported");
        } else {
            return o.error("Invalid parameter '" + kv.key + "'");
        }
    }
    if (!size_text) {
        return o.error("Parameter 'size' is missing");
    }
    auto size = parse_size(*size_text);
    if (!size) {
        return o.error("invalid RAM size '" + *size_text +
                       "' (a number of MiB, or a number with a K, M, G or T suffix)");
    }
    if (*size == 0) {
        return o.error("RAM size must not be 0");
    }
    if (*size > kMaxRamSize) {
        return o.error("RAM size exceeds the maximum of 1T");
    }
    out.ram_size = (*size + kRamSizeAlign - 1) & ~(kRamSizeAlign - 1);
    return ok_status();
}

Status apply_smp(const RawOption& o, CliOptions& out) {
    auto kvs = split_qemu_opts(o, "cpus");
    if (!kvs) {
        return kvs.error();
    }
    std::optional<std::uint64_t> cpus;
    std::optional<std::uint64_t> maxcpus;
    std::uint64_t topology = 1;  // sockets * dies * clusters * cores * threads
    bool have_topology = false;
    for (const auto& kv : *kvs) {
        bool is_topology = kv.key == "sockets" || kv.key == "dies" || kv.key == "clusters" || kv.key == "cores" ||
                           kv.key == "threads";
        if (kv.key != "cpus" && kv.key != "maxcpus" && !is_topology) {
            return o.error("Invalid parameter '" + kv.key + "'");
        }
        auto n = parse_integer(kv.value);
        if (!n) {
            return o.error("Parameter '" + kv.key + "' expects a number");
        }
        if (*n < 1 || *n > kMaxCpus) {
            return o.error("'" + kv.key + "' must be between 1 and " + std::to_string(kMaxCpus));
        }
        if (kv.key == "cpus") {
            cpus = *n;
        } else if (kv.key == "maxcpus") {
            maxcpus = *n;
        } else {
            topology *= *n;  // at most 255^5: no overflow
            have_topology = true;
        }
    }
    if (!cpus) {
        cpus = maxcpus ? *maxcpus : topology;
    }
    if (*cpus > kMaxCpus) {
        return o.error("CPU count " + std::to_string(*cpus) + " exceeds the maximum of " + std::to_string(kMaxCpus));
    }
    if (maxcpus && *maxcpus < *cpus) {
        return o.error("maxcpus must be equal to or greater than smp");
    }
    // The topology is only checked for room: kvmdbg creates `cpus` vCPUs
    // and has no CPU hotplug, so maxcpus and the hierarchy shape nothing else.
    if (have_topology && topology < *cpus) {
        return o.error("Invalid CPU topology: sockets * dies * clusters * cores * threads (" +
                       std::to_string(topology) + ") is less than cpus (" + std::to_string(*cpus) + ")");
    }
    out.smp_cpus = static_cast<unsigned>(*cpus);
    return ok_status();
}

// Checks and defaults the numeric properties of a driver some machine
// declares (hw::DeviceDriverInfo), with QEMU's wording.
Status check_device_props(const RawOption& o, const hw::DeviceDriverInfo& known, DeviceOption& dev) {
    for (const auto& [key, value] : dev.props) {
        const hw::DevicePropertyInfo* prop = nullptr;
        for (const auto& p : known.props) {
            if (key == p.name) {
                prop = &p;
            }
        }
        std::string qualified = "'" + dev.driver + "." + key + "'";
        if (prop == nullptr) {
            return o.error("Property " + qualified + " not found");
        }
        auto n = parse_integer(value);
        if (!n || *n < prop->min || *n > prop->max) {
            return o.error("Property " + qualified + " doesn't take value '" + value + "' (" + hex_string(prop->min) +
                           " to " + hex_string(prop->max) + ")");
        }
        dev.numbers[key] = *n;
    }
    for (const auto& p : known.props) {
        dev.numbers.try_emplace(p.name, p.default_value);
    }
    if (known.check != nullptr) {
        if (std::string problem = known.check(dev.numbers); !problem.empty()) {
            return o.error(problem);
        }
    }
    return ok_status();
}

Status apply_device(const RawOption& o, CliOptions& out) {
    auto kvs = split_qemu_opts(o, "driver");
    if (!kvs) {
        return kvs.error();
    }
    DeviceOption dev;
    bool help = false;
    for (auto& kv : *kvs) {
        if (kv.key == "driver") {
            dev.driver = std::move(kv.value);
        } else if (kv.key == "help" || kv.key == "?") {
            help = true;
        } else {
            dev.props[kv.key] = std::move(kv.value);
        }
    }
    if (help || is_help(dev.driver)) {
        if (out.action == CliAction::run) {
            out.action = CliAction::device_help;
        }
        return ok_status();
    }
    if (dev.driver.empty()) {
        return o.error("Parameter 'driver' is missing");
    }
    if (const hw::DeviceDriverInfo* known = hw::find_device_driver(dev.driver)) {
        if (auto st = check_device_props(o, *known, dev); !st) {
            return st;
        }
    }
    out.devices.push_back(std::move(dev));
    return ok_status();
}

Status apply_display(const RawOption& o, CliOptions& out) {
    std::string type = o.value.substr(0, o.value.find(','));
    if (o.value != "none") {
        return o.error("display " + type + " is not supported");
    }
    out.display = o.value;
    return ok_status();
}

// Applies one option; sets `stop` for -h and -version, which end parsing.
Status apply_option(const RawOption& o, CliOptions& out, bool& stop) {
    switch (o.spec->id) {
    case Opt::help:
        out.action = CliAction::help;
        stop = true;
        return ok_status();
    case Opt::version:
        out.action = CliAction::version;
        stop = true;
        return ok_status();
    case Opt::machine: return apply_machine(o, out);
    case Opt::accel: return apply_accel(o, out);
    case Opt::enable_kvm: out.accel = "kvm"; return ok_status();
    case Opt::ram: return apply_ram(o, out);
    case Opt::smp: return apply_smp(o, out);
    case Opt::kernel: out.kernel = o.value; return ok_status();
    case Opt::bios: out.bios = o.value; return ok_status();
    case Opt::firmware_dir: out.firmware_dirs.push_back(o.value); return ok_status();
    case Opt::append: out.append = o.value; return ok_status();
    case Opt::initrd: out.initrd = o.value; return ok_status();
    case Opt::serial: out.serial = o.value; return ok_status();
    case Opt::debugcon: out.debugcon = o.value; return ok_status();
    case Opt::nographic: out.nographic = true; return ok_status();
    case Opt::display: return apply_display(o, out);
    case Opt::no_reboot: out.no_reboot = true; return ok_status();
    case Opt::no_shutdown: out.no_shutdown = true; return ok_status();
    case Opt::device: return apply_device(o, out);
    case Opt::log_items:
        if (is_help(o.value)) {
            if (out.action == CliAction::run) {
                out.action = CliAction::log_help;
            }
            return ok_status();
        }
        out.log_items = o.value;
        return ok_status();
    case Opt::log_file: out.log_file = o.value; return ok_status();
    case Opt::stop: out.start_stopped = true; return ok_status();
    case Opt::gdb_default: out.gdb = kDefaultGdbDevice; return ok_status();
    case Opt::gdb: out.gdb = o.value; return ok_status();
    }
    return ok_status();
}

// QEMU syntax to GOption syntax: every option becomes `--name=value` or
// `--name`, so GOption never has to guess whether an argument that starts
// with '-' is a value. Unknown options, missing values and positional
// arguments are diagnosed here, with QEMU's wording. Stops after -h/-version.
Result<std::vector<std::string>> rewrite_for_goption(const std::vector<std::string>& args) {
    std::vector<std::string> out{"kvmdbg"};
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.size() < 2 || arg[0] != '-') {
            return cli_error(std::string(arg) + ": unexpected argument");
        }
        std::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
        std::size_t eq = body.find('=');
        std::string_view name = body.substr(0, eq);
        std::string spelled(arg.substr(0, arg.size() - body.size() + name.size()));
        const OptionSpec* spec = find_option(name);
        if (spec == nullptr) {
            return cli_error(spelled + ": invalid option");
        }
        std::string rewritten = "--" + std::string(name);
        if (!spec->takes_value) {
            if (eq != std::string_view::npos) {
                return cli_error(spelled + ": does not take an argument");
            }
            out.push_back(std::move(rewritten));
            if (spec->id == Opt::help || spec->id == Opt::version) {
                break;
            }
            continue;
        }
        if (eq != std::string_view::npos) {
            rewritten += "=" + std::string(body.substr(eq + 1));
        } else if (i + 1 < args.size()) {
            rewritten += "=" + args[++i];
        } else {
            return cli_error(spelled + ": requires an argument");
        }
        out.push_back(std::move(rewritten));
    }
    return out;
}

struct ParseState {
    std::vector<RawOption> options;
};

gboolean on_option(const gchar* option_name, const gchar* value, gpointer data, GError** error) {
    auto* state = static_cast<ParseState*>(data);
    std::string_view name(option_name);
    while (!name.empty() && name.front() == '-') {
        name.remove_prefix(1);
    }
    const OptionSpec* spec = find_option(name);
    if (spec == nullptr) {  // cannot happen: only table names are registered
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION, "-%s: invalid option", option_name);
        return FALSE;
    }
    try {
        state->options.push_back(RawOption{spec, value != nullptr ? value : ""});
    } catch (const std::bad_alloc&) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "out of memory");
        return FALSE;
    }
    return TRUE;
}

// Runs GOptionContext over the rewritten arguments and returns the options
// in command-line order.
Result<std::vector<RawOption>> run_goption(const std::vector<std::string>& rewritten) {
    ParseState state;
    std::vector<GOptionEntry> entries;
    for (const auto& o : kOptions) {
        GOptionEntry e{};
        e.long_name = o.name;
        e.short_name = 0;
        // FILENAME: values reach us as raw bytes, never converted to UTF-8.
        e.flags = o.takes_value ? G_OPTION_FLAG_FILENAME : G_OPTION_FLAG_NO_ARG;
        e.arg = G_OPTION_ARG_CALLBACK;
        e.arg_data = reinterpret_cast<gpointer>(&on_option);
        e.description = o.help;
        e.arg_description = nullptr;
        entries.push_back(e);
    }
    entries.push_back(GOptionEntry{nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr});

    g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
    g_option_context_set_help_enabled(context, FALSE);
    g_option_context_set_ignore_unknown_options(context, FALSE);
    GOptionGroup* group = g_option_group_new("kvmdbg", "kvmdbg options", "kvmdbg options", &state, nullptr);
    g_option_group_add_entries(group, entries.data());
    g_option_context_set_main_group(context, group);  // the context owns the group

    g_auto(GStrv) argv = g_new0(gchar*, rewritten.size() + 1);
    for (std::size_t i = 0; i < rewritten.size(); ++i) {
        argv[i] = g_strdup(rewritten[i].c_str());
    }
    g_autoptr(GError) error = nullptr;
    if (!g_option_context_parse_strv(context, &argv, &error)) {
        return cli_error(error->message);
    }
    if (argv[0] != nullptr && argv[1] != nullptr) {  // rewrite_for_goption leaves none
        return cli_error(std::string(argv[1]) + ": unexpected argument");
    }
    return std::move(state.options);
}

}  // namespace

Result<CliOptions> parse_command_line(const std::vector<std::string>& args) {
    auto rewritten = rewrite_for_goption(args);
    if (!rewritten) {
        return rewritten.error();
    }
    auto raw = run_goption(*rewritten);
    if (!raw) {
        return raw.error();
    }
    CliOptions out;
    bool stop = false;
    for (const auto& o : *raw) {
        Status s = apply_option(o, out, stop);
        if (!s) {
            return s.error();
        }
        if (stop) {
            break;
        }
    }
    return out;
}

Result<CliOptions> parse_command_line(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        args.emplace_back(argv[i]);
    }
    return parse_command_line(args);
}

std::string usage_text() {
    constexpr std::size_t kColumn = 34;
    std::string out =
        "usage: kvmdbg [options]\n"
        "QEMU-compatible options (--name works as well as -name):\n\n";
    for (const auto& o : kOptions) {
        if (o.usage == nullptr) {
            continue;
        }
        std::string line = o.usage;
        line += line.size() < kColumn ? std::string(kColumn - line.size(), ' ') : "  ";
        out += line + o.help + "\n";
    }
    return out;
}

std::string version_text() {
    return std::string("kvmdbg version ") + kVersion + "\nKVM guest debugger with a QEMU-compatible command line\n";
}

std::string device_help_text() { return hw::device_help_text(); }

std::string machine_help_text() { return hw::machine_help_text(); }

std::string accel_help_text() { return "Accelerators supported in kvmdbg binary:\nkvm\n"; }

}  // namespace kvmdbg::system
