/* SPDX-License-Identifier: MIT */
/*
 * In-kernel self-tests.  KTEST(name) { ... return 0; } defines a test and
 * registers it in the .ktest linker section; `test=all` (or test=NAME) on
 * the command line runs them after boot, each printing one line
 * "test kernel/NAME: OK|FAILED", then ends QEMU with a pass/fail code.
 */
#ifndef KTEST_H
#define KTEST_H

#include "../log.h"

struct ktest {
	const char *name;
	int (*fn)(void);
};

#define KTEST(name)                                                          \
	static int ktest_fn_##name(void);                                    \
	static const struct ktest ktest_##name                               \
		__attribute__((used, section(".ktest"), aligned(8))) = {     \
			#name, ktest_fn_##name };                            \
	static int ktest_fn_##name(void)

/* Fails the current test with a log line naming the check. */
#define KCHECK(cond)                                                         \
	do {                                                                 \
		if (!(cond)) {                                               \
			log_err("check failed at %s:%d: %s", __FILE__,       \
				__LINE__, #cond);                            \
			return -1;                                           \
		}                                                            \
	} while (0)

/* Runs the tests selected by `which` and exits QEMU; never returns. */
_Noreturn void ktest_run(const char *which);

#endif
