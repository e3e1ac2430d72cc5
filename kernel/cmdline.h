/* SPDX-License-Identifier: MIT */
/*
 * Kernel command line: "key=value key flag ...", parsed once at boot.
 * Every option Ferry knows is listed, with a one-line description, in the
 * table in cmdline.c; an unknown option is reported, not silently ignored.
 */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#define CMDLINE_MAX		512
#define CMDLINE_MAX_OPTIONS	32

struct cmdline_option {
	const char *key;	/* points into the parsed copy */
	const char *value;	/* "" when given without '=' */
};

struct cmdline {
	char buf[CMDLINE_MAX];
	struct cmdline_option opt[CMDLINE_MAX_OPTIONS];
	int count;
	int dropped;		/* options past CMDLINE_MAX_OPTIONS */
	bool truncated;		/* input longer than CMDLINE_MAX - 1 */
};

void cmdline_parse(struct cmdline *cl, const char *text);
const char *cmdline_lookup(const struct cmdline *cl, const char *key);
/* Calls report() for each option that is not in the known-options table. */
void cmdline_check_known(const struct cmdline *cl, void (*report)(const char *key));

/* The boot command line, parsed by kmain(). */
void cmdline_set_boot(const char *text);
const struct cmdline *cmdline_boot(void);
const char *cmdline_get(const char *key);
uint64_t cmdline_get_u64(const char *key, uint64_t dflt);
bool cmdline_is(const char *key, const char *value);

#endif
