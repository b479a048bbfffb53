/*
 * core_load.h - checking and placing the core image (format in
 * include/microhv/core_image.h).  Pure functions: no firmware calls, so a
 * corrupted or truncated image is tested on the host.
 */
#ifndef MICROHV_BOOT_CORE_LOAD_H
#define MICROHV_BOOT_CORE_LOAD_H

#include "include/microhv/core_image.h"

#include <stddef.h>

/* Returns 0 if blob[0..size) is a well-formed core image, else why not. */
const char *core_image_check(const void *blob, size_t size);

/*
 * Copies a checked image to dst (which has mem_size bytes), zeroes the
 * .bss, and relocates it to run at dst.  Returns 0 or why it failed.
 */
const char *core_image_place(const void *blob, size_t size, void *dst);

#endif
