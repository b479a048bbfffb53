/*
 * test_config.c - boot/config.c: config_defaults and config_parse on hv.cfg
 * text.  Every key with good and bad values, the line syntax (comments,
 * blank lines, CRLF, whitespace, missing '=' or key or value, overlong
 * lines), duplicates, byte-order marks, and the warnings: their line
 * number, the quoted text (cut to 60 characters) and the reason.
 */
#include "test.h"

#include "boot/config.h"

#include <string.h>

#define MAX_WARN 8

struct warnings {
	int n;
	unsigned line[MAX_WARN];
	char text[MAX_WARN][128];
	char why[MAX_WARN][128];
};

static void record(void *ctx, unsigned line, const char *text, const char *why)
{
	struct warnings *w = ctx;
	if (w->n < MAX_WARN) {
		w->line[w->n] = line;
		strncpy(w->text[w->n], text, sizeof(w->text[0]) - 1);
		strncpy(w->why[w->n], why, sizeof(w->why[0]) - 1);
	}
	w->n++;
}

/* Parses a NUL-terminated text over the defaults. */
static unsigned parse(struct hv_config *cfg, struct warnings *w, const char *text)
{
	memset(w, 0, sizeof(*w));
	config_defaults(cfg);
	return config_parse(cfg, text, strlen(text), record, w);
}

static const char *const SERIAL_WHY = "expected com1..com4, none, or an I/O port such as 0x3f8";
static const char *const BAUD_WHY =
    "expected a baud rate that divides 115200 (e.g. 115200, 57600, 38400, 9600)";
static const char *const LEVEL_WHY = "expected error, warn, info or debug";
static const char *const BOOL_WHY = "expected on or off";

TEST(config_defaults_values)
{
	struct hv_config cfg;
	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	CHECK_EQ(cfg.serial_port, 0x3f8);
	CHECK_EQ(cfg.baud, 115200);
	CHECK_EQ(cfg.loglevel, 2);
	CHECK_EQ(cfg.nested, 1);
	CHECK_EQ(cfg.shadow_vmcs, 1);
	CHECK_EQ(cfg.gdb_wait, 0);
	CHECK_EQ(cfg.console_port, 0);
	CHECK_EQ(cfg.reset_on_triple_fault, 0);
	CHECK_STR(cfg.next, "\\EFI\\microhv\\next.efi");
	/* The rest of next[] is zeroed, not left as it was. */
	CHECK_EQ(cfg.next[sizeof(cfg.next) - 1], 0);
	CHECK_EQ(cfg.next[strlen(cfg.next) + 1], 0);
}

TEST(config_empty_and_comment_only)
{
	struct hv_config cfg, def;
	struct warnings w;
	config_defaults(&def);
	CHECK_EQ(parse(&cfg, &w, ""), 0);
	CHECK_EQ(w.n, 0);
	CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);
	CHECK_EQ(parse(&cfg, &w, "# only a comment\n\n   \n\t\n#serial = none\n"), 0);
	CHECK_EQ(w.n, 0);
	CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);
}

TEST(config_shipped_file_syntax)
{
	struct hv_config cfg;
	struct warnings w;
	unsigned bad = parse(&cfg, &w,
			     "# hv.cfg\n"
			     "\n"
			     "serial = com2          # comment\n"
			     "baud = 57600\n"
			     "loglevel = debug        # error, warn, info or debug\n"
			     "nested = off\n"
			     "shadow_vmcs = off\n"
			     "next = \\EFI\\BOOT\\grub.efi   # the next stage\n"
			     "gdb_wait = yes\n");
	CHECK_EQ(bad, 0);
	CHECK_EQ(w.n, 0);
	CHECK_EQ(cfg.serial_port, 0x2f8);
	CHECK_EQ(cfg.baud, 57600);
	CHECK_EQ(cfg.loglevel, 3);
	CHECK_EQ(cfg.nested, 0);
	CHECK_EQ(cfg.shadow_vmcs, 0);
	CHECK_EQ(cfg.gdb_wait, 1);
	CHECK_STR(cfg.next, "\\EFI\\BOOT\\grub.efi");
}

