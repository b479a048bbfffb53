/*
 * test_log.c - drivers/serial/log.c: the "[tag] level: text" line format,
 * level filtering, log_always, cutting long lines to LOG_LINE_MAX with a
 * trailing "...", and the sink table (add, limit, remove).
 */
#include "test.h"

#include "drivers/serial/log.h"

#include <string.h>

#define CAP_LINES 8

/* A sink that records every line it is handed. */
struct capture {
	int nlines;
	char line[CAP_LINES][LOG_LINE_MAX + 16];
	size_t len[CAP_LINES];
	int len_matches; /* lines whose len equalled strlen(line) */
};

static void capture_sink(const char *line, size_t len, void *ctx)
{
	struct capture *c = ctx;
	if (strlen(line) == len)
		c->len_matches++;
	if (c->nlines < CAP_LINES) {
		size_t n = len < sizeof(c->line[0]) - 1 ? len : sizeof(c->line[0]) - 1;
		memcpy(c->line[c->nlines], line, n);
		c->line[c->nlines][n] = '\0';
		c->len[c->nlines] = len;
	}
	c->nlines++;
}

/* A second sink function, so two different sinks can be told apart. */
static void other_sink(const char *line, size_t len, void *ctx)
{
	capture_sink(line, len, ctx);
}

static void third_sink(const char *line, size_t len, void *ctx)
{
	capture_sink(line, len, ctx);
}

static void fourth_sink(const char *line, size_t len, void *ctx)
{
	capture_sink(line, len, ctx);
}

TEST(log_line_format)
{
	static struct capture c;
	memset(&c, 0, sizeof(c));
	log_init("t", LOG_DEBUG);
	CHECK_EQ(log_add_sink(capture_sink, &c), 0);

	log_error("disk %d failed", 3);
	log_warn("low memory: %u KiB", 512u);
	log_info("hello %s", "world");
	log_debug("x=%#x", 0x2bu);

	CHECK_EQ(c.nlines, 4);
	CHECK_STR(c.line[0], "[t] error: disk 3 failed");
	CHECK_STR(c.line[1], "[t] warn: low memory: 512 KiB");
	CHECK_STR(c.line[2], "[t] info: hello world");
	CHECK_STR(c.line[3], "[t] debug: x=0x2b");
	CHECK_EQ(c.len[0], strlen("[t] error: disk 3 failed"));
	CHECK_EQ(c.len[3], strlen("[t] debug: x=0x2b"));
	CHECK_EQ(c.len_matches, 4);
}

TEST(log_tag_from_init)
{
	static struct capture c;
	memset(&c, 0, sizeof(c));
	log_init("boot", LOG_INFO);
	log_add_sink(capture_sink, &c);
	log_info("ready");
	log_init("core", LOG_INFO);
	log_add_sink(capture_sink, &c);
	log_info("ready");
	CHECK_EQ(c.nlines, 2);
	CHECK_STR(c.line[0], "[boot] info: ready");
	CHECK_STR(c.line[1], "[core] info: ready");
}

TEST(log_level_filter)
{
	static struct capture c;
	memset(&c, 0, sizeof(c));
	log_init("t", LOG_WARN);
	log_add_sink(capture_sink, &c);
	CHECK_EQ(log_get_level(), LOG_WARN);

	log_debug("dropped debug");
	log_info("dropped info");
	log_warn("kept warn");
	log_error("kept error");
	CHECK_EQ(c.nlines, 2);
	CHECK_STR(c.line[0], "[t] warn: kept warn");
	CHECK_STR(c.line[1], "[t] error: kept error");

	log_set_level(LOG_ERROR);
	CHECK_EQ(log_get_level(), LOG_ERROR);
	log_warn("dropped warn");
	log_error("kept error 2");
	CHECK_EQ(c.nlines, 3);
	CHECK_STR(c.line[2], "[t] error: kept error 2");

	log_set_level(LOG_DEBUG);
	log_debug("kept debug");
	CHECK_EQ(c.nlines, 4);
	CHECK_STR(c.line[3], "[t] debug: kept debug");
}

TEST(log_always_has_no_level_word)
{
	static struct capture c;
	memset(&c, 0, sizeof(c));
	log_init("hv", LOG_ERROR);
	log_add_sink(capture_sink, &c);
	log_always("microhv %s (%s)", "0.1.0", "abc123");
	log_info("dropped");
	CHECK_EQ(c.nlines, 1);
	CHECK_STR(c.line[0], "[hv] microhv 0.1.0 (abc123)");
	CHECK_EQ(c.len[0], strlen("[hv] microhv 0.1.0 (abc123)"));
}

TEST(log_level_names)
{
	CHECK_STR(log_level_name(LOG_ERROR), "error");
	CHECK_STR(log_level_name(LOG_WARN), "warn");
	CHECK_STR(log_level_name(LOG_INFO), "info");
	CHECK_STR(log_level_name(LOG_DEBUG), "debug");
	CHECK_STR(log_level_name((enum log_level)4), "?");
}

static void fill(char *s, size_t n, char c)
{
	memset(s, c, n);
	s[n] = '\0';
}

TEST(log_line_exactly_max_not_cut)
{
	static struct capture c;
	static char msg[LOG_LINE_MAX + 1];
	static char expect[LOG_LINE_MAX + 1];
	memset(&c, 0, sizeof(c));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, &c);

	/* "[t] info: " is 10 characters: 230 more make exactly LOG_LINE_MAX. */
	fill(msg, LOG_LINE_MAX - 10, 'a');
	log_info("%s", msg);
	strcpy(expect, "[t] info: ");
	strcat(expect, msg);
	CHECK_EQ(c.nlines, 1);
	CHECK_EQ(c.len[0], LOG_LINE_MAX);
	CHECK_STR(c.line[0], expect);
	CHECK_EQ(c.line[0][LOG_LINE_MAX - 1], 'a');
}

