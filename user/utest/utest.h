/* SPDX-License-Identifier: MIT */
/*
 * utest: the in-guest user test suite.  Cases register themselves with
 * UTEST(name) in the "utest_cases" linker section; the runner (utest with
 * no argument) spawns every case as its own process, "utest NAME", so one
 * crash fails one case.  A case passes when its process exits with 0; the
 * CHECK macros print what went wrong and exit with 1.
 *
 * UTEST_HELPER(name) registers a hidden mode the runner does not run: the
 * children that cases spawn (servers, forgers, processes that crash).
 * Helpers get their arguments after the name: "utest NAME ARG...".
 */
#ifndef UTEST_H
#define UTEST_H

#include <ferry/sys.h>
#include <proc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

struct utest {
	const char *name;
	int (*run)(int argc, char **argv);
	bool helper;
};

#define UTEST_DEFINE(fn, is_helper)                                              \
	static int fn(int argc, char **argv);                                   \
	static const struct utest utest_entry_##fn                              \
		__attribute__((used, section("utest_cases"), aligned(8))) = {   \
		.name = #fn, .run = fn, .helper = is_helper,                    \
	};                                                                      \
	static int fn(int argc __attribute__((unused)),                         \
		      char **argv __attribute__((unused)))

#define UTEST(name)		UTEST_DEFINE(name, false)
#define UTEST_HELPER(name)	UTEST_DEFINE(name, true)

#define CHECK(e)                                                \
	do {                                                    \
		if (!(e))                                       \
			utest_fail(__FILE__, __LINE__, #e);     \
	} while (0)

/* a == b as longs; a failure shows both values (and error names). */
#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		long check_a_ = (long)(a), check_b_ = (long)(b);                \
		if (check_a_ != check_b_)                                       \
			utest_fail_eq(__FILE__, __LINE__, #a, #b, check_a_, check_b_); \
	} while (0)

/* A system call that must succeed (result >= 0); evaluates to the result. */
#define CHECK_OK(e) utest_check_ok(__FILE__, __LINE__, #e, (long)(e))

noreturn void utest_fail(const char *file, int line, const char *expr);
noreturn void utest_fail_eq(const char *file, int line, const char *a, const char *b,
			    long got, long want);
long utest_check_ok(const char *file, int line, const char *expr, long ret);

/* Spawns "utest HELPER ARGS" (args formatted like printf); returns its pid. */
long utest_spawn(const char *helper, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Waits (10 s at most) for child pid and checks its status. */
void utest_reap(long pid, long want_status);
/* argv[i] as a decimal number; a missing or bad argument fails. */
long utest_arg(int argc, char **argv, int i);

/* "utest.TAG.PID": names unique per test process, so runs never collide. */
void utest_port_name(char name[PORT_NAME_MAX], const char *tag, long pid);

/* A 4 KiB pattern that differs for every seed and every byte offset. */
void utest_fill(void *page, uint32_t seed);
bool utest_filled(const void *page, uint32_t seed);

#endif