TEST(config_serial_names)
{
	static const struct {
		const char *text;
		unsigned port;
	} ok[] = {
	    {"serial=com1", 0x3f8}, {"serial=com2", 0x2f8},    {"serial=com3", 0x3e8},
	    {"serial=com4", 0x2e8}, {"serial=none", 0},	       {"serial=COM2", 0x2f8},
	    {"serial=None", 0},	    {"serial=0x2f8", 0x2f8},   {"serial=0X2F8", 0x2f8},
	    {"serial=760", 0x2f8},  {"serial=0xfff8", 0xfff8},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, ok[i].text), 0);
		CHECK_EQ(w.n, 0);
		CHECK_EQ(cfg.serial_port, ok[i].port);
	}
}

TEST(config_serial_bad_values)
{
	static const char *const bad[] = {
	    "serial=0",		 "serial=0x10000", "serial=0xfff9", "serial=com9",
	    "serial=com0",	 "serial=0x",	   "serial=0x2g8",  "serial=-1",
	    "serial=4294967296", "serial=com 1",   "serial=3f8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, bad[i]), 1);
		CHECK_EQ(w.n, 1);
		CHECK_EQ(w.line[0], 1);
		CHECK_STR(w.text[0], bad[i]);
		CHECK_STR(w.why[0], SERIAL_WHY);
		CHECK_EQ(cfg.serial_port, 0x3f8);
	}
}

TEST(config_baud)
{
	static const struct {
		const char *text;
		unsigned baud;
	} ok[] = {{"baud=115200", 115200}, {"baud=9600", 9600}, {"baud=57600", 57600},
		  {"baud=38400", 38400},   {"baud=2", 2},	{"baud=0x2580", 9600}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, ok[i].text), 0);
		CHECK_EQ(w.n, 0);
		CHECK_EQ(cfg.baud, ok[i].baud);
	}
	static const char *const bad[] = {"baud=0",    "baud=1234",    "baud=230400",
					  "baud=fast", "baud=9600bps", "baud=99999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, bad[i]), 1);
		CHECK_EQ(w.n, 1);
		CHECK_STR(w.why[0], BAUD_WHY);
		CHECK_EQ(cfg.baud, 115200);
	}
}

/*
 * uart16550.h: a valid baud gives a divisor 115200/baud in 1..65535, the
 * 16-bit divisor latch.  Baud 1 needs divisor 115200, which does not fit
 * (uart_init would program 115200 & 0xffff = 49664), so it must be refused.
 */
TEST(config_baud_divisor_must_fit_16_bits)
{
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w, "baud=1"), 1);
	CHECK_EQ(w.n, 1);
	CHECK_STR(w.why[0], BAUD_WHY);
	CHECK_EQ(cfg.baud, 115200);
}

TEST(config_loglevel)
{
	static const struct {
		const char *text;
		unsigned level;
	} ok[] = {{"loglevel=error", 0},  {"loglevel=warn", 1},	 {"loglevel=info", 2},
		  {"loglevel=debug", 3},  {"loglevel=DEBUG", 3}, {"loglevel=Warn", 1},
		  {"LogLevel = eRRoR", 0}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, ok[i].text), 0);
		CHECK_EQ(w.n, 0);
		CHECK_EQ(cfg.loglevel, ok[i].level);
	}
	static const char *const bad[] = {"loglevel=warning", "loglevel=2", "loglevel=verbose",
					  "loglevel=info debug", "loglevel=inf"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, bad[i]), 1);
		CHECK_STR(w.why[0], LEVEL_WHY);
		CHECK_EQ(cfg.loglevel, 2);
	}
}

TEST(config_next_path)
{
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w, "next = /EFI/Linux/vmlinuz.efi"), 0);
	CHECK_STR(cfg.next, "\\EFI\\Linux\\vmlinuz.efi");
	CHECK_EQ(parse(&cfg, &w, "next = \\a b\\c.efi  "), 0);
	CHECK_STR(cfg.next, "\\a b\\c.efi");
	CHECK_EQ(parse(&cfg, &w, "next=\\"), 0);
	CHECK_STR(cfg.next, "\\");
	/* A shorter path than the default leaves no trace of the default. */
	CHECK_EQ(parse(&cfg, &w, "next=/x.efi"), 0);
	CHECK_STR(cfg.next, "\\x.efi");
	CHECK_EQ(w.n, 0);
}

