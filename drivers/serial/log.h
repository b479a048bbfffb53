/*
 * log.h - leveled console log for the loader and the core.
 *
 * Every message becomes one line "[tag] level: text" and is handed to each
 * registered sink (the UART, and in the loader the UEFI text consoles).
 * Messages above the configured level are dropped before formatting.
 */
#ifndef MICROHV_LOG_H
#define MICROHV_LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

/* Receives one complete line, without its line terminator. */
typedef void (*log_sink_fn)(const char *line, size_t len, void *ctx);

#define LOG_MAX_SINKS 3
#define LOG_LINE_MAX 240

void log_init(const char *tag, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Returns 0, or -1 when all LOG_MAX_SINKS slots are taken. */
int log_add_sink(log_sink_fn sink, void *ctx);
void log_remove_sink(log_sink_fn sink);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line "[tag] text" that is shown at every log level (banners). */
void log_always(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
