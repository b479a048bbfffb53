/*
 * halting.h - running a path that halts the CPU (cpu_halt_forever) or
 * resets the platform, in a forked child: on the host, the privileged
 * instruction it ends with faults, and the fault says which it was.
 */
#ifndef MICROHV_TESTS_HALTING_H
#define MICROHV_TESTS_HALTING_H

#include <stddef.h>

#define HALTED_CLI 70	/* cpu_halt_forever: cli faulted (CPL 3) */
#define HALTED_OUT 71	/* an OUT instruction faulted (platform reset) */
#define HALTED_OTHER 72 /* some other fault */
#define HALT_RETURNED 73 /* fn returned */

/* The child's log lines ("[t] ..."), NUL-terminated. */
extern char halting_out[32768];

/*
 * Forks; the child runs setup (if any), logs at debug level into
 * halting_out, then fn.  Returns the child's exit code (one of the above)
 * or -signal, or a value below -999 when the fork machinery failed.
 */
int halting_run(void (*setup)(void), void (*fn)(void));

#endif
