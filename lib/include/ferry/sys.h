/* SPDX-License-Identifier: MIT */
/*
 * User-side system call stubs, generated from <ferry/syscalls.h>: one
 * `static inline long sys_NAME(params)` per entry.
 */
#ifndef FERRY_SYS_H
#define FERRY_SYS_H

#include <ferry/abi.h>
#include <ferry/err.h>
#include <ferry/msg.h>
#include <ferry/syscalls.h>

static inline long ferry_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define FERRY_SC_CAST_0()			0, 0, 0, 0, 0, 0
#define FERRY_SC_CAST_1(a)			(long)(a), 0, 0, 0, 0, 0
#define FERRY_SC_CAST_2(a, b)			(long)(a), (long)(b), 0, 0, 0, 0
#define FERRY_SC_CAST_3(a, b, c)		(long)(a), (long)(b), (long)(c), 0, 0, 0
#define FERRY_SC_CAST_4(a, b, c, d)		(long)(a), (long)(b), (long)(c), (long)(d), 0, 0
#define FERRY_SC_CAST_5(a, b, c, d, e)		(long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0

#define FERRY_SYSCALL_STUB(num, name, nargs, params, args)                      \
	static inline long sys_##name params                                   \
	{                                                                      \
		return ferry_syscall6(num, FERRY_SC_CAST_##nargs args);        \
	}
FERRY_SYSCALLS(FERRY_SYSCALL_STUB)
#undef FERRY_SYSCALL_STUB

#endif