TEST(config_next_bad)
{
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w, "next = EFI\\x.efi"), 1);
	CHECK_STR(w.why[0], "path must start with \\ (absolute on the boot volume)");
	CHECK_STR(cfg.next, "\\EFI\\microhv\\next.efi");

	CHECK_EQ(parse(&cfg, &w, "next = \\EFI\\caf\xc3\xa9.efi"), 1);
	CHECK_STR(w.why[0], "path must be printable ASCII");
	CHECK_STR(w.text[0], "next = \\EFI\\caf??.efi");
	CHECK_STR(cfg.next, "\\EFI\\microhv\\next.efi");

	CHECK_EQ(parse(&cfg, &w, "next = \\a\tb"), 1);
	CHECK_STR(w.why[0], "path must be printable ASCII");
	CHECK_STR(w.text[0], "next = \\a?b");
}

TEST(config_next_length_limits)
{
	static char text[400];
	struct hv_config cfg;
	struct warnings w;

	/* "next=" plus 250 characters: the longest line allowed (255). */
	strcpy(text, "next=\\");
	memset(text + 6, 'p', 249);
	text[255] = '\0';
	CHECK_EQ(parse(&cfg, &w, text), 0);
	CHECK_EQ(strlen(cfg.next), 250);
	CHECK_STR(cfg.next, text + 5);

	/* A 256-character path is refused (its line is too long) and the default stays. */
	strcpy(text, "next=\\");
	memset(text + 6, 'p', 255);
	text[261] = '\0';
	CHECK_EQ(parse(&cfg, &w, text), 1);
	CHECK_EQ(w.n, 1);
	CHECK_STR(w.why[0], "line longer than 255 characters");
	CHECK_STR(cfg.next, "\\EFI\\microhv\\next.efi");
}

TEST(config_bool_keys)
{
	static const struct {
		const char *word;
		unsigned value;
	} words[] = {{"on", 1},	   {"off", 0}, {"yes", 1}, {"no", 0}, {"true", 1},
		     {"false", 0}, {"1", 1},   {"0", 0},   {"ON", 1}, {"False", 0}};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char text[64];
		struct hv_config cfg;
		struct warnings w;
		strcpy(text, "nested=");
		strcat(text, words[i].word);
		strcat(text, "\ngdb_wait = ");
		strcat(text, words[i].word);
		CHECK_EQ(parse(&cfg, &w, text), 0);
		CHECK_EQ(cfg.nested, words[i].value);
		CHECK_EQ(cfg.gdb_wait, words[i].value);
	}
	static const char *const bad[] = {"nested=2", "nested=enabled", "nested=o", "nested=onn"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hv_config cfg;
		struct warnings w;
		CHECK_EQ(parse(&cfg, &w, bad[i]), 1);
		CHECK_STR(w.why[0], BOOL_WHY);
		CHECK_EQ(cfg.nested, 1);
	}
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w, "gdb_wait=maybe"), 1);
	CHECK_STR(w.why[0], BOOL_WHY);
	CHECK_EQ(cfg.gdb_wait, 0);
}

TEST(config_whitespace_crlf_case)
{
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w,
		       "  \t serial\t =\t com2  \t\r\n"
		       "BAUD=9600\r\n"
		       "\r\n"
		       "Nested =Off\r\n"
		       "loglevel= warn # trailing comment\r\n"),
		 0);
	CHECK_EQ(w.n, 0);
	CHECK_EQ(cfg.serial_port, 0x2f8);
	CHECK_EQ(cfg.baud, 9600);
	CHECK_EQ(cfg.nested, 0);
	CHECK_EQ(cfg.loglevel, 1);

	/* No final newline; a '#' right after the value. */
	CHECK_EQ(parse(&cfg, &w, "serial=com3#x\nbaud=38400"), 0);
	CHECK_EQ(cfg.serial_port, 0x3e8);
	CHECK_EQ(cfg.baud, 38400);
}

