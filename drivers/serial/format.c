/*
 * format.c - the printf-style formatter shared by the loader and the core.
 *
 * It is deliberately small and allocation-free: numbers are converted into a
 * 64-byte stack buffer (enough for a 64-bit value in octal plus prefix), and
 * every character goes out through the caller's emit function, so the same
 * code serves the UART, the UEFI console mirror and fixed-size buffers.
 */
#include "format.h"

#include <stdbool.h>
#include <stdint.h>

enum {
	FLAG_LEFT = 1 << 0,  /* '-' */
	FLAG_ZERO = 1 << 1,  /* '0' */
	FLAG_PLUS = 1 << 2,  /* '+' */
	FLAG_SPACE = 1 << 3, /* ' ' */
	FLAG_ALT = 1 << 4,   /* '#' */
};

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

struct out {
	fmt_emit_fn emit;
	void *ctx;
	int count;
};

static void put(struct out *o, char c)
{
	o->emit(c, o->ctx);
	o->count++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/*
 * Emits one converted field: sign/prefix, zero padding to the precision,
 * the digits, with space padding to the width on the requested side.
 */
static void put_field(struct out *o, const char *prefix, const char *digits, int ndigits,
		      int precision, int width, unsigned flags)
{
	int plen = 0;
	while (prefix[plen])
		plen++;
	int zeros = precision > ndigits ? precision - ndigits : 0;
	int len = plen + zeros + ndigits;
	int fill = width > len ? width - len : 0;

	/* C11 7.21.6.1: '0' is ignored with '-' or with an explicit precision. */
	bool zero_fill = (flags & FLAG_ZERO) && !(flags & FLAG_LEFT) && precision < 0;
	if (zero_fill) {
		zeros += fill;
		fill = 0;
	}
	if (!(flags & FLAG_LEFT))
		pad(o, ' ', fill);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	for (int i = 0; i < ndigits; i++)
		put(o, digits[i]);
	if (flags & FLAG_LEFT)
		pad(o, ' ', fill);
}

static void put_number(struct out *o, uint64_t v, bool negative, bool is_signed, unsigned base,
		       bool upper, int precision, int width, unsigned flags, bool is_pointer)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[64];
	int n = 0;
	bool nonzero = v != 0;

	/* A zero value with precision 0 prints no digits (C11 7.21.6.1). */
	if (!(v == 0 && precision == 0)) {
		do {
			tmp[n++] = set[v % base];
			v /= base;
		} while (v);
	}
	char digits[64];
	for (int i = 0; i < n; i++)
		digits[i] = tmp[n - 1 - i];

	char prefix[4] = { 0 };
	int p = 0;
	/* '+' and ' ' apply to signed conversions only (C11 7.21.6.1). */
	if (negative)
		prefix[p++] = '-';
	else if (is_signed && (flags & FLAG_PLUS))
		prefix[p++] = '+';
	else if (is_signed && (flags & FLAG_SPACE))
		prefix[p++] = ' ';
	if ((flags & FLAG_ALT) || is_pointer) {
		/* "%#x" of zero has no 0x; %p always has it. */
		if (base == 16 && (nonzero || is_pointer)) {
			prefix[p++] = '0';
			prefix[p++] = upper ? 'X' : 'x';
		} else if (base == 8 && (n == 0 || digits[0] != '0') && precision <= n) {
			prefix[p++] = '0';
		}
	}
	put_field(o, prefix, digits, n, precision, width, flags);
}

static const char *parse_int(const char *f, int *out)
{
	int v = 0;
	while (*f >= '0' && *f <= '9')
		v = v * 10 + (*f++ - '0');
	*out = v;
	return f;
}

static uint64_t fetch_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:
		return va_arg(*ap, size_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t fetch_signed(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE:
		return (int64_t)va_arg(*ap, size_t);
	default:
		return va_arg(*ap, int);
	}
}

int fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap_in)
{
	struct out o = { emit, ctx, 0 };
	va_list ap;
	va_copy(ap, ap_in);

	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		const char *start = f++;
		unsigned flags = 0;
		for (;; f++) {
			if (*f == '-')
				flags |= FLAG_LEFT;
			else if (*f == '0')
				flags |= FLAG_ZERO;
			else if (*f == '+')
				flags |= FLAG_PLUS;
			else if (*f == ' ')
				flags |= FLAG_SPACE;
			else if (*f == '#')
				flags |= FLAG_ALT;
			else
				break;
		}
		int width = 0;
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= FLAG_LEFT;
				width = -width;
			}
			f++;
		} else {
			f = parse_int(f, &width);
		}
		int precision = -1;
		if (*f == '.') {
			f++;
			if (*f == '*') {
				precision = va_arg(ap, int);
				f++;
			} else {
				f = parse_int(f, &precision);
			}
		}
		enum length len = LEN_INT;
		if (*f == 'h') {
			len = LEN_SHORT;
			if (*++f == 'h') {
				len = LEN_CHAR;
				f++;
			}
		} else if (*f == 'l') {
			len = LEN_LONG;
			if (*++f == 'l') {
				len = LEN_LLONG;
				f++;
			}
		} else if (*f == 'z' || *f == 'j' || *f == 't') {
			len = *f == 'z' ? LEN_SIZE : LEN_LLONG;
			f++;
		}

		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&ap, len);
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			put_number(&o, mag, v < 0, true, 10, false, precision, width, flags, false);
			break;
		}
		case 'u':
			put_number(&o, fetch_unsigned(&ap, len), false, false, 10, false, precision, width,
				   flags, false);
			break;
		case 'x':
		case 'X':
			put_number(&o, fetch_unsigned(&ap, len), false, false, 16, *f == 'X', precision,
				   width, flags, false);
			break;
		case 'o':
			put_number(&o, fetch_unsigned(&ap, len), false, false, 8, false, precision, width,
				   flags, false);
			break;
		case 'p':
			put_number(&o, (uintptr_t)va_arg(ap, void *), false, false, 16, false, precision,
				   width, flags, true);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_field(&o, "", &c, 1, -1, width, flags & FLAG_LEFT);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while (s[n] && (precision < 0 || n < precision))
				n++;
			put_field(&o, "", s, n, -1, width, flags & FLAG_LEFT);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			/* Unknown conversion: show it as written. */
			for (const char *c = start; c <= f && *c; c++)
				put(&o, *c);
			if (!*f)
				f--;
			break;
		}
	}
	va_end(ap);
	return o.count;
}

struct buf_ctx {
	char *buf;
	size_t size;
	size_t pos;
};

static void buf_emit(char c, void *ctx)
{
	struct buf_ctx *b = ctx;
	if (b->size && b->pos < b->size - 1)
		b->buf[b->pos] = c;
	b->pos++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = { buf, size, 0 };
	int n = fmt_vformat(buf_emit, &b, fmt, ap);
	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
