/*
 * The kvmdbg SDK library's version (installed as <kvmdbg/sdk_version.h>;
 * docs/embedding.md, "Versions and compatibility").
 *
 * libkvmdbg.so.MAJOR: MAJOR changes with any change a host built against
 * an older header could observe (a removed or changed function, a changed
 * struct layout or meaning); MINOR with additions only (new functions, a
 * table grown at its end, which struct_size tells apart). A host checks
 * kvmdbg_sdk_version() >= the KVMDBG_SDK_VERSION it was built with, within
 * one MAJOR.
 */
#ifndef KVMDBG_SDK_VERSION_H
#define KVMDBG_SDK_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define KVMDBG_SDK_VERSION_MAJOR 0
#define KVMDBG_SDK_VERSION_MINOR 1
/* MAJOR * 1000 + MINOR */
#define KVMDBG_SDK_VERSION (KVMDBG_SDK_VERSION_MAJOR * 1000 + KVMDBG_SDK_VERSION_MINOR)

/* KVMDBG_SDK_VERSION of the library loaded at run time. */
unsigned kvmdbg_sdk_version(void);

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_SDK_VERSION_H */
