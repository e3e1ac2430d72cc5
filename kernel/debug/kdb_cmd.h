/* SPDX-License-Identifier: MIT */
/* Inside kdb: the command table entries each kdb_*.c file provides. */
#ifndef KDB_CMD_H
#define KDB_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "../log.h"

struct kdb_cmd {
	const char *name;
	const char *args;
	const char *help;
	/* => false to leave the console (continue, step). */
	bool (*fn)(int argc, char **argv);
};

#define kdb_printf kprintf

/* Parses a number (decimal or 0x hex); false if it is not one. */
bool kdb_number(const char *s, uint64_t *out);
const char *kdb_fill_mode_name(int mode);

/* Command groups, each a NULL-terminated table. */
extern const struct kdb_cmd kdb_proc_cmds[];
extern const struct kdb_cmd kdb_grant_cmds[];
extern const struct kdb_cmd kdb_mem_cmds[];
extern const struct kdb_cmd kdb_machine_cmds[];

struct grant_view;
/* The commands of the holder's NVMe submission ring that name the grant (kdb_prp.c). */
void kdb_prp_view(const struct grant_view *v);

/* Grant stepping state shared between kdb.c and kdb_grants.c. */
extern bool kdb_break_on_grant;
extern uint64_t kdb_step_grant;		/* 0: not stepping */

#endif
