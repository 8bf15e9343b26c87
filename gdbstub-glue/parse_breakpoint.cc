// Z and z (gdb manual, "Packets": `Z0,addr,kind[;cond_list...][;cmds:...]`).
//
// The condition list is a run of `X len,bytes` entries, each one agent
// expression (gdb manual, "Agent Expressions"), parsed by
// parse_condition_list (agent_expr.h). `;cmds:persist,...`
// (BreakpointCommands) is accepted and ignored: kvmdbg does not advertise
// it, so gdb keeps breakpoint commands host-side.
#include "gdbstub-glue/agent_expr.h"
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb::detail {

namespace {

struct Head {
    BreakpointType type;
    std::uint64_t addr;
    std::uint64_t kind;
};

// "type,addr,kind". std::nullopt with unknown = true for a type outside 0-4
// (the manual asks for an empty reply then).
std::optional<Head> parse_head(std::string_view text, bool& unknown) {
    unknown = false;
    auto first = split_once(text, ',');
    if (!first) {
        return std::nullopt;
    }
    auto type = parse_hex_u64(first->first);
    auto al = parse_addr_length(first->second);
    if (!type || !al) {
        return std::nullopt;
    }
    if (*type > 4) {
        unknown = true;
        return std::nullopt;
    }
    return Head{static_cast<BreakpointType>(*type), al->first, al->second};
}

}  // namespace

std::optional<Request> parse_insert_breakpoint(std::string_view text) {
    std::string_view head_text = text;
    std::string_view tail;
    bool has_tail = false;
    if (auto parts = split_once(text, ';')) {
        head_text = parts->first;
        tail = parts->second;
        has_tail = true;
    }
    bool unknown = false;
    auto head = parse_head(head_text, unknown);
    if (!head) {
        if (unknown) {
            return std::nullopt;
        }
        return malformed("Z: expected type,addr,kind");
    }
    InsertBreakpoint bp{head->type, head->addr, head->kind, {}};
    if (has_tail) {
        bool is_code = head->type == BreakpointType::software || head->type == BreakpointType::hardware;
        if (!is_code) {
            return malformed("Z: watchpoints take no conditions");
        }
        std::string_view conds = tail;
        if (conds.starts_with("cmds:")) {
            conds = {};
        } else if (auto cmds = conds.find(";cmds:"); cmds != std::string_view::npos) {
            conds = conds.substr(0, cmds);
        }
        if (!conds.empty()) {
            auto parsed = parse_condition_list(conds);
            if (!parsed) {
                return malformed("Z: bad condition list");
            }
            bp.conditions = std::move(*parsed);
        }
    }
    return Request{std::move(bp)};
}

std::optional<Request> parse_remove_breakpoint(std::string_view text) {
    bool unknown = false;
    auto head = parse_head(text, unknown);
    if (!head) {
        if (unknown) {
            return std::nullopt;
        }
        return malformed("z: expected type,addr,kind");
    }
    return Request{RemoveBreakpoint{head->type, head->addr, head->kind}};
}

}  // namespace kvmdbg::gdb::detail
