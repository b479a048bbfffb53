/*
 * config.c - the hv.cfg parser (format in config.h and README.md).
 *
 * Works on the raw file bytes: CRLF or LF line ends, an optional UTF-8
 * byte-order mark.  A UTF-16 file (what some Windows editors save) is
 * refused as a whole with one warning rather than parsed as garbage.
 */
#include "config.h"

#include "drivers/serial/log.h"
#include "drivers/serial/uart16550.h"

/* Own tiny string helpers: the core and loader have no libc. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool str_eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t i = 0;
	for (; i < alen && b[i]; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return i == alen && !b[i];
}

/* Parses decimal, or hex with a 0x prefix; false on junk or overflow. */
static bool parse_u32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * base + d;
		if (v > 0xffffffffu)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_bool(const char *v, size_t n, uint32_t *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	for (unsigned i = 0; i < 4; i++) {
		if (str_eq_nocase(v, n, yes[i])) {
			*out = 1;
			return true;
		}
		if (str_eq_nocase(v, n, no[i])) {
			*out = 0;
			return true;
		}
	}
	return false;
}

/* com1..com4, none (0), or an I/O port number. */
static const char *parse_port(const char *v, size_t n, uint16_t *out)
{
	static const uint16_t com_ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	static const char *const com_names[] = { "com1", "com2", "com3", "com4" };
	for (unsigned i = 0; i < 4; i++) {
		if (str_eq_nocase(v, n, com_names[i])) {
			*out = com_ports[i];
			return 0;
		}
	}
	if (str_eq_nocase(v, n, "none")) {
		*out = 0;
		return 0;
	}
	uint32_t port;
	/* An I/O port for the 8 UART registers must fit below 0x10000. */
	if (!parse_u32(v, n, &port) || port == 0 || port > 0xfff8)
		return "expected com1..com4, none, or an I/O port such as 0x3f8";
	*out = (uint16_t)port;
	return 0;
}

static const char *set_serial(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_port(v, n, &cfg->serial_port);
}

static const char *set_console(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_port(v, n, &cfg->console_port);
}

static const char *set_baud(struct hv_config *cfg, const char *v, size_t n)
{
	uint32_t baud;
	if (!parse_u32(v, n, &baud) || !uart_baud_valid(baud))
		return "expected a baud rate that divides 115200 (e.g. 115200, 57600, 38400, 9600)";
	cfg->baud = baud;
	return 0;
}

static const char *set_loglevel(struct hv_config *cfg, const char *v, size_t n)
{
	for (unsigned l = LOG_ERROR; l <= LOG_DEBUG; l++) {
		if (str_eq_nocase(v, n, log_level_name((enum log_level)l))) {
			cfg->loglevel = l;
			return 0;
		}
	}
	return "expected error, warn, info or debug";
}

/* A value comes from one line, so it always fits the string fields. */
_Static_assert(CONFIG_LINE_MAX < CONFIG_PATH_MAX, "a config value must fit next[]");

static const char *set_next(struct hv_config *cfg, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return "path must be printable ASCII";
	size_t o = 0;
	/* Paths are absolute on the boot volume; '/' is accepted for '\'. */
	if (v[0] != '\\' && v[0] != '/')
		return "path must start with \\ (absolute on the boot volume)";
	for (size_t i = 0; i < n; i++)
		cfg->next[o++] = v[i] == '/' ? '\\' : v[i];
	cfg->next[o] = '\0';
	return 0;
}

static const char *set_next_args(struct hv_config *cfg, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return "arguments must be printable ASCII";
	for (size_t i = 0; i < n; i++)
		cfg->next_args[i] = v[i];
	cfg->next_args[n] = '\0';
	return 0;
}

static const char *set_nested(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_bool(v, n, &cfg->nested) ? 0 : "expected on or off";
}

static const char *set_shadow_vmcs(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_bool(v, n, &cfg->shadow_vmcs) ? 0 : "expected on or off";
}

static const char *set_gdb_wait(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_bool(v, n, &cfg->gdb_wait) ? 0 : "expected on or off";
}

static const char *set_on_triple_fault(struct hv_config *cfg, const char *v, size_t n)
{
	if (str_eq_nocase(v, n, "halt"))
		cfg->reset_on_triple_fault = 0;
	else if (str_eq_nocase(v, n, "reset"))
		cfg->reset_on_triple_fault = 1;
	else
		return "expected halt or reset";
	return 0;
}

static const char *set_test_fail_launch(struct hv_config *cfg, const char *v, size_t n)
{
	if (str_eq_nocase(v, n, "off"))
		cfg->test_fail_launch = 0;
	else if (str_eq_nocase(v, n, "guest-state"))
		cfg->test_fail_launch = 1;
	else if (str_eq_nocase(v, n, "control"))
		cfg->test_fail_launch = 2;
	else
		return "expected off, guest-state or control";
	return 0;
}

