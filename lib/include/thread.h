/* SPDX-License-Identifier: MIT */
/*
 * Threads of one process.  The caller owns the stack: it must stay mapped
 * until the thread has ended, and nothing tells the caller when that is,
 * so threads report their own end (a flag, a message).
 */
#ifndef FERRY_THREAD_H
#define FERRY_THREAD_H

#include <stddef.h>

/*
 * Runs fn(arg) on a new thread with the stack [stack, stack + size); the
 * thread ends when fn returns.
 * => returns the new thread's id or a negative enum ferry_err.
 */
long thread_start(void (*fn)(void *arg), void *arg, void *stack, size_t size);

#endif
