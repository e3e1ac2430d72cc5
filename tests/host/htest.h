/* SPDX-License-Identifier: MIT */
/*
 * htest: the host unit-test harness.  Kernel and library .c files are
 * compiled for the host (under ASan and UBSan) and tested here.
 *
 * Each test program is one .c file in tests/host/ that defines cases with
 * HTEST(name) and checks with HCHECK(cond).  Every case prints exactly one
 * line, "test host/<file>/<name>: OK" or "...: FAILED", which the top-level
 * runner counts.  The program exits non-zero when any case failed.
 */
#ifndef HTEST_H
#define HTEST_H

#include <stdio.h>

struct htest_case {
	const char *name;
	void (*fn)(void);
	struct htest_case *next;
};

void htest_register(struct htest_case *c);
void htest_fail(const char *file, int line, const char *expr);

#define HTEST(name)                                                          \
	static void htest_fn_##name(void);                                   \
	static struct htest_case htest_case_##name = {#name, htest_fn_##name, 0}; \
	__attribute__((constructor)) static void htest_reg_##name(void)      \
	{                                                                    \
		htest_register(&htest_case_##name);                          \
	}                                                                    \
	static void htest_fn_##name(void)

/* Records a failure and carries on, so one case reports every broken check. */
#define HCHECK(cond)                                                         \
	do {                                                                 \
		if (!(cond))                                                 \
			htest_fail(__FILE__, __LINE__, #cond);               \
	} while (0)

#define HCHECK_EQ(a, b)                                                      \
	do {                                                                 \
		long long htest_a_ = (long long)(a), htest_b_ = (long long)(b); \
		if (htest_a_ != htest_b_) {                                  \
			fprintf(stderr, "  %s = %lld, %s = %lld\n", #a,      \
				htest_a_, #b, htest_b_);                     \
			htest_fail(__FILE__, __LINE__, #a " == " #b);        \
		}                                                            \
	} while (0)

#endif
