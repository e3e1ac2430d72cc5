/* SPDX-License-Identifier: MIT */
/*
 * assert() for user programs: a failure prints the expression and where it
 * is, then exits with EXIT_ABORT (134) so a parent sees it in the status.
 */
#ifndef FERRY_ASSERT_H
#define FERRY_ASSERT_H

#include <stdnoreturn.h>

#define static_assert _Static_assert

noreturn void assert_fail(const char *expr, const char *file, int line, const char *func);

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#endif
