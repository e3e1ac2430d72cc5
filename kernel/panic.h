/* SPDX-License-Identifier: MIT */
/*
 * Broken kernel invariants end here: a report on the serial line (message,
 * registers when a trap caused it, a symbolised backtrace), then either a
 * halt or, under the test harness (`panic=exit`), a failing QEMU exit.
 */
#ifndef PANIC_H
#define PANIC_H

#include <stdint.h>

_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For the arch trap code: report pieces, then finish. */
void panic_begin(void);
/* pc: the trapping instruction, or 0; fp: the frame pointer to walk from. */
void panic_backtrace(uint64_t pc, uint64_t fp);
_Noreturn void panic_finish(void);

#define KASSERT(cond)                                                        \
	do {                                                                 \
		if (!(cond))                                                 \
			panic("%s: assertion failed: %s (%s:%d)", __func__,  \
			      #cond, __FILE__, __LINE__);                    \
	} while (0)

#endif
