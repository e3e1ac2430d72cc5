/* SPDX-License-Identifier: MIT */
/*
 * Kernel symbol names for backtraces.  The build writes `llvm-nm -n` output
 * for the final kernel image to build/ferry.sym and GRUB loads it as the
 * module "symbols"; no second link pass is needed to embed it.  Lookups
 * scan the text and allocate nothing, so they work during a panic.
 */
#ifndef SYMBOLS_H
#define SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

void symbols_init(const char *text, size_t len);
/* Name of the function containing addr, copied into buf; 0 or -1 if unknown. */
int symbols_lookup(uint64_t addr, char *buf, size_t size, uint64_t *offset);

#endif
