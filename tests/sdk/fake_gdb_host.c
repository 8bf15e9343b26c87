/*
 * fake_gdb_host: a pretend x86-64 machine served by libkvmdbg's gdb stub
 * (sdk/gdbstub.h), so that real gdb can be tested against the stub
 * without /dev/kvm (tests/sdk/gdbstub_gdb.py drives it).
 *
 *   fake_gdb_host ENDPOINT        ENDPOINT as kvmdbg_gdbstub_listen takes it
 *
 * The machine: one vCPU in 64-bit mode, 64 KiB of memory (byte i holds
 * i ^ (i >> 8), virtual == physical), breakpoints in a list. "Executing"
 * moves rip on by one; at LOOP_END rip wraps to LOOP_START and rbx counts
 * the laps, so that a breakpoint in the loop is hit once per lap with a
 * new rbx (what the conditional-breakpoint test needs); the first laps are
 * logged. The vCPU starts
 * stopped (-S) and runs on its own thread, as a host's vCPUs do.
 *
 * What the stub asks of the host goes to stderr, one "host: ..." line an
 * event, for the test to count. The host ends when gdb kills it or
 * detaches (then it frees the stub, which must end cleanly), or after
 * 60 s as a safety net (status 3).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdbstub.h"
#include "plugin_abi_x86.h"

#define MEM_SIZE 0x10000u
#define LOOP_START 0x1000u
#define LOOP_END 0x1100u
#define MAX_BREAKPOINTS 64
#define SAFETY_SECONDS 60

enum command { PARKED, RUN, STEP };

struct breakpoint {
    uint32_t type;
    uint64_t addr, len;
};

static struct machine {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* any change below */
    KvmdbgX86State state;
    uint8_t mem[MEM_SIZE];
    struct breakpoint bps[MAX_BREAKPOINTS];
    int nbps;
    enum command command; /* what the vCPU was told */
    int stop_request;     /* stop_all waits for the vCPU to park */
    int done;             /* killed or detached: main ends */
    int quit;             /* the vCPU thread ends */
    KvmdbgGdbStub* stub;
} m = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/* One "host: ..." line on stderr (unbuffered: the test reads it at once). */
static void say(const char* fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "host: %s\n", line);
}

static void advance(void) {
    if (++m.state.rip >= LOOP_END) {
        m.state.rip = LOOP_START;
        uint64_t laps = ++m.state.gpr[KVMDBG_X86_RBX];
        if (laps <= 3) {
            say("lap %llu", (unsigned long long)laps); /* a test can wait for the guest to have run */
        }
    }
}

static const struct breakpoint* breakpoint_at(uint64_t rip) {
    for (int i = 0; i < m.nbps; i++) {
        if ((m.bps[i].type == KVMDBG_BP_SOFTWARE || m.bps[i].type == KVMDBG_BP_HARDWARE) && m.bps[i].addr == rip) {
            return &m.bps[i];
        }
    }
    return NULL;
}

static void* vcpu_thread(void* unused) {
    (void)unused;
    pthread_mutex_lock(&m.mu);
    for (;;) {
        while (m.command == PARKED && !m.quit) {
            pthread_cond_wait(&m.cond, &m.mu);
        }
        if (m.quit) {
            break;
        }
        KvmdbgDebugStop stop;
        memset(&stop, 0, sizeof stop);
        int report = 0;
        if (m.command == STEP) {
            advance();
            stop.reason = KVMDBG_STOP_STEP;
            stop.pc = m.state.rip;
            report = 1;
        } else {
            while (!m.stop_request && !m.quit) {
                advance();
                const struct breakpoint* bp = breakpoint_at(m.state.rip);
                if (bp != NULL) {
                    stop.reason = bp->type == KVMDBG_BP_SOFTWARE ? KVMDBG_STOP_SW_BREAK : KVMDBG_STOP_HW_BREAK;
                    stop.type = bp->type;
                    stop.addr = stop.pc = m.state.rip;
                    say("hit %s 0x%llx rbx=%llu", bp->type == KVMDBG_BP_SOFTWARE ? "sw" : "hw",
                        (unsigned long long)m.state.rip, (unsigned long long)m.state.gpr[KVMDBG_X86_RBX]);
                    report = 1;
                    break;
                }
                /* The pace of a slow CPU: other threads get the lock. */
                pthread_mutex_unlock(&m.mu);
                usleep(20);
                pthread_mutex_lock(&m.mu);
            }
        }
        m.command = PARKED;
        pthread_cond_broadcast(&m.cond);
        if (report) {
            pthread_mutex_unlock(&m.mu);
            kvmdbg_gdbstub_report_stop(m.stub, 0, &stop);
            pthread_mutex_lock(&m.mu);
        }
    }
    pthread_mutex_unlock(&m.mu);
    return NULL;
}

