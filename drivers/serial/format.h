/*
 * format.h - a small printf-style formatter of our own.
 *
 * Used by the loader and the core alike: it needs no libc, only <stdarg.h>.
 * Conversions: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ' '#',
 * a field width and a precision (digits or '*'), and the length modifiers
 * hh h l ll z j t.  Anything else is copied out literally so that a bad
 * format string is visible on the console instead of silently eaten.
 */
#ifndef MICROHV_FORMAT_H
#define MICROHV_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives each output character in turn. */
typedef void (*fmt_emit_fn)(char c, void *ctx);

/* Formats into emit; returns the number of characters produced. */
int fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap);

/*
 * snprintf semantics: writes at most size-1 characters plus a NUL (when
 * size > 0) and returns the length the full output would have had.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
