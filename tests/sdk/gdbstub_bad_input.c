/*
 * libkvmdbg's gdb stub (sdk/gdbstub.h) given bad input: every call answers
 * with an error message (or ignores a NULL stub) and nothing crashes.
 * Needs neither /dev/kvm nor gdb. Exit 0 pass, 1 fail (each failed check
 * printed).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdbstub.h"
#include "plugin_abi_x86.h"

static int failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static int resumes; /* resume calls the stub made */

static int get_state(void* o, uint32_t cpu, void* state, uint32_t size) {
    (void)o, (void)cpu;
    memset(state, 0, size);
    return 0;
}
static int set_state(void* o, uint32_t cpu, const void* state, uint32_t size) {
    (void)o, (void)cpu, (void)state, (void)size;
    return 0;
}
static int64_t read_memory(void* o, uint32_t cpu, uint64_t addr, void* buf, uint64_t len, int physical) {
    (void)o, (void)cpu, (void)addr, (void)buf, (void)len, (void)physical;
    return -EFAULT;
}
static int write_memory(void* o, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len, int physical) {
    (void)o, (void)cpu, (void)addr, (void)buf, (void)len, (void)physical;
    return -EFAULT;
}
static int insert_breakpoint(void* o, uint32_t type, uint64_t addr, uint64_t len) {
    (void)o, (void)type, (void)addr, (void)len;
    return -ENOTSUP;
}
static int remove_breakpoint(void* o, uint32_t type, uint64_t addr, uint64_t len) {
    (void)o, (void)type, (void)addr, (void)len;
    return -ENOENT;
}
static void remove_all_breakpoints(void* o) { (void)o; }
static int resume(void* o, uint32_t cpu, int step) {
    (void)o, (void)cpu, (void)step;
    resumes++;
    return 0;
}
static void stop_all(void* o) { (void)o; }
static void detach(void* o) { (void)o; }

static KvmdbgGdbTarget good_target(void) {
    KvmdbgGdbTarget t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    t.arch = KVMDBG_ARCH_X86_64;
    t.cpus = 2;
    t.get_state = get_state;
    t.set_state = set_state;
    t.read_memory = read_memory;
    t.write_memory = write_memory;
    t.insert_breakpoint = insert_breakpoint;
    t.remove_breakpoint = remove_breakpoint;
    t.remove_all_breakpoints = remove_all_breakpoints;
    t.resume = resume;
    t.stop_all = stop_all;
    t.detach = detach;
    return t;
}

/* kvmdbg_gdbstub_new refuses `t` with a message containing `words`. */
static void refused(const KvmdbgGdbTarget* t, const char* words) {
    char error[256] = "untouched";
    KvmdbgGdbStub* stub = kvmdbg_gdbstub_new(t, error, sizeof error);
    CHECK(stub == NULL);
    if (strstr(error, words) == NULL) {
        fprintf(stderr, "expected '%s' in the error, got '%s'\n", words, error);
        failures++;
    }
    kvmdbg_gdbstub_free(stub);
    /* No error buffer at all is fine too. */
    CHECK(kvmdbg_gdbstub_new(t, NULL, 0) == NULL);
}

static void bad_targets(void) {
    refused(NULL, "NULL");
    KvmdbgGdbTarget t = good_target();
    t.struct_size = 0;
    refused(&t, "struct_size");
    t.struct_size = offsetof(KvmdbgGdbTarget, detach); /* stops short of a mandatory callback */
    refused(&t, "struct_size");
    t = good_target();
    t.arch = 99;
    refused(&t, "arch 99");
    t = good_target();
    t.cpus = 0;
    refused(&t, "cpus");

    static const struct {
        size_t offset;
        const char* name;
    } mandatory[] = {
        {offsetof(KvmdbgGdbTarget, get_state), "get_state"},
        {offsetof(KvmdbgGdbTarget, set_state), "set_state"},
        {offsetof(KvmdbgGdbTarget, read_memory), "read_memory"},
        {offsetof(KvmdbgGdbTarget, write_memory), "write_memory"},
        {offsetof(KvmdbgGdbTarget, insert_breakpoint), "insert_breakpoint"},
        {offsetof(KvmdbgGdbTarget, remove_breakpoint), "remove_breakpoint"},
        {offsetof(KvmdbgGdbTarget, remove_all_breakpoints), "remove_all_breakpoints"},
        {offsetof(KvmdbgGdbTarget, resume), "resume"},
        {offsetof(KvmdbgGdbTarget, stop_all), "stop_all"},
        {offsetof(KvmdbgGdbTarget, detach), "detach"},
    };
    for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++) {
        t = good_target();
        memset((char*)&t + mandatory[i].offset, 0, sizeof(void (*)(void)));
        refused(&t, mandatory[i].name);
    }

    /* A host built against an older, shorter table without the optional
     * callbacks is accepted. */
    t = good_target();
    t.struct_size = offsetof(KvmdbgGdbTarget, kill);
    char error[64];
    KvmdbgGdbStub* stub = kvmdbg_gdbstub_new(&t, error, sizeof error);
    CHECK(stub != NULL);
    kvmdbg_gdbstub_free(stub);

    /* A one-byte buffer gets an empty, terminated message. */
    char tiny[1] = {'x'};
    CHECK(kvmdbg_gdbstub_new(NULL, tiny, sizeof tiny) == NULL);
    CHECK(tiny[0] == '\0');
}

