// SPDX-License-Identifier: MIT
/*
 * Boot configuration parser; the format is described in config.h.
 *
 * Each line is copied into a bounded local buffer, NUL-terminated and split
 * in place into words.  It is parsed into a local program_config and only
 * copied into the table once every word has been accepted, so a bad line
 * can never leave a partial grant of rights behind.
 */
#include <string.h>

#include "config.h"

#define CONFIG_STR_(x)	#x
#define CONFIG_STR(x)	CONFIG_STR_(x)

static const struct {
	const char *name;
	uint32_t right;
} config_rights[] = {
	{ "spawn", RIGHT_SPAWN },
	{ "shutdown", RIGHT_SHUTDOWN },
	{ "pci", RIGHT_PCI },
	{ "dma", RIGHT_DMA },
	{ "pin", RIGHT_PIN },
	{ "pager", RIGHT_PAGER },
	{ "swap", RIGHT_SWAP },
	{ "kill", RIGHT_KILL },
	{ "restart", RIGHT_RESTART },
	{ "faultpath", RIGHT_FAULTPATH },
	{ "allow", RIGHT_ALLOW },
};

#define CONFIG_NRIGHTS	(sizeof(config_rights) / sizeof(config_rights[0]))

static const struct program_config config_default_entry = {
	.name = "",
	.priority = CONFIG_DEFAULT_PRIORITY,
};

static bool config_is_space(char c)
{
	/* '\r' so that a file edited on another system still parses. */
	return c == ' ' || c == '\t' || c == '\r';
}

/* Returns the next word NUL-terminated in place, or NULL at the end. */
static char *config_next_word(char **cursor)
{
	char *p = *cursor, *word;

	while (config_is_space(*p))
		p++;
	if (!*p)
		return NULL;
	word = p;
	while (*p && !config_is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return word;
}

/* Decimal, or hex with a 0x prefix; octal is refused so "010" is ten. */
static int config_number(const char *s, const char **end, uint64_t *out)
{
	int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;

	return str_to_u64(s, base, out, end);
}

static const char *config_set_priority(struct program_config *pc, const char *value)
{
	uint64_t v;

	/* 0 marks "not given yet" until the line is complete. */
	if (pc->priority != 0)
		return "priority given twice";
	if (config_number(value, NULL, &v))
		return "bad number";
	if (v < CONFIG_PRIORITY_MIN || v > CONFIG_PRIORITY_MAX)
		return "priority out of range (1..31)";
	pc->priority = (int)v;
	return NULL;
}

static const char *config_set_irq(struct program_config *pc, const char *value)
{
	uint64_t v;

	if (config_number(value, NULL, &v))
		return "bad number";
	if (v > CONFIG_IRQ_MAX)
		return "irq out of range (0..15)";
	pc->irqs |= 1u << v;
	return NULL;
}

static const char *config_set_ioport(struct program_config *pc, const char *value)
{
	const char *end;
	uint64_t first, last;

	if (config_number(value, &end, &first))
		return "bad number";
	if (*end == '-') {
		if (config_number(end + 1, NULL, &last))
			return "bad number";
	} else if (*end) {
		return "bad number";
	} else {
		last = first;
	}
	if (first > 0xffff || last > 0xffff)
		return "ioport out of range (0..0xffff)";
	if (first > last)
		return "ioport range reversed";
	if (pc->nio == CONFIG_MAX_IORANGES)
		return "too many io ranges";
	pc->io[pc->nio++] = (struct ioport_range){ (uint16_t)first, (uint16_t)last };
	return NULL;
}

#define CONFIG_BAD_DEVICE	"bad device (want CC:SS or CC:SS:PP, hex)"

/* "CC:SS" or "CC:SS:PP": two or three hex bytes of one or two digits, ':' between. */
static const char *config_set_device(struct program_config *pc, const char *value)
{
	struct config_device d = { .progif = -1 };
	uint8_t b[3];
	const char *s = value;
	int n = 0;

	for (;;) {
		const char *end;
		uint64_t v;

		if (n == 3 || str_to_u64(s, 16, &v, &end) || end - s > 2 || (*end && *end != ':'))
			return CONFIG_BAD_DEVICE;
		b[n++] = (uint8_t)v;
		if (!*end)
			break;
		s = end + 1;
	}
	if (n < 2)
		return CONFIG_BAD_DEVICE;
	d.class = b[0];
	d.subclass = b[1];
	if (n == 3)
		d.progif = b[2];
	if (pc->ndev == CONFIG_MAX_DEVICES)
		return "too many devices";
	pc->dev[pc->ndev++] = d;
	return NULL;
}

static const struct {
	const char *key;
	const char *(*set)(struct program_config *pc, const char *value);
} config_keys[] = {
	{ "priority", config_set_priority },
	{ "irq", config_set_irq },
	{ "ioport", config_set_ioport },
	{ "device", config_set_device },
};

static const char *config_set_right(struct program_config *pc, const char *word)
{
	if (strcmp(word, "service") == 0) {
		pc->service = true;
		return NULL;
	}
	for (size_t i = 0; i < CONFIG_NRIGHTS; i++) {
		if (strcmp(word, config_rights[i].name) == 0) {
			pc->rights |= config_rights[i].right;
			return NULL;
		}
	}
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(word, config_keys[i].key) == 0)
			return "missing value";
	return "unknown key";
}

