/* SPDX-License-Identifier: MIT */
/* The kernel heap: lib/alloc.c over runs of frames from pmm. */
#ifndef HEAP_H
#define HEAP_H

#include <stddef.h>

void heap_init(void);
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void kfree(void *p);
size_t heap_bytes_in_use(void);

#endif
