// c, C, s, S (gdb manual, "Packets") and vCont ("Packets", vCont).
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb::detail {

namespace {

// "[addr]" after c or s.
std::optional<Request> plain(std::string_view text, bool step) {
    Resume r{step, 0, std::nullopt};
    if (!text.empty()) {
        auto addr = parse_hex_u64(text);
        if (!addr) {
            return malformed("c/s: bad address");
        }
        r.addr = *addr;
    }
    return Request{r};
}

// "sig[;addr]" after C or S.
std::optional<Request> with_signal(std::string_view text, bool step) {
    std::string_view sig_text = text;
    std::string_view addr_text;
    if (auto parts = split_once(text, ';')) {
        sig_text = parts->first;
        addr_text = parts->second;
    }
    auto sig = parse_signal(sig_text);
    if (!sig) {
        return malformed("C/S: bad signal");
    }
    Resume r{step, *sig, std::nullopt};
    if (!addr_text.empty() || text.find(';') != std::string_view::npos) {
        auto addr = parse_hex_u64(addr_text);
        if (!addr) {
            return malformed("C/S: bad address");
        }
        r.addr = *addr;
    }
    return Request{r};
}

std::optional<VContAction> parse_action(std::string_view text) {
    VContAction a;
    std::string_view body = text;
    if (auto parts = split_once(text, ':')) {
        auto thread = parse_thread_id(parts->second);
        if (!thread) {
            return std::nullopt;
        }
        a.thread = *thread;
        body = parts->first;
    }
    if (body.empty()) {
        return std::nullopt;
    }
    char op = body.front();
    std::string_view arg = body.substr(1);
    switch (op) {
    case 'c':
    case 's':
    case 't':
        if (!arg.empty()) {
            return std::nullopt;
        }
        a.kind = op == 'c'   ? VContAction::Kind::continue_
                 : op == 's' ? VContAction::Kind::step
                             : VContAction::Kind::stop;
        return a;
    case 'C':
    case 'S': {
        auto sig = parse_signal(arg);
        if (!sig) {
            return std::nullopt;
        }
        a.kind = op == 'C' ? VContAction::Kind::continue_ : VContAction::Kind::step;
        a.signal = *sig;
        return a;
    }
    case 'r': {
        auto range = parse_addr_length(arg);  // "start,end": same syntax
        if (!range || range->first > range->second) {
            return std::nullopt;
        }
        a.kind = VContAction::Kind::range_step;
        a.range_start = range->first;
        a.range_end = range->second;
        return a;
    }
    default: return std::nullopt;
    }
}

}  // namespace

std::optional<Request> parse_continue(std::string_view text) { return plain(text, false); }
std::optional<Request> parse_step(std::string_view text) { return plain(text, true); }
std::optional<Request> parse_continue_signal(std::string_view text) { return with_signal(text, false); }
std::optional<Request> parse_step_signal(std::string_view text) { return with_signal(text, true); }

std::optional<Request> parse_vcont(std::string_view text) {
    if (text.empty()) {
        return malformed("vCont: no action");
    }
    if (text.front() != ';') {
        return std::nullopt;  // some other v packet ("vContX")
    }
    VCont v;
    text.remove_prefix(1);
    while (true) {
        auto end = text.find(';');
        auto action = parse_action(text.substr(0, end));
        if (!action) {
            return malformed("vCont: bad action");
        }
        v.actions.push_back(*action);
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
    return Request{std::move(v)};
}

}  // namespace kvmdbg::gdb::detail
