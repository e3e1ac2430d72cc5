/* SPDX-License-Identifier: MIT */
/*
 * Processes seen from user space: the start-up arguments (start.c) and
 * spawning, waiting and naming states (proc.c).
 */
#ifndef FERRY_PROC_H
#define FERRY_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <ferry/abi.h>

#define ARGS_MAX	16	/* words main() gets at most */
#define SEC_NS		1000000000L
#define MSEC_NS		1000000L

/* This process's pid, as the kernel passed it to _start. */
long proc_pid(void);

/*
 * Splits s in place at spaces and tabs into at most max words; the rest of
 * the line is ignored.  argv must have room for max + 1 pointers: it ends
 * with NULL.  Returns the number of words.
 */
int args_split(char *s, char **argv, int max);

/*
 * Waits up to timeout_ns (-1: for ever) for child pid to end; on a timeout
 * the child is killed and reaped.
 * => returns 0 with *status set, ERR_TIMEOUT with *status set to the
 *    killed child's status, or the error of sys_wait or sys_kill (*status
 *    then untouched).
 */
long proc_reap(long pid, long timeout_ns, long *status);

/* Spawns module `name` with `args`, then proc_reap; or sys_spawn's error. */
long proc_run(const char *name, const char *args, long timeout_ns, long *status);

/* Another instance of this program, from its boot module or its file. */
long proc_spawn_self(const char *args);

/* "fault", "killed" or the exit code in decimal (written to buf). */
const char *proc_status_str(long status, char *buf, size_t size);

/* The ps name of an enum thread_state, "?" when out of range. */
const char *proc_state_str(uint32_t state);

/* Fills *out for the live process `pid`; returns 0 or ERR_NOENT. */
long proc_find(long pid, struct proc_info *out);

#endif