static int get_state(void* opaque, uint32_t cpu, void* state, uint32_t size) {
    (void)opaque;
    if (cpu != 0 || size != sizeof m.state) {
        return -EINVAL;
    }
    pthread_mutex_lock(&m.mu);
    memcpy(state, &m.state, sizeof m.state);
    pthread_mutex_unlock(&m.mu);
    return 0;
}

static int set_state(void* opaque, uint32_t cpu, const void* state, uint32_t size) {
    (void)opaque;
    if (cpu != 0 || size != sizeof m.state) {
        return -EINVAL;
    }
    pthread_mutex_lock(&m.mu);
    memcpy(&m.state, state, sizeof m.state);
    pthread_mutex_unlock(&m.mu);
    return 0;
}

static int64_t read_memory(void* opaque, uint32_t cpu, uint64_t addr, void* buf, uint64_t len, int physical) {
    (void)opaque, (void)cpu, (void)physical;
    if (addr >= MEM_SIZE) {
        return -EFAULT;
    }
    uint64_t n = len < MEM_SIZE - addr ? len : MEM_SIZE - addr;
    pthread_mutex_lock(&m.mu);
    memcpy(buf, m.mem + addr, n);
    pthread_mutex_unlock(&m.mu);
    return (int64_t)n;
}

static int write_memory(void* opaque, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len, int physical) {
    (void)opaque, (void)cpu, (void)physical;
    if (addr >= MEM_SIZE || len > MEM_SIZE - addr) {
        return -EFAULT;
    }
    pthread_mutex_lock(&m.mu);
    memcpy(m.mem + addr, buf, len);
    pthread_mutex_unlock(&m.mu);
    return 0;
}

static int insert_breakpoint(void* opaque, uint32_t type, uint64_t addr, uint64_t len) {
    (void)opaque;
    if (type != KVMDBG_BP_SOFTWARE && type != KVMDBG_BP_HARDWARE) {
        return -ENOTSUP; /* no watchpoints here: gdb falls back */
    }
    pthread_mutex_lock(&m.mu);
    int rc = -ENOSPC;
    if (m.nbps < MAX_BREAKPOINTS) {
        m.bps[m.nbps++] = (struct breakpoint){type, addr, len};
        rc = 0;
    }
    pthread_mutex_unlock(&m.mu);
    say("insert type=%u addr=0x%llx len=%llu", type, (unsigned long long)addr, (unsigned long long)len);
    return rc;
}

