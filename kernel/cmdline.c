// SPDX-License-Identifier: MIT
#include "cmdline.h"

#include <string.h>

static const struct {
	const char *key;
	const char *help;
} known_options[] = {
	{ "loglevel", "error, warn, info (default) or debug; or 0..3" },
	{ "test", "run in-kernel self-tests: all, or one test's name, or panic" },
	{ "panic", "after a panic report: kdb (default), halt, or exit (end QEMU)" },
	{ "init", "name of the first user program (default init)" },
	{ "initarg", "one argument for the first program (e.g. init=utest initarg=vm)" },
	{ "overtime", "ms after which a page request is failed (default 30000)" },
	{ "faultpath", "how pages are filled: copy, grant or dma" },
	{ "console", "debug console commands to run at boot, separated by ';'" },
	{ "acpi", "off: ignore the firmware's ACPI tables (one CPU, legacy interrupts, no IOMMU)" },
	{ "cpus", "use at most N CPUs of those the MADT lists (default all, up to 8)" },
	{ "shootdown", "off: skip TLB shootdown IPIs (a test switch: unsafe)" },
	{ "iommu", "off: leave the IOMMU off (device DMA is then trusted)" },
	{ "iommu_inval", "IOTLB invalidation at take-back: page, window (default) or queue" },
	{ "iommu_test", "tests' negative controls: stale (take-back skips the IOTLB invalidation),"
			" nopark (frames of given-up transfers freed at once), noirq (fault"
			" events polled, not by interrupt)" },
	{ "zerotouch", "off: zero DMA page-in frames even when the IOMMU makes it unnecessary" },
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Splits the copy in place: each token's end becomes a NUL. */
void cmdline_parse(struct cmdline *cl, const char *text)
{
	size_t len = text ? strnlen(text, CMDLINE_MAX) : 0;
	char *p = cl->buf;

	cl->truncated = len == CMDLINE_MAX;
	if (cl->truncated)
		len = CMDLINE_MAX - 1;
	memcpy(cl->buf, text ? text : "", len);
	cl->buf[len] = '\0';
	cl->count = 0;
	cl->dropped = 0;
	for (;;) {
		char *eq;

		while (is_space(*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (cl->count == CMDLINE_MAX_OPTIONS) {
			cl->dropped++;
		} else {
			cl->opt[cl->count].key = p;
			cl->opt[cl->count].value = "";
		}
		eq = NULL;
		while (*p && !is_space(*p)) {
			if (*p == '=' && !eq)
				eq = p;
			p++;
		}
		if (eq && cl->count < CMDLINE_MAX_OPTIONS) {
			*eq = '\0';
			cl->opt[cl->count].value = eq + 1;
		}
		if (cl->count < CMDLINE_MAX_OPTIONS)
			cl->count++;
	}
}

/* The last occurrence wins, as with most boot loaders' appended options. */
const char *cmdline_lookup(const struct cmdline *cl, const char *key)
{
	for (int i = cl->count - 1; i >= 0; i--)
		if (strcmp(cl->opt[i].key, key) == 0)
			return cl->opt[i].value;
	return NULL;
}

void cmdline_check_known(const struct cmdline *cl, void (*report)(const char *key))
{
	for (int i = 0; i < cl->count; i++) {
		bool known = false;

		for (size_t k = 0; k < sizeof(known_options) / sizeof(known_options[0]); k++)
			known |= strcmp(cl->opt[i].key, known_options[k].key) == 0;
		if (!known)
			report(cl->opt[i].key);
	}
}

static struct cmdline boot_cmdline;

void cmdline_set_boot(const char *text)
{
	cmdline_parse(&boot_cmdline, text);
}

const struct cmdline *cmdline_boot(void)
{
	return &boot_cmdline;
}

const char *cmdline_get(const char *key)
{
	return cmdline_lookup(&boot_cmdline, key);
}

uint64_t cmdline_get_u64(const char *key, uint64_t dflt)
{
	const char *v = cmdline_get(key), *end;
	uint64_t n;

	if (!v || str_to_u64(v, 0, &n, &end) != 0 || *end)
		return dflt;
	return n;
}

bool cmdline_is(const char *key, const char *value)
{
	const char *v = cmdline_get(key);

	return v && strcmp(v, value) == 0;
}
