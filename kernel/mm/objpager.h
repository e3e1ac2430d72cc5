/* SPDX-License-Identifier: MIT */
/*
 * Object pagers that survive their process: the pagers of mapped objects
 * (fs, for mapped files) that name the store they serve (the ext2
 * superblock's UUID), so that the mappings of a pager that dies are served
 * by its restarted successor, as swap.h does for swap providers.
 *
 *   (unused) ──register──> LIVE ──its process dies──> ORPHANED
 *                           ^                            │      │
 *                           └── register, same store ────┘      │ OBJPAGER_ORPHAN_NS
 *                                                               v
 *                                                        GONE (mappings fail)
 *
 * A region mapped with sys_mem_map_pager on the port of a LIVE object
 * pager remembers the pager's index, not only its port (vm.h).  Its page
 * requests go to the pager's port of the moment (objpager_port): when the
 * pager is ORPHANED there is none, and the fault waits for the take-over
 * (objpager_wait_live) and faults again; a page-in in flight when the
 * pager died fails with ERR_DEAD, which the fault path rides out the same
 * way (mm/fault.c).  Page-outs of dirty shared pages fail while it is away
 * and leave the pages resident and dirty.  The object ids in the mappings
 * must mean the same to the successor: fs's handles are inode number and
 * generation, checked against the disk on every use, so the new fs serves
 * the same files, and a handle whose inode was deleted or reused meanwhile
 * fails as stale instead of naming another file.
 *
 * Only a process with the `pager` right may register a store, and a
 * second pager for a store that has a LIVE one is refused (ERR_EXIST).
 * Indices are never reused by another store.
 */
#ifndef OBJPAGER_H
#define OBJPAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "../proc/thread.h"

#define OBJPAGER_MAX		16
#define OBJPAGER_STORE_ID_SIZE	16	/* a UUID */
#define OBJPAGER_ORPHAN_NS	(20ULL * 1000000000)	/* how long mappings wait */
#define OBJPAGER_NONE		UINT32_MAX	/* a region whose pager names no store */

struct proc;

enum objpager_state { OBJPAGER_UNUSED, OBJPAGER_LIVE, OBJPAGER_ORPHANED, OBJPAGER_GONE };

struct objpager {
	enum objpager_state state;
	struct proc *proc;		/* LIVE only */
	uint64_t port;			/* LIVE only */
	uint8_t store[OBJPAGER_STORE_ID_SIZE];
	uint64_t orphaned_ns;		/* when its process died */
	struct wait_queue comeback;	/* faults waiting for a restarted pager */
	uint32_t restarts;		/* times another process took it over */
	uint64_t longest_away_ns;	/* the longest time between death and take-over */
	uint64_t pid_last;
	char name_last[16];
};

void objpager_init(void);
/*
 * Registers port (owned by p) as the pager of the store `store`
 * (OBJPAGER_STORE_ID_SIZE bytes), serving `modes` (port_set_pager_modes).
 * An ORPHANED pager of the same store is taken over.
 * => index, or ERR_PERM (no `pager` right) / ERR_BADHANDLE / ERR_INVAL /
 *    ERR_EXIST (the store has a live pager) / ERR_BUSY (no index left).
 */
long objpager_register(struct proc *p, uint64_t port, uint32_t modes, const uint8_t *store);
/* The index of the LIVE object pager behind port, or OBJPAGER_NONE. */
uint32_t objpager_of_port(uint64_t port);
/* Its port now: 0 unless LIVE. */
uint64_t objpager_port(uint32_t index);
/* LIVE or ORPHANED: its mappings can still be served. */
bool objpager_kept(uint32_t index);
/* Blocks until pager `index` is LIVE.  => 0, or ERR_DEAD (GONE, or the
 * waiting process is dying).  An ORPHANED pager is GONE in bounded time. */
long objpager_wait_live(uint32_t index);
void objpager_release_proc(struct proc *p);
/* GONE for the pagers ORPHANED too long (the page-out daemon's tick). */
void objpager_expire_orphans(void);
/* Any slot in any state but UNUSED, for the console: NULL past the end. */
const struct objpager *objpager_view(uint32_t index);
const char *objpager_state_name(enum objpager_state s);

#endif
