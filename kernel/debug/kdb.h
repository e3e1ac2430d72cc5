/* SPDX-License-Identifier: MIT */
/*
 * kdb: the kernel debug console on the serial line.
 *
 * Ctrl-] (0x1d) on the serial line stops the world and opens it, whatever
 * user space is doing; a panic opens it too (unless panic=exit).  Inside,
 * interrupts stay off and the console polls the UART itself, so it needs
 * no process, no scheduler and no heap.  `continue` returns to exactly
 * where the break key arrived, and asks the console to have the shell's
 * prompt and line drawn again (console_reprint).  The time stopped is
 * not running time (clock_run_ns): it ages no page request.
 *
 * Every command's output is framed by "[kdb begin CMD]" and "[kdb end CMD]"
 * lines with aligned columns, so scripts can parse it.  `console=CMD;CMD`
 * on the kernel command line runs commands at boot (',' stands for a
 * space), for unattended runs.
 *
 * `break grant` stops the world when the next grant is lent; `step` then
 * runs until that grant's next phase (lent -> filled -> taken back ->
 * mapped: trace events, trace.h), so one can watch a frame cross between
 * address spaces.  The world is every CPU: the others park (smp.h) while
 * the console is open, and it opens on whichever CPU met the event.
 */
#ifndef KDB_H
#define KDB_H

#include <stdbool.h>
#include <stdint.h>

#define KDB_BREAK_KEY	0x1d	/* Ctrl-] */

/* Opens the console; returns on `continue` (never, when from a panic). */
void kdb_enter(const char *why);
_Noreturn void kdb_enter_panic(void);
/* Runs `console=` commands from the boot command line. */
void kdb_run_boot_commands(void);
/* Runs one command line, framed, as if typed (boot commands, shutdown). */
void kdb_run_line(const char *line);
/* Subscribes to the grant paths' trace events (trace.h): `break grant`
 * and `step` stop the world at them. */
void kdb_init(void);
/* The consistency check: => number of violations (each printed). */
int kdb_check(void);

#endif
