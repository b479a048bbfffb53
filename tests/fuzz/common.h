/*
 * common.h - what the libFuzzer harnesses of tests/fuzz share: an
 * input reader, the oracle's failure report, the halt guard and a ring of
 * the latest log lines.
 *
 * The harnesses drive the same pure logic and fakes as the host unit tests
 * (tests/unit/nested_run_fixture.h, hw_fake.h, vmcs_soft.h).  An oracle that
 * fails calls fuzz_fail: the message, the latest log lines, abort() -
 * libFuzzer reports the crash and writes the input as a crash-* artifact.
 *
 * L0's halting paths (cpu_halt_forever, a platform reset) end in CLI/HLT
 * or OUT, which fault at CPL 3 (SIGSEGV), as does port I/O L0 performs.  fuzz_guarded runs a step with
 * a SIGSEGV handler that turns such a fault into a return value, so that
 * the harness decides whether the halt was an SDM outcome (L1's shutdown
 * after a VMX abort) or L0's bug; any other SIGSEGV goes on to the
 * sanitizers' handler as usual.
 */
#ifndef MICROHV_TESTS_FUZZ_COMMON_H
#define MICROHV_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the input, read front to back; zeros once it runs out ---- */

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
/* len bytes into dst; what the input lacks is zero. */
void fuzz_bytes(struct fuzz_in *in, void *dst, size_t len);

/*
 * A stream of patches of L1's memory: (u8 area index, u16 offset, u8 len,
 * len bytes) until the input ends or count patches are applied.  areas[i]
 * is a guest-physical page of the fixture's L1 memory; the patch is cut at
 * the page's end.
 */
void fuzz_patch_l1_memory(struct fuzz_in *in, const uint64_t *areas, unsigned nareas,
			  unsigned count);

/* ---- oracles ---- */

/* The oracle failed: message, the latest log lines, abort(). */
__attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt, ...);

#define FUZZ_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail("oracle: " #cond ": " __VA_ARGS__);                              \
	} while (0)

/* With FUZZ_VERBOSE set in the environment: the outcome, on stderr (to see a corpus's spread). */
void fuzz_outcome(const char *what);

/*
 * The MSRs a VMCS switches or L0 relies on (FS/GS base, EFER, PAT,
 * DEBUGCTL, SYSENTER_*, the APIC base, the VMX capability MSRs): never
 * written in root on L1's or L2's behalf.  KERNEL_GS_BASE is not among
 * them: no VMCS switches it and L0 never executes SWAPGS, so L0 writes
 * L1's or L2's value on the CPU (after the canonical check).
 * fuzz_guard_msrs_arm plants a sentinel in each (after run_setup's
 * hw_fake_reset); fuzz_guard_msrs_check fails the oracle if one changed.
 */
void fuzz_guard_msrs_arm(void);
void fuzz_guard_msrs_check(const char *when);

/* ---- the halt guard ---- */

enum fuzz_step {
	FUZZ_RETURNED,
	FUZZ_HALTED, /* CLI/HLT faulted: cpu_halt_forever */
	FUZZ_PORT_IO, /* IN/OUT faulted: a platform reset, or port I/O done for L1 */
};

/* Runs fn(arg) under the halt guard. */
enum fuzz_step fuzz_guarded(void (*fn)(void *), void *arg);

/* ---- the log ---- */

/* After run_setup (which resets the log's sinks): keep the latest lines. */
void fuzz_log_capture(void);
/* Some kept line of this run contains text. */
bool fuzz_log_has(const char *text);

#endif
