/*
 * common.c - what the harnesses share (common.h).
 */
#define _GNU_SOURCE /* sigaction, REG_RIP */

#include "common.h"

#include "drivers/serial/log.h"
#include "hw_fake.h"
#include "nested_run_fixture.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

/* ---- the input ---- */

void fuzz_bytes(struct fuzz_in *in, void *dst, size_t len)
{
	size_t n = len < in->left ? len : in->left;
	memcpy(dst, in->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	in->p += n;
	in->left -= n;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;
	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t v;
	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v;
	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v;
	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

void fuzz_patch_l1_memory(struct fuzz_in *in, const uint64_t *areas, unsigned nareas,
			  unsigned count)
{
	for (unsigned i = 0; i < count && in->left >= 4; i++) {
		uint64_t page = areas[fuzz_u8(in) % nareas];
		unsigned off = fuzz_u16(in) & 0xfff;
		unsigned len = fuzz_u8(in);
		if (len > 0x1000 - off)
			len = 0x1000 - off;
		fuzz_bytes(in, run_l1_ptr(page + off), len);
	}
}

/* ---- the log ---- */

#define KEEP 256
static struct {
	unsigned n; /* lines seen this run */
	char line[KEEP][LOG_LINE_MAX + 1];
} kept;

static void keep_sink(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	char *d = kept.line[kept.n++ % KEEP];
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	memcpy(d, line, len);
	d[len] = '\0';
}

void fuzz_log_capture(void)
{
	kept.n = 0;
	log_add_sink(keep_sink, NULL);
}

bool fuzz_log_has(const char *text)
{
	unsigned n = kept.n < KEEP ? kept.n : KEEP;
	for (unsigned i = 0; i < n; i++)
		if (strstr(kept.line[i], text))
			return true;
	return false;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\n==== fuzz: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n==== the latest log lines (of %u):\n", kept.n);
	unsigned first = kept.n > KEEP ? kept.n - KEEP : 0;
	for (unsigned i = first; i < kept.n; i++)
		if (!strstr(kept.line[i % KEEP], ":   ")) /* not a VMCS dump's field line */
			fprintf(stderr, "  %s\n", kept.line[i % KEEP]);
	fflush(stderr);
	abort();
}

void fuzz_outcome(const char *what)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz: outcome: %s\n", what);
}

/* ---- the halt guard ---- */

static sigjmp_buf guard_env;
static volatile sig_atomic_t guard_armed;
static struct sigaction next_handler; /* the sanitizers' */

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
	const ucontext_t *uc = uctx;
	const uint8_t *ip = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	if (guard_armed && ip) {
		if (ip[0] == 0xfa || ip[0] == 0xf4) /* cli, hlt */
			siglongjmp(guard_env, FUZZ_HALTED);
		/* in, out (a platform reset, or L1's port I/O performed for it), ins, outs */
		if ((ip[0] >= 0xe4 && ip[0] <= 0xe7) || (ip[0] >= 0xec && ip[0] <= 0xef) ||
		    (ip[0] >= 0x6c && ip[0] <= 0x6f))
			siglongjmp(guard_env, FUZZ_PORT_IO);
	}
	/* A real fault: the sanitizers report it. */
	if (next_handler.sa_flags & SA_SIGINFO)
		next_handler.sa_sigaction(sig, si, uctx);
	else if (next_handler.sa_handler != SIG_DFL && next_handler.sa_handler != SIG_IGN)
		next_handler.sa_handler(sig);
	else {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
}

enum fuzz_step fuzz_guarded(void (*fn)(void *), void *arg)
{
	static bool installed;
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaction(SIGSEGV, &sa, &next_handler);
		installed = true;
	}
	int got = sigsetjmp(guard_env, 1);
	if (got) {
		guard_armed = 0;
		return (enum fuzz_step)got;
	}
	guard_armed = 1;
	fn(arg);
	guard_armed = 0;
	return FUZZ_RETURNED;
}

/* ---- MSRs never written in root ---- */

static const uint32_t guarded_msrs[] = {
	0xc0000100, 0xc0000101, 0xc0000080, 0x277, 0x1d9, 0x174, 0x175, 0x176, 0x1b,
	0x480,	    0x481,	0x482,	    0x483,	0x484, 0x485, 0x486, 0x487, 0x488, 0x489,
	0x48a,	    0x48b,	0x48c,	    0x48d,	0x48e, 0x48f, 0x490, 0x491,
};
#define NGUARDED (sizeof(guarded_msrs) / sizeof(guarded_msrs[0]))
#define SENTINEL(msr) (0x5e00000000000000ull | (msr))

void fuzz_guard_msrs_arm(void)
{
	for (unsigned i = 0; i < NGUARDED; i++)
		hw_fake_msr_add(guarded_msrs[i], SENTINEL(guarded_msrs[i]), 0);
}

void fuzz_guard_msrs_check(const char *when)
{
	for (unsigned i = 0; i < NGUARDED; i++) {
		uint64_t now = 0;
		bool exists = hw_fake_msr_get(guarded_msrs[i], &now);
		FUZZ_ASSERT(exists && now == SENTINEL(guarded_msrs[i]),
			    "MSR 0x%x written in root %s: 0x%llx", guarded_msrs[i], when,
			    (unsigned long long)now);
	}
}
