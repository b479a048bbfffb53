/*
 * runner.c - runs the registered unit tests (see test.h).
 */
#include "test.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_TESTS 2048

static struct {
	const char *name;
	void (*fn)(void);
} tests[MAX_TESTS];
static int ntests;
/* Tests that found no room: each one is a failure of the run, not a note. */
static int tests_dropped;

static int checks_run;
static int checks_failed;

void test_register(const char *name, void (*fn)(void))
{
	if (ntests == MAX_TESTS) {
		tests_dropped++;
		printf("FAIL %s (not run: the runner holds %d tests; raise MAX_TESTS)\n", name,
		       MAX_TESTS);
		return;
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

bool test_check(bool ok, const char *expr, const char *file, int line)
{
	checks_run++;
	if (!ok) {
		checks_failed++;
		printf("    %s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

bool test_check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb, const char *file,
		   int line)
{
	checks_run++;
	if (a != b) {
		checks_failed++;
		printf("    %s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", file, line, ea,
		       eb, a, b);
	}
	return a == b;
}

bool test_check_str(const char *a, const char *b, const char *ea, const char *eb,
		    const char *file, int line)
{
	bool ok = a && b && strcmp(a, b) == 0;
	checks_run++;
	if (!ok) {
		checks_failed++;
		printf("    %s:%d: %s == %s failed:\n      got      \"%s\"\n      expected \"%s\"\n",
		       file, line, ea, eb, a ? a : "(null)", b ? b : "(null)");
	}
	return ok;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	/* Line-buffered even into a pipe: a hanging test shows where it hangs. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		checks_run = checks_failed = 0;
		tests[i].fn();
		if (checks_failed == 0 && checks_run > 0) {
			passed++;
			printf("ok   %s (%d checks)\n", tests[i].name, checks_run);
		} else {
			failed++;
			printf("FAIL %s (%d of %d checks failed)\n", tests[i].name, checks_failed,
			       checks_run);
		}
	}
	failed += tests_dropped;
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