TEST(config_syntax_errors)
{
	struct hv_config cfg;
	struct warnings w;
	unsigned bad = parse(&cfg, &w,
			     "serial com2\n"   /* 1: no '=' */
			     "= com2\n"	       /* 2: no key */
			     "serial =\n"      /* 3: no value */
			     "colour = blue\n" /* 4: unknown key */
			     "baud = 9600\n"   /* 5: fine */
			     "serial = # x\n"  /* 6: value only a comment */
			     "   =   \n"       /* 7: neither */
			     "foo =\n");       /* 8: unknown key even without value */
	CHECK_EQ(bad, 7);
	CHECK_EQ(w.n, 7);
	CHECK_EQ(w.line[0], 1);
	CHECK_STR(w.text[0], "serial com2");
	CHECK_STR(w.why[0], "expected key=value");
	CHECK_EQ(w.line[1], 2);
	CHECK_STR(w.text[1], "= com2");
	CHECK_STR(w.why[1], "missing key before '='");
	CHECK_EQ(w.line[2], 3);
	CHECK_STR(w.why[2], "missing value after '='");
	CHECK_EQ(w.line[3], 4);
	CHECK_STR(w.text[3], "colour = blue");
	CHECK_STR(w.why[3], "unknown key");
	CHECK_EQ(w.line[4], 6);
	CHECK_STR(w.text[4], "serial = # x");
	CHECK_STR(w.why[4], "missing value after '='");
	CHECK_EQ(w.line[5], 7);
	CHECK_STR(w.why[5], "missing key before '='");
	CHECK_EQ(w.line[6], 8);
	CHECK_STR(w.why[6], "unknown key");
	CHECK_EQ(cfg.serial_port, 0x3f8);
	CHECK_EQ(cfg.baud, 9600);
}

TEST(config_key_must_match_whole)
{
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w, "ser = com2\nserials = com2\nlog level = info\n"), 3);
	CHECK_STR(w.why[0], "unknown key");
	CHECK_STR(w.why[1], "unknown key");
	CHECK_STR(w.why[2], "unknown key");
	CHECK_EQ(cfg.serial_port, 0x3f8);
}

TEST(config_nul_byte)
{
	static const char text[] = "serial = com2\0junk\nbaud = 9600\n# \0 in a comment\n";
	struct hv_config cfg;
	struct warnings w;
	memset(&w, 0, sizeof(w));
	config_defaults(&cfg);
	CHECK_EQ(config_parse(&cfg, text, sizeof(text) - 1, record, &w), 1);
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.line[0], 1);
	CHECK_STR(w.why[0], "line contains a NUL byte");
	CHECK_STR(w.text[0], "serial = com2?junk");
	CHECK_EQ(cfg.serial_port, 0x3f8);
	CHECK_EQ(cfg.baud, 9600);
}

TEST(config_overlong_line)
{
	static char text[800];
	struct hv_config cfg;
	struct warnings w;

	/* Line 1 is 255 characters (allowed), line 3 is 256 (refused). */
	char *p = text;
	*p++ = '#';
	memset(p, 'a', 254);
	p += 254;
	strcpy(p, "\r\nbaud=9600\n#");
	p += strlen(p);
	memset(p, 'b', 255);
	p += 255;
	strcpy(p, "\nserial=com4\n");
	CHECK_EQ(parse(&cfg, &w, text), 1);
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.line[0], 3);
	CHECK_STR(w.why[0], "line longer than 255 characters");
	CHECK_EQ(strlen(w.text[0]), 60);
	CHECK_EQ(w.text[0][0], '#');
	CHECK_EQ(w.text[0][59], 'b');
	CHECK_EQ(cfg.baud, 9600);
	CHECK_EQ(cfg.serial_port, 0x2e8);

	/* An overlong line of a real key is not applied. */
	p = text;
	strcpy(p, "serial = com2   ");
	p += strlen(p);
	memset(p, ' ', 250);
	strcpy(p + 250, "\n");
	CHECK_EQ(parse(&cfg, &w, text), 1);
	CHECK_EQ(w.line[0], 1);
	CHECK_EQ(cfg.serial_port, 0x3f8);
}

