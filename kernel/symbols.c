// SPDX-License-Identifier: MIT
#include "symbols.h"

#include <string.h>

static const char *sym_text;
static size_t sym_len;

void symbols_init(const char *text, size_t len)
{
	sym_text = text;
	sym_len = len;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One line: "<16 hex digits> <type letter> <name>\n".  Returns the start
 * of the next line; *ok says whether this one parsed as a text symbol.
 */
static const char *parse_line(const char *p, const char *end, uint64_t *addr,
			      const char **name, size_t *name_len, int *ok)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *line_end = nl ? nl : end;
	uint64_t a = 0;
	int digits = 0;

	*ok = 0;
	while (p < line_end && hex_digit(*p) >= 0) {
		a = (a << 4) | (uint64_t)hex_digit(*p++);
		digits++;
	}
	if (digits && line_end - p >= 4 && p[0] == ' ' && p[2] == ' ' &&
	    (p[1] == 'T' || p[1] == 't')) {
		*addr = a;
		*name = p + 3;
		*name_len = (size_t)(line_end - (p + 3));
		*ok = 1;
	}
	return nl ? nl + 1 : end;
}

int symbols_lookup(uint64_t addr, char *buf, size_t size, uint64_t *offset)
{
	const char *p = sym_text, *end, *best = NULL;
	size_t best_len = 0;
	uint64_t best_addr = 0;

	if (!sym_text || size == 0)
		return -1;
	end = sym_text + sym_len;
	while (p < end) {
		const char *name;
		size_t name_len;
		uint64_t a;
		int ok;

		p = parse_line(p, end, &a, &name, &name_len, &ok);
		if (ok && a <= addr && a >= best_addr) {
			best = name;
			best_len = name_len;
			best_addr = a;
		}
	}
	if (!best)
		return -1;
	if (best_len >= size)
		best_len = size - 1;
	memcpy(buf, best, best_len);
	buf[best_len] = '\0';
	*offset = addr - best_addr;
	return 0;
}