/* One "key=value" or bare right; the '=' is overwritten to split the word. */
static const char *config_option(struct program_config *pc, char *word)
{
	char *eq = strchr(word, '=');

	if (!eq)
		return config_set_right(pc, word);
	*eq = '\0';
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(word, config_keys[i].key) == 0)
			return config_keys[i].set(pc, eq + 1);
	return "unknown key";
}

/*
 * Names are matched against module names, or, starting with '/', against
 * the paths of programs run from files: keep them plain.
 */
static const char *config_set_name(struct program_config *pc, const char *name)
{
	bool path = name[0] == '/';

	for (const char *p = name; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
			  (path && c == '/');

		if (!ok)
			return "bad character in program name";
	}
	if (strlen(name) >= (path ? CONFIG_PATH_MAX : CONFIG_NAME_MAX))
		return path ? "program path too long" : "program name too long";
	strlcpy(pc->name, name, sizeof(pc->name));
	return NULL;
}

/* Parses a NUL-terminated, comment-free line that has a first word. */
static const char *config_program(struct program_config *pc, char *name, char *cursor)
{
	const char *err;
	char *word;

	memset(pc, 0, sizeof(*pc));
	err = config_set_name(pc, name);
	while (!err && (word = config_next_word(&cursor)))
		err = config_option(pc, word);
	/* A program from a file pages (its pager fills it), and nobody restarts it. */
	if (!err && name[0] == '/' && (pc->rights & RIGHT_PIN))
		err = "a program from a file cannot be pinned";
	if (!err && name[0] == '/' && pc->service)
		err = "a program from a file cannot be a service";
	if (!err && pc->priority == 0)
		pc->priority = CONFIG_DEFAULT_PRIORITY;
	return err;
}

/* => NULL when the line was taken or is blank, else why it was dropped. */
static const char *config_line(struct boot_config *out, const char *text, size_t n)
{
	char buf[CONFIG_LINE_MAX + 1];
	struct program_config pc;
	char *cursor = buf, *hash, *name;
	const char *err;

	if (n > CONFIG_LINE_MAX)
		return "line longer than " CONFIG_STR(CONFIG_LINE_MAX) " bytes";
	/* A NUL would silently cut the line short after the copy. */
	if (memchr(text, '\0', n))
		return "NUL byte in line";
	memcpy(buf, text, n);
	buf[n] = '\0';
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	name = config_next_word(&cursor);
	if (!name)
		return NULL;
	err = config_program(&pc, name, cursor);
	if (err)
		return err;
	if (config_find(out, pc.name))
		return "duplicate program name";
	if (out->nprogs == CONFIG_MAX_PROGRAMS)
		return "too many programs";
	out->prog[out->nprogs++] = pc;
	return NULL;
}

int config_parse(const char *text, size_t len, struct boot_config *out,
		 void (*report)(void *ctx, int line, const char *msg), void *ctx)
{
	size_t pos = 0;
	int line = 0, bad = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		const char *err;

		pos += n + (nl ? 1 : 0);
		/* Saturate: a huge module must not overflow the counters. */
		if (line < __INT_MAX__)
			line++;
		err = config_line(out, start, n);
		if (!err)
			continue;
		if (bad < __INT_MAX__)
			bad++;
		if (report)
			report(ctx, line, err);
	}
	return bad;
}

const struct program_config *config_find(const struct boot_config *c, const char *name)
{
	for (int i = 0; i < c->nprogs; i++)
		if (strcmp(c->prog[i].name, name) == 0)
			return &c->prog[i];
	return NULL;
}

const struct program_config *config_default(void)
{
	return &config_default_entry;
}

bool config_ioport_allowed(const struct program_config *p, uint16_t port)
{
	for (int i = 0; i < p->nio; i++)
		if (port >= p->io[i].first && port <= p->io[i].last)
			return true;
	return false;
}

bool config_device_bound(const struct program_config *p, uint8_t class, uint8_t subclass,
			 uint8_t progif)
{
	for (int i = 0; i < p->ndev; i++)
		if (p->dev[i].class == class && p->dev[i].subclass == subclass &&
		    (p->dev[i].progif < 0 || p->dev[i].progif == progif))
			return true;
	return false;
}

const char *config_right_name(uint32_t single_right_bit)
{
	for (size_t i = 0; i < CONFIG_NRIGHTS; i++)
		if (config_rights[i].right == single_right_bit)
			return config_rights[i].name;
	return "unknown";
}