static void null_stub(void) {
    char error[128];
    KvmdbgDebugStop stop;
    memset(&stop, 0, sizeof stop);
    CHECK(kvmdbg_gdbstub_listen(NULL, "tcp::0", error, sizeof error) == -EINVAL);
    CHECK(strstr(error, "NULL") != NULL);
    CHECK(strcmp(kvmdbg_gdbstub_address(NULL), "") == 0);
    CHECK(kvmdbg_gdbstub_attached(NULL) == 0);
    kvmdbg_gdbstub_report_stop(NULL, 0, &stop);
    kvmdbg_gdbstub_report_exit(NULL, 0);
    kvmdbg_gdbstub_free(NULL);
}

static void endpoints(const char* tmp) {
    KvmdbgGdbTarget t = good_target();
    char error[256];
    KvmdbgGdbStub* stub = kvmdbg_gdbstub_new(&t, error, sizeof error);
    CHECK(stub != NULL);
    if (stub == NULL) {
        return;
    }
    CHECK(strcmp(kvmdbg_gdbstub_address(stub), "") == 0);

    /* Before listen, a reported stop is resumed at once (nobody can be
     * attached); a vCPU out of range and a NULL stop are no crash. */
    KvmdbgDebugStop stop;
    memset(&stop, 0, sizeof stop);
    stop.reason = KVMDBG_STOP_SW_BREAK;
    kvmdbg_gdbstub_report_stop(stub, 0, &stop);
    CHECK(resumes == 1);
    kvmdbg_gdbstub_report_stop(stub, 7, &stop);
    CHECK(resumes == 1);
    kvmdbg_gdbstub_report_exit(stub, 3);

    const char* bad[] = {"bogus", "tcp:", "tcp::99999", "tcp::x", "unix:", "tcp:not-an-ip:1234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(error, "untouched");
        int rc = kvmdbg_gdbstub_listen(stub, bad[i], error, sizeof error);
        if (rc >= 0 || strcmp(error, "untouched") == 0 || error[0] == '\0') {
            fprintf(stderr, "endpoint '%s': rc %d, error '%s'\n", bad[i], rc, error);
            failures++;
        }
    }
    /* Still not listening after the failures: listen works now, once. */
    CHECK(kvmdbg_gdbstub_listen(stub, "tcp:127.0.0.1:0", error, sizeof error) == 0);
    const char* address = kvmdbg_gdbstub_address(stub);
    CHECK(strncmp(address, "tcp 127.0.0.1:", 14) == 0);
    CHECK(kvmdbg_gdbstub_attached(stub) == 0);
    CHECK(kvmdbg_gdbstub_listen(stub, "tcp:127.0.0.1:0", error, sizeof error) == -EBUSY);
    CHECK(strstr(error, "once") != NULL);

    /* The same port for a second stub: in use. */
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "tcp:127.0.0.1:%s", address + 14);
    KvmdbgGdbStub* second = kvmdbg_gdbstub_new(&t, error, sizeof error);
    CHECK(second != NULL);
    int rc = kvmdbg_gdbstub_listen(second, endpoint, error, sizeof error);
    CHECK(rc == -EADDRINUSE);
    if (strstr(error, "cannot listen") == NULL) {
        fprintf(stderr, "address in use: '%s'\n", error);
        failures++;
    }
    CHECK(strcmp(kvmdbg_gdbstub_address(second), "") == 0);
    kvmdbg_gdbstub_free(second);
    kvmdbg_gdbstub_free(stub);

    /* A unix socket: mode 0600 while it listens, gone after free. */
    char path[256];
    snprintf(path, sizeof path, "%s/stub.sock", tmp);
    snprintf(endpoint, sizeof endpoint, "unix:%s", path);
    stub = kvmdbg_gdbstub_new(&t, error, sizeof error);
    CHECK(stub != NULL && kvmdbg_gdbstub_listen(stub, endpoint, error, sizeof error) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    kvmdbg_gdbstub_free(stub);
    CHECK(access(path, F_OK) != 0);

    /* A unix socket where none can be made. */
    stub = kvmdbg_gdbstub_new(&t, error, sizeof error);
    CHECK(kvmdbg_gdbstub_listen(stub, "unix:/nonexistent-dir/stub.sock", error, sizeof error) < 0);
    CHECK(error[0] != '\0');
    kvmdbg_gdbstub_free(stub);
}

int main(void) {
    char tmp[] = "/tmp/kvmdbg-sdk-XXXXXX";
    if (mkdtemp(tmp) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    bad_targets();
    null_stub();
    endpoints(tmp);
    rmdir(tmp);
    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("gdbstub_bad_input: all checks passed\n");
    return 0;
}
