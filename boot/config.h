/*
 * config.h - hv.cfg, the loader's configuration file.
 *
 * Plain "key = value" lines; '#' starts a comment that runs to the end of
 * the line; blank lines are ignored.  Every key is optional.  A line that
 * cannot be used (unknown key, bad value, no '=', longer than
 * CONFIG_LINE_MAX) is reported through the warning callback with its line
 * number and text, and the default (or an earlier good value) stays in force.
 * The parser is pure C with no firmware calls, so it is unit-tested on the
 * host (tests/unit/test_config.c).  README.md documents every key.
 */
#ifndef MICROHV_BOOT_CONFIG_H
#define MICROHV_BOOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_LINE_MAX 255
#define CONFIG_PATH_MAX 256

#define CONFIG_DEFAULT_SERIAL 0x3f8
#define CONFIG_DEFAULT_BAUD 115200
#define CONFIG_DEFAULT_LOGLEVEL 2 /* LOG_INFO */
#define CONFIG_DEFAULT_NEXT "\\EFI\\microhv\\next.efi"

/* hv.cfg iommu: off, on (where a DMAR exists: the default), required (no launch without it). */
#define CONFIG_IOMMU_OFF 0
#define CONFIG_IOMMU_ON 1
#define CONFIG_IOMMU_REQUIRED 2

/* Passed to the core inside the boot-info block: fixed-size members only. */
struct hv_config {
	uint16_t serial_port;  /* 0: no serial console */
	uint16_t console_port; /* L0's interactive console (docs/serial.md), 0: none */
	uint32_t baud;
	uint32_t loglevel; /* enum log_level */
	uint32_t nested;   /* 1: offer VMX to L1 */
	uint32_t gdb_wait; /* 1: the core waits for gdb (make debug) */
	uint32_t reset_on_triple_fault; /* 0: halt the CPU (default), 1: reset */
	uint32_t test_fail_launch; /* test hook: 1 bad guest state, 2 bad control (BSP) */
	uint32_t shadow_vmcs; /* 1: hardware VMCS shadowing of vmcs12 for L1 (nested = on) */
	uint32_t iommu;	      /* CONFIG_IOMMU_*: VT-d DMA protection of L0 (docs/iommu.md) */
	uint32_t iommu_selftest; /* 1: test DMA remapping with QEMU's edu device (no VT-x only) */
	uint32_t iommu_qi; /* 0: register-based invalidation even where queued is offered */
	char next[CONFIG_PATH_MAX]; /* next stage, a path on the boot volume */
	char next_args[CONFIG_PATH_MAX]; /* its LoadOptions (e.g. a kernel command line) */
};

typedef void (*config_warn_fn)(void *ctx, unsigned line, const char *text, const char *why);

void config_defaults(struct hv_config *cfg);

/*
 * Applies the settings in text[0..len) on top of *cfg.  Calls warn once for
 * each line it could not use.  Returns the number of such lines.
 */
unsigned config_parse(struct hv_config *cfg, const char *text, size_t len, config_warn_fn warn,
		      void *ctx);

#endif