TEST(config_warning_text_cut_to_60)
{
	static char text[200];
	struct hv_config cfg;
	struct warnings w;
	strcpy(text, "unknown_key = ");
	memset(text + 14, 'v', 100);
	text[114] = '\0';
	CHECK_EQ(parse(&cfg, &w, text), 1);
	CHECK_EQ(strlen(w.text[0]), 60);
	CHECK(strncmp(w.text[0], "unknown_key = vvvv", 18) == 0);
	CHECK_EQ(w.text[0][59], 'v');

	/* Exactly 60 is shown whole; CR is not part of the shown text. */
	memset(text, 0, sizeof(text));
	strcpy(text, "x=");
	memset(text + 2, 'y', 58);
	strcat(text, "\r\n");
	CHECK_EQ(parse(&cfg, &w, text), 1);
	CHECK_EQ(strlen(w.text[0]), 60);
	CHECK_EQ(w.text[0][59], 'y');
}

TEST(config_duplicate_key)
{
	struct hv_config cfg;
	struct warnings w;
	unsigned bad = parse(&cfg, &w, "serial = com2\nbaud = 9600\nserial = com3\n");
	CHECK_EQ(bad, 0); /* a duplicate is used, so it is not an unusable line */
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.line[0], 3);
	CHECK_STR(w.text[0], "serial = com3");
	CHECK_STR(w.why[0], "key set again; this later value is used");
	CHECK_EQ(cfg.serial_port, 0x3e8);

	/* Keys compare without case for duplicates too. */
	CHECK_EQ(parse(&cfg, &w, "nested=off\nNESTED=on\n"), 0);
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.line[0], 2);
	CHECK_EQ(cfg.nested, 1);
}

TEST(config_bad_value_keeps_earlier)
{
	struct hv_config cfg;
	struct warnings w;
	/* A bad later value: the earlier good value stays, no duplicate warning. */
	CHECK_EQ(parse(&cfg, &w, "serial = com2\nserial = com9\n"), 1);
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.line[0], 2);
	CHECK_STR(w.why[0], SERIAL_WHY);
	CHECK_EQ(cfg.serial_port, 0x2f8);

	/* A bad earlier value does not count as a setting: no duplicate warning. */
	CHECK_EQ(parse(&cfg, &w, "baud = 1234\nbaud = 9600\n"), 1);
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.line[0], 1);
	CHECK_EQ(cfg.baud, 9600);

	CHECK_EQ(parse(&cfg, &w, "loglevel = debug\nloglevel = loud\n"), 1);
	CHECK_EQ(cfg.loglevel, 3);
	CHECK_EQ(parse(&cfg, &w, "next = \\a.efi\nnext = b.efi\n"), 1);
	CHECK_STR(cfg.next, "\\a.efi");
}

TEST(config_utf8_bom)
{
	struct hv_config cfg;
	struct warnings w;
	CHECK_EQ(parse(&cfg, &w, "\xef\xbb\xbfserial = com4\nbaud=9600\n"), 0);
	CHECK_EQ(w.n, 0);
	CHECK_EQ(cfg.serial_port, 0x2e8);
	CHECK_EQ(cfg.baud, 9600);
	/* Line numbers still count from 1 after the BOM. */
	CHECK_EQ(parse(&cfg, &w,
		       "\xef\xbb\xbf"
		       "bogus\n"),
		 1);
	CHECK_EQ(w.line[0], 1);
	CHECK_STR(w.text[0], "bogus");
}

TEST(config_utf16_refused)
{
	/* "serial=com2\n" as UTF-16LE and UTF-16BE with their BOMs. */
	static const char le[] = "\xff\xfes\0e\0r\0i\0a\0l\0=\0c\0o\0m\0002\0\n\0";
	static const char be[] = "\xfe\xff\0s\0e\0r\0i\0a\0l\0=\0c\0o\0m\0002\0\n";
	const char *files[] = {le, be};
	size_t sizes[] = {sizeof(le) - 1, sizeof(be) - 1};
	for (int i = 0; i < 2; i++) {
		struct hv_config cfg, def;
		struct warnings w;
		memset(&w, 0, sizeof(w));
		config_defaults(&cfg);
		config_defaults(&def);
		CHECK_EQ(config_parse(&cfg, files[i], sizes[i], record, &w), 1);
		CHECK_EQ(w.n, 1);
		CHECK_EQ(w.line[0], 1);
		CHECK_STR(w.text[0], "");
		CHECK_STR(w.why[0],
			  "file is UTF-16; save hv.cfg as ASCII or UTF-8 (all defaults used)");
		CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);
	}
}

