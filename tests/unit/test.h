/*
 * test.h - the host unit-test harness: a dozen lines of our own.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ(a, b); CHECK_STR(s, "text"); }
 *
 * Tests register themselves at load time; tests/unit/runner.c runs them all
 * (or those whose name contains argv[1]), prints "ok"/"FAIL" per test with
 * the failing condition, file and line, and ends with
 * "unit: N passed, N failed".  A test passes when none of its checks failed
 * and it made at least one check.
 */
#ifndef MICROHV_TEST_H
#define MICROHV_TEST_H

#include <stdbool.h>
#include <stdint.h>

void test_register(const char *name, void (*fn)(void));
bool test_check(bool ok, const char *expr, const char *file, int line);
bool test_check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb, const char *file,
		   int line);
bool test_check_str(const char *a, const char *b, const char *ea, const char *eb,
		    const char *file, int line);

#define TEST(name)                                                              \
	static void name(void);                                                 \
	__attribute__((constructor)) static void register_##name(void)          \
	{                                                                       \
		test_register(#name, name);                                     \
	}                                                                       \
	static void name(void)

#define CHECK(cond) test_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) test_check_eq((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) test_check_str((a), (b), #a, #b, __FILE__, __LINE__)

#endif
