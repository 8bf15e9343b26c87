// The gdb stub thread's priority (system/stub_thread_priority.h): the
// wanted nice value from $KVMDBG_STUB_NICE (default -5, malformed values
// refused with a message), and raise_calling_thread_priority on a thread
// of its own: it never lowers a priority, acts on the calling thread only,
// and either raises it or (without the privilege) leaves it as it was and
// says what was needed.
#include "system/stub_thread_priority.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::system::kStubThreadNice;
using kvmdbg::system::raise_calling_thread_priority;
using kvmdbg::system::wanted_stub_thread_nice;

int thread_nice() {
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

void test_wanted_nice() {
    auto is = [](const char* env, int nice) {
        auto wanted = wanted_stub_thread_nice(env);
        return wanted.ok() && *wanted == nice;
    };
    CU_ASSERT_TRUE(is(nullptr, kStubThreadNice));
    CU_ASSERT_TRUE(is("", kStubThreadNice));
    CU_ASSERT_TRUE(is("0", 0));
    CU_ASSERT_TRUE(is("-20", -20));
    CU_ASSERT_TRUE(is("19", 19));
    for (const char* bad : {"-21", "20", "abc", "5x", " "}) {
        auto wanted = wanted_stub_thread_nice(bad);
        CU_ASSERT_FALSE(wanted.ok());
        CU_ASSERT_TRUE(!wanted.ok() && wanted.error().code == EINVAL &&
                       wanted.error().message.find("KVMDBG_STUB_NICE=") == 0);
    }
}

void test_raise_on_own_thread() {
    const int main_nice = thread_nice();
    std::thread worker([] {
        // Lowering one's own priority is always allowed.
        CU_ASSERT_FATAL(setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5) == 0);
        // Never lowered further; unchanged when already there.
        auto same = raise_calling_thread_priority(10);
        CU_ASSERT_TRUE(same.ok() && *same == 5);
        same = raise_calling_thread_priority(5);
        CU_ASSERT_TRUE(same.ok() && *same == 5);
        CU_ASSERT_EQUAL(thread_nice(), 5);
        // Raised where the process may (CAP_SYS_NICE, RLIMIT_NICE); else
        // unchanged, and the error names what was missing.
        auto raised = raise_calling_thread_priority(2);
        if (raised.ok()) {
            CU_ASSERT_EQUAL(*raised, 2);
            CU_ASSERT_EQUAL(thread_nice(), 2);
        } else {
            CU_ASSERT_TRUE(raised.error().code == EPERM || raised.error().code == EACCES);
            CU_ASSERT_TRUE(raised.error().message.find("CAP_SYS_NICE") != std::string::npos);
            CU_ASSERT_EQUAL(thread_nice(), 5);
        }
    });
    worker.join();
    CU_ASSERT_EQUAL(thread_nice(), main_nice);  // the other thread's nice value only
}

const kvmdbg::test::TestCase kCases[] = {
    {"wanted nice value", test_wanted_nice},
    {"raise on the calling thread only", test_raise_on_own_thread},
};
const kvmdbg::test::TestSuite kSuites[] = {{"stub_thread_priority", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