TEST(log_long_line_cut_with_dots)
{
	static struct capture c;
	static char msg[400];
	static char expect[LOG_LINE_MAX + 1];
	memset(&c, 0, sizeof(c));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, &c);

	/* One character over the limit. */
	fill(msg, LOG_LINE_MAX - 9, 'b');
	log_info("%s", msg);
	strcpy(expect, "[t] info: ");
	memset(expect + 10, 'b', LOG_LINE_MAX - 13);
	strcpy(expect + LOG_LINE_MAX - 3, "...");
	CHECK_EQ(c.nlines, 1);
	CHECK_EQ(c.len[0], LOG_LINE_MAX);
	CHECK_STR(c.line[0], expect);

	/* Far over the limit, through a conversion. */
	fill(msg, 350, 'c');
	log_always("%s|%d", msg, 12345);
	strcpy(expect, "[t] ");
	memset(expect + 4, 'c', LOG_LINE_MAX - 7);
	strcpy(expect + LOG_LINE_MAX - 3, "...");
	CHECK_EQ(c.nlines, 2);
	CHECK_EQ(c.len[1], LOG_LINE_MAX);
	CHECK_STR(c.line[1], expect);
	CHECK_EQ(c.len_matches, 2);
}

/*
 * log.c promises that a cut line always ends in "...".  With a tag so long
 * that the "[tag] level: " prefix alone overflows the line buffer, the
 * message must still be cut, not replace the prefix.
 */
TEST(log_overlong_tag_still_cut_with_dots)
{
	static struct capture c;
	static char tag[260];
	static char expect[LOG_LINE_MAX + 1];
	memset(&c, 0, sizeof(c));
	fill(tag, 250, 'T');
	log_init(tag, LOG_INFO);
	log_add_sink(capture_sink, &c);
	log_info("hi");

	expect[0] = '[';
	memset(expect + 1, 'T', LOG_LINE_MAX - 4);
	strcpy(expect + LOG_LINE_MAX - 3, "...");
	CHECK_EQ(c.nlines, 1);
	CHECK_EQ(c.len[0], LOG_LINE_MAX);
	CHECK_STR(c.line[0], expect);
	log_init("t", LOG_INFO);
}

TEST(log_sinks_all_receive)
{
	static struct capture a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	log_init("t", LOG_INFO);
	CHECK_EQ(log_add_sink(capture_sink, &a), 0);
	CHECK_EQ(log_add_sink(other_sink, &b), 0);
	log_warn("both");
	CHECK_EQ(a.nlines, 1);
	CHECK_EQ(b.nlines, 1);
	CHECK_STR(a.line[0], "[t] warn: both");
	CHECK_STR(b.line[0], "[t] warn: both");
}

TEST(log_sink_limit)
{
	static struct capture a, b, c, d;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	log_init("t", LOG_INFO);
	CHECK_EQ(LOG_MAX_SINKS, 3);
	CHECK_EQ(log_add_sink(capture_sink, &a), 0);
	CHECK_EQ(log_add_sink(other_sink, &b), 0);
	CHECK_EQ(log_add_sink(third_sink, &c), 0);
	CHECK_EQ(log_add_sink(fourth_sink, &d), -1);
	log_info("x");
	CHECK_EQ(a.nlines, 1);
	CHECK_EQ(b.nlines, 1);
	CHECK_EQ(c.nlines, 1);
	CHECK_EQ(d.nlines, 0);

	/* Removing one frees its slot for another. */
	log_remove_sink(other_sink);
	CHECK_EQ(log_add_sink(fourth_sink, &d), 0);
	CHECK_EQ(log_add_sink(other_sink, &b), -1);
	log_info("y");
	CHECK_EQ(a.nlines, 2);
	CHECK_EQ(b.nlines, 1);
	CHECK_EQ(c.nlines, 2);
	CHECK_EQ(d.nlines, 1);
	CHECK_STR(d.line[0], "[t] info: y");
}

TEST(log_remove_sink_stops_delivery)
{
	static struct capture a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, &a);
	log_add_sink(other_sink, &b);
	log_info("one");
	log_remove_sink(capture_sink);
	log_info("two");
	CHECK_EQ(a.nlines, 1);
	CHECK_EQ(b.nlines, 2);
	CHECK_STR(b.line[1], "[t] info: two");

	/* Removing a sink that is not registered changes nothing. */
	log_remove_sink(third_sink);
	log_info("three");
	CHECK_EQ(b.nlines, 3);
	CHECK_EQ(a.nlines, 1);
}

TEST(log_init_clears_sinks)
{
	static struct capture a;
	memset(&a, 0, sizeof(a));
	log_init("t", LOG_INFO);
	log_add_sink(capture_sink, &a);
	log_init("t", LOG_INFO);
	log_error("nobody listens");
	CHECK_EQ(a.nlines, 0);
	/* All LOG_MAX_SINKS slots are free again. */
	CHECK_EQ(log_add_sink(capture_sink, &a), 0);
	CHECK_EQ(log_add_sink(other_sink, &a), 0);
	CHECK_EQ(log_add_sink(third_sink, &a), 0);
	log_init("t", LOG_INFO);
}
