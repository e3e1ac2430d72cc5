/* SPDX-License-Identifier: MIT */
/*
 * The serial console as user programs see it: sys_console_write appends
 * to the kernel log line by line, sys_console_read blocks for input that
 * the COM1 interrupt collects into a small ring.  The debug console takes
 * its break key out of this same input stream, and on leaving asks for the
 * reader's line to be drawn again (console_reprint).
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct proc;

void console_init(void);
void console_input_irq(void);
long console_user_write(struct proc *p, uint64_t ubuf, long len);
long console_user_read(struct proc *p, uint64_t ubuf, long len);
/* The screen was written over: a reader waiting for input gets CONSOLE_KEY_REPRINT. */
void console_reprint(void);

#endif
