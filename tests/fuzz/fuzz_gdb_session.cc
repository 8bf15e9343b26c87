// libFuzzer target: a whole GdbSession (framing, parse_request, every
// packet handler, replies) against the unit tests' scripted FakeTarget
// (tests/unit/gdbstub/fake_target), fed arbitrary bytes from gdb's side.
//
// Input: a sequence of chunks; each starts with one control byte:
//   bits 0-5: chunk length (0-63 bytes follow, fewer at the end)
//   bit 6:    after the chunk, if the session is running, report a stop
//             (a software breakpoint at the fake pc on thread 1)
//   bit 7:    after the chunk, report the machine's exit
// Checks (by the sanitizers): no crash, no out-of-bounds access, no leak,
// no undefined behaviour, whatever gdb sends.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gdbstub-glue/gdb_session.h"
#include "gdbstub-glue/stop_event.h"
#include "tests/unit/gdbstub/fake_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kvmdbg;
    using namespace kvmdbg::gdb;
    test::FakeTarget target(2);
    test::FakeEvaluator evaluator;
    SessionOptions options;
    options.max_packet_size = 4096;
    options.advertised_packet_size = 4096;
    GdbSession session(target, evaluator, options);
    session.on_connect();

    std::size_t pos = 0;
    while (pos < size && !session.finished()) {
        std::uint8_t control = data[pos++];
        std::size_t len = control & 0x3f;
        if (len > size - pos) {
            len = size - pos;
        }
        session.receive(std::string_view(reinterpret_cast<const char*>(data) + pos, len));
        pos += len;
        if ((control & 0x40) != 0 && session.state() == SessionState::running) {
            StopEvent ev;
            ev.thread = 1;
            ev.reason = StopReason::software_breakpoint;
            ev.address = target.reg(1, 2);
            session.on_target_stop(ev);
        }
        if ((control & 0x80) != 0 && session.state() == SessionState::running) {
            StopEvent ev;
            ev.reason = StopReason::exited;
            ev.exit_code = 3;
            session.on_target_stop(ev);
        }
        (void)session.take_output();
    }
    return 0;
}
