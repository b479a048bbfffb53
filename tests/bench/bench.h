/*
 * bench.h - what the benches share (tests/bench/bench_util.c): TSC reads
 * and the single-level reference loops, so that every bench measures the
 * same way.
 */
#ifndef MICROHV_TESTS_BENCH_H
#define MICROHV_TESTS_BENCH_H

#include <stdint.h>

#define BENCH_ROUNDS 1000

/* RDTSC fenced on both sides: Bochs's TSC follows its instruction count. */
static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * BENCH_ROUNDS timed rounds of CPUID leaf 0 (with_cpuid) or of nothing but
 * the RDTSC pair; prints "bench: WHAT: min N, mean N TSC cycles ...".
 */
void bench_measure_single(const char *what, int with_cpuid);

#endif