static int remove_breakpoint(void* opaque, uint32_t type, uint64_t addr, uint64_t len) {
    (void)opaque;
    int rc = -ENOENT;
    pthread_mutex_lock(&m.mu);
    for (int i = 0; i < m.nbps; i++) {
        if (m.bps[i].type == type && m.bps[i].addr == addr && m.bps[i].len == len) {
            m.bps[i] = m.bps[--m.nbps];
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&m.mu);
    say("remove type=%u addr=0x%llx len=%llu rc=%d", type, (unsigned long long)addr, (unsigned long long)len, rc);
    return rc;
}

static void remove_all_breakpoints(void* opaque) {
    (void)opaque;
    pthread_mutex_lock(&m.mu);
    m.nbps = 0;
    pthread_mutex_unlock(&m.mu);
    say("remove_all");
}

static int resume(void* opaque, uint32_t cpu, int step) {
    (void)opaque;
    if (cpu != 0) {
        return -EINVAL;
    }
    pthread_mutex_lock(&m.mu);
    int rc = -EBUSY;
    if (m.command == PARKED) {
        m.command = step ? STEP : RUN;
        pthread_cond_broadcast(&m.cond);
        rc = 0;
    }
    pthread_mutex_unlock(&m.mu);
    say("resume cpu=%u step=%d rc=%d", cpu, step, rc);
    return rc;
}

static void stop_all(void* opaque) {
    (void)opaque;
    pthread_mutex_lock(&m.mu);
    m.stop_request = 1;
    while (m.command != PARKED) {
        pthread_cond_wait(&m.cond, &m.mu);
    }
    m.stop_request = 0;
    pthread_mutex_unlock(&m.mu);
    say("stop_all");
}

static void end(const char* why) {
    say("%s", why);
    pthread_mutex_lock(&m.mu);
    m.done = 1;
    pthread_cond_broadcast(&m.cond);
    pthread_mutex_unlock(&m.mu);
}

static void detach(void* opaque) {
    (void)opaque;
    /* The vCPU runs on; main ends the run (this is a test). */
    pthread_mutex_lock(&m.mu);
    if (m.command == PARKED) {
        m.command = RUN;
        pthread_cond_broadcast(&m.cond);
    }
    pthread_mutex_unlock(&m.mu);
    end("detach");
}

static void kill_vm(void* opaque) {
    (void)opaque;
    end("kill");
}

static char* monitor(void* opaque, const char* command) {
    (void)opaque;
    if (strcmp(command, "laps") != 0) {
        return NULL;
    }
    char* reply = malloc(64);
    if (reply != NULL) {
        pthread_mutex_lock(&m.mu);
        snprintf(reply, 64, "laps=%llu\n", (unsigned long long)m.state.gpr[KVMDBG_X86_RBX]);
        pthread_mutex_unlock(&m.mu);
    }
    return reply;
}

static void reset_machine(void) {
    for (unsigned i = 0; i < MEM_SIZE; i++) {
        m.mem[i] = (uint8_t)(i ^ (i >> 8));
    }
    memset(&m.state, 0, sizeof m.state);
    m.state.rip = LOOP_START;
    m.state.rflags = 0x2;
    m.state.gpr[KVMDBG_X86_RSP] = 0x8000;
    m.state.cr0 = 0x80000011; /* PE, ET, PG */
    m.state.efer = 0x500;     /* LME, LMA */
    m.state.cs =
        (KvmdbgX86Segment){.selector = 0x8, .limit = 0xffffffff, .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1};
    KvmdbgX86Segment data = {.selector = 0x10, .limit = 0xffffffff, .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1};
    m.state.ds = m.state.es = m.state.fs = m.state.gs = m.state.ss = data;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s ENDPOINT\n", argv[0]);
        return 2;
    }
    reset_machine();
    KvmdbgGdbTarget target;
    memset(&target, 0, sizeof target);
    target.struct_size = sizeof target;
    target.arch = KVMDBG_ARCH_X86_64;
    target.cpus = 1;
    target.get_state = get_state;
    target.set_state = set_state;
    target.read_memory = read_memory;
    target.write_memory = write_memory;
    target.insert_breakpoint = insert_breakpoint;
    target.remove_breakpoint = remove_breakpoint;
    target.remove_all_breakpoints = remove_all_breakpoints;
    target.resume = resume;
    target.stop_all = stop_all;
    target.detach = detach;
    target.kill = kill_vm;
    target.monitor = monitor;

    char error[256];
    m.stub = kvmdbg_gdbstub_new(&target, error, sizeof error);
    if (m.stub == NULL) {
        fprintf(stderr, "fake_gdb_host: %s\n", error);
        return 2;
    }
    if (kvmdbg_gdbstub_listen(m.stub, argv[1], error, sizeof error) != 0) {
        fprintf(stderr, "fake_gdb_host: %s\n", error);
        kvmdbg_gdbstub_free(m.stub);
        return 2;
    }
    fprintf(stderr, "fake_gdb_host: listening on %s\n", kvmdbg_gdbstub_address(m.stub));

    pthread_t vcpu;
    pthread_create(&vcpu, NULL, vcpu_thread, NULL);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SAFETY_SECONDS;
    int timed_out = 0;
    pthread_mutex_lock(&m.mu);
    while (!m.done && !timed_out) {
        timed_out = pthread_cond_timedwait(&m.cond, &m.mu, &deadline) == ETIMEDOUT;
    }
    pthread_mutex_unlock(&m.mu);

    kvmdbg_gdbstub_free(m.stub);
    pthread_mutex_lock(&m.mu);
    m.quit = 1;
    pthread_cond_broadcast(&m.cond);
    pthread_mutex_unlock(&m.mu);
    pthread_join(vcpu, NULL);
    say("end laps=%llu rip=0x%llx%s", (unsigned long long)m.state.gpr[KVMDBG_X86_RBX], (unsigned long long)m.state.rip,
        timed_out ? " (timed out)" : "");
    return timed_out ? 3 : 0;
}
