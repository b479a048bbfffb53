/*
 * test_format.c - drivers/serial/format.c: fmt_snprintf, fmt_vsnprintf and
 * fmt_vformat.  Where C11 7.21.6.1 defines the output, the expected string
 * comes from the host libc's snprintf; the rest (%p, unknown conversions,
 * a trailing '%', NULL for %s) is checked against literal strings.
 */
#include "test.h"

#include "drivers/serial/format.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * Formats the same format and arguments with fmt_snprintf and with libc
 * snprintf and checks that text and return value agree.
 */
#define SAME(...)                                                                                  \
	do {                                                                                       \
		char ours_[256], libc_[256];                                                       \
		int nours_ = fmt_snprintf(ours_, sizeof(ours_), __VA_ARGS__);                      \
		int nlibc_ = snprintf(libc_, sizeof(libc_), __VA_ARGS__);                          \
		test_check_str(ours_, libc_, #__VA_ARGS__, "libc snprintf", __FILE__, __LINE__);   \
		test_check_eq((uint64_t)nours_, (uint64_t)nlibc_, #__VA_ARGS__, "libc length",     \
			      __FILE__, __LINE__);                                                 \
	} while (0)

/*
 * The same, for combinations that C defines but GCC's -Wformat flags as
 * pointless ("'0' flag ignored with precision"): the format goes through a
 * variable so that the compiler does not check it.
 */
#define SAME_UNCHECKED(f, ...)                                                                     \
	do {                                                                                       \
		const char *f_ = (f);                                                              \
		char ours_[256], libc_[256];                                                       \
		int nours_ = fmt_raw(ours_, sizeof(ours_), f_, __VA_ARGS__);                       \
		int nlibc_ = snprintf(libc_, sizeof(libc_), f_, __VA_ARGS__);                      \
		test_check_str(ours_, libc_, #f ", " #__VA_ARGS__, "libc snprintf", __FILE__,      \
			       __LINE__);                                                          \
		test_check_eq((uint64_t)nours_, (uint64_t)nlibc_, #f, "libc length", __FILE__,     \
			      __LINE__);                                                           \
	} while (0)

/*
 * fmt_vsnprintf without the printf format attribute, for format strings
 * the compiler would (rightly) reject: unknown conversions, a lone '%',
 * flags that C ignores for a conversion.
 */
static int fmt_raw(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = fmt_vsnprintf(buf, size, f, ap);
	va_end(ap);
	return n;
}

/* Checks one raw format with one int argument against a literal. */
#define RAW(expect, ...)                                                                           \
	do {                                                                                       \
		char out_[256];                                                                    \
		int n_ = fmt_raw(out_, sizeof(out_), __VA_ARGS__);                                 \
		test_check_str(out_, expect, #__VA_ARGS__, #expect, __FILE__, __LINE__);           \
		test_check_eq((uint64_t)n_, (uint64_t)strlen(expect), #__VA_ARGS__,                \
			      "strlen(" #expect ")", __FILE__, __LINE__);                          \
	} while (0)

TEST(format_plain_text_and_percent)
{
	SAME("hello");
	char buf[4] = "xyz";
	CHECK_EQ(fmt_raw(buf, sizeof(buf), ""), 0);
	CHECK_STR(buf, "");
	SAME("100%%");
	SAME("%%%%");
	SAME("a%%b%%c");
}

TEST(format_signed_decimal)
{
	SAME("%d", 0);
	SAME("%d", 42);
	SAME("%d", -42);
	SAME("%i", 1234567);
	SAME("%i", -1);
	SAME("%d", INT_MAX);
	SAME("%d", INT_MIN);
	SAME("%d|%d|%d", 1, -2, 3);
}

TEST(format_unsigned_hex_octal)
{
	SAME("%u", 0u);
	SAME("%u", 4000000000u);
	SAME("%u", UINT_MAX);
	SAME("%x", 0xdeadbeefu);
	SAME("%X", 0xdeadbeefu);
	SAME("%x", 0u);
	SAME("%o", 8u);
	SAME("%o", 0u);
	SAME("%o", 0777u);
	SAME("%x", UINT_MAX);
}

TEST(format_char_and_string)
{
	SAME("%c", 'A');
	SAME("[%c%c%c]", 'x', 'y', 'z');
	SAME("%s", "text");
	SAME("%s", "");
	SAME("<%s> <%s>", "a", "bc");
	SAME("%5c|", 'q');
	SAME("%-5c|", 'q');
	SAME("%8s|", "abc");
	SAME("%-8s|", "abc");
	SAME("%2s|", "abcdef");
	SAME("%.2s|", "abcdef");
	SAME("%.0s|", "abcdef");
	SAME("%.10s|", "abc");
	SAME("%6.2s|", "abcdef");
	SAME("%-6.2s|", "abcdef");
}

TEST(format_flags_sign_space)
{
	SAME("%+d", 5);
	SAME("%+d", -5);
	SAME("%+d", 0);
	SAME("% d", 5);
	SAME("% d", -5);
	SAME("% d", 0);
	SAME_UNCHECKED("%+ d", 5);
	SAME_UNCHECKED("% +d", 5);
	SAME("%+5d", 42);
	SAME("% 5d", 42);
	SAME("%-+5d|", 42);
}

TEST(format_flags_width_zero_left)
{
	SAME("%5d", 42);
	SAME("%-5d|", 42);
	SAME("%05d", 42);
	SAME("%05d", -42);
	SAME_UNCHECKED("%-05d|", -42);
	SAME("%+05d", 42);
	SAME("% 05d", 42);
	SAME("%1d", 12345);
	SAME("%08x", 0xbeefu);
	SAME("%08X", 0xbeefu);
	SAME("%010u", 123u);
	SAME("%0d", 7);
	SAME("%-1d|", 7);
	SAME("%20d|", INT_MIN);
}

TEST(format_flags_alternate)
{
	SAME("%#x", 255u);
	SAME("%#X", 255u);
	SAME("%#o", 8u);
	SAME("%#o", 0u);
	SAME("%#.0o", 0u);
	SAME("%#.2o", 8u);
	SAME("%#.3o", 8u);
	SAME("%#.5o", 8u);
	SAME("%#08x", 255u);
	SAME("%#-8x|", 255u);
	SAME("%#8x|", 255u);
	SAME("%#.3x", 1u);
	SAME("%#.0x", 0u);
	SAME("%#05o", 8u);
}

/* C11 7.21.6.1p6: "For x (or X) conversion, a nonzero result has 0x prefixed". */
TEST(format_alternate_hex_zero_has_no_prefix)
{
	SAME("%#x", 0u);
	SAME("%#X", 0u);
	SAME("%#5x|", 0u);
	SAME("%#lx", 0ul);
}

TEST(format_precision)
{
	SAME("%.3d", 5);
	SAME("%.3d", -5);
	SAME("%.3d", 12345);
	SAME("%8.3d|", 5);
	SAME("%-8.3d|", -5);
	SAME_UNCHECKED("%08.3d|", 5); /* '0' is ignored with a precision */
	SAME("%.5x", 0xabu);
	SAME("%.5o", 8u);
	SAME("%.0d", 1);
	SAME("%.d", 1);
	SAME("%+.3d", 7);
	SAME("%.20d", 1);
	SAME("%.25u", UINT_MAX);
}

TEST(format_zero_with_precision_zero)
{
	SAME("[%.0d]", 0);
	SAME("[%.0i]", 0);
	SAME("[%.0u]", 0u);
	SAME("[%.0x]", 0u);
	SAME("[%.0o]", 0u);
	SAME("[%5.0d]", 0);
	SAME("[%-3.0d]", 0);
	SAME("[%+.0d]", 0);
	SAME("[% .0d]", 0);
	SAME("[%.d]", 0);
}

TEST(format_star_width_precision)
{
	SAME("%*d|", 6, 42);
	SAME("%*d|", -6, 42); /* negative width: '-' flag */
	SAME("%-*d|", 6, 42);
	SAME("%0*d|", 6, -42);
	SAME("%.*d|", 4, 42);
	SAME("%.*d|", -1, 42); /* negative precision: as if omitted */
	SAME_UNCHECKED("%0.*d|", -1, 42);
	SAME_UNCHECKED("%08.*d|", -3, 42);
	SAME("%*.*d|", 8, 4, 42);
	SAME("%*.*s|", -6, 2, "abcdef");
	SAME("%.*s|", 3, "abcdef");
	SAME("%.*s|", -1, "abcdef");
	SAME("%*s|%d", 4, "x", 9);
}

TEST(format_length_modifiers)
{
	int c200 = 200, c300 = 300, s70000 = 70000, sneg = -1;
	SAME("%hhd", c200);
	SAME("%hhu", c300);
	SAME("%hhx", sneg);
	SAME("%hd", s70000);
	SAME("%hu", s70000);
	SAME("%hx", sneg);
	SAME("%ld", -1234567890123L);
	SAME("%lu", 18446744073709551615UL);
	SAME("%lx", 0x123456789abcdefUL);
	SAME("%lld", -9000000000000000000LL);
	SAME("%llu", 12345678901234567890ULL);
	SAME("%llX", 0xfedcba9876543210ULL);
	SAME("%llo", 01777777777777777777777ULL);
	SAME("%zu", (size_t)123456789012345);
	SAME("%zx", (size_t)0xffffffffffffull);
	SAME("%zd", (long)-5);
	SAME("%jd", (intmax_t)INT64_MIN);
	SAME("%ju", (uintmax_t)UINT64_MAX);
	SAME("%td", (ptrdiff_t)-77);
}

TEST(format_64bit_extremes)
{
	SAME("%lld", (long long)INT64_MIN);
	SAME("%lld", (long long)INT64_MAX);
	SAME("%llu", (unsigned long long)UINT64_MAX);
	SAME("%llx", (unsigned long long)UINT64_MAX);
	SAME("%#llo", (unsigned long long)UINT64_MAX);
	SAME("%#llx", (unsigned long long)UINT64_MAX);
	SAME("%30lld|", (long long)INT64_MIN);
	SAME("%-30lld|", (long long)INT64_MIN);
	SAME("%030lld|", (long long)INT64_MIN);
	SAME("%.25lld|", (long long)INT64_MIN);
	SAME("%ld", LONG_MIN);

	char buf[64];
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%lld", (long long)INT64_MIN), 20);
	CHECK_STR(buf, "-9223372036854775808");
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%llu", (unsigned long long)UINT64_MAX), 20);
	CHECK_STR(buf, "18446744073709551615");
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%llo", (unsigned long long)UINT64_MAX), 22);
	CHECK_STR(buf, "1777777777777777777777");
}

/* '+' and ' ' apply to signed conversions only (C11 7.21.6.1p6). */
TEST(format_sign_flags_ignored_for_unsigned)
{
	RAW("5", "%+u", 5u);
	RAW("5", "% u", 5u);
	RAW("ff", "%+x", 0xffu);
	RAW("ff", "% x", 0xffu);
	RAW("17", "%+o", 017u);
}

TEST(format_pointer)
{
	char buf[64];
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%p", (void *)0x1234), 6);
	CHECK_STR(buf, "0x1234");
	fmt_snprintf(buf, sizeof(buf), "%p", (void *)(uintptr_t)0xffff800000001000ull);
	CHECK_STR(buf, "0xffff800000001000");
	fmt_snprintf(buf, sizeof(buf), "%p", (void *)0);
	CHECK_STR(buf, "0x0");
	fmt_snprintf(buf, sizeof(buf), "[%10p]", (void *)0xabc);
	CHECK_STR(buf, "[     0xabc]");
	fmt_snprintf(buf, sizeof(buf), "[%-10p]", (void *)0xabc);
	CHECK_STR(buf, "[0xabc     ]");

	/* The same as libc's %p for a non-NULL pointer. */
	int x;
	char libc[64];
	fmt_snprintf(buf, sizeof(buf), "%p", (void *)&x);
	snprintf(libc, sizeof(libc), "%p", (void *)&x);
	CHECK_STR(buf, libc);
}

TEST(format_null_string)
{
	char buf[64];
	const char *null = NULL;
	CHECK_EQ(fmt_raw(buf, sizeof(buf), "%s", null), 6);
	CHECK_STR(buf, "(null)");
	fmt_raw(buf, sizeof(buf), "[%8s]", null);
	CHECK_STR(buf, "[  (null)]");
	fmt_raw(buf, sizeof(buf), "[%-8s]", null);
	CHECK_STR(buf, "[(null)  ]");
}

TEST(format_unknown_conversion_echoed)
{
	RAW("%q", "%q");
	RAW("a%qb", "a%qb");
	RAW("%5q", "%5q");
	RAW("%-08.3q", "%-08.3q");
	RAW("%lq", "%lq");
	RAW("%llq", "%llq");
	RAW("%hhq", "%hhq");
	RAW("x%ky 7", "x%ky %d", 7);
	RAW("%L", "%L");
	/* '*' still consumes its argument, so the next conversion stays in step. */
	RAW("%*q 9", "%*q %d", 3, 9);
}

TEST(format_trailing_percent)
{
	RAW("%", "%");
	RAW("abc%", "abc%");
	RAW("5%", "%d%", 5);
	RAW("%-", "%-");
	RAW("%05", "%05");
	RAW("%5.", "%5.");
	RAW("%l", "%l");
	RAW("%ll", "%ll");
	RAW("%h", "%h");
	RAW("%hh", "%hh");
	RAW("%z", "%z");
}

TEST(format_char_nul)
{
	char buf[8];
	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "a%cb", 0), 3);
	CHECK(memcmp(buf, "a\0b\0", 4) == 0);
	CHECK_EQ(buf[4], 'Z');
}

TEST(format_truncation)
{
	char buf[16];

	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 5, "hello world"), 11);
	CHECK_STR(buf, "hell");
	CHECK_EQ(buf[5], 'Z');

	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 11, "hello world"), 11);
	CHECK_STR(buf, "hello worl");

	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 12, "hello world"), 11);
	CHECK_STR(buf, "hello world");
	CHECK_EQ(buf[12], 'Z');

	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 1, "hello"), 5);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(buf[1], 'Z');

	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 0, "hello %d", 12345), 11);
	CHECK_EQ(buf[0], 'Z');

	CHECK_EQ(fmt_snprintf(NULL, 0, "%s=%lld", "key", (long long)INT64_MIN), 24);

	/* Padding and numbers are cut like any other output. */
	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 6, "%10d", -42), 10);
	CHECK_STR(buf, "     ");
	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 4, "%#x", 0xabcdu), 6);
	CHECK_STR(buf, "0xa");

	/* An empty output still NUL-terminates. */
	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%s", ""), 0);
	CHECK_EQ(buf[0], '\0');
}

TEST(format_vsnprintf_va_list)
{
	char buf[32];
	CHECK_EQ(fmt_raw(buf, sizeof(buf), "%s-%d-%x", "id", -3, 0x1fu), 8);
	CHECK_STR(buf, "id--3-1f");
}

struct sink_buf {
	char text[128];
	int calls;
};

static void collect(char c, void *ctx)
{
	struct sink_buf *s = ctx;
	if (s->calls < (int)sizeof(s->text) - 1) {
		s->text[s->calls] = c;
		s->text[s->calls + 1] = '\0';
	}
	s->calls++;
}

static int vformat_into(struct sink_buf *s, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = fmt_vformat(collect, s, f, ap);
	va_end(ap);
	return n;
}

TEST(format_vformat_emits_each_char)
{
	struct sink_buf s = {{0}, 0};
	int n = vformat_into(&s, "[%-4s|%04d|%c]", "ab", 7, 'z');
	CHECK_EQ(n, 13);
	CHECK_EQ(s.calls, 13);
	CHECK_STR(s.text, "[ab  |0007|z]");

	struct sink_buf e = {{0}, 0};
	CHECK_EQ(vformat_into(&e, ""), 0);
	CHECK_EQ(e.calls, 0);
}