TEST(config_applies_over_existing)
{
	/* config_parse changes only the keys it is given. */
	struct hv_config cfg;
	struct warnings w;
	memset(&w, 0, sizeof(w));
	config_defaults(&cfg);
	cfg.baud = 9600;
	cfg.gdb_wait = 1;
	CHECK_EQ(config_parse(&cfg, "serial=none\n", 12, record, &w), 0);
	CHECK_EQ(cfg.serial_port, 0);
	CHECK_EQ(cfg.baud, 9600);
	CHECK_EQ(cfg.gdb_wait, 1);
	/* len bounds the text: a key past len is not read. */
	CHECK_EQ(config_parse(&cfg, "baud=57600\nnested=off\n", 11, record, &w), 0);
	CHECK_EQ(cfg.baud, 57600);
	CHECK_EQ(cfg.nested, 1);
}

TEST(config_return_counts_unusable_lines)
{
	struct hv_config cfg;
	struct warnings w;
	unsigned bad = parse(&cfg, &w,
			     "serial = com2\n"
			     "serial = com2\n" /* duplicate: warned, not counted */
			     "baud = 1234\n"
			     "what\n"
			     "\n"
			     "nested = maybe\n"
			     "loglevel = info\n");
	CHECK_EQ(bad, 3);
	CHECK_EQ(w.n, 4);
	CHECK_EQ(w.line[0], 2);
	CHECK_EQ(w.line[1], 3);
	CHECK_EQ(w.line[2], 4);
	CHECK_EQ(w.line[3], 6);
}

TEST(config_l0_keys)
{
	struct hv_config cfg;
	struct warnings w = { 0 };
	config_defaults(&cfg);
	const char *text = "console = com2\non_triple_fault = reset\ntest_fail_launch = control\n"
			   "on_triple_fault = sometimes\nconsole = 0x10000\n";
	unsigned bad = parse(&cfg, &w, text);
	CHECK_EQ(bad, 2);
	CHECK_EQ(cfg.console_port, 0x2f8);
	CHECK_EQ(cfg.reset_on_triple_fault, 1);
	CHECK_EQ(cfg.test_fail_launch, 2);
}

TEST(config_iommu_keys)
{
	struct hv_config cfg;
	struct warnings w;
	config_defaults(&cfg);
	CHECK_EQ(cfg.iommu, CONFIG_IOMMU_ON);
	CHECK_EQ(cfg.iommu_selftest, 0);
	CHECK_EQ(cfg.iommu_qi, 1);
	CHECK_EQ(parse(&cfg, &w, "iommu = off\niommu_selftest = on\niommu_qi = off\n"), 0);
	CHECK_EQ(cfg.iommu, CONFIG_IOMMU_OFF);
	CHECK_EQ(cfg.iommu_selftest, 1);
	CHECK_EQ(cfg.iommu_qi, 0);
	CHECK_EQ(parse(&cfg, &w, "IOMMU = Required\n"), 0);
	CHECK_EQ(cfg.iommu, CONFIG_IOMMU_REQUIRED);
	CHECK_EQ(parse(&cfg, &w, "iommu = yes\n"), 0);
	CHECK_EQ(cfg.iommu, CONFIG_IOMMU_ON);
	/* A bad value keeps the earlier good one (here: the default). */
	CHECK_EQ(parse(&cfg, &w, "iommu = always\niommu_selftest = maybe\niommu_qi = never\n"), 3);
	CHECK_EQ(cfg.iommu, CONFIG_IOMMU_ON);
	CHECK_EQ(cfg.iommu_selftest, 0);
	CHECK_EQ(cfg.iommu_qi, 1);
	CHECK_EQ(w.n, 3);
	CHECK_STR(w.why[0], "expected on, off or required");
	CHECK_STR(w.why[1], "expected on or off");
	CHECK_STR(w.why[2], "expected on or off");
}