static const char *set_iommu(struct hv_config *cfg, const char *v, size_t n)
{
	if (str_eq_nocase(v, n, "required")) {
		cfg->iommu = CONFIG_IOMMU_REQUIRED;
		return 0;
	}
	/* off and its synonyms are CONFIG_IOMMU_OFF (0), on is CONFIG_IOMMU_ON (1). */
	return parse_bool(v, n, &cfg->iommu) ? 0 : "expected on, off or required";
}

static const char *set_iommu_selftest(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_bool(v, n, &cfg->iommu_selftest) ? 0 : "expected on or off";
}

static const char *set_iommu_qi(struct hv_config *cfg, const char *v, size_t n)
{
	return parse_bool(v, n, &cfg->iommu_qi) ? 0 : "expected on or off";
}

static const struct {
	const char *key;
	const char *(*set)(struct hv_config *cfg, const char *v, size_t n);
} config_keys[] = {
	{ "serial", set_serial }, { "baud", set_baud },	    { "loglevel", set_loglevel },
	{ "next", set_next },	  { "next_args", set_next_args },
	{ "nested", set_nested }, { "gdb_wait", set_gdb_wait },
	{ "on_triple_fault", set_on_triple_fault }, { "console", set_console },
	{ "test_fail_launch", set_test_fail_launch }, { "shadow_vmcs", set_shadow_vmcs },
	{ "iommu", set_iommu }, { "iommu_selftest", set_iommu_selftest },
	{ "iommu_qi", set_iommu_qi },
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void config_defaults(struct hv_config *cfg)
{
	char *p = (char *)cfg;
	for (size_t i = 0; i < sizeof(*cfg); i++)
		p[i] = 0;
	cfg->serial_port = CONFIG_DEFAULT_SERIAL;
	cfg->baud = CONFIG_DEFAULT_BAUD;
	cfg->loglevel = CONFIG_DEFAULT_LOGLEVEL;
	cfg->nested = 1;
	cfg->shadow_vmcs = 1;
	cfg->iommu = CONFIG_IOMMU_ON;
	cfg->iommu_qi = 1;
	const char *d = CONFIG_DEFAULT_NEXT;
	for (size_t i = 0; d[i]; i++)
		cfg->next[i] = d[i];
}

/* Parses one line (no terminator); returns 0 or the reason it is unusable. */
static const char *parse_line(struct hv_config *cfg, const char *s, size_t n, bool seen[NKEYS],
			      bool *duplicate)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '#') {
			n = i;
			break;
		}
		if (s[i] == '\0')
			return "line contains a NUL byte";
	}
	while (n && is_space(s[n - 1]))
		n--;
	while (n && is_space(*s)) {
		s++;
		n--;
	}
	if (!n)
		return 0;

	size_t eq = 0;
	while (eq < n && s[eq] != '=')
		eq++;
	if (eq == n)
		return "expected key=value";
	size_t klen = eq;
	while (klen && is_space(s[klen - 1]))
		klen--;
	const char *v = s + eq + 1;
	size_t vlen = n - eq - 1;
	while (vlen && is_space(*v)) {
		v++;
		vlen--;
	}
	if (!klen)
		return "missing key before '='";

	for (size_t k = 0; k < NKEYS; k++) {
		if (!str_eq_nocase(s, klen, config_keys[k].key))
			continue;
		if (!vlen)
			return "missing value after '='";
		const char *why = config_keys[k].set(cfg, v, vlen);
		if (!why) {
			*duplicate = seen[k];
			seen[k] = true;
		}
		return why;
	}
	return "unknown key";
}

static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) ? '?' : s[i];
	dst[n] = '\0';
}

unsigned config_parse(struct hv_config *cfg, const char *text, size_t len, config_warn_fn warn,
		      void *ctx)
{
	bool seen[NKEYS] = { false };
	unsigned bad = 0;

	if (len >= 2 && (((unsigned char)text[0] == 0xff && (unsigned char)text[1] == 0xfe) ||
			 ((unsigned char)text[0] == 0xfe && (unsigned char)text[1] == 0xff))) {
		warn(ctx, 1, "", "file is UTF-16; save hv.cfg as ASCII or UTF-8 (all defaults used)");
		return 1;
	}
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf) {
		text += 3;
		len -= 3;
	}

	unsigned lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		size_t start = pos;
		while (pos < len && text[pos] != '\n')
			pos++;
		size_t n = pos - start;
		if (pos < len)
			pos++; /* the '\n' */
		lineno++;

		if (n && text[start + n - 1] == '\r')
			n--;
		/* The warning quotes the line, cut to 60 characters. */
		char shown[61];
		copy_text(shown, sizeof(shown), text + start, n);
		const char *why;
		bool duplicate = false;
		if (n > CONFIG_LINE_MAX)
			why = "line longer than 255 characters";
		else
			why = parse_line(cfg, text + start, n, seen, &duplicate);
		if (why) {
			bad++;
			warn(ctx, lineno, shown, why);
		} else if (duplicate) {
			warn(ctx, lineno, shown, "key set again; this later value is used");
		}
	}
	return bad;
}
