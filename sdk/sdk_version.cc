// kvmdbg_sdk_version(): the version of the SDK library loaded at run time
// (sdk/sdk_version.h).
#include "sdk/sdk_version.h"

extern "C" unsigned kvmdbg_sdk_version(void) { return KVMDBG_SDK_VERSION; }
