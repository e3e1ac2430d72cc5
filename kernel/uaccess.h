/* SPDX-License-Identifier: MIT */
/*
 * Checked access to user memory.  A user pointer is an allegation until
 * these say otherwise: the range must lie in the user half without
 * wrapping, and every page must be mapped for the process with the access
 * needed.  The copy goes through the direct map of the frame found by the
 * page walk, so a bad pointer is an ERR_FAULT answer, never a kernel fault,
 * and it works whichever address space is active.
 */
#ifndef UACCESS_H
#define UACCESS_H

#include <stddef.h>
#include <stdint.h>

struct proc;

/* => 0 or ERR_FAULT. */
int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n);
int copy_to_user(struct proc *p, uint64_t dst, const void *src, size_t n);
/* copy_from_user of memory the caller will write back: checked for writing. */
int copy_from_user_writable(struct proc *p, void *dst, uint64_t src, size_t n);
/* copy_from_user into frames[0], frames[1], ...: n bytes, every page of
 * the source checked (and brought in) before a byte is copied. */
int copy_from_user_frames(struct proc *p, const uint64_t *frames, uint64_t src, size_t n);
/* Copies a NUL-terminated string of at most max-1 chars: 0, ERR_FAULT or ERR_RANGE. */
int copy_string_from_user(struct proc *p, char *dst, uint64_t src, size_t max);
/* Checks, without copying, that [addr, addr+n) is accessible. */
int user_range_check(struct proc *p, uint64_t addr, size_t n, int write);

#endif
