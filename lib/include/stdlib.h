/* SPDX-License-Identifier: MIT */
/*
 * Heap and process exit for user programs.  The heap is lib/alloc.c's
 * engine fed with pages from sys_mem_map; it never returns memory to the
 * kernel, which reclaims everything when the process ends.
 */
#ifndef FERRY_STDLIB_H
#define FERRY_STDLIB_H

#include <stddef.h>
#include <stdnoreturn.h>

/* What abort() and a failed assert() exit with: 128 + SIGABRT, as Unix shells show it. */
#define EXIT_ABORT	134

void *malloc(size_t n);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);

/* Flushes stdout and ends the process with `code` as its wait status. */
noreturn void exit(int code);
noreturn void abort(void);

#endif
