/*
 * log.c - formats a message once into a line buffer and fans it out to the
 * sinks.  A line longer than LOG_LINE_MAX is cut and ends in "..." so that a
 * truncated message is never mistaken for a complete one.
 */
#include "log.h"

#include "format.h"

#include <stdarg.h>

/*
 * Lines from several CPUs must not interleave.  The lock is taken with a
 * bounded spin: a CPU that died holding it (an exception inside a sink)
 * slows the others down but cannot silence them.
 */
#define LOG_LOCK_SPIN_LIMIT 10000000
static volatile int g_log_lock;

static void log_lock(void)
{
	for (long i = 0; i < LOG_LOCK_SPIN_LIMIT; i++)
		if (!__atomic_exchange_n(&g_log_lock, 1, __ATOMIC_ACQUIRE))
			return;
}

static void log_unlock(void)
{
	__atomic_store_n(&g_log_lock, 0, __ATOMIC_RELEASE);
}

struct sink {
	log_sink_fn fn;
	void *ctx;
};

static struct {
	const char *tag;
	enum log_level level;
	struct sink sinks[LOG_MAX_SINKS];
} g_log = { "hv", LOG_INFO, { { 0, 0 } } };

void log_init(const char *tag, enum log_level level)
{
	g_log.tag = tag;
	g_log.level = level;
	for (int i = 0; i < LOG_MAX_SINKS; i++)
		g_log.sinks[i].fn = 0;
}

void log_set_level(enum log_level level)
{
	g_log.level = level;
}

enum log_level log_get_level(void)
{
	return g_log.level;
}

int log_add_sink(log_sink_fn sink, void *ctx)
{
	for (int i = 0; i < LOG_MAX_SINKS; i++) {
		if (!g_log.sinks[i].fn) {
			g_log.sinks[i].fn = sink;
			g_log.sinks[i].ctx = ctx;
			return 0;
		}
	}
	return -1;
}

void log_remove_sink(log_sink_fn sink)
{
	for (int i = 0; i < LOG_MAX_SINKS; i++)
		if (g_log.sinks[i].fn == sink)
			g_log.sinks[i].fn = 0;
}

const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_ERROR:
		return "error";
	case LOG_WARN:
		return "warn";
	case LOG_INFO:
		return "info";
	case LOG_DEBUG:
		return "debug";
	}
	return "?";
}

static void emit_line(const char *level_name, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 1];
	int n = level_name ? fmt_snprintf(line, sizeof(line), "[%s] %s: ", g_log.tag, level_name)
			   : fmt_snprintf(line, sizeof(line), "[%s] ", g_log.tag);
	if (n < 0)
		n = 0;
	/* A prefix that fills the buffer leaves no room: the line is cut below. */
	int m = n < (int)sizeof(line) - 1 ? fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap)
					  : 1;

	size_t len = (size_t)n + (size_t)(m < 0 ? 0 : m);
	if (len > LOG_LINE_MAX) {
		len = LOG_LINE_MAX;
		line[len - 3] = line[len - 2] = line[len - 1] = '.';
		line[len] = '\0';
	}
	log_lock();
	for (int i = 0; i < LOG_MAX_SINKS; i++)
		if (g_log.sinks[i].fn)
			g_log.sinks[i].fn(line, len, g_log.sinks[i].ctx);
	log_unlock();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > g_log.level)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit_line(log_level_name(level), fmt, ap);
	va_end(ap);
}

void log_always(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit_line(0, fmt, ap);
	va_end(ap);
}
